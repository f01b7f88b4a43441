"""The registry of map layers: name -> a provider that returns features for a bbox and zoom.

Providers get their data from each domain's service functions, imported lazily so a domain
that is missing or broken does not break the others. A provider never returns more than
MAX_FEATURES raw features: at low zoom it aggregates (risk cells into areas) or asks the user
to zoom in (grids), and the page clusters points. No Flask and no database code here: the
caller passes the session and the signed-in user.
"""

from __future__ import annotations

import importlib
import math
import threading
from dataclasses import dataclass, field

from shapely.geometry import mapping, shape

from emergency.errors import Invalid

MAX_FEATURES = 10_000
# Raw risk cells are sent when a view holds at most this many (about 25 KB gzipped per
# 1,000 cells and ~2 ms to format them); more are counted in bins of BIN_PX screen pixels,
# so a 1280x800 view holds at most ~4,000 bins.
RAW_CELL_LIMIT = 2_500
BIN_PX = 16
# Zoom from which each area level is drawn (districts below the first).
AREA_LEVEL_ZOOM = ((12, "community"), (9, "street"), (0, "district"))
GRID_MIN_ZOOM = 11
OPEN_HAZARD = {"reported", "verified", "rectifying", "rectified"}
# The national four-colour scheme (same as maps/risk.py): 重大 red ... 低 blue.
RISK_COLOURS = {1: "#e60012", 2: "#f39800", 3: "#ffe100", 4: "#0068b7"}


@dataclass(frozen=True)
class Layer:
    """A named layer: its provider, geometry kind and how long a browser may reuse a response."""

    name: str
    provider: object
    kind: str  # "polygon" or "point"
    immutable: bool = False  # True when a response never changes (e.g. a finished run)
    params: tuple = field(default=())
    # (session, params) -> a hashable key naming the data of an immutable layer, or None
    cache_key: object = None


LAYERS: dict[str, Layer] = {}


def register(name, kind, immutable=False, params=(), cache_key=None):
    """Decorator adding a provider function to the registry."""
    def wrap(provider):
        LAYERS[name] = Layer(name, provider, kind, immutable, tuple(params), cache_key)
        return provider
    return wrap


def _service(module):
    """A domain service module, imported when first needed."""
    return importlib.import_module(module)


# ---------------------------------------------------------------- geometry helpers


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


def tolerance(zoom):
    """Simplification tolerance in degrees: about a third of a screen pixel at ``zoom``."""
    return 360 / (256 * 2 ** zoom) / 3


def _digits(zoom):
    """Decimal places that still resolve a pixel at ``zoom`` (fewer bytes at low zoom)."""
    return max(3, min(7, math.ceil(math.log10(256 * 2 ** zoom / 360)) + 1))


def simplified_text(geometry, zoom):
    """GeoJSON text of a geometry given as GeoJSON text, simplified and rounded for drawing
    at ``zoom``; memoised by a digest of the text itself, so a changed geometry is a new key
    (nothing to invalidate, every process agrees). Kept as text: a str costs the garbage
    collector nothing, nested coordinate lists did (full collections of ~100 ms)."""
    import hashlib
    import json

    key = (hashlib.blake2b(geometry.encode(), digest_size=16).digest(), zoom)
    found = _SIMPLIFIED.get(key)
    if found is None:
        found = json.dumps(_simplify(_geometry(geometry), zoom), separators=(",", ":"))
        _SIMPLIFIED.put(key, found)
    return found


def _feature_text(fid, geometry_text, properties):
    """A GeoJSON Feature as text around an already serialised geometry."""
    import json

    return (f'{{"type":"Feature","id":{json.dumps(fid)},"geometry":{geometry_text},'
            f'"properties":{json.dumps(properties, ensure_ascii=False, separators=(",", ":"))}}}')


