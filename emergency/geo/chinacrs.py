"""Conversions between WGS-84, GCJ-02 ("Mars") and BD-09 (Baidu) longitude/latitude."""

import math

import numpy as np
import shapely

CRS_NAMES = ("wgs84", "gcj02", "bd09")

# GCJ-02 expresses its offsets in metres on the Krasovsky 1940 ellipsoid, not on WGS-84.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323

# BD-09 adds a second, much smaller distortion on top of GCJ-02 plus a fixed shift.
_BD_X_PI = math.pi * 3000.0 / 180.0
_BD_SHIFT_LON = 0.0065
_BD_SHIFT_LAT = 0.006

# 1e-9 degrees is about 0.1 mm, far inside the 1e-7 degree target; the forward maps are
# near-identity so fixed-point iteration gets there in a handful of steps.
_TOLERANCE_DEG = 1e-9
_MAX_ITERATIONS = 30


def _arrays(lons, lats):
    """Return lons and lats as broadcast float64 arrays."""
    return np.broadcast_arrays(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))


def in_china_box(lons, lats):
    """Return True where a point lies in the rough box where GCJ-02 offsets apply."""
    lons, lats = _arrays(lons, lats)
    # The same coarse rectangle every public implementation uses: real GCJ-02 software
    # does not offset points outside it, so matching it matters more than being precise.
    return (lons >= 72.004) & (lons <= 137.8347) & (lats >= 0.8293) & (lats <= 55.8271)


def _lat_offset_m(x, y):
    """Return the GCJ-02 northing offset polynomial for x = lon - 105, y = lat - 35."""
    result = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    result += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    result += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    result += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return result


def _lon_offset_m(x, y):
    """Return the GCJ-02 easting offset polynomial for x = lon - 105, y = lat - 35."""
    result = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    result += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    result += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    result += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return result


def wgs84_to_gcj02_array(lons, lats):
    """Convert arrays of WGS-84 lon/lat to GCJ-02."""
    lons, lats = _arrays(lons, lats)
    x, y = lons - 105.0, lats - 35.0
    lat_rad = np.radians(lats)
    magic = 1.0 - _KRASOVSKY_EE * np.sin(lat_rad) ** 2
    sqrt_magic = np.sqrt(magic)
    # Turn the metre offsets into degrees with the meridian and parallel radii of curvature.
    meridian_radius = _KRASOVSKY_A * (1.0 - _KRASOVSKY_EE) / (magic * sqrt_magic)
    parallel_radius = _KRASOVSKY_A / sqrt_magic * np.cos(lat_rad)
    dlat = np.degrees(_lat_offset_m(x, y) / meridian_radius)
    dlon = np.degrees(_lon_offset_m(x, y) / parallel_radius)
    inside = in_china_box(lons, lats)
    return np.where(inside, lons + dlon, lons), np.where(inside, lats + dlat, lats)


def _invert(forward, lons, lats, start_lons, start_lats):
    """Solve forward(x) = (lons, lats) by fixed-point iteration from a starting guess."""
    x_lons, x_lats = np.array(start_lons, dtype=float), np.array(start_lats, dtype=float)
    for _ in range(_MAX_ITERATIONS):
        f_lons, f_lats = forward(x_lons, x_lats)
        d_lons, d_lats = f_lons - lons, f_lats - lats
        x_lons, x_lats = x_lons - d_lons, x_lats - d_lats
        # NaN compares False, so a NaN input does not keep the loop going.
        if not np.any(np.maximum(np.abs(d_lons), np.abs(d_lats)) >= _TOLERANCE_DEG):
            break
    return x_lons, x_lats


def gcj02_to_wgs84_array(lons, lats):
    """Convert arrays of GCJ-02 lon/lat to WGS-84 (iterative exact inverse)."""
    lons, lats = _arrays(lons, lats)
    # The published one-step inverse is off by metres; iterating on it gets sub-millimetre.
    return _invert(wgs84_to_gcj02_array, lons, lats, lons, lats)


