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
