"""Assessment runs through HTTP: roles, lists, validation, compare, exports, matrix method."""

import io
import zipfile

import pytest
from openpyxl import load_workbook

from emergency.errors import Conflict
from risk import service
from tests.conftest import error_of
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


@pytest.fixture
def setup(client, actors, db):
    """An area of 3 x 2 km, a hazard polygon layer and a hazard point layer."""
    headers = actors.header("planner")
    area = make_area(db, size=(3000, 2000))
    zones = upload(client, headers, collection([
        (rect(0, 0, 1500, 2000), {"value": 8}), (rect(2000, 0, 3000, 1000), {"value": 2})]),
        name="flood zones").get_json()
    spots = upload(client, headers, collection([
        (point(2500, 1500), {"value": 5}), (point(2600, 1600), {"value": 5})]),
        name="landslide points").get_json()
    return {"headers": headers, "area": area, "zones": zones, "spots": spots}


def _layers(setup):
    """The chosen layers of a run."""
    return [{"layer_id": setup["zones"]["id"], "weight": 1},
            {"layer_id": setup["spots"]["id"], "weight": 1}]


def test_run_is_done_and_listed_newest_first(client, actors, setup):
    first = start(client, setup["headers"], setup["area"], 500, _layers(setup)).get_json()
    second = start(client, setup["headers"], setup["area"], 1000, _layers(setup)).get_json()
    assert first["status"] == second["status"] == "done"
    assert first["cell_count"] == 24 and second["cell_count"] == 6
    reader = actors.header("grid_staff")
    one = client.get(f"/api/v1/risk/assessments/{first['id']}", headers=reader).get_json()
    assert one["progress"] == 1.0 and one["finished_at"].endswith("+00:00")
    listed = client.get("/api/v1/risk/assessments?area_code=880000", headers=reader).get_json()
    assert [r["id"] for r in listed["items"]] == [second["id"], first["id"]]
    assert client.get("/api/v1/risk/assessments?area_code=110000",
                      headers=reader).get_json()["total"] == 0
    assert client.get("/api/v1/risk/assessments/999999", headers=reader).status_code == 404


def test_cells_by_bbox_and_level(client, setup):
    run = start(client, setup["headers"], setup["area"], 500, _layers(setup)).get_json()
    url = f"/api/v1/risk/assessments/{run['id']}/cells"
    everything = client.get(url, headers=setup["headers"]).get_json()
    assert everything["total"] == 24
    props = everything["features"][0]["properties"]
    assert {"hazard", "exposure", "vulnerability", "capacity", "risk", "level",
            "colour"} <= set(props)
    levels = [f["properties"]["level"] for f in everything["features"]]
    assert levels == sorted(levels)
    west = rect(0, 0, 400, 400).bounds
    some = client.get(f"{url}?bbox={','.join(map(str, west))}", headers=setup["headers"])
    assert 1 <= some.get_json()["total"] < 24
    high = client.get(f"{url}?max_level=2", headers=setup["headers"]).get_json()
    assert all(f["properties"]["level"] <= 2 for f in high["features"])
    assert client.get(f"{url}?bbox=1,2,3", headers=setup["headers"]).status_code == 422


@pytest.mark.parametrize("body, field", [
    ({"area_code": "123456"}, "area_code"),
    ({"cell_size_m": 10}, "cell_size_m"),
    ({"layers": [{"layer_id": 999999}]}, "layers.0.layer_id"),
    ({"params": {"thresholds": [0.1, 0.2, 0.3]}}, "params.thresholds"),
    ({"params": {"method": "guess"}}, "params.method"),
    ({"params": {"bands": {"red": 5, "orange": 10, "yellow": 4}}}, "params.bands"),
])
def test_bad_assessment_is_422_naming_the_field(client, setup, body, field):
    payload = {"area_code": setup["area"], "cell_size_m": 500, "layers": _layers(setup),
               "params": {}, **body}
    response = client.post("/api/v1/risk/assessments", json=payload, headers=setup["headers"])
    assert response.status_code == 422
    assert field in error_of(response)["details"]


