"""Bulk writes of rows with a geometry: COPY on PostGIS, executemany on SpatiaLite.

Hundreds of thousands of rows (risk cells, layer features) must store in seconds, which the
ORM cannot do; this is the backend-specific part of that, kept in the spatial seam.

``insert_columns`` is the fast path for column arrays (a risk run's 334,161 cells): every batch
is formatted column by column (no Python call per value) and nothing of the whole set is
held as rows, so memory stays flat whatever the count. On PostGIS the COPY data go out from a
second thread (psycopg's queued writer), so the server inserts and indexes one batch while
Python formats the next; on SpatiaLite the per-row index triggers are suspended and the new
rows' R*Tree boxes filled one batch behind them by one ``INSERT … SELECT`` each, with a page
cache large enough for the indexes being filled.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import bindparam, column, insert, update, values

from emergency.spatial.engine import backend_name

BATCH = 20_000


def _quote(name):
    """A double-quoted SQL identifier (columns such as ``row`` are reserved words)."""
    return '"' + name.replace('"', '""') + '"'


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value):
    """One value in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return str(value).translate(_ESCAPES)


def insert_rows(session, table_name, columns, rows, geoms, geom_column="geom", srid=4326):
    """Insert ``rows`` (tuples of ``columns``) with one geometry each; returns the count.

    ``geoms`` is a sequence of shapely geometries aligned with ``rows``. Runs inside the
    session's transaction, so a later error rolls everything back.
    """
    conn = session.connection()
    names = ", ".join(_quote(c) for c in [*columns, geom_column])
    count = 0
    if backend_name(session) == "postgis":
        cursor = conn.connection.driver_connection.cursor()
        try:
            with cursor.copy(f"COPY {_quote(table_name)} ({names}) FROM STDIN",
                             writer=QueuedLibpqWriter(cursor)) as copy:
                for start in range(0, len(rows), BATCH):
                    chunk = shapely.set_srid(list(geoms[start:start + BATCH]), srid)
                    hexes = shapely.to_wkb(chunk, hex=True, include_srid=True)
                    # COPY's text format written in one piece per batch: several times
                    # cheaper than adapting row by row.
                    lines = ["\t".join([*map(_copy_text, row), wkb])
                             for row, wkb in zip(rows[start:start + BATCH], hexes,
                                                 strict=True)]
                    copy.write("\n".join(lines) + "\n")
                    count += len(lines)
        finally:
            cursor.close()
        return count
    marks = ", ".join("?" for _ in columns)
    sql = (f"INSERT INTO {_quote(table_name)} ({names}) "
           f"VALUES ({marks}, GeomFromWKB(?, {int(srid)}))")
    suspended = _suspend_triggers(conn, table_name, geom_column) if len(rows) >= MANY else None
    for start in range(0, len(rows), BATCH):
        wkbs = shapely.to_wkb(list(geoms[start:start + BATCH]))
        batch = [(*row, wkb) for row, wkb in zip(rows[start:start + BATCH], wkbs, strict=True)]
        conn.exec_driver_sql(sql, batch)
        count += len(batch)
    if suspended is not None:
        conn.exec_driver_sql(_index_rows(table_name, geom_column),
                             (suspended[1] + 1, suspended[1] + len(rows)))
        _index_after(conn, table_name, geom_column, suspended, len(rows))
    return count


# SpatiaLite keeps its R*Tree and bookkeeping current with three triggers per row; for a
# large insert it is about twice as fast to suspend them and index the new rows with
# statements of many rows each (``_index_rows``). The triggers are dropped and recreated
# inside the same transaction, so other connections never see the table without them and a
# rollback restores them.
MANY = 5_000
_TRIGGERS = ("ggi", "tmi", "gii")


def _suspend_triggers(conn, table_name, geom_column):
    """Drop the per-row insert triggers; returns (their SQL, the last rowid before)."""
    names = [f"{p}_{table_name}_{geom_column}" for p in _TRIGGERS]
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?, ?)",
        tuple(names)).fetchall()
    if len(found) != len(names):
        return None
    last = conn.exec_driver_sql(f"SELECT coalesce(max(rowid), 0) FROM {_quote(table_name)}"
                                ).scalar()
    for name, _sql in found:
        conn.exec_driver_sql(f"DROP TRIGGER {_quote(name)}")
    return [sql for _name, sql in found], last