class LRU:
    """A thread-safe least-recently-used store bounded by the total weight of its values
    (``weigh(value)``, 1 each unless given: a count of entries)."""

    def __init__(self, max_weight, weigh=None):
        from collections import OrderedDict

        self.max_weight, self.weigh = max_weight, weigh or (lambda _value: 1)
        self.items, self.weight, self.lock = OrderedDict(), 0, threading.Lock()

    def get(self, key):
        """The value or None."""
        with self.lock:
            found = self.items.get(key)
            if found is None:
                return None
            self.items.move_to_end(key)
            return found[0]

    def put(self, key, value):
        """Keep a value, dropping the least recently used beyond the bound."""
        weight = self.weigh(value)
        with self.lock:
            old = self.items.pop(key, None)
            self.weight += weight - (old[1] if old else 0)
            self.items[key] = (value, weight)
            while self.items and self.weight > self.max_weight:
                _key, (_value, dropped) = self.items.popitem(last=False)
                self.weight -= dropped

    def clear(self):
        """Forget everything."""
        with self.lock:
            self.items.clear()
            self.weight = 0


# Simplified area and grid geometries (GeoJSON text) by (digest of their source text, zoom):
# ~40% of an areas response's time went to parsing and simplifying the same boundaries.
_SIMPLIFIED = LRU(20_000)


def _simplify(geometry, zoom):
    """A GeoJSON geometry mapping simplified and rounded for drawing at ``zoom``."""
    geom = shape(geometry)
    if geom.geom_type != "Point":
        geom = geom.simplify(tolerance(zoom), preserve_topology=True)
    return rounded(mapping(geom), _digits(zoom))


def _feature(fid, geometry, properties):
    """A GeoJSON Feature."""
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": properties}


def _point(lon, lat, zoom):
    """A rounded GeoJSON point."""
    digits = _digits(zoom)
    return {"type": "Point", "coordinates": [round(lon, digits), round(lat, digits)]}


def _lonlat(geometry):
    """(lon, lat) of a GeoJSON point given as text or a mapping."""
    if isinstance(geometry, str):
        import json

        geometry = json.loads(geometry)
    return geometry["coordinates"][0], geometry["coordinates"][1]


# ---------------------------------------------------------------- providers


def _geometry_text(geometry, zoom):
    """simplified_text() of GeoJSON text or a mapping."""
    if not isinstance(geometry, str):
        import json

        geometry = json.dumps(geometry)
    return simplified_text(geometry, zoom)


@register("areas", "polygon")
def areas(session, user, bbox, zoom, params):
    """Districts, streets or communities (by zoom) meeting the bbox, simplified."""
    level = next(name for z, name in AREA_LEVEL_ZOOM if zoom >= z)
    geo = _service("emergency.geo.service")
    records, total = geo.list_areas(session, level=level, bbox=bbox, limit=MAX_FEATURES)
    features = TextFeatures(
        _feature_text(r["code"], _geometry_text(r["geometry"], zoom),
                      {"code": r["code"], "name": r["name"], "level": r["level"]})
        for r in records)
    return features, {"total": total, "level": level}


@register("grids", "polygon")
def grids(session, user, bbox, zoom, params):
    """Management grids, from GRID_MIN_ZOOM on (below it the page says to zoom in)."""
    if zoom < GRID_MIN_ZOOM:
        return [], {"total": None, "zoom_in": GRID_MIN_ZOOM}
    geo = _service("emergency.geo.service")
    records, total = geo.list_grids(session, bbox=bbox, limit=MAX_FEATURES)
    features = TextFeatures(
        _feature_text(r["code"], _geometry_text(r["geometry"], zoom),
                      {"code": r["code"], "name": r["name"], "area_code": r["area_code"]})
        for r in records)
    return features, {"total": total}


class TextFeatures(list):
    """Features already serialised as GeoJSON Feature texts (see ``dumps``): a provider
    reading from an in-memory store formats them straight to text, never to dicts."""


