"""The maps' team queries and their indexes on SpatiaLite: a view holding most teams is
counted from the covering index ``ix_teams_map`` alone, a small view goes through the spatial
index (and never scans a whole category), on a plan SQLite chose, not on a hint."""

import pytest
from sqlalchemy import event

from registry import teams


@pytest.fixture
def plans(db, backend):
    """The query plans of the statements run while the fixture's list is recording."""
    if backend != "spatialite":
        pytest.skip("ix_teams_map is SQLite's: PostgreSQL declares it empty")
    conn = db.connection()
    statements = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if not statement.startswith("EXPLAIN"):
            statements.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", record)
    try:
        def explain(discard=False):
            seen = list(statements)
            statements.clear()
            if discard:
                return []
            return [" ".join(row[-1] for row in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters)) for statement, parameters in seen]
        yield explain
    finally:
        event.remove(conn, "before_cursor_execute", record)


def test_team_squares_read_the_covering_index_only_when_scanning(db, actors, plans):
    admin, _ = actors.make("admin")
    plans(discard=True)  # the user's own statements
    everything = (73.4, 3.8, 135.1, 53.6)
    teams.map_overview(db, admin)
    teams.map_bins(db, admin, 0.5, category="mountain", bbox=everything, scan=True)
    scanned = plans()
    assert len(scanned) == 2
    assert all("COVERING INDEX ix_teams_map" in plan for plan in scanned), scanned
    teams.map_bins(db, admin, 0.001, category="mountain", bbox=(106.5, 29.5, 106.51, 29.51))
    (small,) = plans()
    assert "SpatialIndex" in small and "ix_teams_map" not in small, small
