"""POST /layers and reading layers: formats, CRS, bad files → 422 with nothing stored."""

import io
import json
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import Point
from sqlalchemy import func, select

from emergency.geo import chinacrs
from risk.models import RiskLayer, RiskLayerFeature
from tests.conftest import error_of
from tests.risk.risk_factories import collection, lonlat, point, rect, upload


def _stored(db):
    """(layers, features) in the database."""
    return (db.scalar(select(func.count(RiskLayer.id))),
            db.scalar(select(func.count(RiskLayerFeature.id))))


def test_geojson_layer_is_imported_and_listed(client, actors, db):
    headers = actors.header("planner")
    response = upload(client, headers, collection([
        (point(100, 100), {"value": 2}), (point(200, 200), {"value": 5})]), name="隐患点")
    assert response.status_code == 201, response.get_json()
    layer = response.get_json()
    assert layer["feature_count"] == 2 and layer["geometry_kind"] == "point"
    assert layer["value_max"] == 5
    listed = client.get("/api/v1/layers", headers=actors.header("grid_staff")).get_json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "隐患点"
    lon, lat = lonlat(500_100, 3_300_100)
    bbox = f"{lon - 0.0003},{lat - 0.0003},{lon + 0.0003},{lat + 0.0003}"
    feats = client.get(f"/api/v1/layers/{layer['id']}/features?bbox={bbox}", headers=headers)
    assert feats.status_code == 200 and feats.mimetype == "application/geo+json"
    assert [f["properties"]["value"] for f in feats.get_json()["features"]] == [2.0]


def test_gcj02_input_is_converted_to_wgs84(client, actors, db):
    headers = actors.header("admin")
    lon, lat = 106.55, 29.56
    glons, glats = chinacrs.wgs84_to_gcj02_array([lon], [lat])
    glon, glat = float(glons[0]), float(glats[0])
    fc = collection([({"type": "Point", "coordinates": [glon, glat]}, {"value": 1})])
    layer = upload(client, headers, fc, crs="gcj02").get_json()
    feat = client.get(f"/api/v1/layers/{layer['id']}/features", headers=headers).get_json()
    got = feat["features"][0]["geometry"]["coordinates"]
    assert got == pytest.approx([lon, lat], abs=1e-5)


def test_zipped_gbk_shapefile_with_cpg(client, actors, tmp_path):
    frame = gpd.GeoDataFrame({"名称": ["滑坡点一", "泥石流二"], "value": [3.0, 4.0]},
                             geometry=[Point(106.5, 29.5), Point(106.6, 29.6)], crs=4326)
    frame.to_file(tmp_path / "hz.shp", encoding="GBK", engine="pyogrio")
    assert (tmp_path / "hz.cpg").exists()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for part in tmp_path.glob("hz.*"):
            zf.write(part, part.name)
    response = upload(client, actors.header("planner"), buf.getvalue(), filename="hz.zip")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["feature_count"] == 2


def test_geopackage_in_a_projected_crs(client, actors, tmp_path):
    frame = gpd.GeoDataFrame({"v": [1.5]}, geometry=[rect(0, 0, 500, 500)], crs=4326)
    frame.to_crs(32648).to_file(tmp_path / "zones.gpkg", engine="pyogrio")
    data = (tmp_path / "zones.gpkg").read_bytes()
    response = upload(client, actors.header("planner"), data, filename="zones.gpkg",
                      value_field="v")
    assert response.status_code == 201, response.get_json()
    layer = response.get_json()
    assert layer["geometry_kind"] == "polygon"
    assert layer["bbox"][0] == pytest.approx(rect(0, 0, 500, 500).bounds[0], abs=1e-6)


BAD_POLYGON = {"type": "Polygon", "coordinates": [[[106.5, 29.5], [106.6, 29.6], [106.6, 29.5],
                                                   [106.5, 29.6], [106.5, 29.5]]]}


@pytest.mark.parametrize("case", ["not_geodata", "missing_field", "non_numeric", "bowtie",
                                  "wrong_crs", "no_crs", "line", "bad_suffix"])
def test_bad_files_are_422_and_nothing_is_stored(client, actors, db, case, tmp_path):
    headers = actors.header("planner")
    good = (point(10, 10), {"value": 1})
    kwargs, field = {}, "file"
    if case == "not_geodata":
        fc = b"this is not geodata at all"
    elif case == "missing_field":
        fc, kwargs, field = collection([good]), {"value_field": "population"}, "value_field"
    elif case == "non_numeric":
        fc, field = collection([good, (point(20, 20), {"value": "lots"})]), "feature 1"
    elif case == "bowtie":
        fc, field = collection([good, (BAD_POLYGON, {"value": 1})]), "feature 1"
    elif case == "wrong_crs":
        # lon/lat data declared as Web Mercator metres lands in the Gulf of Guinea.
        fc, kwargs, field = collection([good]), {"crs": "EPSG:3857"}, "feature 0"
    elif case == "no_crs":
        with pytest.warns(UserWarning, match="crs"):
            gpd.GeoDataFrame({"value": [1]}, geometry=[Point(106.5, 29.5)]).to_file(
                tmp_path / "x.shp", engine="pyogrio")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for part in tmp_path.glob("x.*"):
                zf.write(part, part.name)
        fc, kwargs, field = buf.getvalue(), {"filename": "x.zip"}, "crs"
    elif case == "line":
        line = {"type": "LineString", "coordinates": [[106.5, 29.5], [106.6, 29.6]]}
        fc, field = collection([good, (line, {"value": 1})]), "feature 1"
    else:
        fc, kwargs = json.dumps(collection([good])).encode(), {"filename": "layer.txt"}
    before = _stored(db)
    response = upload(client, headers, fc, **kwargs)
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["details"], error_of(response)
    assert _stored(db) == before


def test_invalid_polygon_is_repaired_on_request(client, actors, db):
    response = upload(client, actors.header("planner"),
                      collection([(BAD_POLYGON, {"value": 1})]), repair="true")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["repaired"] == [0]


def test_layer_writes_need_admin_or_planner(client, actors, db):
    fc = collection([(point(10, 10), {"value": 1})])
    for role in ("dispatcher", "grid_staff", "org_admin", "auditor"):
        assert upload(client, actors.header(role), fc).status_code == 403
    assert upload(client, {}, fc).status_code == 401
    assert upload(client, actors.header("admin"), fc).status_code == 201
