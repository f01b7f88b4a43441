"""Vector tile layers (``GET /api/v1/maps/tiles/{layer}/{z}/{x}/{y}.mvt``): name -> a function
making one tile's MVT bytes from the domain services, with the user's scope. No Flask.

The other layers' services return their rows through ``emergency.spatial.tiles.tile_layer``:
MVT bytes from PostGIS (``ST_AsMVT``) or the rows meeting the tile from SpatiaLite (its
spatial index), which ``maps.tiles`` encodes. Layers thin out at low zoom so a tile stays
small (docs/maps.md):

* ``risk`` — a finished run's cells while a cell is at least RISK_RAW_CELL_PX pixels wide;
  below that the cells counted per level in the viewport layer's squares (16 pixels and at
  least two cells); cells and squares both from the run's cells in memory (``risk.cellstore``,
  no query). A finished run never changes: its tiles are kept in ``maps.responses.RESPONSES``.
* ``teams`` — points while the tile holds at most RAW_TILE_POINTS teams (always from
  TEAM_RAW_ZOOM); else counted in squares of TEAM_BIN_PX pixels, one point per square at its
  teams' mean position with ``count`` (``registry.teams.map_bins``).
* ``hazards`` — open reports, the newest RAW_TILE_POINTS of a tile.
* ``areas`` — districts, streets or communities by zoom (as the GeoJSON layer), simplified
  to a third of a pixel.
"""

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import shapely

from emergency.errors import Conflict, Invalid, NotFound
from emergency.geo import service as geo_service
from emergency.spatial.tiles import mvt_supported
from hazards import service as hazard_service
from maps import tiles
from maps.providers import AREA_LEVEL_ZOOM, TEAM_SCAN_ZOOM, risk_bin_size
from maps.responses import RESPONSES, Encoded
from maps.tilemath import pixel_degrees, tile_bounds, tolerance
from registry import teams as registry_teams
from risk import cellstore, reports
from risk import service as risk_service

MIME = "application/vnd.mapbox-vector-tile"
RISK_RAW_CELL_PX = 16
RAW_TILE_POINTS = 2_000
TEAM_BIN_PX = 8
TEAM_RAW_ZOOM = 14
_EARTH_M = 40_075_016.686  # the equator's length: metres per pixel = _EARTH_M cos(lat) / 256 / 2^z
TILE_LAYERS = ("risk", "hazards", "teams", "areas")


@dataclass(frozen=True)
class Tile:
    """A tile's encoded response and whether it never changes (a finished run's)."""

    encoded: Encoded
    immutable: bool


def _encoded(data):
    return Encoded(data, hashlib.blake2b(data, digest_size=16).hexdigest())


def _layer_bytes(layer, result, z, x, y, booleans=()):
    """MVT bytes from a service's ``tile_layer`` result: PostGIS's bytes as they are, or the
    SpatiaLite rows encoded here."""
    if isinstance(result, bytes):
        return result
    return tiles.encode_rows(layer, result, z, x, y, booleans)


def _assessment(params):
    value = params.get("assessment")
    if value is None:
        raise Invalid("assessment is required for the risk layer",
                      {"assessment": ["the id of a finished assessment run"]})
    return int(value)


def metres_per_pixel(z, lat):
    """Ground metres of one screen pixel at zoom ``z`` and latitude ``lat``."""
    return _EARTH_M * math.cos(math.radians(lat)) / (256 * 2 ** z)