def _assessment_id(params):
    """The assessment_id parameter as an int (422 when missing or bad)."""
    try:
        return int(params.get("assessment_id"))
    except (TypeError, ValueError):
        raise Invalid("assessment_id is required", {"assessment_id": ["an integer id"]}) \
            from None


def risk_bin_size(zoom, cell_size_m, lat):
    """Degrees of longitude of the risk bins at ``zoom``: BIN_PX screen pixels, and at least
    two cells, so a bin always stands for several cells."""
    pixel = 360 / (256 * 2 ** zoom)
    cell = 2 * float(cell_size_m) / (111_320 * max(math.cos(math.radians(lat)), 0.1))
    return max(BIN_PX * pixel, cell)


def _risk_key(session, params):
    """The response-cache key of a risk view: the run (a done run never changes)."""
    from risk import cellstore

    run = _service("risk.service").get_assessment(session, _assessment_id(params))
    return cellstore.run_key(session, run) if run.status == "done" else None


@register("risk", "polygon", immutable=True, params=("assessment_id",), cache_key=_risk_key)
def risk(session, user, bbox, zoom, params):
    """Risk cells of a run when the view holds at most RAW_CELL_LIMIT; else the cells
    counted per level in squares of BIN_PX pixels (``cell_bins``), coloured by the most
    severe level holding a tenth of their cells. From the run's in-memory arrays."""
    view = _service("risk.reports").cell_view(session, _assessment_id(params))
    idx = view.in_bbox(bbox)
    if len(idx) <= RAW_CELL_LIMIT:
        features = TextFeatures(view.features_text(idx, _digits(zoom)))
        return features, {"total": len(idx), "cells": True}
    size = risk_bin_size(zoom, view.cell_size_m, view.lat0)
    texts, cells = view.bins_text(bbox, size, _digits(zoom))
    return TextFeatures(texts), {"total": len(texts), "aggregated": "bins", "cells": False,
                                 "in_bins": cells, "bin_deg": round(size, 6)}


def _round_coords(coords, digits):
    """Nested coordinate lists rounded to ``digits`` decimals."""
    if coords and isinstance(coords[0], float | int):
        return [round(c, digits) for c in coords]
    return [_round_coords(c, digits) for c in coords]


def rounded(geometry, digits):
    """A GeoJSON geometry with its coordinates rounded; pure Python, ~10x faster than
    shapely.set_precision for the small polygons of a view."""
    return {"type": geometry["type"],
            "coordinates": _round_coords(list(geometry["coordinates"]), digits)}


@register("teams", "point")
def teams(session, user, bbox, zoom, params):
    """Rescue teams the user may see, as points (the page clusters them)."""
    registry = _service("registry.service")
    records, total = registry.list_teams(session, user, category=params.get("category"),
                                         bbox=bbox, limit=MAX_FEATURES)
    features = [_feature(r["id"], _point(*_lonlat(r["location"]), zoom), {
        "name": r["name"], "category": r["category"], "status": r["status"],
        "org_name": r["org_name"], "url": f"/registry/teams/{r['id']}"}) for r in records]
    return features, {"total": total}


@register("hazards", "point")
def hazards(session, user, bbox, zoom, params):
    """Open hazard reports the user may see, newest first."""
    service = _service("hazards.service")
    records, total = service.list_reports(session, user, bbox=bbox, limit=MAX_FEATURES)
    features = [_feature(r["id"], _point(*_lonlat(r["location"]), zoom), {
        "status": r["status"], "category": r.get("category_label") or r.get("category"),
        "severity": r.get("severity_label") or r.get("severity"),
        "overdue": bool(r.get("overdue")), "url": f"/hazards/{r['id']}"})
        for r in records if r["status"] in OPEN_HAZARD]
    return features, _filtered_meta(features, total)


