"""Web-mercator tile maths for map layers: tile bounds, bbox snapping, pixel sizes. Pure."""

import math


def tile_bounds(z, x, y):
    """WGS-84 (minlon, minlat, maxlon, maxlat) of a web-mercator tile."""
    n = 2 ** z

    def lat(row):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y))


def snap_bbox(bbox, zoom):
    """Grow a bbox outward to the tile grid of ``zoom`` so repeated views repeat URLs."""
    n = 2 ** zoom
    minx, miny, maxx, maxy = bbox

    def tx(lon):
        return min(max((lon + 180) / 360 * n, 0), n)

    def ty(lat):
        lat = max(min(lat, 85.0511), -85.0511)
        rad = math.radians(lat)
        return min(max((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n, 0), n)

    x0, x1 = math.floor(tx(minx)), math.ceil(tx(maxx))
    y0, y1 = math.floor(ty(maxy)), math.ceil(ty(miny))
    west, _s, _e, north = tile_bounds(zoom, x0, y0)
    _w, south, east, _n = tile_bounds(zoom, max(x1 - 1, x0), max(y1 - 1, y0))
    return tuple(round(v, 6) for v in (west, south, east, north))


def pixel_degrees(zoom):
    """Degrees of longitude of one screen pixel at ``zoom`` (256-pixel tiles)."""
    return 360 / (256 * 2 ** zoom)


def tolerance(zoom):
    """Simplification tolerance in degrees: about a third of a screen pixel at ``zoom``."""
    return pixel_degrees(zoom) / 3


def digits(zoom):
    """Decimal places that still resolve a pixel at ``zoom`` (fewer bytes at low zoom)."""
    return max(3, min(7, math.ceil(math.log10(256 * 2 ** zoom / 360)) + 1))
