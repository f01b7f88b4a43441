"""Compensation in the browser, end to end in headless Chromium against a live server, on
both backends, in Chinese: a dispatcher records a requisition, prints its order and claims
for it; an organisation admin claims for a completed dispatch on a phone; the bureau admin
rejects (a reason is required), approves and pays; the ledger filters and exports."""

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.orm import Session

from emergency import create_app
from emergency.auth import service as auth
from tests.browser import RequestLog, chromium, live_server
from tests.conftest import DATA_KEY, app_config, drop_database, make_database
from tests.incidents.conftest import arrange_committed

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}
INCIDENT = {"title": "江津洪涝", "incident_type": "flood",
            "occurred_at": "2026-11-28T08:00:00+08:00",
            "location": {"type": "Point", "coordinates": [106.55, 29.56]}}


def _sign_in(page, base, username):
    """Sign in through the login form (the live stream keeps the network busy: wait for the
    navigation, not for an idle network)."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _submit(page, selector):
    """Click a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


def _no_horizontal_overflow(page):
    """Nothing wider than the phone's screen."""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def _world(backend, tmp_path, label):
    """A committed database with an approved team, a dispatcher (token), an admin "boss" and
    the team's organisation admin "lantian": (url, engine, app, team_id, api headers)."""
    from registry.crypto import cipher_for
    from registry.models import RescueTeam

    url, engine = make_database(backend, tmp_path, label)
    team_id, token = arrange_committed(engine, cipher_for(DATA_KEY))
    session = Session(bind=engine)
    session.info["actor"] = "test"
    auth.create_user(session, "lantian", "org_admin", PASSWORD,
                     org_id=session.get(RescueTeam, team_id).org_id)
    session.commit()
    session.close()
    app = create_app(app_config(url, tmp_path))
    return url, engine, app, team_id, {"Authorization": f"Bearer {token}"}


@pytest.mark.browser
def test_dispatcher_records_prints_and_claims_a_requisition(backend, tmp_path):
    url, engine, app, _team_id, headers = _world(backend, tmp_path, "claims_req")
    try:
        incident = app.test_client().post("/api/v1/incidents", headers=headers,
                                          json=INCIDENT).get_json()
        with live_server(app) as base, chromium() as browser:
            page = browser.new_page()
            log = RequestLog(page)
            _sign_in(page, base, "disp")
            page.goto(f"{base}/incidents/{incident['id']}/requisitions/new")
            assert page.locator("h1").inner_text() == "登记征用"
            assert "第七十六条" in page.input_value("#r-legal_basis")
            page.fill("#r-authority", "重庆市渝中区人民政府")
            page.fill("#r-owner_name", "重庆某工程机械租赁有限公司")
            page.fill("#r-owner_contact", "13800138000")
            page.fill("#r-property", "挖掘机（PC200）")
            page.fill("#r-quantity", "2")
            page.fill("#r-starts_at", "2026-11-28T09:00")
            page.fill("#r-valuation", "650000")
            _submit(page, "#save-requisition")

            # The printable order: its number, the owner's contact masked, print styles.
            number = page.locator("#order-number").inner_text()
            assert number.startswith("ZY-")
            assert page.locator("#order-contact").inner_text() == "138****8000"
            assert "征用凭证" in page.locator("#requisition-order").inner_text()
            page.emulate_media(media="print")
            assert page.locator(".app-nav").is_hidden()
            assert page.locator("#print-order").is_hidden()
            assert page.locator("#order-number").is_visible()
            page.emulate_media(media="screen")

            # Returned damaged, then claimed: the lines are prefilled and priced here.
            page.select_option("#return-condition", "damaged")
            page.fill("#return-note", "液压管破损")
            _submit(page, "#return-form button[type=submit]")
            assert "损坏" in page.locator("#order-status").inner_text()
            with page.expect_navigation():
                page.click("#claim-requisition")
            lines = page.locator("[data-claim-line]")
            assert lines.count() == 2
            assert lines.nth(1).locator("[data-line-kind]").input_value() == "equipment_damage"
            lines.nth(0).locator("[data-line-quantity]").fill("2")
            lines.nth(0).locator("[data-line-price]").fill("1800")
            lines.nth(1).locator("[data-line-price]").fill("3260.50")
            assert page.locator("#claim-total").inner_text() == "6,860.50"
            page.click("#add-line")
            assert lines.count() == 3
            lines.nth(2).locator("[data-remove-line]").click()
            assert lines.count() == 2
            _submit(page, "#submit-claim")
            assert page.locator("#claim-status").get_attribute("data-status") == "submitted"
            assert page.locator("#claim-total").inner_text() == "6,860.50"
            # Back on the order: it now leads to its claim, not to a new one.
            page.goto(f"{base}/requisitions/{_requisition_id(engine, number)}/order")
            assert page.locator("#open-claim").count() == 1
            assert log.foreign() == []
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        engine.dispose()
        drop_database(url)


