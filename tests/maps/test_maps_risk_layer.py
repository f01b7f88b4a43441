"""The risk layer: every cell when the view holds few, cells counted in bins when zoomed far
out; both from the run's cells held in memory, which must say what the database says."""

import json

import pytest

from emergency import create_app
from emergency.vocabulary import RISK_COLOURS
from maps import providers
from risk import reports
from risk import service as risk_service
from tests.conftest import app_config
from tests.risk.risk_factories import X0, Y0, collection, lonlat, make_area, point, start, upload


def _level(counts, share=0.1):
    """The most severe level holding, with the levels above it, a tenth of the bin's cells
    (counts: {"1": n, ...}); written out here to check the app's array version."""
    total, running = sum(counts.values()) or 1, 0
    for level in (1, 2, 3):
        running += counts.get(str(level), 0)
        if running / total >= share:
            return level
    return 4


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


def test_a_view_of_more_cells_than_the_limit_gets_bins_counting_every_cell(
        client, actors, run_id, monkeypatch):
    monkeypatch.setattr(providers, "RAW_CELL_LIMIT", 399)  # the run has 400 cells
    headers = actors.header("dispatcher")
    body = client.get("/api/v1/maps/layers/risk", headers=headers, query_string={
        "bbox": "100,20,115,35", "zoom": 5, "assessment_id": run_id}).get_json()
    assert body["meta"]["aggregated"] == "bins" and body["meta"]["cells"] is False
    assert 0 < len(body["features"]) < 400
    counted = [f["properties"] for f in body["features"]]
    assert sum(p["cells"] for p in counted) == body["meta"]["in_bins"] == 400
    for p in counted:
        assert p["cells"] == sum(p["counts"].values())
        assert p["level"] == _level(p["counts"])
        assert p["colour"] == RISK_COLOURS[p["level"]]
        # outlined in the colour of the most severe cell it holds
        assert p["worst"] == min(int(k) for k, n in p["counts"].items() if n) <= p["level"]
        assert p["stroke"] == RISK_COLOURS[p["worst"]]


def test_bins_of_the_service_partition_the_cells(db, run_id):
    bins = reports.cell_bins(db, run_id, (100, 20, 115, 35), 0.004)
    assert sum(b["cells"] for b in bins) == 400 and len(bins) > 1
    for b in bins:
        w, s, e, n = b["bounds"]
        assert w < e and s < n and b["level"] == _level(b["counts"])
        assert b["worst"] == min(int(k) for k, c in b["counts"].items() if c)


def test_cells_in_memory_are_the_cells_of_the_database(db, run_id):
    view = reports.cell_view(db, run_id)
    (w, s), (e, n) = lonlat(X0 + 300, Y0 + 300), lonlat(X0 + 1200, Y0 + 900)
    expected, total = reports.cells(db, run_id, bbox=(w, s, e, n), limit=10_000)
    idx = view.in_bbox((w, s, e, n))
    got = [json.loads(text) for text in view.features_text(idx, digits=7)]
    assert total == len(got) > 20
    assert [f["id"] for f in got] == [f["id"] for f in expected]  # highest risk first
    for mine, theirs in zip(got, expected, strict=True):
        assert mine["geometry"]["type"] == "MultiPolygon"
        assert _flat(mine["geometry"]["coordinates"]) == pytest.approx(
            _flat(theirs["geometry"]["coordinates"]), abs=1e-6)
        for key in ("level", "teams", "gap", "area_code", "grid_code"):
            assert mine["properties"][key] == theirs["properties"][key], key
        for key in ("risk", "hazard", "exposure", "vulnerability", "capacity"):
            assert mine["properties"][key] == pytest.approx(theirs["properties"][key],
                                                            abs=5e-4), key


def test_the_same_view_again_is_the_same_response(client, actors, run_id):
    query = {"bbox": _bbox(), "zoom": 14, "assessment_id": run_id}
    headers = {**actors.header("planner"), "Accept-Encoding": "gzip"}
    first = client.get("/api/v1/maps/layers/risk", headers=headers, query_string=query)
    again = client.get("/api/v1/maps/layers/risk", headers=headers, query_string=query)
    assert first.headers["Content-Encoding"] == "gzip"
    assert first.data == again.data and first.headers["ETag"] == again.headers["ETag"]
    unchanged = client.get("/api/v1/maps/layers/risk", query_string=query, headers={
        **headers, "If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304


def test_a_run_not_done_is_409(client, actors, db):
    headers = actors.header("planner")
    area = make_area(db)
    layer = upload(client, headers, collection([(point(100, 100), {"value": 1})])).get_json()
    run = risk_service.create_assessment(db, area, 500, [{"layer_id": layer["id"]}])
    db.flush()
    response = client.get("/api/v1/maps/layers/risk", headers=headers,
                          query_string={"bbox": _bbox(), "zoom": 14, "assessment_id": run.id})
    assert response.status_code == 409


def _flat(coords):
    """Every number of nested coordinate lists."""
    if coords and isinstance(coords[0], float | int):
        return list(coords)
    return [v for c in coords for v in _flat(c)]


def test_a_finished_run_may_be_cached_by_the_browser(client, actors, run_id):
    response = client.get("/api/v1/maps/layers/risk", headers=actors.header("planner"),
                          query_string={"bbox": _bbox(), "zoom": 14, "assessment_id": run_id})
    assert "max-age=3600" in response.headers["Cache-Control"]


def test_unknown_run_is_404(client, actors, run_id):
    response = client.get("/api/v1/maps/layers/risk", headers=actors.header("planner"),
                          query_string={"bbox": _bbox(), "zoom": 14,
                                        "assessment_id": run_id + 999})
    assert response.status_code == 404
