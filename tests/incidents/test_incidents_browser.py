"""The dispatch button and its confirmation, end to end in headless Chromium against a live
server, in English (the Chinese journey is test_dispatcher_journey)."""

import pytest
from sqlalchemy import text

from emergency import create_app
from tests.browser import RequestLog, axe_violations, chromium, live_server
from tests.conftest import DATA_KEY, app_config, drop_database, make_database
from tests.incidents.conftest import arrange_committed
from tests.incidents.test_dispatcher_journey import sign_in


@pytest.mark.browser
def test_dispatch_button_dispatches_the_team(backend, tmp_path):
    from registry.crypto import cipher_for

    url, engine = make_database(backend, tmp_path, "console")
    try:
        team_id, token = arrange_committed(engine, cipher_for(DATA_KEY))
        app = create_app(app_config(url, tmp_path))
        headers = {"Authorization": f"Bearer {token}"}
        incident = app.test_client().post("/api/v1/incidents", headers=headers, json={
            "title": "山体滑坡", "incident_type": "geological",
            "occurred_at": "2026-11-28T08:00:00+08:00",
            "location": {"type": "Point", "coordinates": [106.55, 29.56]}}).get_json()
        with live_server(app) as base, chromium() as browser:
            page = browser.new_page()
            log = RequestLog(page)
            sign_in(page, base, "disp", "correct horse battery")
            # The dispatcher's Chinese journey is test_dispatcher_journey; this one is walked
            # in English.
            page.goto(f"{base}/maps/incidents/{incident['id']}?lang=en")
            page.wait_for_selector(".leaflet-container")
            assert page.locator("html").get_attribute("lang") == "en"
            button = page.locator(f".dispatch-btn[data-team-id='{team_id}']")
            assert button.is_enabled() and button.inner_text() == "Dispatch"
            assert axe_violations(page) == []
            # The console fills the window under the bar whatever the bar's height (the
            # administrator's links take two rows on a desktop): no page scroll, the panel
            # scrolls on its own.
            page.evaluate("document.querySelector('nav.navbar').style.minHeight = '112px'")
            fit = page.evaluate("""() => {
                const c = document.querySelector('.console').getBoundingClientRect();
                return [c.top >= 112, Math.round(c.bottom) <= window.innerHeight,
                        document.documentElement.scrollHeight <= window.innerHeight + 1];
            }""")
            assert fit == [True, True, True]
            # The first click asks; cancelling sends nothing.
            button.click()
            page.wait_for_selector("#dispatch-dialog[open]")
            assert page.inner_text("label[for=dispatch-task]") == "Task"
            page.click("#dispatch-cancel")
            assert page.locator("#dispatch-dialog[open]").count() == 0
            assert page.locator("#dispatches tbody tr").count() == 0
            button.click()
            page.fill("#dispatch-task", "搜救")
            page.click("#dispatch-confirm")
            row = page.locator("#dispatches tbody tr .status[data-status='requested']")
            row.wait_for(timeout=10000)
            assert page.locator("#console-error").is_hidden()
            # A second click elsewhere (a reload) shows the team as busy, not recommended.
            page.reload()
            page.wait_for_selector(".leaflet-container")
            assert page.locator(f".dispatch-btn[data-team-id='{team_id}']").count() == 0
            assert log.foreign() == []
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status, task FROM dispatches WHERE team_id = :t"),
                                {"t": team_id}).all()
        assert [tuple(r) for r in rows] == [("requested", "搜救")]
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        engine.dispose()
        drop_database(url)
