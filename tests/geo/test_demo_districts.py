"""Tests for the Chongqing district boundaries shipped as demo data."""

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

DATA = Path(__file__).resolve().parents[2] / "emergency" / "geo" / "data"
DISTRICTS_FILE = DATA / "chongqing_districts.geojson"
CHONGQING_BBOX = (105.2, 28.1, 110.2, 32.3)
CHONGQING_AREA_KM2 = 82_400
# Albers equal-area with standard parallels spanning Chongqing.
ALBERS = "+proj=aea +lat_0=30 +lon_0=107.7 +lat_1=29 +lat_2=31.5 +datum=WGS84 +units=m"


@pytest.fixture(scope="module")
def features():
    """Return the features of the demo district file."""
    return json.loads(DISTRICTS_FILE.read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def geoms(features):
    """Return the district geometries as a shapely array."""
    return np.array([shape(f["geometry"]) for f in features])


def test_file_is_small():
    assert DISTRICTS_FILE.stat().st_size < 1.5 * 1024 * 1024


def test_has_38_districts_with_unique_chongqing_codes(features):
    codes = [f["properties"]["code"] for f in features]
    assert len(features) == 38
    assert len(set(codes)) == 38
    assert all(len(code) == 6 and code.isdigit() and code.startswith("50") for code in codes)


def test_properties_are_complete(features):
    for feature in features:
        props = feature["properties"]
        assert set(props) == {"code", "name", "name_en", "kind"}
        assert props["name"].endswith(props["kind"])
        assert props["name_en"].replace("'", "").isalpha()
    kinds = [f["properties"]["kind"] for f in features]
    assert (kinds.count("区"), kinds.count("县"), kinds.count("自治县")) == (26, 8, 4)


def test_known_district(features):
    wanzhou = next(f["properties"] for f in features if f["properties"]["code"] == "500101")
    assert wanzhou == {"code": "500101", "name": "万州区", "name_en": "Wanzhou", "kind": "区"}


def test_geometries_are_valid_multipolygons(geoms):
    assert all(g.geom_type == "MultiPolygon" for g in geoms)
    assert shapely.is_valid(geoms).all()
    # Districts tile the city: shared borders match, nothing overlaps.
    assert shapely.coverage_is_valid(geoms)


def test_coordinates_have_at_most_6_decimals(geoms):
    coords = shapely.get_coordinates(geoms)
    np.testing.assert_array_equal(coords, np.round(coords, 6))


def test_all_within_chongqing_bbox(geoms):
    min_lon, min_lat, max_lon, max_lat = CHONGQING_BBOX
    bounds = shapely.bounds(geoms)
    assert (bounds[:, 0] >= min_lon).all() and (bounds[:, 2] <= max_lon).all()
    assert (bounds[:, 1] >= min_lat).all() and (bounds[:, 3] <= max_lat).all()


def test_total_area_is_close_to_82400_km2(geoms):
    transformer = Transformer.from_crs("EPSG:4326", ALBERS, always_xy=True)
    projected = shapely.transform(geoms, lambda c: np.column_stack(transformer.transform(*c.T)))
    area_km2 = shapely.area(projected).sum() / 1e6
    assert area_km2 == pytest.approx(CHONGQING_AREA_KM2, rel=0.03)
