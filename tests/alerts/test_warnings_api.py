"""Warnings API: drafting and its refusals, four eyes, the steps, changes, reads, events."""

from datetime import timedelta

from sqlalchemy import select

from alerts.models import EarlyWarning, WarningArea
from emergency.audit.models import AuditEntry
from emergency.db import utcnow
from emergency.events.models import LiveEvent
from tests.alerts.conftest import drawn, in_hours, local, step, warning_body
from tests.conftest import error_of


def count(db):
    """How many warnings are stored."""
    return len(db.scalars(select(EarlyWarning.id)).all())


def test_draft_is_stored_with_its_areas_and_step(client, db, place, people, draft):
    assert draft["status"] == "draft" and draft["version"] == 1
    assert draft["area_codes"] == [place["district"], place["street"]]
    assert [a["name"] for a in draft["areas"]] == ["测试区", "测试街道"]
    assert draft["author"] == people["author"][0].username
    assert draft["cap_identifier"] is None and draft["references"] == []
    # No drawing: the areas' union is shown (the district contains the street).
    assert draft["geometry"]["type"] == "MultiPolygon"
    assert local(draft["onset"]).utcoffset() is not None
    assert [(s["kind"], s["to"]) for s in draft["steps"]] == [("create", "draft")]
    rows = db.scalars(select(WarningArea.area_code).where(
        WarningArea.warning_id == draft["id"])).all()
    assert sorted(rows) == sorted(draft["area_codes"])


BAD_DRAFTS = [
    ({"level": "purple"}, "level"),
    ({"hazard_type": "alien_invasion"}, "hazard_type"),
    ({"title": ""}, "title"),
    ({"onset": "2026-07-01T08:00:00"}, "onset"),  # no offset
    ({"area_codes": ["000000"]}, "area_codes"),
    ({"area_codes": [], "geometry": None}, "area_codes"),
    ({"geometry": {"type": "Polygon", "coordinates": [[[106.5, 29.5], [106.6, 29.5],
                                                       [106.6, 29.6], [106.5, 29.6]]]}},
     "geometry"),  # not closed
    ({"geometry": {"type": "Polygon", "coordinates": [[[106.5, 29.5], [106.6, 29.6],
                                                       [106.6, 29.5], [106.5, 29.6],
                                                       [106.5, 29.5]]]}},
     "geometry"),  # self-intersecting bow tie
    ({"geometry": drawn(-70.0, 40.0)}, "geometry"),  # outside the served region
    ({"geometry": {"type": "Point", "coordinates": [106.5, 29.5]}}, "geometry"),
]


def test_bad_drafts_are_refused_naming_the_field(client, db, place, people):
    for change, field in BAD_DRAFTS:
        response = client.post("/api/v1/warnings", json=warning_body(place, **change),
                               headers=people["author"][1])
        assert response.status_code == 422, (change, response.get_json())
        assert field in error_of(response)["details"], change
    assert count(db) == 0


def test_missing_fields_and_expiry_before_onset(client, db, place, people):
    body = warning_body(place)
    for key in ("title", "level", "onset", "expires", "hazard_type"):
        body.pop(key)
    missing = client.post("/api/v1/warnings", json=body, headers=people["author"][1])
    assert missing.status_code == 422
    assert {"title", "level", "onset", "expires", "hazard_type"} <= set(
        error_of(missing)["details"])
    backwards = client.post("/api/v1/warnings", json=warning_body(
        place, onset=in_hours(5), expires=in_hours(2)), headers=people["author"][1])
    assert backwards.status_code == 422 and "expires" in error_of(backwards)["details"]
    passed = client.post("/api/v1/warnings", json=warning_body(
        place, onset=in_hours(-5), expires=in_hours(-2)), headers=people["author"][1])
    assert passed.status_code == 422 and "expires" in error_of(passed)["details"]
    assert count(db) == 0


def test_error_names_the_field_by_its_label_in_chinese(client, place, people):
    response = client.post("/api/v1/warnings?lang=zh",
                           json=warning_body(place, level="purple"),
                           headers=people["author"][1])
    assert "级别" in error_of(response)["message"] or "等级" in error_of(response)["message"]


