"""Backend-specific SQL for map layers: geometry simplified by zoom, bins for aggregation at
low zoom, and Mapbox vector tiles.

Services that feed a map layer compose these expressions into their own queries. Vector tiles
(``tile_layer``): PostGIS encodes them itself (``ST_AsMVT``); SpatiaLite hands the rows
meeting the tile (through its SpatialIndex) to the caller, which encodes them in Python
(``maps.tiles``).
"""

import math
import re

from sqlalchemy import func, literal_column, select, text

from emergency.spatial import _index_rowids, _is_spatialite, bbox_filter, make_envelope


def simplified_geojson(bind, column, tolerance, digits=6):
    """GeoJSON text of the geometry simplified (topology kept) by ``tolerance`` degrees."""
    if _is_spatialite(bind):
        return func.AsGeoJSON(func.SimplifyPreserveTopology(column, float(tolerance)),
                              int(digits))
    return func.ST_AsGeoJSON(func.ST_SimplifyPreserveTopology(column, float(tolerance)),
                             int(digits))


def bin_keys(bind, column, size_deg):
    """Two integer expressions naming the ``size_deg`` square bin of each geometry's MBR
    corner (group by them to aggregate features at low zoom)."""
    size = float(size_deg)
    if _is_spatialite(bind):
        # SpatiaLite reads the MBR from the blob header without parsing the geometry.
        x, y = func.MbrMinX(column), func.MbrMinY(column)
    else:
        x, y = func.ST_XMin(func.Box2D(column)), func.ST_YMin(func.Box2D(column))
    return func.floor(x / size).label("bin_x"), func.floor(y / size).label("bin_y")


def point_xy(bind, column):
    """Longitude and latitude expressions of a point column, the cheapest each backend has
    (SpatiaLite reads them from the blob's MBR header without parsing the geometry)."""
    if _is_spatialite(bind):
        return func.MbrMinX(column), func.MbrMinY(column)
    return func.ST_X(column), func.ST_Y(column)


def points_in_bbox(bind, table, bbox, column="geom", scan=False):
    """Rows of ``table`` whose point lies in ``bbox`` (edges included).

    ``scan`` compares coordinates row by row without the spatial index: cheaper when the bbox
    holds most of the rows anyway (a map at low zoom), as another condition (a category's
    index) then picks the rows. Otherwise the spatial index: SpatiaLite's R*Tree (whose
    float32 boxes are exact enough for drawing points), PostGIS's ``&&`` (a point's box is
    the point).
    """
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    col = table.c[column]
    if scan:
        x, y = point_xy(bind, col)
        return x.between(minx, maxx) & y.between(miny, maxy)
    if _is_spatialite(bind):
        return table.c.id.in_(_index_rowids(table, col, make_envelope(bind, minx, miny, maxx,
                                                                     maxy)))
    return col.op("&&")(make_envelope(bind, minx, miny, maxx, maxy))


def mvt_supported(bind):
    """True when the database encodes vector tiles itself (PostGIS ST_AsMVT)."""
    return not _is_spatialite(bind)


def mvt_tile(session, table, z, x, y, properties=(), where=(), column="geom", layer="layer"):
    """One Mapbox vector tile (bytes) of ``table`` rows meeting tile z/x/y (PostGIS only;
    ``tile_layer`` serves both backends)."""
    if _is_spatialite(session):
        raise NotImplementedError("ST_AsMVT needs PostGIS; SpatiaLite serves GeoJSON layers")
    envelope = func.ST_TileEnvelope(int(z), int(x), int(y))
    geom = func.ST_AsMVTGeom(func.ST_Transform(table.c[column], 3857), envelope).label("geom")
    west, south, east, north = _tile_lonlat(int(z), int(x), int(y))
    rows = (select(geom, *(table.c[p] for p in properties))
            .where(bbox_filter(session, table, (west, south, east, north), column), *where)
            .subquery("t"))
    query = select(func.ST_AsMVT(literal_column("t"), text(repr(str(layer))),
                                 4096, text("'geom'"))).select_from(rows)
    return bytes(session.scalar(query) or b"")


def _tile_lonlat(z, x, y):
    """WGS-84 bounds of a web-mercator tile."""
    n = 2 ** z

    def lat(row):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


# Tile coordinates: 4096 units a side, and features kept 64 units (4 screen pixels) beyond
# the edge so strokes and point symbols do not break at tile borders.
EXTENT = 4096
BUFFER = 64
_LAYER_NAME = re.compile(r"^[a-z_]{1,32}$")


class TileRows(list):
    """The rows of one tile layer, for encoding in Python: ``(wkb, {property: value})`` with
    the geometry in WGS-84, not yet clipped (SpatiaLite, which has no MVT encoder)."""


def tile_lonlat(z, x, y, margin=0.0):
    """WGS-84 bounds of a web-mercator tile grown by ``margin`` (a fraction of the tile)."""
    n = 2 ** z
    left, right = x - margin, x + 1 + margin
    top, bottom = max(y - margin, 0), min(y + 1 + margin, n)

    def lat(row):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (max(left / n * 360 - 180, -180.0), lat(bottom), min(right / n * 360 - 180, 180.0),
            lat(top))


def tile_layer(session, table, z, x, y, properties, where=(), column="geom", layer="layer",
               order_by=(), limit=None, simplify=None):
    """The features of ``table`` meeting web-mercator tile z/x/y (and BUFFER around it).

    ``properties`` are labelled column expressions (the features' attributes), ``where`` more
    conditions (scope, filters), ``simplify`` a tolerance in degrees applied before anything
    else (big polygons at low zoom). The spatial index picks the rows on both backends.

    PostGIS: the layer encoded by ``ST_AsMVT`` (bytes; empty when no feature meets the tile),
    geometries cut to the tile and snapped to its grid by ``ST_AsMVTGeom``.
    SpatiaLite: a ``TileRows`` list of (WKB, properties) in WGS-84 for the caller to encode.
    """
    z, x, y = int(z), int(x), int(y)
    if not _LAYER_NAME.match(layer):
        raise ValueError(f"bad tile layer name {layer!r}")
    col = table.c[column]
    frame = make_envelope(session, *tile_lonlat(z, x, y, BUFFER / EXTENT))
    geom = col
    if _is_spatialite(session):
        if simplify:
            geom = func.SimplifyPreserveTopology(col, float(simplify))
        query = (select(func.AsBinary(geom).label("wkb"), *properties)
                 .where(table.c.id.in_(_index_rowids(table, col, frame)), *where))
        if order_by:
            query = query.order_by(*order_by)
        if limit:
            query = query.limit(int(limit))
        rows = session.execute(query)
        names = list(rows.keys())[1:]
        return TileRows((r[0], dict(zip(names, r[1:], strict=True))) for r in rows)
    if simplify:
        geom = func.ST_SimplifyPreserveTopology(col, float(simplify))
    envelope = func.ST_TileEnvelope(z, x, y)
    mvt_geom = func.ST_AsMVTGeom(func.ST_Transform(geom, 3857), envelope, EXTENT, BUFFER,
                                 True).label("geom")
    inner = select(mvt_geom, *properties).where(col.op("&&")(frame), *where)
    if order_by:
        inner = inner.order_by(*order_by)
    if limit:
        inner = inner.limit(int(limit))
    inner = inner.subquery("t")
    query = (select(func.ST_AsMVT(literal_column("t"), literal_column(f"'{layer}'"), EXTENT,
                                  literal_column("'geom'")))
             .select_from(inner).where(inner.c.geom.is_not(None)))
    return bytes(session.scalar(query) or b"")
