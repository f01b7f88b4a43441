"""Vector tiles (GET /api/v1/maps/tiles/{layer}/{z}/{x}/{y}.mvt) on both backends, decoded by
GDAL's MVT driver (pyogrio's GDAL): features where they belong, scopes, 204/304/4xx."""

import gzip
import inspect
import json
import math
import subprocess
import sys

import geopandas
import pyogrio
import pytest
from shapely.geometry import box as _box
from shapely.geometry import shape

from emergency import create_app
from emergency.geo import service as geo_service
from maps import tile_layers
from risk.models import RiskAssessment
from tests.auth.auth_helpers import sign_in
from tests.conftest import app_config, error_of, square
from tests.factories import add_team, org_with_team
from tests.hazards.hazard_helpers import INSIDE_1, INSIDE_2
from tests.hazards.hazard_helpers import body as hazard_body
from tests.risk.risk_factories import X0, Y0, collection, lonlat, make_area, point, start, upload

MVT = "application/vnd.mapbox-vector-tile"


def tile_of(lon, lat, z):
    """(x, y) of the web-mercator tile holding a point."""
    n = 2 ** z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def url(layer, z, x, y):
    return f"/api/v1/maps/tiles/{layer}/{z}/{x}/{y}.mvt"


def gdal_read(data, z, x, y, layer):
    """GeoJSON text of one tile layer as GDAL's MVT driver reads it: from /vsimem, its z/x/y
    as open options, not cut to the tile (CLIP=NO: the buffer is checked too), in WGS-84."""
    import io

    import pyogrio

    assert [name for name, _kind in pyogrio.list_layers(io.BytesIO(data))] == [layer]
    frame = pyogrio.read_dataframe(io.BytesIO(data), layer=layer, X=x, Y=y, Z=z, CLIP="NO")
    return frame.to_crs(4326).to_json()


_IN_A_FRESH_PYTHON = f"""
import sys
{inspect.getsource(gdal_read)}
sys.stdout.write(gdal_read(sys.stdin.buffer.read(), *sys.argv[1:]))
"""


def decode(data, z, x, y, layer):
    """The features of one tile layer as GDAL reads them (a GeoDataFrame in WGS-84): in this
    process unless an upload has unloaded GDAL's other drivers for good (emergency.uploads
    sets GDAL_SKIP), else in a fresh Python."""
    assert data, "an empty tile"
    if "MVT" in pyogrio.list_drivers():
        text = gdal_read(data, z, x, y, layer)
    else:
        text = subprocess.run([sys.executable, "-c", _IN_A_FRESH_PYTHON, str(z), str(x),
                               str(y), layer], input=data, capture_output=True,
                              check=True).stdout
    return geopandas.GeoDataFrame.from_features(json.loads(text)["features"], crs=4326)


def pixel(z):
    """Degrees of longitude of one screen pixel at zoom z."""
    return 360 / 256 / 2 ** z


def get(client, headers, layer, z, x, y, **query):
    response = client.get(url(layer, z, x, y), headers=headers, query_string=query)
    return response


def test_areas_tile_holds_the_district_where_it_lies(client, actors, place, tmp_path):
    headers = actors.header("dispatcher")
    z = 8  # districts below z9
    x, y = tile_of(106.6, 29.6, z)
    response = get(client, headers, "areas", z, x, y)
    assert response.status_code == 200 and response.mimetype == MVT
    frame = decode(response.data, z, x, y, "areas")
    assert list(frame["code"]) == ["990101"] and list(frame["level"]) == ["district"]
    assert frame.iloc[0]["name"] == "测试区"
    # the district is the square (106.4, 29.4)-(106.8, 29.8); the tile cuts it at its edges
    west, south, east, north = frame.total_bounds
    tile_w, tile_s, tile_e, tile_n = tile_layers.tile_bounds(z, x, y)
    assert west == pytest.approx(max(106.4, tile_w - 4 * pixel(z)), abs=pixel(z))
    assert east == pytest.approx(min(106.8, tile_e + 4 * pixel(z)), abs=pixel(z))
    assert south == pytest.approx(max(29.4, tile_s - 4 * pixel(z)), abs=pixel(z))
    assert north == pytest.approx(min(29.8, tile_n + 4 * pixel(z)), abs=pixel(z))
    near = get(client, headers, "areas", 13, *tile_of(106.52, 29.52, 13))
    frame = decode(near.data, 13, *tile_of(106.52, 29.52, 13), "areas")
    assert list(frame["level"]) == ["community"]


