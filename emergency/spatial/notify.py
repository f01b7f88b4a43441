"""Cross-process wake-ups after a commit (the live events' delivery), per backend.

PostgreSQL has LISTEN/NOTIFY: a ``pg_notify`` in a transaction is delivered at its commit, and
only then, to every connection listening on the channel, in every process and on every host.
SpatiaLite has nothing of the kind: other processes' commits are seen by reading the file
again, so there ``announcing`` adds nothing and ``listen`` gives no listener.
"""

from sqlalchemy import func

from emergency.spatial.engine import backend_name


def announcing(session, insert, channel):
    """``insert`` (an INSERT ... RETURNING) that also announces ``channel`` to every listener
    when ``session``'s transaction commits (identical notifications of one transaction are
    folded into one): on PostGIS a ``pg_notify`` rides in its RETURNING, one round trip
    instead of a separate SELECT (the busiest writes publish an event each).
    ``insert`` unchanged on SpatiaLite. The announcement is in the statement's extra column:
    read the row's first column only."""
    if backend_name(session.get_bind()) != "postgis":
        return insert
    return insert.returning(func.pg_notify(channel, ""))


def listen(engine, channel):
    """A dedicated connection (taken out of the pool) that LISTENs on ``channel``, or None on
    SpatiaLite. Close it with ``.close()``; wait on it with ``wait``."""
    if backend_name(engine) != "postgis":
        return None
    raw = engine.raw_connection()
    conn = raw.driver_connection
    raw.detach()  # ours now: the pool neither hands it out nor counts it
    conn.rollback()
    conn.autocommit = True
    conn.execute(f'LISTEN "{channel}"')
    return conn


def wait(listener, timeout):
    """Block until a notification arrives on ``listener`` or ``timeout`` seconds pass; True
    when one came (several pending ones are taken at once)."""
    came = False
    for _ in listener.notifies(timeout=timeout, stop_after=1):
        came = True
    return came


def commits_are_announced(bind):
    """True where other processes' commits wake ``listen`` (PostGIS); elsewhere poll."""
    return backend_name(bind) == "postgis"
