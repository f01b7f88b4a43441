"""Tests for conversions between WGS-84, GCJ-02 and BD-09."""

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, Polygon

from emergency.geo import chinacrs

GEOD = Geod(ellps="WGS84")

# Published pairs, lon/lat. GCJ-02 values are what the reference implementations print,
# which is also what AutoNavi/Amap shows for the same ground point.
WGS84_TO_GCJ02 = [
    # googollee/eviltransform test vectors (Shanghai, Shenzhen, Beijing).
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
    # wandergis/coordtransform README example.
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    # Beijing railway station from the geoChina R package docs (printed to 5 decimals).
    ((116.42079, 39.90105), (116.42703, 39.90245)),
]
GCJ02_TO_BD09 = [
    # wandergis/coordtransform README example.
    ((116.404, 39.915), (116.41036949371029, 39.92133699351021)),
]
BD09_TO_GCJ02 = [
    # wandergis/coordtransform README example (its inverse is the approximate closed form).
    ((116.404, 39.915), (116.39762729119315, 39.90865673957631)),
]

OUTSIDE_CHINA = [
    (-0.1276, 51.5072),  # London
    (139.6917, 35.6895),  # Tokyo: east of the box although inside its latitudes
    (151.2093, -33.8688),  # Sydney
    (-74.006, 40.7128),  # New York
    (37.6173, 55.7558),  # Moscow: west of the box
]

china_lons = st.floats(min_value=73.5, max_value=135.0)
china_lats = st.floats(min_value=3.5, max_value=53.5)


def metres(lon1, lat1, lon2, lat2):
    """Return geodesic distance(s) in metres between two lon/lat points or arrays."""
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


def china_grid():
    """Return lon and lat arrays of a 0.5-degree grid over the rough extent of China."""
    lons, lats = np.meshgrid(np.arange(73.5, 135.01, 0.5), np.arange(3.5, 53.51, 0.5))
    return lons.ravel(), lats.ravel()


@pytest.mark.parametrize(("wgs", "gcj"), WGS84_TO_GCJ02)
def test_wgs84_to_gcj02_matches_published_values(wgs, gcj):
    assert metres(*chinacrs.wgs84_to_gcj02(*wgs), *gcj) < 1.0


@pytest.mark.parametrize(("wgs", "gcj"), WGS84_TO_GCJ02)
def test_gcj02_to_wgs84_recovers_published_values(wgs, gcj):
    assert metres(*chinacrs.gcj02_to_wgs84(*gcj), *wgs) < 1.0


@pytest.mark.parametrize(("gcj", "bd"), GCJ02_TO_BD09)
def test_gcj02_to_bd09_matches_published_values(gcj, bd):
    assert metres(*chinacrs.gcj02_to_bd09(*gcj), *bd) < 1.0


@pytest.mark.parametrize(("bd", "gcj"), BD09_TO_GCJ02)
def test_bd09_to_gcj02_matches_published_values(bd, gcj):
    assert metres(*chinacrs.bd09_to_gcj02(*bd), *gcj) < 1.0


def test_gcj02_offset_is_hundreds_of_metres_in_china():
    # Guards against a conversion that silently does nothing.
    lon, lat = 106.55, 29.56  # central Chongqing
    assert 100 < metres(lon, lat, *chinacrs.wgs84_to_gcj02(lon, lat)) < 1000


def test_round_trip_over_china_grid_is_under_half_a_metre():
    lons, lats = china_grid()
    back = chinacrs.gcj02_to_wgs84_array(*chinacrs.wgs84_to_gcj02_array(lons, lats))
    assert np.max(metres(lons, lats, *back)) < 0.5
    back = chinacrs.bd09_to_wgs84_array(*chinacrs.wgs84_to_bd09_array(lons, lats))
    assert np.max(metres(lons, lats, *back)) < 0.5


def test_inverses_converge_below_1e7_degrees():
    lons, lats = china_grid()
    for forward, inverse in [
        (chinacrs.wgs84_to_gcj02_array, chinacrs.gcj02_to_wgs84_array),
        (chinacrs.gcj02_to_bd09_array, chinacrs.bd09_to_gcj02_array),
    ]:
        again_lons, again_lats = forward(*inverse(lons, lats))
        assert np.max(np.abs(again_lons - lons)) < 1e-7
        assert np.max(np.abs(again_lats - lats)) < 1e-7