def test_drawn_polygon_without_areas_finds_its_districts(client, place, people):
    response = client.post("/api/v1/warnings", json=warning_body(
        place, area_codes=[], geometry=drawn(106.5, 29.5, 0.05)), headers=people["author"][1])
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["area_codes"] == [place["district"]]
    assert response.get_json()["geometry"]["type"] == "MultiPolygon"


def test_gcj02_drawing_is_converted(client, place, people):
    response = client.post("/api/v1/warnings", json=warning_body(
        place, geometry=drawn(106.5, 29.5, 0.05), crs="gcj02"), headers=people["author"][1])
    assert response.status_code == 201
    x = response.get_json()["geometry"]["coordinates"][0][0][0][0]
    assert x != 106.5 and abs(x - 106.5) < 0.01


def test_who_may_draft(client, place, people):
    for role in ("admin", "planner", "dispatcher"):
        assert client.post("/api/v1/warnings", json=warning_body(place),
                           headers=people[role][1]).status_code == 201
    for role in ("auditor", "grid_staff"):
        assert client.post("/api/v1/warnings", json=warning_body(place),
                           headers=people[role][1]).status_code == 403
    assert client.post("/api/v1/warnings", json=warning_body(place)).status_code == 401


def test_four_eyes_the_author_neither_approves_nor_publishes(client, people, draft):
    own = step(client, people["author"][1], draft["id"], "approved")
    assert own.status_code == 403 and error_of(own)["code"] == "four_eyes"
    assert step(client, people["dispatcher"][1], draft["id"], "approved").status_code == 403
    assert step(client, people["admin"][1], draft["id"], "approved").status_code == 200
    own = step(client, people["author"][1], draft["id"], "published")
    assert own.status_code == 403 and error_of(own)["code"] == "four_eyes"


def test_whoever_changed_a_draft_does_not_approve_it(client, people, draft):
    changed = client.patch(f"/api/v1/warnings/{draft['id']}", json={"level": "orange"},
                           headers=people["admin"][1])
    assert changed.status_code == 200 and changed.get_json()["level"] == "orange"
    refused = step(client, people["admin"][1], draft["id"], "approved")
    assert refused.status_code == 403 and error_of(refused)["code"] == "four_eyes"
    assert step(client, people["planner"][1], draft["id"], "approved").status_code == 200


def test_publication_sets_cap_identity_union_and_event(client, db, place, people, published):
    assert published["status"] == "published" and published["active"] is True
    assert published["cap_identifier"] == f"cn-cq-emergency-{published['id']}-1"
    assert published["published_by"] == people["planner"][0].username
    assert published["approved_by"] == people["admin"][0].username
    stored = db.get(EarlyWarning, published["id"])
    assert stored.geometry is not None  # the union is stored at publication
    events = db.scalars(select(LiveEvent).where(LiveEvent.resource_id == published["id"],
                                                LiveEvent.type.like("warning.%"))).all()
    assert [(e.type, e.audience) for e in events] == [("warning.published", "public")]
    assert events[0].data["level"] == "red"
    audited = db.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "warning", AuditEntry.object_id == str(published["id"]))
    ).all()
    assert len(audited) >= 3  # create, approve, publish


def test_allowed_moves_only(client, people, draft, published):
    assert step(client, people["admin"][1], draft["id"], "approved").status_code == 409
    assert step(client, people["admin"][1], draft["id"], "cancelled", "x").status_code == 409
    response = step(client, people["admin"][1], draft["id"], "nonsense")
    assert response.status_code == 422


