"""Areas and grids through the HTTP API, on both backends."""

import pytest

from emergency.geo import chinacrs
from tests.conftest import error_of, square


@pytest.fixture
def admin(actors):
    return actors.header("admin")


def test_create_and_read_area(client, admin, place):
    body = {"code": "990101002", "name": "新街道", "level": "street", "parent_code": "990101",
            "geometry": square(106.7, 29.7, 0.05)}
    created = client.post("/api/v1/areas", json=body, headers=admin)
    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert data["code"] == "990101002" and data["level"] == "street"
    assert data["geometry"]["type"] == "MultiPolygon"
    again = client.get("/api/v1/areas/990101002", headers=admin).get_json()
    assert again["id"] == data["id"] and again["parent_code"] == "990101"


def test_list_areas_filters_and_bbox(client, admin, place):
    response = client.get("/api/v1/areas?level=community", headers=admin)
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in body["features"]] == ["990101001001"]
    inside = client.get("/api/v1/areas?bbox=106.51,29.51,106.52,29.52", headers=admin).get_json()
    assert {f["properties"]["code"] for f in inside["features"]} == {
        "990000", "990101", "990101001", "990101001001"}
    outside = client.get("/api/v1/areas?bbox=100,20,100.1,20.1", headers=admin).get_json()
    assert outside["features"] == [] and outside["total"] == 0
    children = client.get("/api/v1/areas?parent_code=990101", headers=admin).get_json()
    assert [f["id"] for f in children["features"]] and children["total"] == 1


def test_grids_list_and_lookup(client, admin, place, actors):
    actors.make("grid_staff", grids=[place["grids"][0]], username="wang")
    body = client.get("/api/v1/grids?area_code=990101", headers=admin).get_json()
    assert body["total"] == 2
    grid = client.get(f"/api/v1/grids/{place['grids'][0]}", headers=admin).get_json()
    assert grid["staff"] == ["wang"] and grid["area_code"] == place["community"]
    near = client.get("/api/v1/grids?bbox=106.56,29.51,106.57,29.52", headers=admin).get_json()
    assert [f["properties"]["code"] for f in near["features"]] == [place["grids"][1]]


def test_grid_at_finds_the_grid_under_a_point(db, place, actors):
    from emergency.geo import service

    wang, _headers = actors.make("grid_staff", grids=[place["grids"][0]], username="wang")
    # With whether the grid found is one of a user's (a grid staff member's new report).
    assert service.assigned_grid_at(db, 106.52, 29.52, wang.id) == (
        place["grids"][0], place["community"], True)
    assert service.assigned_grid_at(db, 106.57, 29.52, wang.id) == (
        place["grids"][1], place["community"], False)
    assert service.assigned_grid_at(db, 120.0, 30.0, wang.id) == (None, None, False)
    assert service.grid_at(db, 106.52, 29.52) == place["grids"][0]
    assert service.grid_at(db, 106.57, 29.52) == place["grids"][1]
    assert service.grid_at(db, 120.0, 30.0) is None
    assert service.grid_and_area_at(db, 106.57, 29.52) == (place["grids"][1],
                                                            place["community"])
    assert service.grid_and_area_at(db, 120.0, 30.0) == (None, None)
    assert service.areas_at(db, 106.52, 29.52) == [
        "990101001001", "990101001", "990101", "990000"]


def test_gcj02_input_is_stored_as_wgs84(client, admin, place):
    true_sw = (106.7, 29.7)
    gcj = [chinacrs.wgs84_to_gcj02(*p) for p in [
        true_sw, (106.75, 29.7), (106.75, 29.75), (106.7, 29.75), true_sw]]
    body = {"code": "990101003", "name": "偏移街道", "level": "street", "parent_code": "990101",
            "crs": "gcj02", "geometry": {"type": "Polygon", "coordinates": [gcj]}}
    created = client.post("/api/v1/areas", json=body, headers=admin)
    assert created.status_code == 201, created.get_json()
    ring = created.get_json()["geometry"]["coordinates"][0][0]
    corners = {(round(x, 5), round(y, 5)) for x, y in ring}
    assert (106.7, 29.7) in corners and (106.75, 29.75) in corners


