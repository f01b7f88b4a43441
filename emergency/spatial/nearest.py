"""Nearest neighbours through the spatial index on both backends.

PostGIS answers ``ORDER BY geom <-> point LIMIT k`` from its GiST index (KNN). SpatiaLite has
no usable KNN (``KNN2`` is missing in 5.0, ``VirtualKNN`` joined row by row is pathological),
so it searches a bounded square window through the ``SpatialIndex`` virtual table, orders
the rows inside by distance, and doubles the window while it holds too few rows. Both
return rows ordered by planar distance in degrees (``deg``), the same order on both
backends; callers compute exact geodesic distances only for the rows they get.

:class:`NearestSearch` builds on that a candidates iterator: rows in exact geodesic order,
read in batches whose size (and SpatiaLite's window) it learns from earlier searches.
"""

import bisect
import math
import time

from pyproj import Geod
from sqlalchemy import Float, Integer, bindparam, func, literal, select

from emergency.spatial import _index_rowids, _is_spatialite, make_envelope, make_point

# Window half-size to start from, and the largest one (beyond it, the whole globe).
START_DEG = 0.1
# The smallest window worth starting from when a caller learnt the right size (~100 m).
MIN_DEG = 0.001
WHOLE_GLOBE_DEG = 360.0
# How many rows one search may read before it gives up looking further.
MAX_ROWS = 2000
# Rows read per round trip, at most.
MAX_BATCH = 400
# A search's reach (see NearestSearch) is remembered this long: a reach raised less than this
# long ago may be missed.
REACH_SECONDS = 60
GEOD = Geod(ellps="WGS84")


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


class Nearest:
    """A nearest-neighbour query built once and run many times with bound parameters.

    Same rows and order as :func:`nearest`, for hot paths: the statement (one per backend)
    is constructed once, so a call costs one execution of a cached compiled statement.
    ``columns`` may hold correlated subqueries or other per-row work: with ``late_columns``
    they are computed only for the rows returned (SpatiaLite first picks the ids, then
    reads those rows; PostgreSQL computes them as its KNN scan hands rows to the LIMIT).
    ``where`` may use ``bindparam``s, given to :meth:`__call__` as ``params``.
    """

    def __init__(self, table, columns, where=(), column="location", late_columns=True):
        self.table, self.columns, self.where = table, tuple(columns), tuple(where)
        self.column = table.c[column]
        self.late_columns = late_columns
        self._statements = {}

    def _statement(self, spatialite, windowed):
        """The statement for a backend (and, on SpatiaLite, with or without a window)."""
        key = (spatialite, windowed)
        if key in self._statements:
            return self._statements[key]
        lon, lat = bindparam("nn_lon", type_=Float), bindparam("nn_lat", type_=Float)
        limit, offset = bindparam("nn_limit", type_=Integer), bindparam("nn_offset",
                                                                          type_=Integer)
        col, t = self.column, self.table
        if not spatialite:
            point = func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)
            deg = col.op("<->", return_type=Float)(point).label("deg")
            conditions = list(self.where)
            if windowed:  # a box the GiST scan prunes with, so it ends at ``max_deg``
                half = bindparam("nn_half", type_=Float)
                conditions.append(col.op("&&")(func.ST_MakeEnvelope(
                    lon - half, lat - half, lon + half, lat + half, 4326)))
            stmt = (select(*self.columns, deg).where(*conditions).order_by(deg)
                    .limit(limit).offset(offset))
            self._statements[key] = stmt
            return stmt
        deg = func.ST_Distance(col, func.MakePoint(lon, lat, 4326))
        conditions = list(self.where)
        if windowed:
            half = bindparam("nn_half", type_=Float)
            envelope = func.BuildMbr(lon - half, lat - half, lon + half, lat + half, 4326)
            conditions += [t.c.id.in_(_index_rowids(t, col, envelope)), deg <= half]
        if self.late_columns:
            # Pick ids and distances first, then read only those rows: SQLite computes
            # every result column of every row inside the window before sorting.
            picked = (select(t.c.id.label("nn_id"), deg.label("deg")).where(*conditions)
                      .order_by(deg).limit(limit).offset(offset).subquery("nn"))
            stmt = (select(*self.columns, picked.c.deg)
                    .join_from(t, picked, t.c.id == picked.c.nn_id).order_by(picked.c.deg))
        else:
            deg = deg.label("deg")
            stmt = (select(*self.columns, deg).where(*conditions).order_by(deg)
                    .limit(limit).offset(offset))
        self._statements[key] = stmt
        return stmt

    def __call__(self, session, lon, lat, limit, offset=0, start_deg=START_DEG, params=None,
                 max_deg=None):
        """Up to ``limit`` rows after ``offset`` nearest to lon/lat (as :func:`nearest`).

        With ``max_deg`` only rows within that planar distance are wanted: SpatiaLite then
        stops growing its window there (PostGIS streams rows from its KNN scan and the
        caller stops reading) instead of searching the globe for rows nobody needs.
        """
        values = {**(params or {}), "nn_lon": float(lon), "nn_lat": float(lat),
                  "nn_limit": int(limit), "nn_offset": int(offset)}
        largest = min(float(max_deg), WHOLE_GLOBE_DEG) if max_deg else WHOLE_GLOBE_DEG
        if not _is_spatialite(session):
            values["nn_half"] = largest
            return session.execute(self._statement(False, largest < WHOLE_GLOBE_DEG),
                                   values).all()
        half = min(max(float(start_deg), 1e-6), largest)
        while True:
            covers_all = half >= WHOLE_GLOBE_DEG
            values["nn_half"] = half
            rows = session.execute(self._statement(True, not covers_all), values).all()
            if covers_all or len(rows) == limit or half >= largest:
                return rows
            # Rows grow with the area: aim at enough rows at once (at least double the
            # area, at most 16 times), not one doubling per round trip.
            grow = 1.2 * math.sqrt((limit + offset) / max(len(rows) + offset, 1))
            half = min(largest, half * min(4.0, max(1.4, grow)))