def test_teams_tile_places_each_team_within_a_pixel_and_bins_when_full(
        client, actors, tmp_path, monkeypatch):
    forces = org_with_team(client, actors)
    team = forces["team"]
    other = add_team(client, forces["org"]["id"], forces["org_headers"], name="水域救援二队",
                     category="water",
                     location={"type": "Point", "coordinates": [106.5512, 29.5634]})
    headers = actors.header("dispatcher")
    z = 14
    x, y = tile_of(106.55, 29.56, z)
    response = get(client, headers, "teams", z, x, y)
    assert response.status_code == 200
    frame = decode(response.data, z, x, y, "teams").sort_values("id")
    assert list(frame["id"]) == [team["id"], other["id"]]
    assert list(frame["name"]) == ["山地搜救一队", "水域救援二队"]
    assert set(frame.columns) - {"mvt_id"} == {"id", "name", "category", "status", "geometry"}
    for geom, (lon, lat) in zip(frame.geometry, [(106.55, 29.56), (106.5512, 29.5634)],
                                strict=True):
        assert abs(geom.x - lon) < pixel(z) and abs(geom.y - lat) < pixel(z)
    water = get(client, headers, "teams", z, x, y, category="water")
    assert list(decode(water.data, z, x, y, "teams")["id"]) == [other["id"]]
    # A tile holding more than RAW_TILE_POINTS teams below TEAM_RAW_ZOOM gets squares.
    monkeypatch.setattr(tile_layers, "RAW_TILE_POINTS", 1)
    z = 9
    x, y = tile_of(106.55, 29.56, z)
    bins = decode(get(client, headers, "teams", z, x, y).data, z, x, y, "teams")
    assert bins["count"].sum() == 2 and set(bins["bin"]) == {True}


def test_hazards_tile_keeps_grid_staff_to_their_grids(client, actors, place, tmp_path):
    staff_1 = actors.header("grid_staff", grids=[place["grids"][0]])
    staff_2 = actors.header("grid_staff", grids=[place["grids"][1]])
    first = client.post("/api/v1/hazards", json=hazard_body(INSIDE_1), headers=staff_1)
    second = client.post("/api/v1/hazards", json=hazard_body(INSIDE_2), headers=staff_2)
    assert first.status_code == second.status_code == 201
    z = 9
    x, y = tile_of(*INSIDE_1, z)
    assert tile_of(*INSIDE_2, z) == (x, y)

    def ids(headers):
        frame = decode(get(client, headers, "hazards", z, x, y).data, z, x, y,
                       "hazards")
        return sorted(frame["id"]), frame

    mine, frame = ids(staff_1)
    assert mine == [first.get_json()["id"]]
    assert set(frame.columns) - {"mvt_id"} == {"id", "status", "category", "severity",
                                               "geometry"}
    assert abs(frame.geometry[0].x - INSIDE_1[0]) < pixel(z)
    assert abs(frame.geometry[0].y - INSIDE_1[1]) < pixel(z)
    assert ids(actors.header("dispatcher"))[0] == sorted(
        [first.get_json()["id"], second.get_json()["id"]])
    refused = get(client, actors.header("org_admin"), "hazards", z, x, y)
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"


