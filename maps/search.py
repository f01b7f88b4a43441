"""Place search for map pages: a coordinate, or areas whose name contains the words."""

import json
import re

from shapely.geometry import shape

from emergency.geo import chinacrs
from emergency.geo import service as geo

# "106.55, 29.56", "29.56 106.55" or with a crs prefix "gcj02: 106.55,29.56".
_COORD = re.compile(r"^\s*(?:(wgs84|gcj02|bd09)\s*[:：]\s*)?(-?\d+(?:\.\d+)?)\s*[,，\s]\s*"
                    r"(-?\d+(?:\.\d+)?)\s*$", re.I)
SEARCH_LEVELS = ("district", "street")
MAX_RESULTS = 10


def parse_coordinate(text):
    """(lon, lat) in WGS-84 from a typed coordinate, or None; lat/lon order is guessed."""
    match = _COORD.match(text or "")
    if not match:
        return None
    crs, a, b = (match.group(1) or "wgs84").lower(), float(match.group(2)), float(match.group(3))
    # Chinese longitudes (73-135) always exceed latitudes (18-54): the larger is the lon.
    lon, lat = (a, b) if abs(a) >= abs(b) else (b, a)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return chinacrs.to_wgs84(lon, lat, crs) if crs != "wgs84" else (lon, lat)


def search(session, text):
    """Up to MAX_RESULTS places: {label, kind, code?, lon, lat, bbox?}."""
    point = parse_coordinate(text)
    if point:
        lon, lat = point
        return [{"label": f"{lon:.5f}, {lat:.5f}", "kind": "coordinate", "lon": lon,
                 "lat": lat}]
    words = text.strip().lower()
    found = []
    for level in SEARCH_LEVELS:
        records, _total = geo.list_areas(session, level=level, q=words, limit=MAX_RESULTS)
        for r in records:
            geom = r["geometry"]
            bounds = shape(json.loads(geom) if isinstance(geom, str) else geom).bounds
            found.append({"label": r["name"], "kind": level, "code": r["code"],
                          "lon": (bounds[0] + bounds[2]) / 2,
                          "lat": (bounds[1] + bounds[3]) / 2,
                          "bbox": [round(v, 6) for v in bounds]})
            if len(found) >= MAX_RESULTS:
                return found
    return found
