"""The command line of the contract: users, tokens, imports."""

import json

import pytest
from sqlalchemy import select

from emergency.auth.models import User


def test_users_create_with_scopes(runner, db, place):
    result = runner.invoke(args=["users", "create", "wang", "--role", "grid_staff",
                                 "--password", "long enough pw", "--grid", place["grids"][0],
                                 "--grid", place["grids"][1]])
    assert result.exit_code == 0, result.output
    user = db.scalar(select(User).where(User.username == "wang"))
    assert user.role == "grid_staff" and user.grid_codes == sorted(place["grids"])


def test_users_create_refuses_bad_input(runner):
    result = runner.invoke(args=["users", "create", "x", "--role", "boss", "--password", "p"])
    assert result.exit_code != 0
    result = runner.invoke(args=["users", "create", "li", "--role", "planner",
                                 "--password", "short"])
    assert result.exit_code != 0 and "password" in result.output


def test_tokens_create_prints_only_the_token(runner, client, db):
    runner.invoke(args=["users", "create", "li", "--role", "planner", "--password",
                        "long enough pw"])
    result = runner.invoke(args=["tokens", "create", "li", "--days", "3"])
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert "\n" not in token and token.startswith("em_")
    response = client.get("/api/v1/areas", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_tokens_for_unknown_user_fail(runner):
    result = runner.invoke(args=["tokens", "create", "nobody"])
    assert result.exit_code != 0


def _write_geojson(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")


def _feature(code, name, lon, lat, size=0.1, **props):
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size],
            [lon, lat]]
    return {"type": "Feature", "properties": {"code": code, "name": name, **props},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_areas_import_geojson_and_gcj02(runner, client, actors, tmp_path, place):
    path = tmp_path / "streets.geojson"
    _write_geojson(path, [_feature("990101011", "一街道", 106.6, 29.6),
                          _feature("990101012", "二街道", 106.7, 29.6)])
    result = runner.invoke(args=["areas", "import", str(path), "--level", "street",
                                 "--parent-code", "990101", "--crs", "gcj02"])
    assert result.exit_code == 0, result.output
    area = client.get("/api/v1/areas/990101011", headers=actors.header("planner")).get_json()
    lon, lat = area["geometry"]["coordinates"][0][0][0]
    # GCJ-02 is shifted a few hundred metres from WGS-84 in Chongqing; the import undoes it.
    assert 0.001 < abs(lon - 106.6) + abs(lat - 29.6) < 0.01


def test_areas_import_is_all_or_nothing(runner, client, actors, tmp_path, place):
    bowtie = {"type": "Feature", "properties": {"code": "990101022", "name": "坏"},
              "geometry": {"type": "Polygon", "coordinates": [[[106, 29], [106.1, 29.1],
                                                               [106.1, 29], [106, 29.1],
                                                               [106, 29]]]}}
    path = tmp_path / "bad.geojson"
    _write_geojson(path, [_feature("990101021", "好", 106.6, 29.6), bowtie])
    result = runner.invoke(args=["areas", "import", str(path), "--level", "street",
                                 "--parent-code", "990101"])
    assert result.exit_code != 0 and "feature 1" in result.output
    response = client.get("/api/v1/areas/990101021", headers=actors.header("planner"))
    assert response.status_code == 404


def test_areas_import_reports_missing_fields(runner, tmp_path, place):
    path = tmp_path / "nofield.geojson"
    _write_geojson(path, [_feature("990101031", "名", 106.6, 29.6)])
    result = runner.invoke(args=["areas", "import", str(path), "--level", "street",
                                 "--code-field", "adcode", "--parent-code", "990101"])
    assert result.exit_code != 0 and "adcode" in result.output


@pytest.mark.parametrize("driver, suffix", [("GPKG", ".gpkg"), ("ESRI Shapefile", ".zip")])
def test_grids_import_gpkg_and_zipped_shapefile(runner, client, actors, tmp_path, place,
                                                 driver, suffix):
    import zipfile

    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame(
        {"gcode": ["imp-1", "imp-2"], "gname": ["甲网格", "乙网格"],
         "area": [place["community"]] * 2},
        geometry=[box(106.50, 29.50, 106.52, 29.52), box(106.52, 29.50, 106.54, 29.52)],
        crs="EPSG:4326").to_crs(32648)  # a projected file: the import reprojects it
    if driver == "GPKG":
        path = tmp_path / "grids.gpkg"
        frame.to_file(path, driver="GPKG", layer="grids")
    else:
        shp_dir = tmp_path / "shp"
        shp_dir.mkdir()
        frame.to_file(shp_dir / "grids.shp", driver=driver, encoding="GBK")
        path = tmp_path / "grids.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for part in shp_dir.iterdir():
                archive.write(part, part.name)
    result = runner.invoke(args=["grids", "import", str(path), "--code-field", "gcode",
                                 "--name-field", "gname", "--area-field", "area"])
    assert result.exit_code == 0, result.output
    grid = client.get("/api/v1/grids/imp-2", headers=actors.header("planner")).get_json()
    assert grid["name"] == "乙网格" and grid["area_code"] == place["community"]
    lon, lat = grid["geometry"]["coordinates"][0][0][0]
    assert 106.5 <= lon <= 106.55 and 29.49 <= lat <= 29.53
