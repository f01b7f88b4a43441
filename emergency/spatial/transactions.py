"""How each backend isolates transactions: inserts that yield to a row already there,
consistent snapshots, and id sequences after rows were inserted with their own ids."""

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from emergency.spatial.engine import backend_name, for_reading


class InsertUnlessPresent:
    """An INSERT of one row that inserts nothing where a row with the same values in
    ``unique`` (a unique index) already exists: ``INSERT ... ON CONFLICT DO NOTHING RETURNING
    id`` on both backends. Calling it gives the new row's id, or None when the row was there.

    Cheaper than a savepoint around a plain INSERT (two statements fewer, no error raised
    and caught) and as safe under concurrency: on PostgreSQL an insert racing another
    transaction's uncommitted row waits for that commit and then yields to it.
    """

    def __init__(self, table, *unique):
        index = [table.c[name] for name in unique]
        self.statements = {
            "postgis": postgresql.insert(table).on_conflict_do_nothing(index_elements=index)
            .returning(table.c.id),
            "spatialite": sqlite.insert(table).on_conflict_do_nothing(index_elements=index)
            .returning(table.c.id),
        }

    def __call__(self, conn, values):
        """Insert ``values`` on ``conn``; the new id or None."""
        return conn.execute(self.statements[backend_name(conn)], values).scalar()


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
