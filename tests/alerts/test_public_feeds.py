"""Public warnings, no sign-in: GeoJSON and Atom feeds, each CAP document, ETag and 304,
only published and active warnings, small enough for a day's warnings, no personal data."""

import json
from datetime import timedelta

from lxml import etree
from sqlalchemy import select

from alerts import cap
from alerts.models import EarlyWarning
from emergency.db import utcnow
from tests.alerts.conftest import step, warning_body

ATOM = "{http://www.w3.org/2005/Atom}"


def test_geojson_lists_only_published_active_warnings_without_sign_in(
        client, db, place, people, draft, published):
    other = client.post("/api/v1/warnings", json=warning_body(place, title="草稿"),
                        headers=people["author"][1]).get_json()
    response = client.get("/api/v1/public/warnings")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    ids = [f["id"] for f in body["features"]]
    assert published["id"] in ids and other["id"] not in ids
    feature = next(f for f in body["features"] if f["id"] == published["id"])
    props = feature["properties"]
    assert props["title"] == published["title"] and props["level"] == "red"
    assert props["level_label"] == "红色预警" and props["hazard_type"] == "meteorological"
    assert props["areas"] == ["测试区", "测试街道"]
    assert props["onset"].endswith("+08:00") and props["expires"].endswith("+08:00")
    assert props["cap"].endswith(f"/api/v1/public/warnings/{published['id']}.cap")
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    # Nobody's name: neither the author, the approver nor the publisher.
    text = response.get_data(as_text=True)
    for role in ("author", "admin", "planner"):
        assert people[role][0].username not in text


def test_expired_and_lifted_warnings_leave_the_geojson(client, db, people, published):
    stored = db.get(EarlyWarning, published["id"])
    stored.expires = utcnow() - timedelta(minutes=1)  # expired before the job ran
    db.flush()
    ids = [f["id"] for f in client.get("/api/v1/public/warnings").get_json()["features"]]
    assert published["id"] not in ids
    stored.expires = utcnow() + timedelta(hours=3)
    db.flush()
    assert step(client, people["admin"][1], published["id"], "lifted", "雨停").status_code == 200
    ids = [f["id"] for f in client.get("/api/v1/public/warnings").get_json()["features"]]
    assert published["id"] not in ids


def test_etag_gives_304_and_changes_with_the_data(client, people, published):
    first = client.get("/api/v1/public/warnings")
    tag = first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"] and "max-age" in first.headers[
        "Cache-Control"]
    again = client.get("/api/v1/public/warnings", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.get_data() == b""
    # The compressed variant's tag (the compressor suffixes the algorithm) is honoured too.
    zipped = client.get("/api/v1/public/warnings", headers={"Accept-Encoding": "gzip"})
    assert client.get("/api/v1/public/warnings", headers={
        "If-None-Match": zipped.headers["ETag"], "Accept-Encoding": "gzip"}).status_code == 304
    assert step(client, people["admin"][1], published["id"], "lifted", "雨停").status_code == 200
    changed = client.get("/api/v1/public/warnings", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag


def test_atom_feed_links_each_cap_document(client, people, published):
    response = client.get("/api/v1/public/warnings.atom")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = etree.fromstring(response.get_data())
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1
    entry = entries[0]
    assert "红色预警" in entry.findtext(f"{ATOM}title")
    assert entry.findtext(f"{ATOM}updated").endswith("+08:00")
    link = entry.find(f"{ATOM}link[@type='application/cap+xml']")
    href = link.get("href")
    assert href.endswith(f"/api/v1/public/warnings/{published['id']}.cap")
    document = client.get(href.split("localhost", 1)[-1])
    assert document.status_code == 200 and document.mimetype == "application/cap+xml"
    assert cap.schema().validate(etree.fromstring(document.get_data()))
    tag = response.headers["ETag"]
    assert client.get("/api/v1/public/warnings.atom",
                      headers={"If-None-Match": tag}).status_code == 304


def test_atom_keeps_a_lifted_warning_as_its_cancel_for_a_day(client, db, people, published):
    assert step(client, people["admin"][1], published["id"], "lifted", "雨停").status_code == 200
    feed = etree.fromstring(client.get("/api/v1/public/warnings.atom").get_data())
    (entry,) = feed.findall(f"{ATOM}entry")
    assert "解除" in entry.findtext(f"{ATOM}title")
    document = client.get(f"/api/v1/public/warnings/{published['id']}.cap").get_data()
    assert etree.fromstring(document).findtext(cap.q("msgType")) == "Cancel"
    stored = db.get(EarlyWarning, published["id"])
    stored.lifted_at = utcnow() - timedelta(days=2)
    db.flush()
    feed = etree.fromstring(client.get("/api/v1/public/warnings.atom").get_data())
    assert feed.findall(f"{ATOM}entry") == []


def test_unpublished_warnings_have_no_public_cap_document(client, draft, people):
    assert client.get(f"/api/v1/public/warnings/{draft['id']}.cap").status_code == 404
    assert step(client, people["admin"][1], draft["id"], "approved").status_code == 200
    assert client.get(f"/api/v1/public/warnings/{draft['id']}.cap").status_code == 404
    assert client.get("/api/v1/public/warnings/999999.cap").status_code == 404


def test_a_typical_day_stays_under_100_kb(client, db, ctx, place, people):
    """Twenty published warnings over the test district (detailed outlines drawn with 400
    vertices each, made through the service: the API's path is tested above): the GeoJSON
    and the Atom feed stay under 100 KB."""
    import math

    from shapely.geometry import Polygon

    from alerts import service

    ring = [(106.6 + 0.15 * math.cos(2 * math.pi * i / 400),
             29.6 + 0.15 * math.sin(2 * math.pi * i / 400)) for i in range(400)]
    author, approver, publisher = (people[n][0] for n in ("author", "admin", "planner"))
    now = utcnow()
    for i in range(20):
        warning = service.create_warning(
            db, author, title=f"第{i}号预警", hazard_type="meteorological", level="red",
            area_codes=[place["district"]], geometry=Polygon(ring), onset=now,
            expires=now + timedelta(hours=6), instruction="停止户外活动。",
            description="预计未来6小时降雨量将达100毫米以上。" * 5)
        service.transition(db, approver, warning.id, "approved")
        service.transition(db, publisher, warning.id, "published")
    geojson = client.get("/api/v1/public/warnings").get_data()
    atom = client.get("/api/v1/public/warnings.atom").get_data()
    assert len(json.loads(geojson)["features"]) == 20
    assert len(geojson) < 100 * 1024, len(geojson)
    assert len(atom) < 100 * 1024, len(atom)
    published = db.scalars(select(EarlyWarning.id).where(
        EarlyWarning.status == "published")).all()
    assert len(published) == 20