@pytest.mark.parametrize("body, field", [
    ({"code": "12x", "name": "a", "level": "street", "parent_code": "990101"}, "code"),
    ({"code": "990101009", "name": "a", "level": "town", "parent_code": "990101"}, "level"),
    ({"code": "990101009", "name": "a", "level": "street", "parent_code": "990101",
      "geometry": {"type": "Point", "coordinates": [106, 29]}}, "geometry"),
    ({"code": "990101009", "name": "a", "level": "street", "parent_code": "990101",
      "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1],
                                                         [0, 0]]]}}, "geometry"),
    ({"code": "990101009", "name": "a", "level": "street", "parent_code": "990101",
      "geometry": square(190, 29)}, "geometry"),
    ({"code": "990101009", "name": "a", "level": "street", "parent_code": "990101",
      "geometry": {"type": "Polygon", "coordinates": "nope"}}, "geometry"),
    ({"code": "990101009", "name": "a", "level": "street", "parent_code": "990101",
      "crs": "mars", "geometry": square(106, 29)}, "crs"),
    ({"code": 990101009, "name": "a", "level": "street", "parent_code": "990101",
      "geometry": square(106, 29)}, "code"),
    ({"code": "990101009", "name": "a", "level": "street", "parent_code": "880000",
      "geometry": square(106, 29)}, "parent_code"),
    ({"code": "990101009", "name": "a", "level": "city", "parent_code": "990101",
      "geometry": square(106, 29)}, "parent_code"),
])
def test_bad_area_input_is_422_naming_the_field(client, admin, place, body, field):
    body.setdefault("geometry", square(106.7, 29.7))
    response = client.post("/api/v1/areas", json=body, headers=admin)
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["details"]
    assert client.get("/api/v1/areas/990101009", headers=admin).status_code == 404


def test_malformed_json_is_400(client, admin):
    response = client.post("/api/v1/areas", data="{not json", headers={
        **admin, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


def test_oversized_body_is_413(app, client, admin):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/api/v1/areas", data="x" * 5000, headers={
        **admin, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


def test_duplicate_code_is_409(client, admin, place):
    body = {"code": "990101", "name": "重复", "level": "district", "parent_code": "990000",
            "geometry": square(106.4, 29.4)}
    response = client.post("/api/v1/areas", json=body, headers=admin)
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


def test_bad_bbox_is_422(client, admin):
    for bad in ("1,2,3", "a,b,c,d", "10,10,5,5", "0,0,200,10"):
        response = client.get(f"/api/v1/areas?bbox={bad}", headers=admin)
        assert response.status_code == 422, bad
        assert "bbox" in error_of(response)["details"]


def test_unknown_area_is_404(client, admin):
    assert client.get("/api/v1/areas/123456", headers=admin).status_code == 404
    assert client.get("/api/v1/grids/none", headers=admin).status_code == 404


def test_grid_needs_known_area(client, admin, place):
    body = {"code": "g1", "name": "网格", "area_code": "777", "geometry": square(106.5, 29.5)}
    response = client.post("/api/v1/grids", json=body, headers=admin)
    assert response.status_code == 422
    assert "area_code" in error_of(response)["details"]
    body["area_code"] = place["community"]
    assert client.post("/api/v1/grids", json=body, headers=admin).status_code == 201
    assert client.post("/api/v1/grids", json=body, headers=admin).status_code == 409


def test_grids_of_a_city_include_its_districts_grids(client, admin, place):
    # The city code 990000 is no prefix of its district 990101: descendants follow parents.
    body = client.get("/api/v1/grids?area_code=990000", headers=admin).get_json()
    assert body["total"] == 2


def test_areas_by_name(client, admin, place):
    found = client.get("/api/v1/areas?q=街道", headers=admin).get_json()
    assert [f["properties"]["code"] for f in found["features"]] == ["990101001"]
    assert client.get("/api/v1/areas?q=990101", headers=admin).get_json()["total"] == 1
    assert client.get("/api/v1/areas?q=%25", headers=admin).get_json()["total"] == 0