@settings(max_examples=300, deadline=None)
@given(lon=china_lons, lat=china_lats)
def test_round_trips_are_under_half_a_metre(lon, lat):
    assert metres(lon, lat, *chinacrs.gcj02_to_wgs84(*chinacrs.wgs84_to_gcj02(lon, lat))) < 0.5
    assert metres(lon, lat, *chinacrs.wgs84_to_gcj02(*chinacrs.gcj02_to_wgs84(lon, lat))) < 0.5
    assert metres(lon, lat, *chinacrs.bd09_to_gcj02(*chinacrs.gcj02_to_bd09(lon, lat))) < 0.5
    assert metres(lon, lat, *chinacrs.bd09_to_wgs84(*chinacrs.wgs84_to_bd09(lon, lat))) < 0.5


@pytest.mark.parametrize(("lon", "lat"), OUTSIDE_CHINA)
def test_gcj02_is_wgs84_outside_china(lon, lat):
    assert chinacrs.wgs84_to_gcj02(lon, lat) == (lon, lat)
    assert chinacrs.gcj02_to_wgs84(lon, lat) == (lon, lat)
    assert chinacrs.to_wgs84(lon, lat, "gcj02") == (lon, lat)


def test_to_wgs84_dispatches_on_crs():
    lon, lat = 106.55, 29.56
    assert chinacrs.to_wgs84(lon, lat, "wgs84") == (lon, lat)
    assert chinacrs.to_wgs84(lon, lat, "gcj02") == chinacrs.gcj02_to_wgs84(lon, lat)
    assert chinacrs.to_wgs84(lon, lat, "bd09") == chinacrs.bd09_to_wgs84(lon, lat)


@pytest.mark.parametrize("crs", ["WGS84", "epsg:4326", "bd09mc", "", None])
def test_unknown_crs_raises(crs):
    with pytest.raises(ValueError):
        chinacrs.to_wgs84(106.55, 29.56, crs)
    with pytest.raises(ValueError):
        chinacrs.transform_geometry(Point(106.55, 29.56), crs)


def test_array_and_scalar_versions_agree():
    lons, lats = china_grid()
    out_lons, out_lats = chinacrs.gcj02_to_wgs84_array(lons, lats)
    # The array version iterates until every point converges, so allow the tolerance.
    for i in range(0, lons.size, 97):
        lon, lat = chinacrs.gcj02_to_wgs84(lons[i], lats[i])
        assert lon == pytest.approx(out_lons[i], abs=1e-9)
        assert lat == pytest.approx(out_lats[i], abs=1e-9)


def test_transform_geometry_converts_polygon_with_hole():
    shell = [(106.4, 29.4), (106.7, 29.4), (106.7, 29.7), (106.4, 29.7), (106.4, 29.4)]
    hole = [(106.5, 29.5), (106.6, 29.5), (106.6, 29.6), (106.5, 29.5)]
    polygon = Polygon(shell, [hole])

    result = chinacrs.transform_geometry(polygon, "gcj02")

    assert result.geom_type == "Polygon" and result.is_valid
    assert len(result.interiors) == 1
    expected = np.column_stack(chinacrs.gcj02_to_wgs84_array(*np.array(shell).T))
    np.testing.assert_allclose(np.array(result.exterior.coords), expected, rtol=0, atol=1e-12)
    # The whole polygon moves by the local offset (hundreds of metres), not by distortion.
    shift = metres(polygon.centroid.x, polygon.centroid.y, result.centroid.x, result.centroid.y)
    assert 100 < shift < 1000
    assert abs(result.area - polygon.area) / polygon.area < 1e-3


def test_transform_geometry_handles_every_type_and_keeps_z():
    geoms = [
        Point(106.55, 29.56, 250.0),
        LineString([(106.5, 29.5), (106.6, 29.6)]),
        MultiPolygon([Polygon([(106, 29), (106.1, 29), (106.1, 29.1)])]),
        GeometryCollection([Point(106.55, 29.56), LineString([(106.5, 29.5), (106.6, 29.6)])]),
    ]
    for geom in geoms:
        result = chinacrs.transform_geometry(geom, "bd09")
        assert result.geom_type == geom.geom_type
        assert shapely.has_z(result) == shapely.has_z(geom)
        assert shapely.get_num_coordinates(result) == shapely.get_num_coordinates(geom)
    assert chinacrs.transform_geometry(geoms[0], "bd09").z == 250.0
    assert chinacrs.transform_geometry(geoms[1], "wgs84").equals(geoms[1])
