"""The grid staff's task list, live: rows as JSON for the page's script, and in headless
Chromium on a phone a report moved to the staff's step appears without a reload."""

import re

import pytest

from emergency import create_app
from emergency.auth import service as auth
from emergency.db import new_session
from tests.browser import RequestLog, chromium, live_server
from tests.conftest import app_config, drop_database, make_database
from tests.hazards.hazard_helpers import INSIDE_1, body, one_grid_and_staff
from tests.maps.test_operations_live import quiesce_live_events

PASSWORD = "correct horse battery"


def _wait(page, condition, timeout_s=20):
    """Poll a JS condition (the page's CSP forbids the eval behind wait_for_function)."""
    for _ in range(int(timeout_s * 10)):
        if page.evaluate(f"() => Boolean({condition})"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {condition}")


def _sign_in(page, base, username, password):
    """Sign in through the login form (tests/browser.py's sign_in waits for the network to
    fall idle, which a page holding the live events stream never does)."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)


def _login(app, user):
    """A client signed in with a session cookie, as a browser would be."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": user.username, "csrf_token": token,
                                           "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_task_rows_as_json_match_the_page(app, client, actors, place):
    _boss, admin = actors.make("admin")
    staff, _headers = actors.make("grid_staff", grids=[place["grids"][0]])
    report = client.post("/api/v1/hazards", headers=admin, json=body(INSIDE_1)).get_json()
    assert client.post(f"/api/v1/hazards/{report['id']}/transition", headers=admin,
                       json={"to": "verified", "note": "核实"}).status_code == 200
    browser = _login(app, staff)
    rows = browser.get("/hazards/tasks?format=json").get_json()
    assert rows["total"] == 1
    row = rows["items"][0]
    assert row["id"] == report["id"] and row["status"] == "verified"
    assert row["url"] == f"/hazards/{report['id']}"
    assert row["status_label"] == "已核实" and row["due"]  # Chinese first, Beijing time
    page = browser.get("/hazards/tasks").get_data(as_text=True)
    assert row["heading"] in page and f'data-sig="verified|{row["due"]}|0|0"' in page
    assert 'id="task-status"' in page and 'aria-live="polite"' in page
    assert "/hazards/static/hazards/tasks.js" in page


@pytest.fixture
def served(backend, tmp_path):
    """A live app with one grid, its grid staff member, and an admin's API token."""
    url, engine = make_database(backend, tmp_path, label="taskslive")
    app = create_app(app_config(url, tmp_path, EVENTS_HEARTBEAT_SECONDS=1))
    with app.app_context():
        session = new_session()
        one_grid_and_staff(session, "grid-staff", PASSWORD)
        auth.create_user(session, "boss", "admin", PASSWORD)
        token = auth.create_token(session, "boss", 1)
        session.commit()
        session.close()
    try:
        with live_server(app) as base:
            yield app, base, {"Authorization": f"Bearer {token}"}
    finally:
        quiesce_live_events(app)
        app.extensions["emergency.db"]["engine"].dispose()
        engine.dispose()
        drop_database(url)


@pytest.mark.browser
def test_task_list_on_a_phone_updates_when_a_report_reaches_the_staffs_step(served):
    app, base, admin = served
    api = app.test_client()
    first = api.post("/api/v1/hazards", headers=admin, json=body(INSIDE_1)).get_json()
    second = api.post("/api/v1/hazards", headers=admin, json=body(INSIDE_1)).get_json()
    assert api.post(f"/api/v1/hazards/{first['id']}/transition", headers=admin,
                    json={"to": "verified"}).status_code == 200
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        page = context.new_page()
        log = RequestLog(page)
        _sign_in(page, base, "grid-staff", PASSWORD)
        page.goto(f"{base}/hazards/tasks")
        assert page.inner_text("#task-total") == "1"
        _wait(page, "document.getElementById('live-indicator').dataset.state === 'live'")
        page.evaluate("() => { window.notReloaded = true; }")

        # A bureau user verifies the second report: it is now the grid staff's to rectify.
        assert api.post(f"/api/v1/hazards/{second['id']}/transition", headers=admin,
                        json={"to": "verified", "note": "现场核实"}).status_code == 200
        _wait(page, "document.getElementById('task-total').textContent === '2'")
        assert page.evaluate("() => window.notReloaded === true")
        changed = page.locator(f"#task-list a[data-id='{second['id']}']")
        assert changed.get_attribute("data-changed") == "1"
        assert "已核实" in changed.inner_text()
        assert page.locator(f"#task-list a[data-id='{first['id']}']").get_attribute(
            "data-changed") is None
        assert page.inner_text("#task-status").startswith("已更新")

        # Rectified by the bureau (a step past the staff's): it leaves the list.
        for step in ("rectifying", "rectified"):
            api.post(f"/api/v1/hazards/{first['id']}/transition", headers=admin,
                     json={"to": step})
        _wait(page, "document.getElementById('task-total').textContent === '1'")
        assert page.locator(f"#task-list a[data-id='{first['id']}']").count() == 0
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        assert page.evaluate("() => window.notReloaded === true")
        assert log.foreign() == []
        context.close()