# SQLite's page cache (KiB, as a negative cache_size) while a large insert fills a table's
# B-trees and R*Tree: the default 2 MB made each index page go back and forth to the OS page
# cache (measured: R*Tree filling of 334,161 cells 10.9 s -> 7.0 s on a loaded machine).
BULK_CACHE_KIB = 131_072


def _copy_column(values, start, stop):
    """One column of a batch as COPY text values: numbers and booleans from numpy arrays
    without a Python call per value, anything else value by value."""
    if isinstance(values, np.ndarray) and values.dtype != object:
        chunk = values[start:stop]
        if chunk.dtype == bool:
            return np.where(chunk, "t", "f").tolist()
        if chunk.dtype.kind == "f":
            return list(map(repr, chunk.tolist()))
        if chunk.dtype.kind in "iu":
            return list(map(str, chunk.tolist()))
    if not isinstance(values, np.ndarray | list | tuple):
        return [_copy_text(values)] * (stop - start)  # one value for every row
    return list(map(_copy_text, values[start:stop]))


def _sqlite_column(values, start, stop):
    """One column of a batch as Python values for executemany."""
    if isinstance(values, np.ndarray):
        return values[start:stop].tolist()
    if not isinstance(values, list | tuple):
        return [values] * (stop - start)
    return list(values[start:stop])


def insert_columns(session, table_name, columns, count, geoms, geom_column="geom", srid=4326,
                   batch=BATCH):
    """Insert ``count`` rows given as columns, with one geometry each; returns the count.

    ``columns`` maps column names to numpy arrays, lists (``None`` for NULL) or one value
    for every row; ``geoms(start, stop)`` returns the shapely geometries of rows
    ``start:stop`` (made batch by batch, so they are never all in memory). Runs inside the
    session's transaction, so a later error rolls everything back.
    """
    conn = session.connection()
    names = list(columns)
    quoted = ", ".join(_quote(c) for c in [*names, geom_column])
    if backend_name(session) == "postgis":
        cursor = conn.connection.driver_connection.cursor()
        try:
            with cursor.copy(f"COPY {_quote(table_name)} ({quoted}) FROM STDIN",
                             writer=QueuedLibpqWriter(cursor)) as copy:
                for start in range(0, count, batch):
                    stop = min(count, start + batch)
                    chunk = shapely.set_srid(np.asarray(geoms(start, stop), dtype=object), srid)
                    hexes = shapely.to_wkb(chunk, hex=True, include_srid=True).tolist()
                    cols = [_copy_column(columns[n], start, stop) for n in names]
                    copy.write("\n".join(map("\t".join, zip(*cols, hexes, strict=True)))
                               + "\n")
        finally:
            cursor.close()
        return count
    marks = ", ".join("?" for _ in names)
    sql = (f"INSERT INTO {_quote(table_name)} ({quoted}) "
           f"VALUES ({marks}, GeomFromWKB(?, {int(srid)}))")
    cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")

    def prepared(start):
        """Batch ``start``'s rows."""
        stop = min(count, start + batch)
        chunk = np.asarray(geoms(start, stop), dtype=object)
        cols = [_sqlite_column(columns[n], start, stop) for n in names]
        return list(zip(*cols, shapely.to_wkb(chunk).tolist(), strict=True))

    try:
        suspended = _suspend_triggers(conn, table_name, geom_column) if count >= MANY else None
        index = _index_rows(table_name, geom_column)
        # The next batch is made (geometries, WKB, tuples) in a second thread while SQLite
        # stores this one, as the PostGIS path overlaps formatting and COPY. Every ``geoms``
        # call happens in that one thread. An executemany gives up the GIL for each row's
        # step and waits to have it back whenever the other thread is running Python, so
        # the rows go in while the preparing thread is mostly done; the R*Tree boxes of the
        # batch before go in first, in one statement that runs without the GIL, so the
        # preparing thread has it meanwhile (measured at 500 m: store 5.7 -> 4.6 s).
        with ThreadPoolExecutor(1, thread_name_prefix="bulk-prepare") as pool:
            upcoming = pool.submit(prepared, 0) if count else None
            for start in range(0, count, batch):
                params = upcoming.result()
                if start + batch < count:
                    upcoming = pool.submit(prepared, start + batch)
                if suspended is not None and start:
                    first = suspended[1] + 1 + start - batch
                    conn.exec_driver_sql(index, (first, first + batch - 1))
                conn.exec_driver_sql(sql, params)
        if suspended is not None:
            first = suspended[1] + 1 + (count - 1) // batch * batch
            conn.exec_driver_sql(index, (first, suspended[1] + count))
            _index_after(conn, table_name, geom_column, suspended, count)
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
    return count


