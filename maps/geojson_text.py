"""GeoJSON of map layers built as compact text: simplified and rounded geometries for a zoom,
features around already serialised geometries, and a layer body joined from them. Pure.

Kept as text: a str costs the garbage collector nothing, nested coordinate lists did (full
collections of ~100 ms per response).
"""

import hashlib
import json

from shapely.geometry import mapping, shape

from maps.cache import LRU
from maps.tilemath import digits, tolerance

# Simplified area and grid geometries (GeoJSON text) by (digest of their source text, zoom):
# ~40% of an areas response's time went to parsing and simplifying the same boundaries.
_SIMPLIFIED = LRU(20_000)


class TextFeatures(list):
    """Features already serialised as GeoJSON Feature texts (see ``dumps``): a provider
    reading from an in-memory store formats them straight to text, never to dicts."""


def simplified_text(geometry, zoom):
    """GeoJSON text of a geometry given as GeoJSON text, simplified and rounded for drawing
    at ``zoom``; memoised by a digest of the text itself, so a changed geometry is a new key
    (nothing to invalidate, every process agrees)."""
    key = (hashlib.blake2b(geometry.encode(), digest_size=16).digest(), zoom)
    found = _SIMPLIFIED.get(key)
    if found is None:
        found = json.dumps(_simplify(geometry_mapping(geometry), zoom), separators=(",", ":"))
        _SIMPLIFIED.put(key, found)
    return found


def geometry_text(geometry, zoom):
    """simplified_text() of GeoJSON text or a mapping."""
    if not isinstance(geometry, str):
        geometry = json.dumps(geometry)
    return simplified_text(geometry, zoom)


def feature_text(fid, geometry_text, properties):
    """A GeoJSON Feature as text around an already serialised geometry."""
    return (f'{{"type":"Feature","id":{json.dumps(fid)},"geometry":{geometry_text},'
            f'"properties":{json.dumps(properties, ensure_ascii=False, separators=(",", ":"))}}}')


def _simplify(geometry, zoom):
    """A GeoJSON geometry mapping simplified and rounded for drawing at ``zoom``."""
    geom = shape(geometry)
    if geom.geom_type != "Point":
        geom = geom.simplify(tolerance(zoom), preserve_topology=True)
    return rounded(mapping(geom), digits(zoom))


def _round_coords(coords, places):
    """Nested coordinate lists rounded to ``places`` decimals."""
    if coords and isinstance(coords[0], float | int):
        return [round(c, places) for c in coords]
    return [_round_coords(c, places) for c in coords]


def rounded(geometry, places):
    """A GeoJSON geometry with its coordinates rounded; pure Python, ~10x faster than
    shapely.set_precision for the small polygons of a view."""
    return {"type": geometry["type"],
            "coordinates": _round_coords(list(geometry["coordinates"]), places)}


def feature(fid, geometry, properties):
    """A GeoJSON Feature."""
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": properties}


def point(lon, lat, zoom):
    """A GeoJSON point rounded for ``zoom``."""
    places = digits(zoom)
    return {"type": "Point", "coordinates": [round(lon, places), round(lat, places)]}


def geometry_mapping(value):
    """A geometry mapping from GeoJSON text or a mapping."""
    return json.loads(value) if isinstance(value, str) else value


def lonlat(geometry):
    """(lon, lat) of a GeoJSON point given as text or a mapping."""
    coordinates = geometry_mapping(geometry)["coordinates"]
    return coordinates[0], coordinates[1]


def dumps(body):
    """A layer body as compact JSON bytes; TextFeatures are joined as they are."""
    features = body["features"]
    if not isinstance(features, TextFeatures):
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                          default=str).encode()
    rest = {k: v for k, v in body.items() if k != "features"}
    head = json.dumps(rest, ensure_ascii=False, separators=(",", ":"), default=str)
    return (head[:-1] + ',"features":[' + ",".join(features) + "]}").encode()
