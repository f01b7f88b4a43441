"""Hazard reports through the HTTP API: contract fields, idempotency, scopes, workflow."""

from datetime import timedelta

import pytest

from emergency.db import utcnow
from hazards import service
from tests.conftest import error_of
from tests.hazards.hazard_helpers import INSIDE_1, INSIDE_2, OUTSIDE, body


@pytest.fixture
def staff(actors, place):
    """A grid staff member of grid 1 and their header."""
    return actors.make("grid_staff", grids=[place["grids"][0]])


def test_report_is_created_with_grid_due_time_and_wgs84_location(client, staff, place):
    _user, headers = staff
    response = client.post("/api/v1/hazards", json=body(severity="major"), headers=headers)
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["status"] == "reported"
    assert report["grid_code"] == place["grids"][0]
    assert report["area_code"] == place["community"]
    assert report["location"] == {"type": "Point", "coordinates": INSIDE_1}
    assert report["due_at"] > report["created_at"]
    assert report["due_at"].endswith("+00:00")
    assert report["history"][0]["to"] == "reported"


def test_same_client_id_returns_the_same_report(client, staff):
    _user, headers = staff
    payload = body()
    first = client.post("/api/v1/hazards", json=payload, headers=headers)
    second = client.post("/api/v1/hazards", json=payload, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json()["id"] == first.get_json()["id"]
    listed = client.get("/api/v1/hazards", headers=headers).get_json()
    assert listed["total"] == 1


def test_client_id_of_another_user_is_a_conflict(client, staff, actors, place):
    _user, headers = staff
    payload = body()
    client.post("/api/v1/hazards", json=payload, headers=headers)
    other = actors.header("grid_staff", grids=[place["grids"][0]])
    response = client.post("/api/v1/hazards", json=payload, headers=other)
    assert response.status_code == 409


def test_gcj02_location_is_converted(client, staff, place):
    from emergency.geo import chinacrs

    _user, headers = staff
    gcj = chinacrs.wgs84_to_gcj02(*INSIDE_1) if hasattr(chinacrs, "wgs84_to_gcj02") else None
    if gcj is None:
        pytest.skip("no forward conversion helper")
    response = client.post("/api/v1/hazards", json=body(location=list(gcj), crs="gcj02"),
                           headers=headers)
    assert response.status_code == 201
    lon, lat = response.get_json()["location"]["coordinates"]
    assert abs(lon - INSIDE_1[0]) < 1e-5 and abs(lat - INSIDE_1[1]) < 1e-5


def test_grid_staff_outside_own_grids_is_forbidden(client, staff):
    _user, headers = staff
    response = client.post("/api/v1/hazards", json=body(location=INSIDE_2), headers=headers)
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


@pytest.mark.parametrize("change, field", [
    ({"category": "volcano"}, "category"),
    ({"severity": "huge"}, "severity"),
    ({"client_id": "x"}, "client_id"),
    ({"location": {"type": "Point", "coordinates": [500, 1]}}, "location"),
    ({"location": {"type": "LineString", "coordinates": [[1, 1], [2, 2]]}}, "location"),
    ({"crs": "mars"}, "crs"),
])
def test_bad_input_names_the_field(client, staff, change, field):
    _user, headers = staff
    response = client.post("/api/v1/hazards", json={**body(), **change}, headers=headers)
    assert response.status_code == 422
    assert field in error_of(response)["details"]


def test_location_outside_every_grid_is_invalid(client, actors, place):
    headers = actors.header("admin")
    response = client.post("/api/v1/hazards", json=body(location=OUTSIDE), headers=headers)
    assert response.status_code == 422
    assert "location" in error_of(response)["details"]


def test_roles(client, actors, place, staff):
    _user, headers = staff
    client.post("/api/v1/hazards", json=body(), headers=headers)
    assert client.get("/api/v1/hazards").status_code == 401
    assert client.get("/api/v1/hazards",
                      headers=actors.header("org_admin")).status_code == 403
    assert client.post("/api/v1/hazards", json=body(),
                       headers=actors.header("planner")).status_code == 403
    for role in ("admin", "planner", "dispatcher", "auditor"):
        listed = client.get("/api/v1/hazards", headers=actors.header(role)).get_json()
        assert listed["total"] == 1, role
    other = actors.header("grid_staff", grids=[place["grids"][1]])
    assert client.get("/api/v1/hazards", headers=other).get_json()["total"] == 0
    report_id = client.get("/api/v1/hazards", headers=headers).get_json()["features"][0]["id"]
    assert client.get(f"/api/v1/hazards/{report_id}", headers=other).status_code == 403
    own_district = actors.header("planner", area_code=place["district"])
    assert client.get(f"/api/v1/hazards/{report_id}", headers=own_district).status_code == 200


def test_bureau_staff_of_another_district_see_nothing(client, actors, place, staff, db):
    from shapely.geometry import shape

    from emergency.geo import service as geo
    from tests.conftest import square

    geo.create_area(db, "990102", "另一区", "district", shape(square(106.0, 29.0, 0.2)),
                    "990000")
    _user, headers = staff
    report_id = client.post("/api/v1/hazards", json=body(), headers=headers).get_json()["id"]
    other = actors.header("planner", area_code="990102")
    assert client.get(f"/api/v1/hazards/{report_id}", headers=other).status_code == 403
    assert client.get("/api/v1/hazards", headers=other).get_json()["total"] == 0
    assert _step(client, report_id, "verified", other).status_code == 403


def _step(client, report_id, to, headers, note=""):
    """POST a transition."""
    return client.post(f"/api/v1/hazards/{report_id}/transition", json={"to": to, "note": note},
                       headers=headers)


def test_workflow_to_closure_records_every_step(client, actors, staff):
    _user, grid_headers = staff
    admin = actors.header("admin")
    planner = actors.header("planner")
    report_id = client.post("/api/v1/hazards", json=body(), headers=grid_headers).get_json()["id"]
    assert _step(client, report_id, "closed", admin).status_code == 409
    assert _step(client, report_id, "verified", grid_headers).status_code == 403
    assert _step(client, report_id, "verified", admin, "核实属实").status_code == 200
    assert _step(client, report_id, "rectifying", grid_headers).status_code == 200
    assert _step(client, report_id, "rejected", admin).status_code == 409
    assert _step(client, report_id, "rectified", grid_headers, "已加固").status_code == 200
    assert _step(client, report_id, "closed", grid_headers).status_code == 403
    response = _step(client, report_id, "closed", planner, "复查合格")
    assert response.status_code == 200
    report = response.get_json()
    assert report["status"] == "closed"
    assert report["due_at"] is None and report["closed_at"] is not None
    steps = [(e["from"], e["to"], e["note"]) for e in report["history"]]
    assert steps == [(None, "reported", ""), ("reported", "verified", "核实属实"),
                     ("verified", "rectifying", ""), ("rectifying", "rectified", "已加固"),
                     ("rectified", "closed", "复查合格")]
    assert all(e["actor"] and e["at"] for e in report["history"])
    assert _step(client, report_id, "verified", admin).status_code == 409


def test_grid_staff_of_another_grid_cannot_step(client, actors, staff, place):
    _user, grid_headers = staff
    admin = actors.header("admin")
    report_id = client.post("/api/v1/hazards", json=body(), headers=grid_headers).get_json()["id"]
    _step(client, report_id, "verified", admin)
    other = actors.header("grid_staff", grids=[place["grids"][1]])
    assert _step(client, report_id, "rectifying", other).status_code == 403


def test_reject_from_verified(client, actors, staff):
    _user, grid_headers = staff
    admin = actors.header("admin")
    report_id = client.post("/api/v1/hazards", json=body(), headers=grid_headers).get_json()["id"]
    _step(client, report_id, "verified", admin)
    assert _step(client, report_id, "rejected", admin).get_json()["status"] == "rejected"
    assert client.get(f"/api/v1/hazards/{report_id}", headers=admin).status_code == 200
    assert _step(client, 999999, "verified", admin).status_code == 404


def test_list_filters(client, actors, staff, place):
    _user, grid_headers = staff
    admin = actors.header("admin")
    first = client.post("/api/v1/hazards", json=body(category="fire"), headers=admin).get_json()
    client.post("/api/v1/hazards", json=body(location=INSIDE_2, category="flood"), headers=admin)
    _step(client, first["id"], "verified", admin)

    def ids(**params):
        response = client.get("/api/v1/hazards", query_string=params, headers=admin)
        assert response.status_code == 200, response.get_json()
        assert response.mimetype == "application/geo+json"
        return sorted(f["id"] for f in response.get_json()["features"])

    everything = ids()
    assert len(everything) == 2
    assert ids(status="verified") == [first["id"]]
    assert ids(category="flood") != [first["id"]] and len(ids(category="flood")) == 1
    assert ids(grid_code=place["grids"][0]) == [first["id"]]
    assert ids(area_code=place["district"]) == everything
    assert ids(area_code="5001") == []
    assert ids(bbox="106.5,29.5,106.54,29.54") == [first["id"]]
    assert ids(since=(utcnow() + timedelta(hours=1)).isoformat()) == []
    assert ids(overdue="true") == []
    assert client.get("/api/v1/hazards", query_string={"status": "nope"},
                      headers=admin).status_code == 422
    feature = client.get("/api/v1/hazards", headers=admin).get_json()["features"][0]
    assert feature["geometry"]["type"] == "Point"
    assert {"status", "category", "grid_code", "due_at", "overdue"} <= set(feature["properties"])


def test_overdue_escalation_and_tasks(client, actors, staff, db, place):
    grid_user, grid_headers = staff
    admin_user, admin = actors.make("admin")
    long_ago = utcnow() - timedelta(days=3)
    from shapely.geometry import Point

    late, _ = service.create_report(db, grid_user, "late-report-0001", "gas", "major",
                                    Point(*INSIDE_1), now=long_ago)
    client.post("/api/v1/hazards", json=body(), headers=grid_headers)
    overdue = client.get("/api/v1/hazards", query_string={"overdue": "true"}, headers=admin)
    assert [f["id"] for f in overdue.get_json()["features"]] == [late["id"]]
    assert client.post("/api/v1/hazards/escalate", headers=grid_headers).status_code == 403
    assert client.post("/api/v1/hazards/escalate", headers=admin).get_json() == {"escalated": 1}
    assert client.post("/api/v1/hazards/escalate", headers=admin).get_json() == {"escalated": 0}
    report = client.get(f"/api/v1/hazards/{late['id']}", headers=admin).get_json()
    assert report["escalated"] is True
    assert report["history"][-1]["kind"] == "escalation"
    tasks = client.get("/api/v1/hazards/tasks", headers=admin).get_json()
    assert tasks["total"] == 2
    assert tasks["items"][0]["id"] == late["id"]
    assert client.get("/api/v1/hazards/tasks", headers=grid_headers).get_json()["total"] == 0
    _step(client, late["id"], "verified", admin)
    grid_tasks = client.get("/api/v1/hazards/tasks", headers=grid_headers).get_json()
    assert [t["id"] for t in grid_tasks["items"]] == [late["id"]]
    assert grid_tasks["items"][0]["next_steps"] == ["rectifying"]


def test_due_times_come_from_config(app, client, staff):
    app.config["HAZARD_DUE_REPORTED_HOURS"] = "1,5"
    _user, headers = staff
    from datetime import datetime

    for severity, hours in (("major", 1), ("general", 5)):
        report = client.post("/api/v1/hazards", json=body(severity=severity),
                             headers=headers).get_json()
        created = datetime.fromisoformat(report["created_at"])
        due = datetime.fromisoformat(report["due_at"])
        assert due - created == timedelta(hours=hours)


def test_escalate_command(runner, staff, db):
    from shapely.geometry import Point

    grid_user, _headers = staff
    service.create_report(db, grid_user, "late-report-cli1", "fire", "general",
                          Point(*INSIDE_1), now=utcnow() - timedelta(days=2))
    result = runner.invoke(args=["hazards", "escalate"])
    assert result.exit_code == 0, result.output
    assert "escalated 1 overdue" in result.output
