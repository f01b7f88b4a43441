"""The registry of map layers: name -> a provider that returns features for a bbox and zoom.

Providers get their data from each domain's service functions (maps is the top domain layer:
it may import every service). A provider never returns more than MAX_FEATURES raw features:
at low zoom it aggregates (risk cells into bins) or asks the user to zoom in (grids), and the
page clusters points. No Flask and no database code here: the caller passes the session and
the signed-in user.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from emergency.errors import Invalid, NotFound
from emergency.geo import service as geo_service
from hazards import service as hazard_service
from hazards.disasters import service as disaster_service
from incidents import service as incident_service
from incidents.measures import service as measure_service
from maps.geojson_text import (
    TextFeatures,
    feature,
    feature_text,
    geometry_mapping,
    geometry_text,
    lonlat,
    point,
)
from maps.tilemath import digits, pixel_degrees
from registry import teams as registry_teams
from risk import cellstore, reports
from risk import service as risk_service

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
# The operations map shows the direct disaster reports of the last days, not of all time.
DISASTER_DAYS = 30


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


@register("areas", "polygon")
def areas(session, user, bbox, zoom, params):
    """Districts, streets or communities (by zoom) meeting the bbox, simplified."""
    level = next(name for z, name in AREA_LEVEL_ZOOM if zoom >= z)
    records, total = geo_service.list_areas(session, level=level, bbox=bbox, limit=MAX_FEATURES)
    features = TextFeatures(
        feature_text(r["code"], geometry_text(r["geometry"], zoom),
                     {"code": r["code"], "name": r["name"], "level": r["level"]})
        for r in records)
    return features, {"total": total, "level": level}


@register("grids", "polygon")
def grids(session, user, bbox, zoom, params):
    """Management grids, from GRID_MIN_ZOOM on (below it the page says to zoom in)."""
    if zoom < GRID_MIN_ZOOM:
        return [], {"total": None, "zoom_in": GRID_MIN_ZOOM}
    records, total = geo_service.list_grids(session, bbox=bbox, limit=MAX_FEATURES)
    features = TextFeatures(
        feature_text(r["code"], geometry_text(r["geometry"], zoom),
                     {"code": r["code"], "name": r["name"], "area_code": r["area_code"]})
        for r in records)
    return features, {"total": total}


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
    cell = 2 * float(cell_size_m) / (111_320 * max(math.cos(math.radians(lat)), 0.1))
    return max(BIN_PX * pixel_degrees(zoom), cell)


def _risk_key(session, params):
    """The response-cache key of a risk view: the run (a done run never changes)."""
    run = risk_service.get_assessment(session, _assessment_id(params))
    return cellstore.run_key(session, run) if run.status == "done" else None


@register("risk", "polygon", immutable=True, params=("assessment_id",), cache_key=_risk_key)
def risk(session, user, bbox, zoom, params):
    """Risk cells of a run when the view holds at most RAW_CELL_LIMIT; else the cells
    counted per level in squares of BIN_PX pixels (``cell_bins``), coloured by the most
    severe level holding a tenth of their cells. From the run's in-memory arrays."""
    view = reports.cell_view(session, _assessment_id(params))
    idx = view.in_bbox(bbox)
    if len(idx) <= RAW_CELL_LIMIT:
        features = TextFeatures(view.features_text(idx, digits(zoom)))
        return features, {"total": len(idx), "cells": True}
    size = risk_bin_size(zoom, view.cell_size_m, view.lat0)
    texts, cells = view.bins_text(bbox, size, digits(zoom))
    return TextFeatures(texts), {"total": len(texts), "aggregated": "bins", "cells": False,
                                 "in_bins": cells, "bin_deg": round(size, 6)}


@register("teams", "point")
def teams(session, user, bbox, zoom, params):
    """Rescue teams the user may see, as points (the page clusters them)."""
    records, total = registry_teams.list_teams(
        session, user, category=params.get("category"), bbox=bbox, limit=MAX_FEATURES)
    features = [feature(r["id"], point(*lonlat(r["location"]), zoom), {
        "name": r["name"], "category": r["category"], "status": r["status"],
        "org_name": r["org_name"], "url": f"/registry/teams/{r['id']}"}) for r in records]
    return features, {"total": total}


# The forces map (/maps/forces, one layer per category): a view holding at most
# RAW_TEAM_LIMIT teams of the category gets them as points with what their popups show; a
# fuller one gets them counted in squares of TEAM_BIN_PX screen pixels (a little under the
# page's cluster radius, so neighbouring squares still merge into one cluster icon).
RAW_TEAM_LIMIT = 1_500
TEAM_BIN_PX = 40
# Below this zoom a view holds most of a city's teams: they are counted by a scan of the
# category's rows (cheaper than the spatial index handing over nearly every row).
TEAM_SCAN_ZOOM = 10