def lower_bound_km(deg, lat):
    """A lower bound of the geodesic km to any point at ``deg`` planar degrees from lat."""
    # A degree of longitude shrinks with latitude: the farthest latitude reachable within
    # ``deg`` bounds the shortest possible km per degree (1% margin for the ellipsoid).
    reach = min(89.9, abs(lat) + deg)
    return deg * 110.57 * max(math.cos(math.radians(reach)), 0.001) * 0.99


def degrees_within(km, lat):
    """A planar distance in degrees beyond which every point is farther than ``km``.

    The inverse of :func:`lower_bound_km`: ``lower_bound_km(degrees_within(km, lat), lat)
    >= km`` (or the whole globe when no such distance exists).
    """
    deg = km / 110.57
    for _ in range(50):
        if lower_bound_km(deg, lat) >= km:
            return deg
        deg *= 1.05
        if deg >= WHOLE_GLOBE_DEG:
            break
    return WHOLE_GLOBE_DEG


def _metres(pending):
    """Sort key of (metres, order, row) triples."""
    return pending[0]


class NearestSearch:
    """The rows nearest to a point in exact geodesic order: a candidates iterator.

    Built once per query shape and run many times. It reads rows in planar order through
    :class:`Nearest`, in batches of one round trip each, computes their geodesic distance
    and hands a row out only when no unread row can be nearer, so a caller takes candidates
    one by one and stops when it has enough. Per ``key`` (what makes searches alike, such
    as a category) it learns how many rows the caller took and how far SpatiaLite's window
    reached for them, so one round trip usually suffices (rows are cheap in SQL, round trips
    are not). ``reach``, a statement answering the farthest km any wanted row can lie (one
    number; the rows' own limits), bounds every search and is remembered ``REACH_SECONDS``.
    ``make_row`` turns a result row (``columns``, then lon, lat and ``deg``) into what the
    caller reads, such as a named tuple's ``_make``.
    """

    def __init__(self, table, columns, where=(), column="location", reach=None,
                 make_row=tuple, max_rows=MAX_ROWS, max_batch=MAX_BATCH):
        col = table.c[column]
        place = (func.ST_X(col).label("lon"), func.ST_Y(col).label("lat"))
        self.query = Nearest(table, (*columns, *place), where, column)
        self.reach, self.make_row = reach, make_row
        self.max_rows, self.max_batch = max_rows, max_batch
        self.forget()

    def forget(self):
        """Forget what earlier searches learnt (after bulk changes, and between tests)."""
        self._windows, self._rows, self._reaches = {}, {}, {}

    def __call__(self, session, lon, lat, params=None, within_km=None, key=None, expect=10,
                 stats=None):
        """Yield (metres, row) for the rows within ``within_km`` of lon/lat, nearest first.

        ``params`` bind the ``where`` of the query and the reach; ``expect`` is about how
        many rows the caller will take; ``stats``, a dict, receives the rows read and the
        round trips.
        """
        params = params or {}
        within_km = self._within(session, params, key, within_km)
        return self._search(session, float(lon), float(lat), params, within_km, key,
                            expect, stats)

    def _within(self, session, params, key, within_km):
        """``within_km`` bounded by the search's reach (remembered for a while)."""
        if self.reach is None:
            return within_km
        now = time.monotonic()
        cache_key = (session.get_bind().engine.url, key)
        cached = self._reaches.get(cache_key)
        if cached and now - cached[0] < REACH_SECONDS:
            reach = cached[1]
        else:
            reach = float(session.execute(self.reach, params).scalar() or 0.0)
            if reach > 0:  # nothing found is not remembered: the first row must show up
                self._reaches[cache_key] = (now, reach)
        return reach if within_km is None else min(float(within_km), reach)

    def _first_batch(self, key, expect):
        """(rows, window half-size) to start from, from what earlier searches needed."""
        batch = min(max(self._rows.get((key, expect), 2 * expect), expect + 10),
                    self.max_batch)
        # Rows grow with the window's area: size it from how far the last search reached
        # for how many rows (an overshoot costs a few index entries; too small a window
        # costs another round trip).
        reached = self._windows.get(key)
        start = (START_DEG if reached is None
                 else max(reached[0] * math.sqrt(batch / reached[1]) * 1.25, MIN_DEG))
        return batch, start

    def _search(self, session, lon, lat, params, within_km, key, expect, stats):
        """The generator behind :meth:`__call__`."""
        batch, start = self._first_batch(key, expect)
        limit_m = math.inf if within_km is None else within_km * 1000.0
        # Beyond this planar distance every row is farther than ``within_km``.
        max_deg = None if within_km is None else max(degrees_within(within_km, lat), 1e-9)
        pending, degs, taken, exhausted = [], [], None, False
        try:
            while True:
                rows = self.query(session, lon, lat, batch, len(degs), start, params, max_deg)
                n, offset = len(rows), len(degs) + len(rows)
                if stats is not None:
                    stats["rows"] = stats.get("rows", 0) + n
                    stats["batches"] = stats.get("batches", 0) + 1
                done = n < batch or offset >= self.max_rows
                settle = limit_m
                if n:
                    last = rows[-1][-1]
                    if offset == n == batch:
                        self._windows[key] = (max(last, MIN_DEG), n)
                    # The next batch needs the window of ``offset + 2 * batch`` rows.
                    start = max(last * math.sqrt((offset + 2 * batch) / offset) * 1.1,
                                MIN_DEG)
                    _, _, metres = GEOD.inv([lon] * n, [lat] * n, [r[-3] for r in rows],
                                            [r[-2] for r in rows])
                    pending.extend((m, len(degs) + i, self.make_row(r))
                                   for i, (m, r) in enumerate(zip(metres, rows, strict=True)))
                    pending.sort()
                    degs.extend(r[-1] for r in rows)
                    bound_m = lower_bound_km(last, lat) * 1000.0
                    done = done or bound_m > limit_m
                    if not done:
                        settle = bound_m  # no unread row is nearer than this
                cut = bisect.bisect_right(pending, settle, key=_metres)
                for m, _, row in pending[:cut]:
                    taken = m
                    yield m, row
                del pending[:cut]
                if done:
                    exhausted = True
                    return
                batch = min(batch * 2, self.max_batch)
        finally:
            self._learn((key, expect), degs, taken, exhausted, lat)

    def _learn(self, key, degs, taken, exhausted, lat):
        """Remember how many rows it took to settle the last row the caller took."""
        if exhausted:  # the caller took every row within reach: that many rows next time
            self._rows[key] = len(degs) + 2
        elif taken is not None:
            # Rows come in planar order, and the bound grows with the planar distance.
            needed = bisect.bisect_right(degs, taken / 1000.0,
                                         key=lambda d: lower_bound_km(d, lat)) + 1
            self._rows[key] = int(needed * 1.25) + 2