def test_composite_needs_a_hazard_layer(client, actors, setup):
    people = upload(client, setup["headers"], collection([(point(10, 10), {"value": 1})]),
                    role="exposure").get_json()
    response = start(client, setup["headers"], setup["area"], 500,
                     [{"layer_id": people["id"]}])
    assert response.status_code == 422 and "layers" in error_of(response)["details"]


def test_only_admin_and_planner_start_runs(client, actors, setup):
    for role in ("dispatcher", "grid_staff", "org_admin", "auditor"):
        response = start(client, actors.header(role), setup["area"], 500, _layers(setup))
        assert response.status_code == 403
    assert start(client, actors.header("admin"), setup["area"], 500,
                 _layers(setup)).status_code == 202


def test_compare_two_runs_after_a_team_registers(client, actors, setup):
    params = {"thresholds": [0.25, 0.2, 0.15]}
    before = start(client, setup["headers"], setup["area"], 500, _layers(setup),
                   params).get_json()
    org, org_headers = approved_org(client, actors)
    add_team(client, org, org_headers, 750, 1000, 50, grade=1)
    after = start(client, setup["headers"], setup["area"], 500, _layers(setup),
                  params).get_json()
    assert after["team_count"] == before["team_count"] + 1
    diff = client.get(f"/api/v1/risk/assessments/{after['id']}/compare?other={before['id']}",
                      headers=setup["headers"])
    assert diff.status_code == 200
    body = diff.get_json()
    assert body["total"] >= 1
    for feat in body["features"]:
        assert feat["properties"]["level"] > feat["properties"]["other_level"]
    assert sum(body["transitions"].values()) == body["total"]
    other_grid = start(client, setup["headers"], setup["area"], 1000, _layers(setup)).get_json()
    bad = client.get(f"/api/v1/risk/assessments/{after['id']}/compare?other={other_grid['id']}",
                     headers=setup["headers"])
    assert bad.status_code == 422


def test_exports_gpkg_geojson_and_xlsx(client, actors, db, setup, tmp_path):
    import geopandas as gpd

    run = start(client, setup["headers"], setup["area"], 1000, _layers(setup)).get_json()
    base = f"/api/v1/risk/assessments/{run['id']}"
    gpkg = client.get(f"{base}/export?format=gpkg", headers=setup["headers"])
    assert gpkg.status_code == 200
    (tmp_path / "c.gpkg").write_bytes(gpkg.data)
    frame = gpd.read_file(tmp_path / "c.gpkg", engine="pyogrio")
    assert len(frame) == 6 and {"risk", "level", "colour"} <= set(frame.columns)
    geojson = client.get(f"{base}/export?format=geojson", headers=setup["headers"])
    assert geojson.status_code == 200 and len(geojson.get_json()["features"]) == 6
    xlsx = client.get(f"{base}/summary?format=xlsx", headers=setup["headers"])
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.data))
    assert wb.sheetnames == ["总体 Overall", "区域 Areas", "网格 Grids", "缺口 Gaps"]
    rows = list(wb["总体 Overall"].values)
    assert rows[-1][-1] == 6
    audit = client.get("/api/v1/audit?action=risk_assessment.export",
                       headers=actors.header("auditor")).get_json()
    assert audit["total"] == 3


def test_a_done_run_is_immutable(client, ctx, db, setup):
    run = start(client, setup["headers"], setup["area"], 1000, _layers(setup)).get_json()
    with pytest.raises(Conflict):
        service.run_assessment(db, run["id"])
    with pytest.raises(Conflict):
        service.set_state(db, run["id"], progress=0.5)


