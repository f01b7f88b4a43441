"""Nearest neighbours through the spatial index on both backends.

PostGIS answers ``ORDER BY geom <-> point LIMIT k`` from its GiST index (KNN). SpatiaLite has
no usable KNN (``KNN2`` is missing in 5.0, ``VirtualKNN`` joined row by row is pathological),
so it searches a bounded square window through the ``SpatialIndex`` virtual table, orders
the rows inside by distance, and doubles the window while it holds too few rows. Both
return rows ordered by planar distance in degrees (``deg``), the same order on both
backends; callers compute exact geodesic distances only for the rows they get.
"""

import math

from sqlalchemy import Float, func, literal, select

from emergency.spatial import _index_rowids, _is_spatialite, make_envelope, make_point

# Window half-size to start from, and the largest one (beyond it, the whole globe).
START_DEG = 0.1
WHOLE_GLOBE_DEG = 360.0


def degree_distance(bind, column, lon, lat):
    """Planar distance in degrees between a point column and lon/lat (the index's order)."""
    point = make_point(bind, lon, lat)
    if _is_spatialite(bind):
        return func.ST_Distance(column, point)
    return column.op("<->", return_type=Float)(point)


def window_filter(bind, table, column, lon, lat, half_deg):
    """Rows whose point lies in the square of half-size ``half_deg`` around lon/lat."""
    envelope = make_envelope(bind, lon - half_deg, lat - half_deg, lon + half_deg,
                             lat + half_deg)
    if _is_spatialite(bind):
        return table.c.id.in_(_index_rowids(table, column, envelope))
    return column.op("&&")(envelope)


def nearest(session, table, lon, lat, columns, limit, offset=0, where=(), column="location",
            start_deg=START_DEG):
    """Up to ``limit`` rows after ``offset`` nearest to lon/lat, each with a ``deg`` field.

    ``columns`` are the columns to select; ``where`` extra filters on ``table``. On PostGIS
    this is one KNN query; on SpatiaLite a window search that grows until it holds enough
    rows within its inscribed circle (which makes the order exact), or covers the globe.
    """
    col = table.c[column]
    lon, lat = float(lon), float(lat)
    deg = degree_distance(session, col, lon, lat).label("deg")
    if not _is_spatialite(session):
        stmt = (select(*columns, deg).where(*where).order_by(deg).limit(limit).offset(offset))
        return session.execute(stmt).all()
    half = max(float(start_deg), 1e-6)
    while True:
        covers_all = half >= WHOLE_GLOBE_DEG
        conditions = list(where)
        if not covers_all:
            conditions += [window_filter(session, table, col, lon, lat, half),
                           deg <= literal(half)]
        stmt = select(*columns, deg).where(*conditions).order_by(deg).limit(limit)
        stmt = stmt.offset(offset)
        rows = session.execute(stmt).all()
        if covers_all or len(rows) == limit:
            return rows
        # Too few rows inside the circle: rows just outside it may be nearer than the
        # next ring, so widen and ask again (index lookups are cheap; rows are few).
        half = min(WHOLE_GLOBE_DEG, half * 2)


def lower_bound_km(deg, lat):
    """A lower bound of the geodesic km to any point at ``deg`` planar degrees from lat."""
    # A degree of longitude shrinks with latitude: the farthest latitude reachable within
    # ``deg`` bounds the shortest possible km per degree (1% margin for the ellipsoid).
    reach = min(89.9, abs(lat) + deg)
    return deg * 110.57 * max(math.cos(math.radians(reach)), 0.001) * 0.99
