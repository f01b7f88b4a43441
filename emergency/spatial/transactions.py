"""How each backend isolates transactions: consistent snapshots, and id sequences after rows
were inserted with their own ids."""

from sqlalchemy import text

from emergency.spatial.engine import backend_name, for_reading


def snapshot(engine):
    """A new connection in a read-only transaction that sees one consistent state of the
    whole database (for a backup); end it with ``rollback()`` and ``close()``."""
    if backend_name(engine) == "spatialite":
        # WAL gives a DEFERRED read transaction a stable snapshot from its first read.
        conn = for_reading(engine.connect())
        conn.begin()
        return conn
    conn = engine.connect().execution_options(isolation_level="REPEATABLE READ")
    conn.begin()
    conn.execute(text("SET TRANSACTION READ ONLY"))
    return conn


def reset_sequences(conn, tables):
    """Move the id sequence of each table past its largest id, after rows were inserted
    with their own ids (a restore). PostgreSQL only: SQLite's next rowid always follows the
    largest one stored."""
    if backend_name(conn) != "postgis":
        return
    for table in tables:
        if "id" not in table.columns:
            continue
        seq = conn.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                           {"t": table.name}).scalar()
        if seq:
            conn.execute(text(f"SELECT setval('{seq}', COALESCE((SELECT MAX(id) FROM "
                              f'"{table.name}"), 0) + 1, false)'))