@register("incidents", "point")
def incidents(session, user, bbox, zoom, params):
    """Incidents that are not closed or cancelled."""
    service = _service("incidents.service")
    records, total = service.list_incidents(session, user, bbox=bbox, limit=MAX_FEATURES)
    features = [_feature(r["id"], _point(*_lonlat(r["geometry"]), zoom), {
        "title": r["title"], "status": r["status"], "type": r["incident_type"],
        "level": r.get("response_level"), "url": f"/maps/incidents/{r['id']}"})
        for r in records if r["status"] not in ("closed", "cancelled")]
    return features, _filtered_meta(features, total)


def _filtered_meta(features, total):
    """Meta of a layer filtered in Python after a capped query: truncated only if capped."""
    capped = total > MAX_FEATURES
    return {"total": total if capped else len(features), "truncated": capped}


def _geometry(value):
    """A geometry mapping from GeoJSON text or a mapping."""
    if isinstance(value, str):
        import json

        return json.loads(value)
    return value


# ---------------------------------------------------------------- entry point


def layer_features(session, user, name, bbox, zoom, params=None):
    """A FeatureCollection of one layer for a bbox and zoom, with a ``meta`` block."""
    layer = LAYERS.get(name)
    if layer is None:
        from emergency.errors import NotFound

        raise NotFound(f"no map layer {name!r}")
    features, meta = layer.provider(session, user, bbox, zoom, params or {})
    meta.setdefault("truncated", bool(meta.get("total") and meta["total"] > len(features)
                                      and not meta.get("aggregated")))
    meta.update(layer=name, zoom=zoom, returned=len(features))
    return {"type": "FeatureCollection", "features": features, "meta": meta}


def dumps(body):
    """A layer body as compact JSON bytes; TextFeatures are joined as they are."""
    import json

    features = body["features"]
    if not isinstance(features, TextFeatures):
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                          default=str).encode()
    rest = {k: v for k, v in body.items() if k != "features"}
    head = json.dumps(rest, ensure_ascii=False, separators=(",", ":"), default=str)
    return (head[:-1] + ',"features":[' + ",".join(features) + "]}").encode()


@dataclass
class Encoded:
    """A serialised layer response: JSON bytes, their gzip (made when first asked) and a
    content-derived tag."""

    data: bytes
    etag: str
    _gzipped: bytes | None = None

    def gzipped(self):
        """The gzip of ``data`` (level 4: within ~5 % of level 9's size, 3x faster)."""
        if self._gzipped is None:
            import gzip

            self._gzipped = gzip.compress(self.data, 4)
        return self._gzipped

    def size(self):
        """Bytes held."""
        return len(self.data) + len(self._gzipped or b"")


# Encoded responses of immutable layers by (layer, data key, params, bbox, zoom), bounded in
# bytes. Only for data that never changes (a finished run), so there is nothing to invalidate.
RESPONSES = LRU(64 * 2**20, weigh=lambda encoded: encoded.size())


def layer_response(session, user, name, bbox, zoom, params=None, gzip=False):
    """One layer's response for a bbox and zoom, encoded: (Encoded, immutable). Responses of
    immutable layers come from RESPONSES when the same view was asked before."""
    import hashlib

    layer = LAYERS.get(name)
    params = params or {}
    key = None
    if layer is not None and layer.immutable and layer.cache_key is not None:
        data_key = layer.cache_key(session, params)
        if data_key is not None:
            key = (name, data_key, tuple(sorted(params.items())), tuple(bbox), zoom)
            found = RESPONSES.get(key)
            if found is not None:
                return found, True
    data = dumps(layer_features(session, user, name, bbox, zoom, params))
    encoded = Encoded(data, hashlib.blake2b(data, digest_size=16).hexdigest())
    if (gzip or key is not None) and len(data) > 200:
        encoded.gzipped()  # kept with the response, so made before it is cached
    if key is not None:
        RESPONSES.put(key, encoded)
    return encoded, layer.immutable


def catalogue():
    """Every layer's name, kind and extra parameters (for pages and the API)."""
    return [{"name": layer.name, "kind": layer.kind, "params": list(layer.params)}
            for layer in LAYERS.values()]
