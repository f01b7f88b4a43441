"""Hazard pages: phone reporting page, tasks, detail, and the offline map."""

import re

import pytest

from maps.assets import external_urls
from tests.hazards.hazard_helpers import INSIDE_2, body


def _login(app, user):
    """A client signed in with a session cookie, as a browser would be."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": user.username, "csrf_token": token,
                                           "password": "correct horse battery"})
    assert response.status_code == 302
    return client


@pytest.fixture
def staff(actors, place):
    """A grid staff member of grid 1 and their header."""
    return actors.make("grid_staff", grids=[place["grids"][0]])


def test_report_page_for_grid_staff(app, staff, actors):
    user, _headers = staff
    page = _login(app, user).get("/hazards/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="hazard-form"' in html and 'capture="environment"' in html
    assert "隐患上报" in html and "地质灾害" in html  # Chinese first
    assert "/hazards/static/hazards/report.js" in html
    assert external_urls(html) == []
    assert "/hazards/static/hazards/outbox.js" in html
    for script, part in (("report.js", b"ReportOutbox"), ("outbox.js", b"indexedDB")):
        js = app.test_client().get(f"/hazards/static/hazards/{script}")
        assert js.status_code == 200 and part in js.data
        js.close()
    auditor, _ = actors.make("auditor")
    assert _login(app, auditor).get("/hazards/report").status_code == 403


def test_tasks_detail_and_map_pages(app, client, staff, actors):
    user, headers = staff
    admin_user, admin = actors.make("admin")
    report = client.post("/api/v1/hazards", json=body(description="<script>x</script>"),
                         headers=headers).get_json()
    client.post("/api/v1/hazards", json=body(location=INSIDE_2), headers=admin)
    browser = _login(app, admin_user)
    tasks = browser.get("/hazards/tasks").get_data(as_text=True)
    assert f"#{report['id']}" in tasks
    detail = browser.get(f"/hazards/{report['id']}")
    assert detail.status_code == 200
    text = detail.get_data(as_text=True)
    assert "<script>x</script>" not in text and 'data-to="verified"' in text
    page = browser.get("/maps/hazards")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "markerClusterGroup" in html and "hazard-legend" in html
    assert "<script>x</script>" not in html
    assert external_urls(html) == []
    assert "2 / 2" in html or ">2<" in html or "2 of 2" in html or "2 条" in html
    filtered = browser.get("/maps/hazards?status=closed&overdue=true")
    assert filtered.status_code == 200
    assert browser.get("/maps/hazards?status=bogus").status_code == 422
    grid_page = _login(app, user).get(f"/hazards/{report['id']}")
    assert 'data-to="verified"' not in grid_page.get_data(as_text=True)
