"""Map layers by viewport: levels by zoom, zoom gating, ETags, gzip, search, errors."""

import gzip
import json

from shapely.geometry import shape

from emergency.geo import service
from tests.conftest import error_of, square

BBOX = "106.3,29.3,106.9,29.9"


def _get(client, headers, name, zoom, bbox=BBOX, **extra):
    """GET one layer and return the response."""
    query = {"bbox": bbox, "zoom": zoom, **extra}
    return client.get(f"/api/v1/maps/layers/{name}", query_string=query, headers=headers)


def test_areas_layer_draws_districts_when_far_and_communities_when_near(client, actors, place):
    headers = actors.header("planner")
    far = _get(client, headers, "areas", 8).get_json()
    assert [f["id"] for f in far["features"]] == ["990101"]
    assert far["meta"]["level"] == "district"
    near = _get(client, headers, "areas", 13).get_json()
    assert [f["properties"]["name"] for f in near["features"]] == ["测试社区"]
    outside = _get(client, headers, "areas", 8, bbox="100,20,100.5,20.5").get_json()
    assert outside["features"] == []


def test_grids_are_sent_only_when_zoomed_in(client, actors, place):
    headers = actors.header("planner")
    far = _get(client, headers, "grids", 9).get_json()
    assert far["features"] == [] and far["meta"]["zoom_in"] == 11
    near = _get(client, headers, "grids", 13).get_json()
    assert sorted(f["id"] for f in near["features"]) == place["grids"]


def test_unchanged_layer_answers_304_and_changes_when_data_changes(client, actors, place, db):
    headers = actors.header("planner")
    first = _get(client, headers, "areas", 8)
    etag = first.headers["ETag"]
    again = _get(client, {**headers, "If-None-Match": etag}, "areas", 8)
    assert again.status_code == 304 and again.data == b""
    service.create_area(db, "990102", "新区", "district", shape(square(106.8, 29.4, 0.05)),
                        "990000")
    db.flush()
    changed = _get(client, {**headers, "If-None-Match": etag}, "areas", 8)
    assert changed.status_code == 200
    assert {f["id"] for f in changed.get_json()["features"]} == {"990101", "990102"}


def test_gzip_when_the_client_accepts_it(client, actors, place):
    headers = {**actors.header("planner"), "Accept-Encoding": "gzip"}
    response = _get(client, headers, "areas", 14)
    assert response.headers.get("Content-Encoding") == "gzip"
    body = json.loads(gzip.decompress(response.data))
    assert body["features"][0]["properties"]["level"] == "community"


def test_bad_viewport_is_422_and_unknown_layer_404(client, actors, place):
    headers = actors.header("planner")
    missing = client.get("/api/v1/maps/layers/areas", query_string={"zoom": 3},
                         headers=headers)
    assert missing.status_code == 422 and "bbox" in error_of(missing)["details"]
    assert _get(client, headers, "areas", 40).status_code == 422
    assert _get(client, headers, "areas", 5, bbox="1,2,3").status_code == 422
    assert _get(client, headers, "rivers", 5).status_code == 404
    assert _get(client, headers, "risk", 12).status_code == 422


def test_layers_need_sign_in(client, place):
    assert _get(client, {}, "areas", 8).status_code == 401


def test_search_by_name_and_by_coordinate(client, actors, place):
    headers = actors.header("dispatcher")
    by_name = client.get("/api/v1/maps/search", query_string={"q": "测试"},
                         headers=headers).get_json()["items"]
    assert [(i["label"], i["kind"]) for i in by_name] == [("测试区", "district"),
                                                           ("测试街道", "street")]
    assert by_name[0]["bbox"] == [106.4, 29.4, 106.8, 29.8]
    swapped = client.get("/api/v1/maps/search", query_string={"q": "29.5, 106.6"},
                         headers=headers).get_json()["items"]
    assert swapped == [{"label": "106.60000, 29.50000", "kind": "coordinate", "lon": 106.6,
                        "lat": 29.5}]
    gcj = client.get("/api/v1/maps/search", query_string={"q": "gcj02: 106.6,29.5"},
                     headers=headers).get_json()["items"][0]
    assert gcj["lon"] != 106.6 and abs(gcj["lon"] - 106.6) < 0.01
    nothing = client.get("/api/v1/maps/search", query_string={"q": "无此地"}, headers=headers)
    assert nothing.get_json() == {"items": []}
