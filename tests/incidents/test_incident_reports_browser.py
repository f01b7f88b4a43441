"""Incident information reports in the browser (issue 18), desktop, in Chinese: from the
dispatch console a dispatcher writes the initial report (a refused count keeps the input),
prints it, and sees a follow-up made elsewhere appear in the console's panel live; the form
and the printable report are axe-clean and fit a phone's width."""

import pytest

from emergency import create_app
from tests.browser import RequestLog, axe_violations, chromium, horizontal_overflow, live_server
from tests.conftest import DATA_KEY, app_config, drop_database, make_database
from tests.incidents.conftest import arrange_committed

PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BODY = "11月28日8时许，綦江区某村发生山体滑坡。"
INCIDENT = {"title": "綦江山体滑坡", "incident_type": "geological",
            "occurred_at": "2026-11-28T08:00:00+08:00", "metrics": {"injured": 3},
            "location": {"type": "Point", "coordinates": [106.55, 29.56]}}


def _sign_in(page, base, username):
    """Sign in through the login form (wait for the navigation, not an idle network: the
    live stream keeps it busy)."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


@pytest.mark.browser
def test_dispatcher_writes_prints_and_follows_reports(backend, tmp_path):
    from registry.crypto import cipher_for

    url, engine = make_database(backend, tmp_path, "increports")
    try:
        _team_id, token = arrange_committed(engine, cipher_for(DATA_KEY))
        app = create_app(app_config(url, tmp_path))
        api = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        incident = api.post("/api/v1/incidents", headers=headers, json=INCIDENT).get_json()
        console = f"/maps/incidents/{incident['id']}"
        with live_server(app) as base, chromium() as browser:
            page = browser.new_context(viewport=DESKTOP, locale="zh-CN").new_page()
            log = RequestLog(page)
            _sign_in(page, base, "disp")
            page.goto(base + console)
            state = page.locator("#report-state")
            assert state.get_attribute("data-state") == "pending"
            assert "首报须于" in state.inner_text()
            with page.expect_navigation():
                page.click(".report-write[data-kind=initial]")

            # The form: prefilled from the incident, axe-clean; a refusal keeps the input.
            assert page.locator("#r-injured").input_value() == "3"
            assert page.locator("#r-unit").input_value().endswith("应急管理局")
            page.fill("#r-body", BODY)
            page.fill("#r-dead", "-1")
            assert axe_violations(page) == []
            with page.expect_navigation():
                page.click("#send-report")
            assert page.locator("[data-error-for=dead]").is_visible()
            assert page.locator("#r-body").input_value() == BODY
            assert page.locator("#r-dead").get_attribute("aria-invalid") == "true"
            assert axe_violations(page) == []
            page.fill("#r-dead", "0")
            with page.expect_navigation():
                page.click("#send-report")

            # The printable report: official title, axe-clean, print styles hide the chrome.
            assert page.locator("#report-title").inner_text() == "关于綦江山体滑坡的首报"
            assert "受伤 3 人" in page.locator("#report-casualties").inner_text()
            assert axe_violations(page) == []
            assert horizontal_overflow(page) == 0
            printed = page.url
            page.set_viewport_size(PHONE)  # and it fits a phone, as the form does
            assert horizontal_overflow(page) == 0
            page.goto(f"{base}/incidents/{incident['id']}/reports/new")
            assert horizontal_overflow(page) == 0
            page.goto(printed)
            page.set_viewport_size(DESKTOP)
            page.emulate_media(media="print")
            assert page.locator(".app-nav").is_hidden()
            assert page.locator("#print-report").is_hidden()
            assert page.locator("#report-title").is_visible()
            page.emulate_media(media="screen")

            # Back on the console: reported on time; a follow-up made through the API (by
            # another dispatcher's client) shows up in the panel from the live event.
            page.goto(base + console)
            assert page.locator("#report-state").get_attribute("data-state") == "reported"
            assert page.locator("#report-list li").count() == 1
            entry = page.locator("#timeline li[data-kind=report]").inner_text()
            assert entry.endswith("报送了首报")
            # Polled with evaluate (wait_for_function evaluates a string, which the CSP forbids).
            for _ in range(150):
                if page.evaluate("document.getElementById('live-indicator').dataset.state"
                                 " === 'live'"):
                    break
                page.wait_for_timeout(100)
            made = api.post(f"/api/v1/incidents/{incident['id']}/reports", headers=headers,
                            json={"kind": "follow_up", "body": "续报", "dead": 0, "missing": 0,
                                  "injured": 4})
            assert made.status_code == 201
            page.locator("#report-list li[data-kind=follow_up]").wait_for(timeout=15000)
            assert "第1次续报" in page.locator("#report-list").inner_text()
            assert log.foreign() == []
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        engine.dispose()
        drop_database(url)