def test_empty_tile_unchanged_tile_and_bad_requests(client, actors, place, db):
    headers = actors.header("planner")
    assert get(client, headers, "areas", 10, 0, 0).status_code == 204
    z = 8
    x, y = tile_of(106.81, 29.41, z)
    first = get(client, {**headers, "Accept-Encoding": "gzip"}, "areas", z, x, y)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "private, no-cache"
    assert first.headers.get("Content-Encoding") == "gzip" or len(first.data) <= 200
    etag = first.headers["ETag"]
    again = get(client, {**headers, "If-None-Match": etag}, "areas", z, x, y)
    assert again.status_code == 304 and again.data == b""
    geo_service.create_area(db, "990102", "新区", "district", shape(square(106.8, 29.4, 0.05)),
                            "990000")
    db.flush()
    changed = get(client, {**headers, "If-None-Match": etag}, "areas", z, x, y)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    for bad in ((12, 4096, 0), (12, 0, 4096), (23, 0, 0)):
        response = get(client, headers, "areas", *bad)
        assert response.status_code == 422, bad
        assert error_of(response)["code"] == "invalid"
    assert client.get("/api/v1/maps/tiles/areas/12/-1/0.mvt", headers=headers).status_code \
        == 404
    unknown = get(client, headers, "rivers", 10, 0, 0)
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"
    assert get(client, {}, "areas", 10, 0, 0).status_code == 401


def test_the_session_of_a_signed_in_page_is_enough(client, actors, place):
    user, _headers = actors.make("dispatcher")
    sign_in(client, user.username)
    z = 10
    assert get(client, {}, "areas", z, *tile_of(106.6, 29.6, z)).status_code == 200


@pytest.fixture
def run_app(database, db, tmp_path):
    """The app with RISK_RUN_INLINE, so a POST returns once the run is finished."""
    return create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                 RISK_RUN_INLINE=True))