def _risk(session, user, z, x, y, params):
    run = risk_service.get_assessment(session, _assessment(params))
    if run.status != "done":
        raise Conflict(f"assessment {run.id} is {run.status}, not done",
                       {"status": [run.status]})
    west, south, east, north = tile_bounds(z, x, y)
    if float(run.cell_size_m) / metres_per_pixel(z, (south + north) / 2) >= RISK_RAW_CELL_PX:
        # Only what drawing needs (id, level, gap); a click fetches the rest (reports.cell).
        # PostGIS encodes the tile itself (ST_AsMVT); on SpatiaLite the run's cells in memory
        # pick the tile's cells (no query) and the mapbox-vector-tile package encodes them.
        if mvt_supported(session):
            return reports.cell_tile(session, run.id, z, x, y)
        view = reports.cell_view(session, run.id)
        idx = view.in_bbox(tiles.buffered_bounds(z, x, y))
        props = [{"id": i, "level": lv, "gap": g} for i, lv, g in zip(
            view.ids[idx].tolist(), view.level[idx].tolist(), view.gap[idx].tolist(),
            strict=True)]
        return tiles.encode("risk", view.geometries(idx), props, z, x, y, booleans=("gap",))
    # The viewport layer's squares (BIN_PX pixels, at least two cells, sized at the run's
    # median latitude): counted once per zoom for the run, not once per tile.
    size = risk_bin_size(z, run.cell_size_m, reports.cell_view(session, run.id).lat0)
    bins = reports.cell_bins(session, run.id, (west, south, east, north), size)
    geoms = shapely.box(*np.array([b["bounds"] for b in bins]).reshape(-1, 4).T)
    props = [{"bin": True, "level": b["level"], "worst": b["worst"], "cells": b["cells"],
              **{f"count_{k}": v for k, v in b["counts"].items()}, "risk": b["risk"]}
             for b in bins]
    return tiles.encode("risk", geoms, props, z, x, y, booleans=("bin",))


def _risk_key(session, params):
    run = risk_service.get_assessment(session, _assessment(params))
    return cellstore.run_key(session, run) if run.status == "done" else None


def _teams(session, user, z, x, y, params):
    category = params.get("category")
    if z < TEAM_RAW_ZOOM:
        size = TEAM_BIN_PX * pixel_degrees(z)
        bins = registry_teams.map_bins(session, user, size, category=category,
                                       bbox=tile_bounds(z, x, y), scan=z < TEAM_SCAN_ZOOM)
        if sum(b["count"] for b in bins) > RAW_TILE_POINTS:
            geoms = [shapely.Point(b["lon"], b["lat"]) for b in bins]
            props = [{"bin": True, "count": b["count"], "available": b["available"]}
                     for b in bins]
            return tiles.encode("teams", geoms, props, z, x, y, booleans=("bin",))
    return _layer_bytes("teams", registry_teams.team_tile(
        session, user, z, x, y, category=category, limit=RAW_TILE_POINTS), z, x, y)


def _hazards(session, user, z, x, y, params):
    return _layer_bytes("hazards", hazard_service.report_tile(
        session, user, z, x, y, limit=RAW_TILE_POINTS), z, x, y)


def _areas(session, user, z, x, y, params):
    level = next(name for zoom, name in AREA_LEVEL_ZOOM if z >= zoom)
    return _layer_bytes("areas", geo_service.area_tile(session, level, z, x, y,
                                                       simplify=tolerance(z)), z, x, y)


_MAKERS = {"risk": _risk, "hazards": _hazards, "teams": _teams, "areas": _areas}


def tile(session, user, layer, z, x, y, params=None):
    """The ``Tile`` of a layer at z/x/y for the user (404 unknown layer, 422 bad tile)."""
    maker = _MAKERS.get(layer)
    if maker is None:
        raise NotFound(f"no tile layer {layer!r}", {"layer": list(TILE_LAYERS)})
    if not tiles.valid_tile(z, x, y):
        raise Invalid(f"no tile {z}/{x}/{y}",
                      {"z": [f"0..{tiles.MAX_ZOOM}"], "x": ["0..2^z-1"], "y": ["0..2^z-1"]})
    params = params or {}
    if layer == "risk":
        key = _risk_key(session, params)
        if key is not None:
            key = ("tile", key, z, x, y)
            found = RESPONSES.get(key)
            if found is None:
                found = _encoded(maker(session, user, z, x, y, params))
                RESPONSES.put(key, found)
            return Tile(found, True)
    return Tile(_encoded(maker(session, user, z, x, y, params)), False)

