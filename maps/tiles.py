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
from mapbox_vector_tile.Mapbox import vector_tile_pb2  # the MVT 2.1 protobuf schema

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
    fast = _encode_fast(layer, tiled, properties)
    if fast is not None:
        return fast
    features = [{"geometry": geom, "properties": props}
                for geom, props in zip(tiled, properties, strict=True)
                if geom is not None and not geom.is_empty]
    if not features:
        return b""
    return mapbox_vector_tile.encode(
        [{"name": layer, "features": features}],
        default_options={"y_coord_down": True, "extents": EXTENT,
                         "check_winding_order": False})


# MVT geometry commands (the command id in the low 3 bits, the count above them).
_MOVE_TO_1 = 1 | (1 << 3)
_CLOSE_PATH = 7 | (1 << 3)
_POINT, _POLYGON = 1, 3


def _zigzag(values):
    """Protobuf's zigzag encoding of signed integers (int64 arrays)."""
    return (values << 1) ^ (values >> 63)


def _ring_commands(coords, ring_offsets, feature_rings):
    """The geometry commands of polygon features: ``coords`` the rings' points in tile units
    (closed rings, as shapely gives them), ``ring_offsets`` where each ring starts in them,
    ``feature_rings`` where each feature's rings start. Returns (commands, per-feature
    start offsets into them), features whose rings all vanished having none."""
    coords = np.rint(coords).astype(np.int64)
    ring_of = np.repeat(np.arange(len(ring_offsets) - 1), np.diff(ring_offsets))
    keep = np.ones(len(coords), dtype=bool)
    keep[ring_offsets[1:] - 1] = False  # the closing point: ClosePath draws it
    same = np.zeros(len(coords), dtype=bool)
    same[1:] = (coords[1:] == coords[:-1]).all(axis=1) & (ring_of[1:] == ring_of[:-1])
    keep &= ~same  # a repeated point (rounding to whole units makes some)
    coords, ring_of = coords[keep], ring_of[keep]
    # A ring's last point repeating its first is a closing point too.
    first = np.r_[True, ring_of[1:] != ring_of[:-1]]
    last = np.r_[ring_of[1:] != ring_of[:-1], True]
    start_of = np.flatnonzero(first)
    firsts = np.repeat(coords[first], np.diff(np.r_[start_of, len(coords)]), axis=0)
    keep = ~(last & ~first & (coords == firsts).all(axis=1))
    coords, ring_of = coords[keep], ring_of[keep]
    # Rings of fewer than three points enclose nothing: dropped.
    counts = np.bincount(ring_of, minlength=len(ring_offsets) - 1)
    keep = counts[ring_of] >= 3
    coords, ring_of = coords[keep], ring_of[keep]
    counts = np.where(counts >= 3, counts, 0)
    kept_rings = np.flatnonzero(counts)
    n_rings = len(kept_rings)
    m = counts[kept_rings]
    feature_of_ring = np.searchsorted(feature_rings, kept_rings, side="right") - 1
    # Deltas from the cursor: the previous point, which a feature's first point takes from
    # the origin (each feature starts at 0, 0).
    deltas = np.diff(coords, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    point_start = np.r_[0, np.cumsum(m)[:-1]]
    feature_first = np.r_[True, feature_of_ring[1:] != feature_of_ring[:-1]]
    firsts = point_start[feature_first]
    deltas[firsts] = coords[firsts]
    zz = _zigzag(deltas)
    # Each ring: MoveTo(1) x y, LineTo(m-1) x y ..., ClosePath: 2m + 3 integers.
    begin = 2 * point_start + 3 * np.arange(n_rings)
    out = np.empty(2 * len(coords) + 3 * n_rings, dtype=np.int64)
    out[begin] = _MOVE_TO_1
    out[begin + 3] = 2 | ((m - 1) << 3)
    out[begin + 2 * m + 2] = _CLOSE_PATH
    j = np.arange(len(coords)) - np.repeat(point_start, m)
    at = np.repeat(begin, m) + np.where(j == 0, 1, 2 + 2 * j)
    out[at], out[at + 1] = zz[:, 0], zz[:, 1]
    starts = np.full(len(feature_rings), -1, dtype=np.int64)
    starts[feature_of_ring[feature_first]] = begin[feature_first]
    return out, starts


def _encode_fast(layer, tiled, properties):
    """MVT bytes of point or polygon features (tile units, cut and oriented) written with
    the tile's protobuf schema directly, the geometry commands made for all features at once
    with numpy (``mapbox_vector_tile`` builds them point by point in Python, ~20x slower);
    None for other geometry types, which that package encodes."""
    present = np.array([g is not None and not g.is_empty for g in tiled], dtype=bool)
    if not present.any():
        return b""
    geoms = np.asarray(tiled, dtype=object)[present]
    props = [p for p, keep in zip(properties, present, strict=True) if keep]
    types = set(shapely.get_type_id(geoms).tolist())
    if types <= {0}:  # points: MoveTo(1) x y
        xy = np.rint(shapely.get_coordinates(geoms)).astype(np.int64)
        zz = _zigzag(xy)
        out = np.column_stack([np.full(len(xy), _MOVE_TO_1), zz]).ravel()
        starts, kind = np.arange(len(xy)) * 3, _POINT
    elif types <= {3, 6}:  # polygons and multipolygons
        kind_of, coords, offsets = shapely.to_ragged_array(geoms)
        if kind_of == shapely.GeometryType.POLYGON:
            rings, feature_rings = offsets[0], offsets[1]
        else:
            rings, parts, features = offsets
            feature_rings = parts[features]
        out, starts = _ring_commands(coords, rings, feature_rings[:-1])
        kind = _POLYGON
    else:
        return None
    ends = np.empty_like(starts)
    order = np.flatnonzero(starts >= 0)
    ends[order] = np.r_[starts[order][1:], len(out)]
    commands = out.tolist()
    tile = vector_tile_pb2.tile()
    pb = tile.layers.add()
    pb.name, pb.version, pb.extent = layer, 2, EXTENT
    keys, values = {}, {}
    for start, end, feature_props in zip(starts.tolist(), ends.tolist(), props, strict=True):
        if start < 0:
            continue
        feature = pb.features.add()
        feature.type = kind
        feature.geometry.extend(commands[start:end])
        tags = []
        for key, value in feature_props.items():
            k = keys.get(key)
            if k is None:
                k = keys[key] = len(keys)
                pb.keys.append(key)
            typed = (type(value), value)  # True and 1 are different values
            v = values.get(typed)
            if v is None:
                v = values[typed] = len(values)
                slot = pb.values.add()
                if isinstance(value, bool):
                    slot.bool_value = value
                elif isinstance(value, int):
                    if value < 0:
                        slot.sint_value = value
                    else:
                        slot.uint_value = value
                elif isinstance(value, float):
                    slot.double_value = value
                else:
                    slot.string_value = str(value)
            tags += (k, v)
        feature.tags.extend(tags)
    return tile.SerializeToString() if len(pb.features) else b""


def encode_rows(layer, rows, z, x, y, booleans=()):
    """``encode`` of (WKB, properties) rows (``emergency.spatial.tiles.TileRows``)."""
    return encode(layer, [r[0] for r in rows], [r[1] for r in rows], z, x, y, booleans)