def gcj02_to_bd09_array(lons, lats):
    """Convert arrays of GCJ-02 lon/lat to BD-09."""
    lons, lats = _arrays(lons, lats)
    # BD-09 perturbs the polar form of the point, then shifts it; it applies everywhere.
    radius = np.hypot(lons, lats) + 0.00002 * np.sin(lats * _BD_X_PI)
    theta = np.arctan2(lats, lons) + 0.000003 * np.cos(lons * _BD_X_PI)
    return radius * np.cos(theta) + _BD_SHIFT_LON, radius * np.sin(theta) + _BD_SHIFT_LAT


def bd09_to_gcj02_array(lons, lats):
    """Convert arrays of BD-09 lon/lat to GCJ-02 (iterative exact inverse)."""
    lons, lats = _arrays(lons, lats)
    x, y = lons - _BD_SHIFT_LON, lats - _BD_SHIFT_LAT
    # The usual closed form evaluates the perturbation at the wrong point (errors up to
    # ~0.7 m), so it only serves as the starting guess.
    radius = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return _invert(gcj02_to_bd09_array, lons, lats, radius * np.cos(theta), radius * np.sin(theta))


def wgs84_to_bd09_array(lons, lats):
    """Convert arrays of WGS-84 lon/lat to BD-09."""
    return gcj02_to_bd09_array(*wgs84_to_gcj02_array(lons, lats))


def bd09_to_wgs84_array(lons, lats):
    """Convert arrays of BD-09 lon/lat to WGS-84."""
    return gcj02_to_wgs84_array(*bd09_to_gcj02_array(lons, lats))


def _check_crs(crs):
    """Raise ValueError unless crs is one of CRS_NAMES."""
    if crs not in CRS_NAMES:
        raise ValueError(f"unknown coordinate system {crs!r}; expected one of {CRS_NAMES}")


def to_wgs84_array(lons, lats, crs):
    """Convert arrays of lon/lat in crs ("wgs84", "gcj02" or "bd09") to WGS-84."""
    _check_crs(crs)
    if crs == "gcj02":
        return gcj02_to_wgs84_array(lons, lats)
    if crs == "bd09":
        return bd09_to_wgs84_array(lons, lats)
    lons, lats = _arrays(lons, lats)
    return lons.copy(), lats.copy()


def _floats(pair):
    """Return a pair of 0-d arrays as a tuple of two floats."""
    return float(pair[0]), float(pair[1])


def wgs84_to_gcj02(lon, lat):
    """Convert one WGS-84 lon/lat to GCJ-02."""
    return _floats(wgs84_to_gcj02_array(lon, lat))


def gcj02_to_wgs84(lon, lat):
    """Convert one GCJ-02 lon/lat to WGS-84 (iterative exact inverse)."""
    return _floats(gcj02_to_wgs84_array(lon, lat))


def gcj02_to_bd09(lon, lat):
    """Convert one GCJ-02 lon/lat to BD-09."""
    return _floats(gcj02_to_bd09_array(lon, lat))


def bd09_to_gcj02(lon, lat):
    """Convert one BD-09 lon/lat to GCJ-02 (iterative exact inverse)."""
    return _floats(bd09_to_gcj02_array(lon, lat))


def wgs84_to_bd09(lon, lat):
    """Convert one WGS-84 lon/lat to BD-09."""
    return _floats(wgs84_to_bd09_array(lon, lat))


def bd09_to_wgs84(lon, lat):
    """Convert one BD-09 lon/lat to WGS-84."""
    return _floats(bd09_to_wgs84_array(lon, lat))


def to_wgs84(lon, lat, crs):
    """Convert one lon/lat in crs ("wgs84", "gcj02" or "bd09") to WGS-84."""
    return _floats(to_wgs84_array(lon, lat, crs))


def transform_geometry(geom, crs):
    """Return a shapely geometry (or array of them) converted from crs to WGS-84."""
    _check_crs(crs)

    def convert(coords):
        out = coords.copy()
        out[:, 0], out[:, 1] = to_wgs84_array(coords[:, 0], coords[:, 1], crs)
        return out

    # include_z=None keeps a Z coordinate where the input has one; heights are unchanged.
    return shapely.transform(geom, convert, include_z=None)
