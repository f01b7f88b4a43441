"""Bulk writes of rows with a geometry: COPY on PostGIS, executemany on SpatiaLite.

Hundreds of thousands of rows (risk cells, layer features) must store in seconds, which the
ORM cannot do; this is the backend-specific part of that, kept in the spatial seam.
"""

import shapely

from emergency.spatial.engine import backend_name

BATCH = 20_000


def _quote(name):
    """A double-quoted SQL identifier (columns such as ``row`` are reserved words)."""
    return '"' + name.replace('"', '""') + '"'


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
            with cursor.copy(f"COPY {_quote(table_name)} ({names}) FROM STDIN") as copy:
                for start in range(0, len(rows), BATCH):
                    chunk = shapely.set_srid(list(geoms[start:start + BATCH]), srid)
                    hexes = shapely.to_wkb(chunk, hex=True, include_srid=True)
                    for row, wkb in zip(rows[start:start + BATCH], hexes, strict=True):
                        copy.write_row((*row, wkb))
                        count += 1
        finally:
            cursor.close()
        return count
    marks = ", ".join("?" for _ in columns)
    sql = (f"INSERT INTO {_quote(table_name)} ({names}) "
           f"VALUES ({marks}, GeomFromWKB(?, {int(srid)}))")
    for start in range(0, len(rows), BATCH):
        wkbs = shapely.to_wkb(list(geoms[start:start + BATCH]))
        batch = [(*row, wkb) for row, wkb in zip(rows[start:start + BATCH], wkbs, strict=True)]
        conn.exec_driver_sql(sql, batch)
        count += len(batch)
    return count
