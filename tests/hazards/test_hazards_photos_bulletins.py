"""Hazard photos (content checks, metadata stripped, scoped serving) and bulletins."""

import hashlib
import io
from datetime import date, timedelta

import pytest
from PIL import Image

from emergency.db import utcnow
from emergency.files import DatabaseStore
from tests.conftest import error_of
from tests.hazards.hazard_helpers import INSIDE_2, body, jpeg_with_gps, png_bytes


@pytest.fixture
def staff(actors, place):
    """A grid staff member of grid 1 and their header."""
    return actors.make("grid_staff", grids=[place["grids"][0]])


@pytest.fixture
def report(client, staff):
    """A report in grid 1."""
    return client.post("/api/v1/hazards", json=body(), headers=staff[1]).get_json()


def _upload(client, report_id, data, headers, name="p.jpg"):
    """POST a photo."""
    return client.post(f"/api/v1/hazards/{report_id}/photos", headers=headers,
                       data={"photo": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _get(client, url, headers):
    """GET a file response and close it (send_file keeps the file open until closed)."""
    response = client.get(url, headers=headers)
    response.get_data()
    response.close()
    return response


def test_photo_is_stored_without_location_metadata(client, staff, report, db):
    _user, headers = staff
    response = _upload(client, report["id"], jpeg_with_gps(), headers)
    assert response.status_code == 201, response.get_json()
    photo = response.get_json()
    assert photo["content_type"] == "image/jpeg"
    served = _get(client, photo["url"], headers)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    stored = served.data
    assert hashlib.sha256(stored).hexdigest() == photo["sha256"]
    assert b"secret-desc" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif().get_ifd(0x8825)
    # Kept in the shared file store (the database kind by default), not on this host's disk.
    store = DatabaseStore().bind(db)
    assert any(store.open(key).read() == stored for key in store.keys())
    thumb = _get(client, photo["thumb_url"], headers)
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.data)).size) <= 320
    detail = client.get(f"/api/v1/hazards/{report['id']}", headers=headers).get_json()
    assert [p["id"] for p in detail["photos"]] == [photo["id"]]


def test_resent_photo_is_stored_once(client, staff, report):
    _user, headers = staff
    data = png_bytes()
    first = _upload(client, report["id"], data, headers, "a.png")
    again = _upload(client, report["id"], data, headers, "b.png")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert first.get_json()["content_type"] == "image/png"


def test_photo_content_is_checked_not_its_name(client, staff, report):
    _user, headers = staff
    response = _upload(client, report["id"], b"GIF89a not really an image", headers, "x.jpg")
    assert response.status_code == 422
    assert "photo" in error_of(response)["details"]
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    assert _upload(client, report["id"], gif.getvalue(), headers, "x.png").status_code == 422
    missing = client.post(f"/api/v1/hazards/{report['id']}/photos", headers=headers, data={},
                          content_type="multipart/form-data")
    assert missing.status_code == 422


def test_photo_size_limit(client, staff, report, app):
    app.config["PHOTO_MAX_BYTES"] = 100
    response = _upload(client, report["id"], jpeg_with_gps(), staff[1])
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_photos_only_for_those_who_may_see_the_report(client, staff, report, actors, place):
    _user, headers = staff
    photo = _upload(client, report["id"], jpeg_with_gps(), headers).get_json()
    other = actors.header("grid_staff", grids=[place["grids"][1]])
    assert client.get(photo["url"], headers=other).status_code == 403
    assert client.get(photo["url"]).status_code == 401
    assert client.get(photo["url"], headers=actors.header("org_admin")).status_code == 403
    assert _get(client, photo["url"], actors.header("auditor")).status_code == 200
    assert _upload(client, report["id"], png_bytes(), other).status_code == 403
    assert client.get(f"/api/v1/hazards/{report['id']}/photos/99999",
                      headers=headers).status_code == 404


def test_rectification_photo_is_attached_to_the_step(client, staff, report, actors):
    _user, headers = staff
    admin = actors.header("admin")
    client.post(f"/api/v1/hazards/{report['id']}/transition", json={"to": "verified"},
                headers=admin)
    client.post(f"/api/v1/hazards/{report['id']}/transition", json={"to": "rectifying"},
                headers=headers)
    photo = _upload(client, report["id"], png_bytes(), headers).get_json()
    assert photo["stage"] == "rectifying"
    done = client.post(f"/api/v1/hazards/{report['id']}/transition", headers=headers,
                       json={"to": "rectified", "note": "已整改", "photo_ids": [photo["id"]]})
    assert done.status_code == 200
    assert done.get_json()["history"][-1]["photo_ids"] == [photo["id"]]
    bad = client.post(f"/api/v1/hazards/{report['id']}/transition", headers=admin,
                      json={"to": "closed", "photo_ids": [424242]})
    assert bad.status_code == 422


