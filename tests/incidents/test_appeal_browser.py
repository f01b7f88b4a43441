"""A compensation appeal in the browser (issue 19), desktop, in Chinese: the dispatcher who
claimed for a requisition appeals its rejection from the claim page's dialog; the
administrator who rejected it cannot decide the appeal, another one approves it, and the
claim's history shows every step."""

import pytest
from sqlalchemy.orm import Session

from emergency import create_app
from emergency.auth import service as auth
from tests.browser import RequestLog, axe_violations, chromium, live_server
from tests.conftest import DATA_KEY, app_config, drop_database, make_database
from tests.incidents.conftest import arrange_committed
from tests.incidents.test_incident_reports_browser import DESKTOP, INCIDENT, _sign_in


def _arrange(app, engine, token):
    """A requisition claim by the dispatcher, rejected by admin 'boss'; a second admin."""
    session = Session(bind=engine)
    session.info["actor"] = "test"
    auth.create_user(session, "boss2", "admin", "correct horse battery")
    boss_token = auth.create_token(session, "boss", 1)
    session.commit()
    session.close()
    api = app.test_client()
    disp = {"Authorization": f"Bearer {token}"}
    incident = api.post("/api/v1/incidents", headers=disp, json=INCIDENT).get_json()
    req = api.post(f"/api/v1/incidents/{incident['id']}/requisitions", headers=disp, json={
        "owner_name": "某机械公司", "owner_contact": "13812345678", "property": "挖掘机",
        "quantity": 1, "starts_at": "2026-11-28T09:00:00+08:00", "valuation": "1000.00",
        "legal_basis": "《中华人民共和国突发事件应对法》第七十六条",
        "authority": "綦江区人民政府"}).get_json()
    claim = api.post(f"/api/v1/requisitions/{req['id']}/compensation", headers=disp, json={
        "items": [{"kind": "property", "quantity": 2, "unit_price": "900.00"}]}).get_json()
    rejected = api.post(f"/api/v1/compensations/{claim['id']}/review",
                        headers={"Authorization": f"Bearer {boss_token}"},
                        json={"decision": "reject", "note": "台班单价过高"})
    assert rejected.status_code == 200, rejected.get_json()
    return claim["id"]


@pytest.mark.browser
def test_claimant_appeals_and_another_admin_decides(backend, tmp_path):
    from registry.crypto import cipher_for

    url, engine = make_database(backend, tmp_path, "appeal")
    try:
        _team_id, token = arrange_committed(engine, cipher_for(DATA_KEY))
        app = create_app(app_config(url, tmp_path))
        claim_id = _arrange(app, engine, token)
        with live_server(app) as base, chromium() as browser:
            page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
            log = RequestLog(page)
            _sign_in(page, base, "disp")
            page.goto(f"{base}/compensations/{claim_id}")
            assert page.locator("#claim-status").inner_text() == "已驳回"
            page.click("#appeal-open")
            assert page.locator("#appeal-dialog").is_visible()
            assert axe_violations(page) == []
            page.fill("#appeal-reason-input", "附市场询价单三份，单价符合行情")
            with page.expect_navigation():
                page.click("#appeal-send")
            assert page.locator("#claim-status").get_attribute("data-status") == "appealed"
            assert "台班单价过高" in page.locator("#rejection").inner_text()
            assert "附市场询价单" in page.locator("#appeal-reason").inner_text()
            assert page.locator("#appeal-open").count() == 0

            # The administrator who rejected it may not decide the appeal.
            page.context.clear_cookies()
            _sign_in(page, base, "boss")
            page.goto(f"{base}/compensations/{claim_id}")
            assert page.locator("#same-reviewer").is_visible()
            assert page.locator("#approve").count() == 0

            # Another administrator approves it; the history has every step.
            page.context.clear_cookies()
            _sign_in(page, base, "boss2")
            page.goto(f"{base}/compensations?status=appealed")
            assert page.locator(f"[data-claim-id='{claim_id}']").count() == 1
            page.goto(f"{base}/compensations/{claim_id}")
            assert page.locator("#review-section h2").inner_text() == "申诉决定"
            page.fill("#approve-note", "询价单属实")
            page.once("dialog", lambda dialog: dialog.accept())
            with page.expect_navigation():
                page.click("#approve")
            assert page.locator("#claim-status").get_attribute("data-status") == "approved"
            steps = page.locator("#claim-history li").evaluate_all(
                "items => items.map(li => li.dataset.status)")
            assert steps == ["submitted", "rejected", "appealed", "approved"]
            assert log.foreign() == []
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        engine.dispose()
        drop_database(url)
