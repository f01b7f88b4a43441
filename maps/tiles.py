"""Mapbox vector tiles encoded in Python: WGS-84 geometries projected to a web-mercator tile's
coordinates, cut to the tile (plus a buffer) and encoded by the mapbox-vector-tile package.
Pure: no Flask, no database.

PostGIS encodes its tiles itself (``ST_AsMVT``); this module encodes what SpatiaLite hands
over (``emergency.spatial.tiles.TileRows``) and the layers made in memory on both backends
(the risk run's bins), with the same extent and buffer as ``ST_AsMVTGeom``.
"""

import math

import mapbox_vector_tile
import numpy as np
import shapely

# As emergency.spatial.tiles: 4096 units a side, 64 units (4 screen pixels) of buffer.
EXTENT = 4096
BUFFER = 64
MAX_ZOOM = 22
_MAX_LAT = 85.0511287798066


def valid_tile(z, x, y):
    """True when z/x/y names a tile of the web-mercator pyramid (0 <= z <= MAX_ZOOM)."""
    return 0 <= z <= MAX_ZOOM and 0 <= x < 2 ** z and 0 <= y < 2 ** z


def to_tile(lon, lat, z, x, y, extent=EXTENT):
    """Tile coordinates (x right, y down, ``extent`` units a side) of WGS-84 points (arrays
    or numbers) in tile z/x/y."""
    n = 2 ** z * extent
    lat = np.clip(np.asarray(lat, dtype=np.float64), -_MAX_LAT, _MAX_LAT)
    px = (np.asarray(lon, dtype=np.float64) + 180) / 360 * n - x * extent
    py = (1 - np.arcsinh(np.tan(np.radians(lat))) / math.pi) / 2 * n - y * extent
    return px, py


def from_tile(px, py, z, x, y, extent=EXTENT):
    """WGS-84 (lon, lat) of tile coordinates: the inverse of ``to_tile``."""
    n = 2 ** z * extent
    lon = (np.asarray(px, dtype=np.float64) + x * extent) / n * 360 - 180
    merc = math.pi * (1 - 2 * (np.asarray(py, dtype=np.float64) + y * extent) / n)
    return lon, np.degrees(np.arctan(np.sinh(merc)))


def buffered_bounds(z, x, y):
    """WGS-84 (west, south, east, north) of tile z/x/y with its BUFFER."""
    west, south = from_tile(-BUFFER, EXTENT + BUFFER, z, x, y)
    east, north = from_tile(EXTENT + BUFFER, -BUFFER, z, x, y)
    return float(west), float(south), float(east), float(north)


def tile_geometries(geometries, z, x, y):
    """Shapely geometries (WGS-84) as tile coordinates rounded to whole units and cut to the
    tile plus BUFFER (an empty geometry for those outside)."""
    geometries = np.asarray(geometries, dtype=object)
    if not len(geometries):
        return geometries

    def project(coords):
        px, py = to_tile(coords[:, 0], coords[:, 1], z, x, y)
        return np.column_stack([np.round(px), np.round(py)])

    tiled = shapely.transform(geometries, project)
    points = shapely.get_type_id(tiled) == 0
    out = np.empty(len(tiled), dtype=object)
    if points.any():
        px, py = shapely.get_x(tiled[points]), shapely.get_y(tiled[points])
        inside = (px >= -BUFFER) & (px <= EXTENT + BUFFER) & (py >= -BUFFER) \
            & (py <= EXTENT + BUFFER)
        out[points] = np.where(inside, tiled[points], shapely.Point())
    if (~points).any():
        out[~points] = shapely.clip_by_rect(tiled[~points], -BUFFER, -BUFFER,
                                            EXTENT + BUFFER, EXTENT + BUFFER)
    return out


def _value(value):
    """An attribute value MVT can hold (None is left out by the caller)."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    return float(value) if hasattr(value, "__float__") else str(value)


def encode(layer, geometries, properties, z, x, y, booleans=()):
    """One layer as MVT bytes (b"" when no feature meets the tile): ``geometries`` are
    shapely geometries or WKB in WGS-84, ``properties`` a dict per feature (None values left
    out, ``booleans`` keys written as booleans, as PostGIS writes its boolean columns)."""
    geometries = [shapely.from_wkb(g) if isinstance(g, (bytes, bytearray, memoryview))
                  else g for g in geometries]
    tiled = tile_geometries(geometries, z, x, y)
    if len(tiled):
        # Rounding to whole units can fold a ring: such polygons are repaired (buffer(0)
        # keeps them polygonal). Then every ring is oriented at once (exterior rings
        # counter-clockwise in x-right/y-down tile units, i.e. clockwise on screen, as MVT 2
        # wants), which spares the encoder its per-polygon check (2.5x faster measured).
        bad = ~shapely.is_valid(tiled)
        if bad.any():
            tiled[bad] = shapely.buffer(tiled[bad], 0)
        tiled = shapely.orient_polygons(tiled, exterior_cw=False)
    properties = [{k: bool(v) if k in booleans else _value(v) for k, v in props.items()
                   if v is not None} for props in properties]
    features = [{"geometry": geom, "properties": props}
                for geom, props in zip(tiled, properties, strict=True)
                if geom is not None and not geom.is_empty]
    if not features:
        return b""
    return mapbox_vector_tile.encode(
        [{"name": layer, "features": features}],
        default_options={"y_coord_down": True, "extents": EXTENT,
                         "check_winding_order": False})


def encode_rows(layer, rows, z, x, y, booleans=()):
    """``encode`` of (WKB, properties) rows (``emergency.spatial.tiles.TileRows``)."""
    return encode(layer, [r[0] for r in rows], [r[1] for r in rows], z, x, y, booleans)