@register("forces", "point", params=("category",))
def forces(session, user, bbox, zoom, params):
    """Teams the user may see in the view, as points or counted in squares (``bins``)."""
    category = params.get("category")
    size = TEAM_BIN_PX * pixel_degrees(zoom)
    bins = registry_teams.map_bins(session, user, size, category=category, bbox=bbox,
                                   scan=zoom < TEAM_SCAN_ZOOM)
    total = sum(b["count"] for b in bins)
    if total <= RAW_TEAM_LIMIT:
        records = registry_teams.map_teams_in(session, user, bbox, category=category,
                                              limit=RAW_TEAM_LIMIT)
        features = [feature(r["id"], point(r["lon"], r["lat"], zoom), {
            "name": r["name"], "category": r["category"], "status": r["status"],
            "grade": r["grade"], "radius_km": r["service_radius_km"],
            "org_name": r["org_name"], "members": r["members"],
            "insured": r["insured_members"], "url": f"/registry/teams/{r['id']}"})
            for r in records]
        return features, {"total": total}
    features = [feature(f"bin:{b['x']}:{b['y']}", point(b["lon"], b["lat"], zoom), {
        "count": b["count"], "available": b["available"],
        "bbox": [round(v, 6) for v in (b["x"] * size, b["y"] * size, (b["x"] + 1) * size,
                                       (b["y"] + 1) * size)]}) for b in bins]
    return features, {"total": len(features), "aggregated": "bins", "in_bins": total,
                      "bin_deg": round(size, 6)}


@register("hazards", "point")
def hazards(session, user, bbox, zoom, params):
    """Open hazard reports the user may see, newest first."""
    records, total = hazard_service.list_reports(session, user, bbox=bbox, limit=MAX_FEATURES)
    features = [feature(r["id"], point(*lonlat(r["location"]), zoom), {
        "status": r["status"], "category": r.get("category_label") or r.get("category"),
        "severity": r.get("severity_label") or r.get("severity"),
        "overdue": bool(r.get("overdue")), "url": f"/hazards/{r['id']}"})
        for r in records if r["status"] in OPEN_HAZARD]
    return features, _filtered_meta(features, total)


@register("disasters", "point")
def disasters(session, user, bbox, zoom, params):
    """Direct disaster reports (灾情直报) of the last DISASTER_DAYS days the user may see."""
    since = datetime.now(UTC) - timedelta(days=DISASTER_DAYS)
    records, total = disaster_service.list_reports(session, user, bbox=bbox, since=since,
                                                   limit=MAX_FEATURES)
    features = [feature(r["id"], point(*lonlat(r["location"]), zoom), {
        "kind": r["kind_label"], "dead": r["dead"], "missing": r["missing"],
        "injured": r["injured"], "affected": r["affected"],
        "houses_collapsed": r["houses_collapsed"], "losses_yuan": r["losses_yuan"],
        "casualties": bool(r["dead"] or r["missing"]),
        "url": f"/disasters#disaster-{r['id']}"}) for r in records]
    return features, {"total": total}


@register("incidents", "point")
def incidents(session, user, bbox, zoom, params):
    """Incidents that are not closed or cancelled."""
    records, total = incident_service.list_incidents(session, user, bbox=bbox,
                                                     limit=MAX_FEATURES)
    features = [feature(r["id"], point(*lonlat(r["geometry"]), zoom), {
        "title": r["title"], "status": r["status"], "type": r["incident_type"],
        "level": r.get("response_level"), "url": f"/maps/incidents/{r['id']}"})
        for r in records if r["status"] not in ("closed", "cancelled")]
    return features, _filtered_meta(features, total)


@register("measures", "polygon")
def measures(session, user, bbox, zoom, params):
    """Emergency measures not lifted (in force, or expired and still to lift), by scope."""
    records, total = measure_service.list_measures(session, user, bbox=bbox,
                                                   limit=MAX_FEATURES)
    features = [feature(r["id"], geometry_mapping(geometry_text(r["scope"], zoom)), {
        "number": r["order_number"], "kind": r["kind"], "status": r["status"],
        "authority": r["authority"], "url": f"/measures/{r['id']}"})
        for r in records if r["source"] == "measure" and r["status"] != "lifted"]
    return features, _filtered_meta(features, total)


def _filtered_meta(features, total):
    """Meta of a layer filtered in Python after a capped query: truncated only if capped."""
    capped = total > MAX_FEATURES
    return {"total": total if capped else len(features), "truncated": capped}


def layer_features(session, user, name, bbox, zoom, params=None):
    """A FeatureCollection of one layer for a bbox and zoom, with a ``meta`` block."""
    layer = LAYERS.get(name)
    if layer is None:
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
