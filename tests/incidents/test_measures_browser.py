"""Emergency measures in the browser (issue 19), desktop, in Chinese: from the dispatch
console a dispatcher issues a measure (a refusal names the missing legal basis and keeps the
input; the scope is drawn on the map), prints its decision, finds it in the register and
lifts it from the dialog (a note is required)."""

import re

import pytest

from emergency import create_app
from tests.browser import RequestLog, axe_violations, chromium, live_server
from tests.conftest import DATA_KEY, app_config, drop_database, make_database
from tests.incidents.conftest import arrange_committed
from tests.incidents.test_incident_reports_browser import DESKTOP, INCIDENT, _sign_in


def _draw_square(page):
    """Click four corners on the scope map, then close the scope."""
    box = page.locator("#scope-map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dx, dy in ((-60, -40), (60, -40), (60, 40), (-60, 40)):
        page.mouse.click(cx + dx, cy + dy)
    page.click("#draw-close")


@pytest.mark.browser
def test_dispatcher_issues_prints_and_lifts_a_measure(backend, tmp_path):
    from registry.crypto import cipher_for

    url, engine = make_database(backend, tmp_path, "measures")
    try:
        _team_id, token = arrange_committed(engine, cipher_for(DATA_KEY))
        app = create_app(app_config(url, tmp_path))
        headers = {"Authorization": f"Bearer {token}"}
        api = app.test_client()
        incident = api.post("/api/v1/incidents", headers=headers, json=INCIDENT).get_json()
        with live_server(app) as base, chromium() as browser:
            page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
            log = RequestLog(page)
            _sign_in(page, base, "disp")
            page.goto(f"{base}/maps/incidents/{incident['id']}")
            assert "暂无措施" in page.locator("#measures-panel").inner_text()
            with page.expect_navigation():
                page.click("#new-measure")
            assert page.locator("h1").inner_text() == "发布应急措施"

            # Without a legal basis the form is refused, naming it; the input stays.
            page.select_option("#m-kind", "traffic_control")
            page.fill("#m-authority", "重庆市綦江区人民政府")
            page.fill("#m-starts", "2026-11-28T09:00")
            page.fill("#m-note", "封闭滑坡路段")
            _draw_square(page)
            assert "4" in page.locator("#draw-status").inner_text()
            with page.expect_navigation():
                page.click("#issue-measure")
            assert "is-invalid" in page.locator("#m-basis").get_attribute("class")
            assert page.locator("#m-note").input_value() == "封闭滑坡路段"
            assert page.locator("#m-scope").input_value().startswith('{"type":"Polygon"')
            assert axe_violations(page) == []
            page.fill("#m-basis", "《中华人民共和国突发事件应对法》第七十三条")
            with page.expect_navigation():
                page.click("#issue-measure")

            # The printable decision: its number, basis and the scope's outline.
            number = page.locator("#decision-number").inner_text()
            assert re.fullmatch(r"渝应急决〔\d{4}〕1号", number)
            assert "第七十三条" in page.locator("#decision-basis").inner_text()
            assert page.locator("#decision-scope path").count() == 1
            assert axe_violations(page) == []
            page.emulate_media(media="print")
            assert page.locator(".app-nav").is_hidden()
            assert page.locator("#print-decision").is_hidden()
            assert page.locator("#measure-decision").is_visible()
            page.emulate_media(media="screen")

            # The register lists it in force; lifting asks for a note first.
            page.goto(f"{base}/measures")
            row = page.locator(f"#measure-list tr:has-text('{number}')")
            assert row.get_attribute("data-status") == "in_force"
            assert "执行中" in row.inner_text()
            assert axe_violations(page) == []
            row.locator("[data-lift]").click()
            assert page.locator("#lift-dialog").is_visible()
            assert page.locator("#lift-number").inner_text() == number
            page.click("#lift-confirm")
            assert page.locator("#lift-error").inner_text() == "请填写解除说明。"
            page.fill("#lift-note", "道路抢通，恢复通行")
            with page.expect_navigation():
                page.click("#lift-confirm")
            row = page.locator(f"#measure-list tr:has-text('{number}')")
            assert row.get_attribute("data-status") == "lifted"
            assert "已解除" in row.inner_text()
            assert row.locator("[data-lift]").count() == 0

            # On the console, a measure issued elsewhere appears in the panel and the
            # timeline from the live event (polled: the CSP forbids wait_for_function).
            page.goto(f"{base}/maps/incidents/{incident['id']}")
            assert page.locator("#measure-items li[data-status=lifted]").count() == 1
            for _ in range(150):
                if page.evaluate("document.getElementById('live-indicator').dataset.state"
                                 " === 'live'"):
                    break
                page.wait_for_timeout(100)
            made = api.post(f"/api/v1/incidents/{incident['id']}/measures", headers=headers,
                            json={"kind": "evacuation", "legal_basis": "应对法第七十三条",
                                  "authority": "綦江区人民政府",
                                  "starts_at": "2026-11-28T10:00:00+08:00",
                                  "scope": {"type": "Polygon", "coordinates": [[
                                      [106.54, 29.55], [106.56, 29.55], [106.56, 29.57],
                                      [106.54, 29.55]]]}})
            assert made.status_code == 201
            page.locator("#measure-items li[data-status=in_force]").wait_for(timeout=15000)
            fresh = page.locator("#measure-items li[data-status=in_force]")
            assert made.get_json()["order_number"] in fresh.inner_text()
            assert "疏散转移" in fresh.inner_text() and fresh.locator("[data-lift]").count() == 1
            page.locator("#timeline li[data-kind=measure]").nth(2).wait_for(timeout=15000)
            assert "发布措施" in page.locator("#timeline li[data-kind=measure]").last.inner_text()
            assert log.foreign() == []
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        engine.dispose()
        drop_database(url)
