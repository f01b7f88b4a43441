"""Backend-specific SQL for map layers: geometry simplified by zoom, bins for aggregation at
low zoom, and Mapbox vector tiles (PostGIS only).

The app serves map layers as bbox GeoJSON (see docs/maps.md for the measurements behind that
choice); services that feed a map layer compose these expressions into their own queries.
"""

import math

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
    """One Mapbox vector tile (bytes) of ``table`` rows meeting tile z/x/y (PostGIS only).

    SpatiaLite has no encoder: a SpatiaLite deployment would encode in Python (e.g. the
    mapbox-vector-tile package), measured 10-40x slower, which is why layers are GeoJSON.
    """
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