def test_matrix_method_bands(client, setup):
    headers = setup["headers"]
    matrix = upload(client, headers, collection([
        (rect(0, 0, 1000, 1000), {"L": 5, "C": 4}),        # 20: red
        (rect(1000, 0, 2000, 1000), {"L": 3, "C": 4}),     # 12: orange
        (point(2500, 500), {"L": 2, "C": 3}),              # 6: yellow
        (point(2600, 600), {"L": 1, "C": 2}),              # 2: blue (6 wins in that cell)
    ]), name="matrix", value_field=None, likelihood_field="L", consequence_field="C")
    assert matrix.status_code == 422  # points and polygons mixed in one layer
    zones = upload(client, headers, collection([
        (rect(0, 0, 1000, 1000), {"L": 5, "C": 4}), (rect(1000, 0, 2000, 1000), {"L": 3, "C": 4}),
    ]), name="matrix zones", value_field=None, likelihood_field="L",
        consequence_field="C").get_json()
    spots = upload(client, headers, collection([
        (point(2500, 500), {"L": 2, "C": 3}), (point(2600, 600), {"L": 1, "C": 2}),
    ]), name="matrix spots", value_field=None, likelihood_field="L",
        consequence_field="C").get_json()
    run = start(client, headers, setup["area"], 1000,
                [{"layer_id": zones["id"]}, {"layer_id": spots["id"]}],
                {"method": "matrix"}).get_json()
    assert run["status"] == "done", run
    cells = client.get(f"/api/v1/risk/assessments/{run['id']}/cells",
                       headers=headers).get_json()["features"]
    by_cell = {(f["properties"]["row"], f["properties"]["col"]): f["properties"] for f in cells}
    r0 = min(r for r, _ in by_cell)
    c0 = min(c for _, c in by_cell)
    assert by_cell[(r0, c0)]["level"] == 1 and by_cell[(r0, c0)]["risk"] == 20 / 25
    assert by_cell[(r0, c0 + 1)]["level"] == 2
    assert by_cell[(r0, c0 + 2)]["level"] == 3
    assert by_cell[(r0, c0 + 2)]["likelihood"] == 2
    assert by_cell[(r0 + 1, c0)]["level"] == 4
    bad = upload(client, headers, collection([(point(1, 1), {"L": 7, "C": 2})]),
                 value_field=None, likelihood_field="L", consequence_field="C")
    assert bad.status_code == 422 and "feature 0" in error_of(bad)["details"]


def test_zip_without_geodata_is_422(client, setup):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    response = upload(client, setup["headers"], buf.getvalue(), filename="empty.zip")
    assert response.status_code == 422


def test_bulk_path_indexes_every_cell(client, setup, monkeypatch, db):
    """Large inserts suspend SpatiaLite's per-row triggers; the index must still be whole."""
    from sqlalchemy import text

    from emergency.spatial import bulk

    monkeypatch.setattr(bulk, "MANY", 1)
    run = start(client, setup["headers"], setup["area"], 500, _layers(setup)).get_json()
    url = f"/api/v1/risk/assessments/{run['id']}/cells"
    seen = set()
    for x in range(0, 3000, 500):
        for y in range(0, 2000, 500):
            lon0, lat0, lon1, lat1 = rect(x + 200, y + 200, x + 300, y + 300).bounds
            body = client.get(f"{url}?bbox={lon0},{lat0},{lon1},{lat1}",
                              headers=setup["headers"]).get_json()
            assert body["total"] == 1, (x, y, body["total"])
            seen.add(body["features"][0]["id"])
    assert len(seen) == 24
    if db.get_bind().dialect.name == "sqlite":
        triggers = db.execute(text("SELECT count(*) FROM sqlite_master WHERE type='trigger' "
                                   "AND tbl_name='risk_cells'")).scalar()
        assert triggers == 8


def test_reads_need_sign_in(client, setup):
    assert client.get("/api/v1/layers").status_code == 401
    assert client.get("/api/v1/risk/assessments").status_code == 401
    assert client.get("/api/v1/risk/assessments/1/cells").status_code == 401


def test_a_queued_run_has_no_cells_yet(client, ctx, db, setup):
    run = service.create_assessment(db, setup["area"], 1000, _layers(setup))
    db.flush()
    body = client.get(f"/api/v1/risk/assessments/{run.id}", headers=setup["headers"])
    assert body.get_json()["status"] == "queued" and body.get_json()["progress"] == 0.0
    cells = client.get(f"/api/v1/risk/assessments/{run.id}/cells", headers=setup["headers"])
    assert cells.status_code == 409
    assert client.get(f"/api/v1/risk/assessments/{run.id}/summary",
                      headers=setup["headers"]).status_code == 409
