"""The one seam between PostGIS and SpatiaLite: engines, index-backed filters, geometry I/O.

Everything outside this package composes the expressions returned here and never branches
on the database dialect. SpatiaLite never uses its R*Tree index by itself, so every spatial
filter built here routes through the ``SpatialIndex`` virtual table on that backend.
"""

from geoalchemy2 import Geometry  # noqa: F401  (re-exported for models)
from sqlalchemy import column, func, literal, select
from sqlalchemy import table as table_clause
from sqlalchemy.sql import ClauseElement

from emergency.spatial.engine import (  # noqa: F401
    backend_name,
    for_reading,
    make_engine,
    writes_lock_out_writers_at_begin,
)
from emergency.spatial.indexes import knn_index, partial_index, point_cover_index  # noqa: F401
from emergency.spatial.summaries import refresh_team_readiness  # noqa: F401
from emergency.spatial.transactions import (  # noqa: F401
    InsertUnlessPresent,
    reset_sequences,
    snapshot,
)


def _is_spatialite(bind):
    """True when the session or engine talks to SpatiaLite."""
    return backend_name(bind) == "spatialite"


_SPATIAL_INDEX = table_clause("SpatialIndex", column("ROWID"), column("f_table_name"),
                              column("f_geometry_column"), column("search_frame"))


def _index_rowids(table, geom_column, frame):
    """Rowids of ``table`` whose index MBR meets ``frame`` (SpatiaLite's SpatialIndex)."""
    si = _SPATIAL_INDEX.c
    return select(si.ROWID).where(si.f_table_name == table.name,
                                  si.f_geometry_column == geom_column.name,
                                  si.search_frame == frame).scalar_subquery()


def _coordinate(value):
    """A coordinate as a bound float; a SQL expression (a ``bindparam`` of a statement built
    once and run many times) is used as it is."""
    return value if isinstance(value, ClauseElement) else literal(float(value))


def once_per_backend(build):
    """``build(bind)``, a statement's builder, as a function of a bind that builds each
    backend's statement once (composing a spatial filter and its cache key can cost more
    than running the statement)."""
    built = {}

    def statement(bind):
        name = backend_name(bind)
        found = built.get(name)
        if found is None:
            found = built[name] = build(bind)
        return found

    return statement


def make_point(bind, lon, lat):
    """A WGS-84 point expression; lon and lat are numbers or bind parameters."""
    if _is_spatialite(bind):
        return func.MakePoint(_coordinate(lon), _coordinate(lat), 4326)
    return func.ST_SetSRID(func.ST_MakePoint(_coordinate(lon), _coordinate(lat)), 4326)


def make_envelope(bind, minx, miny, maxx, maxy):
    """A WGS-84 rectangle expression."""
    if _is_spatialite(bind):
        return func.BuildMbr(float(minx), float(miny), float(maxx), float(maxy), 4326)
    return func.ST_MakeEnvelope(float(minx), float(miny), float(maxx), float(maxy), 4326)


def bbox_filter(bind, table, bbox, column="geom"):
    """Filter rows of ``table`` whose geometry intersects ``bbox`` (minx, miny, maxx, maxy)."""
    col = table.c[column]
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if _is_spatialite(bind):
        envelope = make_envelope(bind, minx, miny, maxx, maxy)
        return table.c.id.in_(_index_rowids(table, col, envelope)) & (
            func.ST_Intersects(col, envelope) == 1
        )
    envelope = make_envelope(bind, minx, miny, maxx, maxy)
    return col.op("&&")(envelope) & func.ST_Intersects(col, envelope)


def covers_point_filter(bind, table, lon, lat, column="geom"):
    """Filter rows of ``table`` whose (polygon) geometry contains or touches a point (lon and
    lat are numbers or bind parameters)."""
    col = table.c[column]
    point = make_point(bind, lon, lat)
    if _is_spatialite(bind):
        return table.c.id.in_(_index_rowids(table, col, point)) & (
            func.ST_Intersects(col, point) == 1
        )
    return func.ST_Intersects(col, point)


def as_geojson(bind, column):
    """The geometry as GeoJSON text, computed in the database (fast path for lists)."""
    if _is_spatialite(bind):
        return func.AsGeoJSON(column, 7)
    return func.ST_AsGeoJSON(column, 7)


def as_wkb(bind, column):
    """The geometry as plain WKB bytes (for shapely.from_wkb)."""
    if _is_spatialite(bind):
        return func.AsBinary(column)
    return func.ST_AsBinary(column)