def test_risk_tiles_cells_near_bins_far_and_cached_long(run_app, actors, db, tmp_path):
    client = run_app.test_client()
    planner = actors.header("planner")
    area = make_area(db)
    hazards = collection([(point(x, y), {"value": 5}) for x in (150, 250, 350)
                          for y in (150, 250, 350)])
    layer = upload(client, planner, hazards).get_json()
    run = start(client, planner, area, 100, [{"layer_id": layer["id"]}]).get_json()
    assert run["status"] == "done", run
    cells = client.get(f"/api/v1/risk/assessments/{run['id']}/cells", headers=planner,
                       query_string={"limit": 1000}).get_json()["features"]
    headers = actors.header("dispatcher")
    centre = lonlat(X0 + 1000, Y0 + 1000)
    z = 16  # a 100 m cell is ~150 px wide: raw cells
    x, y = tile_of(*centre, z)
    response = get(client, headers, "risk", z, x, y, assessment=run["id"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, max-age=86400"
    frame = decode(response.data, z, x, y, "risk")
    west, south, east, north = tile_layers.tile_bounds(z, x, y)
    by_id = {c["id"]: c for c in cells}
    margin = (east - west) * 64 / 4096  # the tile's buffer (4 px), about as much in latitude
    within = {c["id"] for c in cells if shape(c["geometry"]).intersection(
        _box(west, south, east, north)).area > pixel(z) ** 2}
    near = {c["id"] for c in cells if shape(c["geometry"]).intersects(
        _box(west - margin, south - margin, east + margin, north + margin))}
    assert within and within <= set(frame["id"]) <= near
    # Only what drawing needs: the popup's fields come from the cell's own endpoint.
    assert set(frame.columns) - {"mvt_id"} == {"id", "level", "gap", "geometry"}
    for _i, f in frame.iterrows():
        cell = by_id[f["id"]]
        if f["id"] not in within:
            continue  # only in the buffer
        assert f["level"] == cell["properties"]["level"]
        assert bool(f["gap"]) == cell["properties"]["gap"]
        inside = shape(cell["geometry"]).intersection(_box(west, south, east, north))
        assert f.geometry.buffer(pixel(z)).contains(inside)
    etag = response.headers["ETag"]
    again = get(client, {**headers, "If-None-Match": etag}, "risk", z, x, y,
                assessment=run["id"])
    assert again.status_code == 304
    # far out every cell is counted in squares
    z = 9
    x, y = tile_of(*centre, z)
    far = get(client, {**headers, "Accept-Encoding": "gzip"}, "risk", z, x, y,
              assessment=run["id"])
    data = gzip.decompress(far.data) if far.headers.get("Content-Encoding") else far.data
    bins = decode(data, z, x, y, "risk")
    assert set(bins["bin"]) == {True} and bins["cells"].sum() == len(cells) == 400
    assert all(b["cells"] == sum(b[f"count_{lv}"] for lv in "1234")
               for _i, b in bins.iterrows())
    # the run is required, must exist and be finished
    missing = get(client, headers, "risk", z, x, y)
    assert missing.status_code == 422 and "assessment" in error_of(missing)["details"]
    assert get(client, headers, "risk", z, x, y, assessment=999999).status_code == 404
    queued = RiskAssessment(area_code=area, cell_size_m=100, status="queued")
    db.add(queued)
    db.flush()
    assert get(client, headers, "risk", z, x, y, assessment=queued.id).status_code == 409


def test_tiles_are_in_the_api_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    documented = paths["/api/v1/maps/tiles/{layer}/{z}/{x}/{y}.mvt"]["get"]
    assert MVT in documented["responses"]["200"]["content"]
    assert {"204", "304"} <= set(documented["responses"])


def test_a_cell_of_a_run_for_its_popup_with_the_runs_scope_and_404s(run_app, actors, db):
    client = run_app.test_client()
    planner = actors.header("planner")
    area = make_area(db)
    hazards = collection([(point(x, y), {"value": v}) for x, y, v in
                          ((150, 150, 5), (350, 350, 1))])
    layer = upload(client, planner, hazards).get_json()
    runs = [start(client, planner, area, 100, [{"layer_id": layer["id"]}]).get_json()
            for _ in range(2)]
    assert [r["status"] for r in runs] == ["done", "done"], runs
    listed = client.get(f"/api/v1/risk/assessments/{runs[0]['id']}/cells", headers=planner,
                        query_string={"limit": 3}).get_json()["features"]
    other = client.get(f"/api/v1/risk/assessments/{runs[1]['id']}/cells", headers=planner,
                       query_string={"limit": 1}).get_json()["features"][0]

    def cell(run_id, cell_id, headers):
        return client.get(f"/api/v1/risk/assessments/{run_id}/cells/{cell_id}",
                          headers=headers)

    # Whoever may read the run may read its cells (every signed-in role), grid staff too.
    for role in ("planner", "dispatcher", "grid_staff", "org_admin"):
        for listed_cell in listed:
            response = cell(runs[0]["id"], listed_cell["id"], actors.header(role))
            assert response.status_code == 200, (role, response.get_json())
            assert response.mimetype == "application/geo+json"
            body = response.get_json()
            assert body["type"] == "Feature" and body["id"] == listed_cell["id"]
            assert body["properties"] == listed_cell["properties"]
            assert body["geometry"]["type"] == "MultiPolygon"
    props = listed[0]["properties"]
    # what the risk map's popup shows of a cell
    assert {"level", "risk", "hazard", "exposure", "vulnerability", "capacity", "teams", "gap",
            "area_code", "grid_code"} <= set(props)
    # a cell of another run, no such cell, no such run, a run not finished
    for run_id, cell_id in ((runs[0]["id"], other["id"]), (runs[0]["id"], 2**31 - 1),
                            (999_999, listed[0]["id"])):
        missing = cell(run_id, cell_id, planner)
        assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    queued = RiskAssessment(area_code=area, cell_size_m=100, status="queued")
    db.add(queued)
    db.flush()
    assert cell(queued.id, listed[0]["id"], planner).status_code == 409
    assert cell(runs[0]["id"], listed[0]["id"], {}).status_code == 401
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/risk/assessments/{assessment_id}/cells/{cell_id}"]