def _index_rows(table_name, geom_column):
    """SQL filling the R*Tree with the boxes of the rows whose rowids are between two
    parameters, as SpatiaLite's insert trigger would (SQLite's R*Tree rounds each box
    outward to float32): one statement, run by SQLite without Python or the GIL."""
    g = _quote(geom_column)
    return (f"INSERT INTO {_quote(f'idx_{table_name}_{geom_column}')} "
            f"(pkid, xmin, xmax, ymin, ymax) SELECT rowid, MbrMinX({g}), MbrMaxX({g}), "
            f"MbrMinY({g}), MbrMaxY({g}) FROM {_quote(table_name)} "
            f"WHERE rowid BETWEEN ? AND ? AND {g} IS NOT NULL")


def _index_after(conn, table_name, geom_column, suspended, count):
    """Check the new rows took the rowids after the last one before and recreate the
    triggers."""
    trigger_sql, last = suspended
    added = conn.exec_driver_sql(f"SELECT max(rowid) FROM {_quote(table_name)}").scalar()
    if added != last + count:
        raise RuntimeError(f"bulk insert into {table_name}: unexpected rowids")
    _touch_and_restore(conn, table_name, geom_column, trigger_sql)


def _touch_and_restore(conn, table_name, geom_column, trigger_sql):
    """Note the insert in SpatiaLite's bookkeeping and recreate the suspended triggers."""
    conn.exec_driver_sql(
        "UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
        "WHERE Lower(f_table_name) = Lower(?) AND Lower(f_geometry_column) = Lower(?)",
        (table_name, geom_column))
    for sql in trigger_sql:
        conn.exec_driver_sql(sql)


ROWS_PER_STATEMENT = 500


def insert_many(session, table, rows):
    """Insert ``rows`` (dicts of column values, no geometry) into a Core ``table``.

    SQLite: one executemany (prepared once, fastest there). PostgreSQL: multi-row INSERT
    statements of ``ROWS_PER_STATEMENT`` rows, because psycopg sends an executemany as one
    statement per row and every statement fires the table's statement-level triggers (the
    team readiness summary of migration 0008: 100,000 members took 200 s instead of 18 s).
    """
    if not rows:
        return 0
    if backend_name(session) == "spatialite":
        session.execute(insert(table), rows)
        return len(rows)
    for first in range(0, len(rows), ROWS_PER_STATEMENT):
        session.execute(insert(table).values(rows[first:first + ROWS_PER_STATEMENT]))
    return len(rows)


def update_many(session, table, rows, key="id"):
    """Update rows of a Core ``table`` by ``key``; ``rows`` are dicts with the key and the
    same other columns.

    SQLite: one executemany of ``UPDATE ... WHERE key = ?`` (its triggers are row-level
    anyway, and it has no column aliases for a VALUES list). PostgreSQL: one
    ``UPDATE ... FROM (VALUES ...)`` per ``ROWS_PER_STATEMENT`` rows, so statement-level
    triggers fire once per statement, not once per row (see :func:`insert_many`).
    """
    if not rows:
        return 0
    names = [n for n in rows[0] if n != key]
    if backend_name(session) == "spatialite":
        statement = (update(table).where(table.c[key] == bindparam("b_" + key))
                     .values({n: bindparam("b_" + n) for n in names}))
        session.connection().execute(statement, [{"b_" + k: v for k, v in r.items()}
                                                 for r in rows])
        return len(rows)
    shape = values(*[column(n, table.c[n].type) for n in [key, *names]], name="new_values")
    for first in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = shape.data([tuple(r[n] for n in [key, *names])
                            for r in rows[first:first + ROWS_PER_STATEMENT]])
        session.execute(update(table).where(table.c[key] == chunk.c[key])
                        .values({n: chunk.c[n] for n in names}))
    return len(rows)
