"""Where the job queue lives, per backend: procrastinate's tables in PostgreSQL, shared by
every worker on every host; on SpatiaLite a queue in the memory of the one worker the
database file has (procrastinate cannot use SQLite), the job records being the durable part.
"""

from pathlib import Path

from emergency.spatial.engine import backend_name


def is_shared(engine):
    """True when every worker on every host shares one queue (PostgreSQL)."""
    return backend_name(engine) == "postgis"


def connector(engine, max_connections=4):
    """A procrastinate connector for this database (not opened yet)."""
    if is_shared(engine):
        from procrastinate import PsycopgConnector

        # libpq parameters from the SQLAlchemy URL (without the driver name).
        url = engine.url.set(drivername="postgresql")
        conninfo = url.render_as_string(hide_password=False)
        return PsycopgConnector(conninfo=conninfo, min_size=1, max_size=max_connections)
    from procrastinate.testing import InMemoryConnector

    return InMemoryConnector()


def single_worker_lock(engine):
    """The file whose lock makes one worker per SpatiaLite database, or None (PostgreSQL)."""
    if is_shared(engine):
        return None
    return Path(engine.url.database).with_suffix(".worker-lock")


def schema_sql():
    """procrastinate's schema (applied by migration 0017_jobs on PostgreSQL)."""
    from procrastinate.schema import SchemaManager

    return SchemaManager.get_schema()
