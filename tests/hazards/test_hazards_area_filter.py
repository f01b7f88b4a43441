"""The area filter includes every sub-area, also under a city code (no prefix of its districts)."""

from tests.hazards.hazard_helpers import body


def test_area_filter_follows_parent_links(client, actors, place):
    admin = actors.header("admin")
    created = client.post("/api/v1/hazards", json=body(), headers=admin)
    assert created.status_code == 201, created.get_json()
    for code in (place["city"], place["district"], place["community"]):
        found = client.get(f"/api/v1/hazards?area_code={code}", headers=admin).get_json()
        assert [f["id"] for f in found["features"]] == [created.get_json()["id"]], code
    other = client.get("/api/v1/hazards?area_code=880000", headers=admin).get_json()
    assert other["features"] == []


def test_scoped_staff_see_their_area_by_parent_links(client, actors, place, db):
    """A planner scoped to the city sees its districts' reports (a city's code is no prefix
    of its districts'), in lists, details, tasks and bulletins; another area's does not."""
    from shapely.geometry import shape

    from emergency.geo import service as geo
    from tests.conftest import square

    geo.create_area(db, "880000", "他市", "city", shape(square(100.0, 20.0, 1.0)))
    created = client.post("/api/v1/hazards", json=body(), headers=actors.header("admin"))
    assert created.status_code == 201, created.get_json()
    report_id = created.get_json()["id"]
    city = actors.header("planner", area_code=place["city"])
    other = actors.header("planner", area_code="880000")

    listed = client.get("/api/v1/hazards", headers=city).get_json()
    assert [f["id"] for f in listed["features"]] == [report_id]
    assert client.get(f"/api/v1/hazards/{report_id}", headers=city).status_code == 200
    tasks = client.get("/api/v1/hazards/tasks", headers=city).get_json()
    assert [t["id"] for t in tasks["items"]] == [report_id]
    step = client.post(f"/api/v1/hazards/{report_id}/transition", json={"to": "verified"},
                       headers=city)
    assert step.status_code == 200, step.get_json()

    assert client.get("/api/v1/hazards", headers=other).get_json()["features"] == []
    assert client.get(f"/api/v1/hazards/{report_id}", headers=other).status_code == 403
    assert client.get("/api/v1/hazards/tasks", headers=other).get_json()["total"] == 0
