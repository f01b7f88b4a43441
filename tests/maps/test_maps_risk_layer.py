"""The risk layer: every cell when the view holds few, hotspots when zoomed far out."""

import pytest

from emergency import create_app
from tests.conftest import app_config
from tests.risk.risk_factories import X0, Y0, collection, lonlat, make_area, point, start, upload


@pytest.fixture
def app(database, db, tmp_path):
    """The app with RISK_RUN_INLINE, so a POST returns once the run is finished."""
    return create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                 RISK_RUN_INLINE=True))


@pytest.fixture
def run_id(client, actors, db):
    """A finished 100 m run over a 2 km square with hazards in one corner."""
    headers = actors.header("planner")
    area = make_area(db)
    hazards = collection([(point(x, y), {"value": 5}) for x in (150, 250, 350)
                          for y in (150, 250, 350)])
    layer = upload(client, headers, hazards).get_json()
    response = start(client, headers, area, 100, [{"layer_id": layer["id"]}])
    assert response.status_code in (200, 201, 202), response.get_json()
    body = response.get_json()
    assert body["status"] == "done", body
    return body["id"]


def _bbox():
    """The bbox of the 2 km square (with a margin)."""
    (w, s), (e, n) = lonlat(X0 - 100, Y0 - 100), lonlat(X0 + 2100, Y0 + 2100)
    return f"{w},{s},{e},{n}"


def test_near_view_gets_every_cell_coloured_by_level(client, actors, run_id):
    headers = actors.header("dispatcher")
    body = client.get("/api/v1/maps/layers/risk", headers=headers, query_string={
        "bbox": _bbox(), "zoom": 14, "assessment_id": run_id}).get_json()
    assert body["meta"]["cells"] is True and body["meta"]["total"] == 400
    assert len(body["features"]) == 400
    levels = {f["properties"]["level"] for f in body["features"]}
    assert 1 in levels or 2 in levels
    colours = {f["properties"]["level"]: f["properties"]["colour"] for f in body["features"]}
    assert colours.get(1, "#e60012") == "#e60012" and colours.get(4, "#0068b7") == "#0068b7"


def test_far_view_gets_only_hotspots_and_never_too_many(client, actors, run_id):
    headers = actors.header("dispatcher")
    body = client.get("/api/v1/maps/layers/risk", headers=headers, query_string={
        "bbox": "100,20,115,35", "zoom": 5, "assessment_id": run_id}).get_json()
    assert body["meta"]["aggregated"] in ("hotspots", "district")
    assert 0 < len(body["features"]) < 400
    assert {f["properties"]["level"] for f in body["features"]} <= {1, 2}


def test_a_finished_run_may_be_cached_by_the_browser(client, actors, run_id):
    response = client.get("/api/v1/maps/layers/risk", headers=actors.header("planner"),
                          query_string={"bbox": _bbox(), "zoom": 14, "assessment_id": run_id})
    assert "max-age=3600" in response.headers["Cache-Control"]


def test_unknown_run_is_404(client, actors, run_id):
    response = client.get("/api/v1/maps/layers/risk", headers=actors.header("planner"),
                          query_string={"bbox": _bbox(), "zoom": 14,
                                        "assessment_id": run_id + 999})
    assert response.status_code == 404