def test_cancel_needs_a_reason_and_only_before_publication(client, place, people, draft):
    refused = step(client, people["admin"][1], draft["id"], "cancelled", "  ")
    assert refused.status_code == 422 and error_of(refused)["code"] == "reason_required"
    assert "note" in error_of(refused)["details"]
    done = step(client, people["author"][1], draft["id"], "cancelled", "重复发布")
    assert done.status_code == 200 and done.get_json()["status"] == "cancelled"
    assert done.get_json()["cancelled_at"] and done.get_json()["note"] == "重复发布"
    # A dispatcher cancels only their own drafts.
    other = client.post("/api/v1/warnings", json=warning_body(place),
                        headers=people["admin"][1]).get_json()
    assert step(client, people["dispatcher"][1], other["id"], "cancelled",
                "x").status_code == 403


def test_lift_needs_a_reason_and_is_a_new_cap_version(client, db, people, published):
    refused = step(client, people["admin"][1], published["id"], "lifted")
    assert refused.status_code == 422 and error_of(refused)["code"] == "reason_required"
    assert step(client, people["dispatcher"][1], published["id"], "lifted",
                "x").status_code == 403
    lifted = step(client, people["admin"][1], published["id"], "lifted", "降雨已结束")
    body = lifted.get_json()
    assert lifted.status_code == 200 and body["status"] == "lifted" and body["lifted_at"]
    assert body["version"] == 2 and body["cap_identifier"].endswith(f"-{body['id']}-2")
    sender, identifier, sent = body["references"][0].split(",")
    assert sender == "cq-emergency@example.gov.cn"
    assert identifier == published["cap_identifier"] and sent.endswith("+08:00")
    assert step(client, people["admin"][1], published["id"], "lifted", "x").status_code == 409
    types = db.scalars(select(LiveEvent.type).where(LiveEvent.resource_id == body["id"],
                                                    LiveEvent.type.like("warning.%"))).all()
    assert types == ["warning.published", "warning.lifted"]


def test_changing_an_approved_warning_returns_it_to_draft(client, people, draft):
    step(client, people["admin"][1], draft["id"], "approved")
    changed = client.patch(f"/api/v1/warnings/{draft['id']}",
                           json={"instruction": "转移危险区域群众"}, headers=people["author"][1])
    assert changed.status_code == 200
    body = changed.get_json()
    assert body["status"] == "draft" and body["approved_by"] is None and body["version"] == 1


def test_change_after_publication_is_an_update(client, db, people, published):
    url = f"/api/v1/warnings/{published['id']}"
    own = client.patch(url, json={"level": "orange", "note": "雨势减弱"},
                       headers=people["author"][1])
    assert own.status_code == 403 and error_of(own)["code"] == "four_eyes"
    no_reason = client.patch(url, json={"level": "orange"}, headers=people["admin"][1])
    assert no_reason.status_code == 422 and "note" in error_of(no_reason)["details"]
    changed = client.patch(url, json={"level": "orange", "note": "雨势减弱"},
                           headers=people["admin"][1])
    body = changed.get_json()
    assert changed.status_code == 200 and body["status"] == "published"
    assert body["level"] == "orange" and body["version"] == 2
    assert body["references"][0].split(",")[1] == published["cap_identifier"]
    assert body["steps"][-1]["kind"] == "update" and body["steps"][-1]["note"] == "雨势减弱"
    events = db.scalars(select(LiveEvent).where(LiveEvent.resource_id == body["id"],
                                                LiveEvent.type == "warning.published")).all()
    assert [e.data["version"] for e in events] == [1, 2]


def test_area_change_after_publication_recomputes_the_union(client, db, place, people,
                                                            published):
    before = db.get(EarlyWarning, published["id"]).geometry
    changed = client.patch(f"/api/v1/warnings/{published['id']}",
                           json={"area_codes": [place["community"]], "note": "范围缩小"},
                           headers=people["admin"][1])
    assert changed.status_code == 200
    after = changed.get_json()["geometry"]["coordinates"][0][0]
    xs = [p[0] for p in after]
    assert min(xs) >= 106.5 - 1e-9 and max(xs) <= 106.6 + 1e-9  # the community only
    assert before is not None


