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
HOTSPOT_LIMIT = 4_000
# Raw risk cells are sent when a view holds at most this many: measured on SpatiaLite, the
# cells service costs ~0.15-0.3 ms per cell, so 2,500 keeps a view under ~500 ms.
RAW_CELL_LIMIT = 2_500
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


LAYERS: dict[str, Layer] = {}


def register(name, kind, immutable=False, params=()):
    """Decorator adding a provider function to the registry."""
    def wrap(provider):
        LAYERS[name] = Layer(name, provider, kind, immutable, tuple(params))
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


def simplified(geometry, zoom):
    """A GeoJSON geometry simplified and rounded for drawing at ``zoom``."""
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


def _bbox_area_m2(bbox):
    """Approximate area of a WGS-84 bbox in square metres."""
    minx, miny, maxx, maxy = bbox
    mid = math.radians((miny + maxy) / 2)
    return (maxx - minx) * 111_320 * math.cos(mid) * (maxy - miny) * 110_574


# ---------------------------------------------------------------- providers


@register("areas", "polygon")
def areas(session, user, bbox, zoom, params):
    """Districts, streets or communities (by zoom) meeting the bbox, simplified."""
    level = next(name for z, name in AREA_LEVEL_ZOOM if zoom >= z)
    geo = _service("emergency.geo.service")
    records, total = geo.list_areas(session, level=level, bbox=bbox, limit=MAX_FEATURES)
    features = [_feature(r["code"], simplified(_geometry(r["geometry"]), zoom),
                         {"code": r["code"], "name": r["name"], "level": r["level"]})
                for r in records]
    return features, {"total": total, "level": level}


@register("grids", "polygon")
def grids(session, user, bbox, zoom, params):
    """Management grids, from GRID_MIN_ZOOM on (below it the page says to zoom in)."""
    if zoom < GRID_MIN_ZOOM:
        return [], {"total": None, "zoom_in": GRID_MIN_ZOOM}
    geo = _service("emergency.geo.service")
    records, total = geo.list_grids(session, bbox=bbox, limit=MAX_FEATURES)
    features = [_feature(r["code"], simplified(_geometry(r["geometry"]), zoom),
                         {"code": r["code"], "name": r["name"], "area_code": r["area_code"]})
                for r in records]
    return features, {"total": total}


# A finished run never changes, so what is read of it for low zooms is kept per process
# (no invalidation needed; a new run has a new id). Small: a few runs are looked at.
_SUMMARIES: dict[int, dict] = {}
_HOTSPOTS: dict[int, list] = {}
_MEMO_LOCK = threading.Lock()


def _memo(store, key, compute):
    """store[key], computed once per process (bounded to 16 keys)."""
    with _MEMO_LOCK:
        found = store.get(key)
    if found is None:
        found = compute()
        with _MEMO_LOCK:
            if len(store) >= 16:
                store.clear()
            store[key] = found
    return found


def _run_key(run):
    """A memo key that no other run can share, even where ids are reused (SQLite rowids
    after a rollback, another database in the same process)."""
    return (run.id, str(run.created_at), run.cell_size_m, run.area_code)


def area_risk_level(counts, share=0.1):
    """The most severe level (1 = major) holding at least ``share`` of an area's cells."""
    total = sum(counts.values()) or 1
    running = 0
    for level in ("1", "2", "3", "4"):
        running += counts.get(level, 0)
        if running / total >= share:
            return int(level)
    return 4


def _assessment_id(params):
    """The assessment_id parameter as an int (422 when missing or bad)."""
    try:
        return int(params.get("assessment_id"))
    except (TypeError, ValueError):
        raise Invalid("assessment_id is required", {"assessment_id": ["an integer id"]}) \
            from None


@register("risk", "polygon", immutable=True, params=("assessment_id",))
def risk(session, user, bbox, zoom, params):
    """Risk cells of a run; areas coloured by their cells when the view holds too many."""
    assessment_id = _assessment_id(params)
    service = _service("emergency.risk.service")
    run = service.get_assessment(session, assessment_id)
    expected = _bbox_area_m2(bbox) / float(run.cell_size_m) ** 2
    reports = _service("emergency.risk.reports")
    if expected <= RAW_CELL_LIMIT:
        records, total = reports.cells(session, assessment_id, bbox=bbox, limit=RAW_CELL_LIMIT)
        if total <= RAW_CELL_LIMIT:
            return _cell_features(records, zoom), {"total": total, "cells": True}
    level = "district" if zoom < 10 else "street"
    features = _area_aggregates(session, run, bbox, zoom, level)
    if features:
        return features, {"total": len(features), "aggregated": level}
    # No per-area counts at this level (the run's cells carry no such area codes): show the
    # hotspots instead, the major and high risk cells, highest risk first, capped.
    hot = _memo(_HOTSPOTS, _run_key(run), lambda: [
        (r, _bounds(r["geometry"])) for r in reports.cells(
            session, assessment_id, max_level=2, limit=HOTSPOT_LIMIT)[0]])
    minx, miny, maxx, maxy = bbox
    records = [r for r, b in hot if b[0] <= maxx and b[2] >= minx and b[1] <= maxy
               and b[3] >= miny]
    return _cell_features(records, zoom), {"total": len(records), "aggregated": "hotspots"}


def _bounds(geometry):
    """(minx, miny, maxx, maxy) of a GeoJSON polygon or multipolygon."""
    points = []

    def walk(coords):
        if coords and isinstance(coords[0], float | int):
            points.append(coords)
        else:
            for c in coords:
                walk(c)

    walk(geometry["coordinates"])
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _cell_features(records, zoom):
    """Risk cell features with the properties a map needs, coordinates rounded by zoom."""
    digits = _digits(zoom)
    return [_feature(r["id"], rounded(r["geometry"], digits), {
        "level": r["properties"]["level"],
        "colour": RISK_COLOURS.get(r["properties"]["level"], "#999999"),
        "risk": round(r["properties"]["risk"], 3), "teams": r["properties"]["teams"],
        "gap": r["properties"]["gap"], "area_code": r["properties"]["area_code"],
        "grid_code": r["properties"]["grid_code"]}) for r in records]


def _area_aggregates(session, run, bbox, zoom, level):
    """Areas of ``level`` in the bbox coloured by their cells' levels (from the summary)."""
    summary = _memo(_SUMMARIES, _run_key(run), lambda: _service(
        "emergency.risk.reports").summary(session, run.id, gap_limit=1))
    counts = {a["code"]: a for a in summary["areas"] if a["level"] == level}
    if not counts:
        return []
    geo = _service("emergency.geo.service")
    records, _total = geo.list_areas(session, level=level, bbox=bbox, limit=MAX_FEATURES)
    features = []
    for r in records:
        found = counts.get(r["code"])
        if not found:
            continue
        worst = area_risk_level(found["counts"])
        features.append(_feature(r["code"], simplified(_geometry(r["geometry"]), zoom), {
            "name": r["name"], "code": r["code"], "level": worst,
            "colour": RISK_COLOURS[worst], "cells": found["cells"], "counts": found["counts"]}))
    return features


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
    service = _service("emergency.hazards.service")
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
    service = _service("emergency.incidents.service")
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


def catalogue():
    """Every layer's name, kind and extra parameters (for pages and the API)."""
    return [{"name": layer.name, "kind": layer.kind, "params": list(layer.params)}
            for layer in LAYERS.values()]