def _requisition_id(engine, number):
    """The id of a requisition by its order number."""
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM requisitions WHERE order_number = :n"),
                            {"n": number}).scalar_one()


@pytest.mark.browser
def test_org_claims_on_a_phone_admin_reviews_pays_and_exports(backend, tmp_path):
    url, engine, app, team_id, headers = _world(backend, tmp_path, "claims_pay")
    try:
        api = app.test_client()
        incident = api.post("/api/v1/incidents", headers=headers, json=INCIDENT).get_json()
        sent = api.post(f"/api/v1/incidents/{incident['id']}/dispatches", headers=headers,
                        json={"team_id": team_id, "members_requested": 3}).get_json()
        for to in ("accepted", "en_route", "on_scene", "completed"):
            assert api.post(f"/api/v1/dispatches/{sent['id']}/transition", headers=headers,
                            json={"to": to}).status_code == 200
        with live_server(app) as base, chromium() as browser:
            phone = browser.new_context(viewport=PHONE, locale="zh-CN").new_page()
            phone.on("dialog", lambda dialog: dialog.accept())
            phone_log = RequestLog(phone)
            _sign_in(phone, base, "lantian")
            assert phone.locator("#main-nav a[href='/compensations']").inner_text() == "补偿"

            # The organisation's completed dispatch awaits a claim; the form is prefilled.
            phone.goto(f"{base}/compensations")
            waiting = phone.locator(f"#awaiting [data-dispatch-id='{sent['id']}']")
            assert "山地一队" in waiting.inner_text()
            _no_horizontal_overflow(phone)
            with phone.expect_navigation():
                waiting.locator("a").click()
            kinds = phone.locator("[data-line-kind]")
            assert [kinds.nth(i).input_value() for i in range(kinds.count())] == \
                ["personnel", "meals"]
            assert "3 人 × 1 天" in phone.locator("[name=note]").first.input_value()
            assert phone.locator("#claim-total").inner_text() == "2,100.00"
            _no_horizontal_overflow(phone)
            _submit(phone, "#submit-claim")
            first_claim = phone.url
            assert phone.locator("#claim-status").inner_text() == "待审核"
            _no_horizontal_overflow(phone)

            # The admin: rejecting needs a reason, in the browser and on the server.
            admin = browser.new_page()
            admin.on("dialog", lambda dialog: dialog.accept())
            admin_log = RequestLog(admin)
            _sign_in(admin, base, "boss")
            admin.goto(first_claim)
            admin.click("#reject")
            assert admin.evaluate("() => document.querySelector('#reject-reason')"
                                  ".matches(':invalid')")
            assert admin.locator("#claim-status").get_attribute("data-status") == "submitted"
            admin.evaluate("() => document.querySelector('#reject-reason')"
                           ".removeAttribute('required')")
            _submit(admin, "#reject")
            assert "请填写驳回理由" in admin.locator("main").inner_text()
            assert admin.locator("#claim-status").get_attribute("data-status") == "submitted"
            admin.fill("#reject-reason", "人数与签到记录不符")
            _submit(admin, "#reject")
            assert admin.locator("#claim-status").get_attribute("data-status") == "rejected"
            assert "人数与签到记录不符" in admin.locator("#review-note").inner_text()

            # The organisation claims again with fewer days; approved, then paid.
            phone.goto(f"{base}/dispatches/{sent['id']}/claim")
            phone.locator("[data-line-quantity]").first.fill("2")
            _submit(phone, "#submit-claim")
            second_claim = phone.url
            assert second_claim != first_claim
            admin.goto(second_claim)
            _submit(admin, "#approve")
            assert admin.locator("#claim-status").get_attribute("data-status") == "approved"
            _submit(admin, "#pay")
            assert admin.locator("#claim-status").get_attribute("data-status") == "paid"
            assert admin.locator("#claim-history li").count() == 3
            phone.goto(second_claim)
            assert phone.locator("#claim-status").inner_text() == "已支付"

            # The ledger: filters, totals and the export with the same filters.
            admin.goto(f"{base}/compensations")
            assert admin.locator("#ledger-table tbody tr[data-claim-id]").count() == 2
            admin.select_option("#f-status", "paid")
            _submit(admin, "#apply-filters")
            rows = admin.locator("#ledger-table tbody tr[data-claim-id]")
            assert rows.count() == 1 and rows.first.get_attribute("data-status") == "paid"
            assert admin.locator("#ledger-paid").inner_text() == "1,500.00"
            with admin.expect_download() as download:
                admin.click("#ledger-export")
            book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
            claims = list(book["claims"].iter_rows(min_row=2, values_only=True))
            assert [(c[2], c[4]) for c in claims] == [("蓝天救援队", "paid")]
            assert float(claims[0][7]) == 1500.0
            assert phone_log.foreign() == [] and admin_log.foreign() == []
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        engine.dispose()
        drop_database(url)