def test_reads_and_filters(client, place, people, draft, published):
    headers = people["auditor"][1]
    other = client.post("/api/v1/warnings", json=warning_body(
        place, title="测试社区地质灾害蓝色预警", level="blue", hazard_type="geological",
        area_codes=[place["community"]]),
        headers=people["admin"][1]).get_json()
    listed = client.get("/api/v1/warnings", headers=headers)
    assert listed.status_code == 200 and listed.mimetype == "application/geo+json"
    assert listed.get_json()["total"] == 2
    feature = listed.get_json()["features"][0]
    assert feature["id"] == other["id"] and feature["properties"]["level"] == "blue"

    def ids(query):
        return {f["id"] for f in client.get(f"/api/v1/warnings?{query}",
                                            headers=headers).get_json()["features"]}

    assert ids("level=blue") == {other["id"]}
    assert ids("status=published") == {published["id"]}
    assert ids("active=true") == {published["id"]}
    assert ids("active=false") == {other["id"]}
    assert ids("hazard_type=geological") == {other["id"]}
    # The street's warning covers its community; a city filter finds both.
    assert ids(f"area_code={place['community']}") == {published["id"], other["id"]}
    assert ids(f"area_code={place['city']}") == {published["id"], other["id"]}
    assert ids("area_code=990102") == set()
    assert ids("q=暴雨") == {published["id"]}
    page = client.get("/api/v1/warnings?limit=1&offset=1", headers=headers).get_json()
    assert len(page["features"]) == 1 and page["total"] == 2
    assert client.get("/api/v1/warnings?level=purple", headers=headers).status_code == 422
    assert client.get(f"/api/v1/warnings/{published['id']}",
                      headers=headers).get_json()["steps"][-1]["to"] == "published"
    assert client.get("/api/v1/warnings/999999", headers=headers).status_code == 404
    assert client.get("/api/v1/warnings").status_code == 401


def test_others_see_only_released_warnings(client, place, people, published):
    draft = client.post("/api/v1/warnings", json=warning_body(place),
                        headers=people["admin"][1]).get_json()
    headers = people["grid_staff"][1]
    listed = client.get("/api/v1/warnings", headers=headers).get_json()
    assert [f["id"] for f in listed["features"]] == [published["id"]]
    assert client.get(f"/api/v1/warnings/{draft['id']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/warnings/{published['id']}",
                      headers=headers).status_code == 200


def test_published_past_expiry_reads_as_expired(client, db, people, published):
    stored = db.get(EarlyWarning, published["id"])
    stored.expires = utcnow() - timedelta(minutes=1)
    stored.onset = utcnow() - timedelta(hours=2)
    db.flush()
    read = client.get(f"/api/v1/warnings/{published['id']}", headers=people["admin"][1])
    assert read.get_json()["status"] == "expired" and read.get_json()["active"] is False
    assert step(client, people["admin"][1], published["id"], "lifted", "x").status_code == 409
    found = client.get("/api/v1/warnings?status=expired", headers=people["admin"][1])
    assert [f["id"] for f in found.get_json()["features"]] == [published["id"]]
    assert client.patch(f"/api/v1/warnings/{published['id']}", json={"level": "blue",
                        "note": "x"}, headers=people["admin"][1]).status_code == 409


def test_publishing_after_expiry_is_refused(client, db, people, draft):
    step(client, people["admin"][1], draft["id"], "approved")
    stored = db.get(EarlyWarning, draft["id"])
    stored.onset, stored.expires = utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1)
    db.flush()
    late = step(client, people["planner"][1], draft["id"], "published")
    assert late.status_code == 409


def test_idempotent_draft(client, db, place, people):
    headers = {**people["author"][1], "Idempotency-Key": "draft-1"}
    body = warning_body(place)
    first = client.post("/api/v1/warnings", json=body, headers=headers)
    again = client.post("/api/v1/warnings", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"] and count(db) == 1


def test_expire_endpoint_is_for_admins(client, people):
    assert client.post("/api/v1/warnings/expire", headers=people["planner"][1]).status_code \
        == 403
    response = client.post("/api/v1/warnings/expire", headers=people["admin"][1])
    assert response.status_code == 200 and response.get_json() == {"expired": 0}