def test_bulletin_counts_and_printable_page(client, staff, actors, report, app):
    admin = actors.header("admin")
    second = client.post("/api/v1/hazards", json=body(location=INSIDE_2, category="fire"),
                         headers=admin).get_json()
    for to in ("verified", "rectifying", "rectified", "closed"):
        client.post(f"/api/v1/hazards/{second['id']}/transition", json={"to": to},
                    headers=admin)
    today = utcnow().date()
    period = {"from": (today - timedelta(days=1)).isoformat(),
              "to": (today + timedelta(days=1)).isoformat()}
    response = client.get("/api/v1/hazards/bulletin", query_string=period, headers=admin)
    assert response.status_code == 200, response.get_json()
    bulletin = response.get_json()
    assert bulletin["totals"]["new"] == 2 and bulletin["totals"]["closed"] == 1
    assert bulletin["totals"]["open"] == 1
    by_category = {row["category"]: row["count"] for row in bulletin["by_category"]}
    assert by_category["geological"] == 1 and by_category["fire"] == 1
    by_status = {row["status"]: row["count"] for row in bulletin["by_status"]}
    assert by_status["closed"] == 1 and by_status["reported"] == 1
    assert [a["area_code"] for a in bulletin["by_area"]] == ["990101"]
    assert bulletin["by_area"][0]["new"] == 2
    # A separate client: the page sets a session cookie (CSRF), and Flask-Login's strong
    # session protection then ignores bearer tokens sent with that cookie (reported).
    html = app.test_client().get("/api/v1/hazards/bulletin",
                                 query_string={**period, "format": "html"}, headers=admin)
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "hazard-bulletin" in html.get_data(as_text=True)
    assert client.get("/api/v1/hazards/bulletin", query_string=period,
                      headers=staff[1]).status_code == 403
    empty = client.get("/api/v1/hazards/bulletin", headers=admin,
                       query_string={"from": "2020-01-01", "to": "2020-01-31"}).get_json()
    assert empty["totals"]["new"] == 0
    backwards = client.get("/api/v1/hazards/bulletin", headers=admin,
                           query_string={"from": "2020-02-01", "to": "2020-01-01"})
    assert backwards.status_code == 422
    assert client.get("/api/v1/hazards/bulletin", headers=admin,
                      query_string={"from": "yesterday"}).status_code == 422


def test_bulletin_of_a_past_period_counts_statuses_as_of_its_end(db, staff, actors):
    """A report new in a past week, verified after it and closed since, is counted as it
    stood at the week's end: reported, open and overdue then; the week after counts it as
    verified and closed, and today's bulletin lists it nowhere as open."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from shapely.geometry import Point

    from hazards import bulletins, service
    from hazards.workflow import DEFAULT_POLICY
    from tests.hazards.hazard_helpers import INSIDE_1

    grid_user, _ = staff
    admin, _ = actors.make("admin")
    local = ZoneInfo("Asia/Shanghai")
    monday = date.today() - timedelta(days=date.today().weekday() + 21)
    created = datetime.combine(monday, time(10), local)
    record, _ = service.create_report(db, grid_user, "past-week-1", "fire", "general",
                                      Point(*INSIDE_1), now=created)
    steps = [("verified", 8), ("rectifying", 9), ("rectified", 10), ("closed", 11)]
    for to, day in steps:
        service.transition(db, admin, record["id"], to,
                           now=datetime.combine(monday + timedelta(days=day), time(9), local))
    week = bulletins.build(db, monday, monday + timedelta(days=6))
    assert week["totals"] == {"new": 1, "closed": 0, "open": 1, "overdue": 1}
    assert {r["status"]: r["count"] for r in week["by_status"]}["reported"] == 1
    [late] = week["overdue"]
    assert late["id"] == record["id"] and late["status"] == "reported"
    due = DEFAULT_POLICY.due("reported", "general", created)
    assert datetime.fromisoformat(late["due_at"]) == due < datetime.combine(
        monday + timedelta(days=7), time(0), local)
    following = bulletins.build(db, monday + timedelta(days=7), monday + timedelta(days=13))
    assert following["totals"] == {"new": 0, "closed": 1, "open": 0, "overdue": 0}
    now = bulletins.build(db, date.today(), date.today())
    assert now["totals"]["open"] == 0 and now["totals"]["overdue"] == 0


def test_published_bulletin_is_public_without_personal_data(client, staff, actors, report):
    admin = actors.header("admin")
    today = date.today().isoformat()
    response = client.post("/api/v1/hazards/bulletins", headers=admin,
                           json={"from": today, "to": today, "title": "十一月通报"})
    assert response.status_code == 201, response.get_json()
    published = response.get_json()
    public = client.get(f"/api/v1/hazards/bulletins/{published['id']}")
    assert public.status_code == 200
    text = public.get_data(as_text=True)
    assert staff[0].username not in text and "斜坡裂缝" not in text
    assert client.get("/api/v1/hazards/bulletins").get_json()["total"] == 1
    assert client.post("/api/v1/hazards/bulletins", headers=staff[1],
                       json={"from": today, "to": today}).status_code == 403
    page = client.get(f"/hazards/bulletins/{published['id']}")
    assert page.status_code == 200 and "十一月通报" in page.get_data(as_text=True)
    assert client.get("/api/v1/hazards/bulletins/9999").status_code == 404
