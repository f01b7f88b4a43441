"""A 2 x 2 km area with four 1 km cells, every number computed by hand (docs/risk-model.md)."""

import math

import pytest

from tests.risk.risk_factories import (
    add_team,
    approved_org,
    collection,
    make_area,
    point,
    rect,
    start,
    upload,
)

THRESHOLDS = [0.14, 0.11, 0.05]


@pytest.fixture
def hand_case(client, actors, db):
    """The layers, team and run of the hand-computed case."""
    headers = actors.header("planner")
    area = make_area(db)
    from emergency.geo import service as geo

    # A management grid over the western column of cells.
    geo.create_grid(db, "880000-W", "西网格", area, rect(0, 0, 1000, 2000))
    polys = upload(client, headers, collection([
        (rect(0, 0, 500, 1000), {"value": 10}),         # half of cell (0,0), 10/10 = 1
        (rect(1000, 1000, 2000, 2000), {"value": 6}),   # all of cell (1,1), 6/10 = 0.6
    ]), name="landslide zones")
    points = upload(client, headers, collection([
        (point(100, 1100), {"value": 1}), (point(900, 1900), {"value": 1}),  # cell (1,0)
    ]), name="hazard points")
    people = upload(client, headers, collection([(point(300, 300), {"value": 3})]),
                    role="exposure", name="people")
    assert polys.status_code == points.status_code == people.status_code == 201
    org, org_headers = approved_org(client, actors)
    add_team(client, org, org_headers, 500, 500, 0.4, grade=1)  # reaches cell (0,0) only
    response = start(client, headers, area, 1000, [
        {"layer_id": polys.get_json()["id"], "weight": 2},
        {"layer_id": points.get_json()["id"], "weight": 1},
        {"layer_id": people.get_json()["id"], "weight": 1, "density_ref": 1.0},
    ], {"thresholds": THRESHOLDS})
    assert response.status_code == 202, response.get_json()
    return response.get_json(), headers


def _expected():
    """The hand computation, cell by cell: {(row, col): (H, E, V, C, R, level, gap)}."""
    h = {(0, 0): (2 * 0.5 + 0) / 3, (0, 1): 0.0,
         (1, 0): (0 + (1 - math.exp(-2.0))) / 3, (1, 1): (2 * 0.6) / 3}
    e = {(0, 0): 1 - math.exp(-1.0)}
    c = {(0, 0): 1 - math.exp(-3.0 / 2.0)}
    out = {}
    for cell, hazard in h.items():
        exposure, vulnerability, capacity = e.get(cell, 0.0), 0.5, c.get(cell, 0.0)
        risk = (hazard * (1 - 0.5 + 0.5 * exposure) * (1 - 0.5 + 0.5 * vulnerability)
                * (1 - 0.5 * capacity))
        level = 1 if risk >= 0.14 else 2 if risk >= 0.11 else 3 if risk >= 0.05 else 4
        gap = level <= 2 and cell != (0, 0)
        out[cell] = (hazard, exposure, vulnerability, capacity, risk, level, gap)
    return out


def test_hand_computed_case_is_reproduced(client, hand_case):
    run, headers = hand_case
    assert run["status"] == "done" and run["progress"] == 1.0
    assert run["cell_count"] == 4 and run["team_count"] == 1
    body = client.get(f"/api/v1/risk/assessments/{run['id']}/cells", headers=headers)
    assert body.status_code == 200
    assert body.mimetype == "application/geo+json"
    cells = {(f["properties"]["row"], f["properties"]["col"]): f["properties"]
             for f in body.get_json()["features"]}
    rows = sorted({r for r, _ in cells})
    cols = sorted({c for _, c in cells})
    expected = _expected()
    assert len(cells) == 4
    for (r, c), (hazard, exposure, vulnerability, capacity, risk, level, gap) in expected.items():
        got = cells[(rows[r], cols[c])]
        assert got["hazard"] == pytest.approx(hazard, abs=1e-5), (r, c)
        assert got["exposure"] == pytest.approx(exposure, abs=1e-5), (r, c)
        assert got["vulnerability"] == pytest.approx(vulnerability, abs=1e-6)
        assert got["capacity"] == pytest.approx(capacity, abs=1e-6), (r, c)
        assert got["risk"] == pytest.approx(risk, abs=1e-5), (r, c)
        assert got["level"] == level, (r, c)
        assert got["colour"] == {1: "red", 2: "orange", 3: "yellow", 4: "blue"}[level]
        assert got["gap"] is gap
        assert got["area_m2"] == pytest.approx(1e6, rel=1e-6)


def test_summary_counts_levels_areas_grids_and_gaps(client, hand_case):
    run, headers = hand_case
    body = client.get(f"/api/v1/risk/assessments/{run['id']}/summary", headers=headers)
    assert body.status_code == 200
    summary = body.get_json()
    levels = [cell[5] for cell in _expected().values()]
    assert {k: v["count"] for k, v in summary["levels"].items()} == {
        str(lv): levels.count(lv) for lv in (1, 2, 3, 4)}
    assert summary["areas"][0]["code"] == "880000" and summary["areas"][0]["cells"] == 4
    assert [g["code"] for g in summary["grids"]] == ["880000-W"]
    assert summary["grids"][0]["cells"] == 2
    assert summary["gaps"]["count"] == 1
    assert summary["gaps"]["cells"][0]["level"] == 1



def test_summary_rolls_cells_up_the_area_tree(client, actors, place):
    """Codes of a city's districts do not start with the city's code (500000 → 500103)."""
    headers = actors.header("planner")
    layer = upload(client, headers, collection([
        (rect(0, 0, 1, 1).__class__([(106.5, 29.5), (106.6, 29.5), (106.6, 29.6),
                                     (106.5, 29.6)]), {"value": 1})]))
    run = start(client, headers, place["city"], 5000, [{"layer_id": layer.get_json()["id"]}])
    assert run.status_code == 202
    summary = client.get(f"/api/v1/risk/assessments/{run.get_json()['id']}/summary",
                         headers=headers).get_json()
    by_code = {a["code"]: a for a in summary["areas"]}
    assert {place["city"], place["district"], place["street"], place["community"]} <= set(by_code)
    assert by_code[place["city"]]["cells"] == summary["cells"]
    assert (by_code[place["city"]]["cells"] > by_code[place["district"]]["cells"]
            >= by_code[place["street"]]["cells"] >= by_code[place["community"]]["cells"] > 0)
    assert {g["code"] for g in summary["grids"]} == set(place["grids"])
