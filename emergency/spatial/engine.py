"""Engines for both backends: SpatiaLite loading, SQLite locking, PostGIS pooling."""

import os

# SQLite loads extensions with RTLD_GLOBAL, so mod_spatialite's system GEOS, PROJ and SQLite
# symbols would shadow the copies bundled in the shapely, pyproj and pyogrio wheels for any of
# them imported later (measured: segfaults writing a GeoPackage). Importing them first binds
# their own libraries before SpatiaLite is ever loaded.
import pyogrio  # noqa: F401
import pyproj  # noqa: F401
import shapely  # noqa: F401
import sqlean
from sqlalchemy import create_engine, event

SPATIALITE_LIBRARY = os.environ.get("SPATIALITE_LIBRARY_PATH", "mod_spatialite")


def backend_name(bind):
    """'spatialite' or 'postgis' for a session, connection or engine."""
    if hasattr(bind, "get_bind"):
        bind = bind.get_bind()
    return "spatialite" if bind.dialect.name == "sqlite" else "postgis"


def writes_lock_out_writers_at_begin(bind):
    """True where a write transaction holds the database's one write lock from its first
    statement (SQLite: BEGIN IMMEDIATE), so reads worth doing before it belong elsewhere."""
    return backend_name(bind) == "spatialite"


def for_reading(bind):
    """``bind`` (an engine or a connection) with transactions that take no write lock.

    SQLite then begins them DEFERRED instead of IMMEDIATE (see ``_sqlite_on_begin``), so
    reads do not queue behind writers; PostgreSQL's readers never block writers anyway.
    """
    return bind.execution_options(sqlite_begin="DEFERRED")


def _sqlite_on_connect(busy_timeout_ms, mmap_bytes):
    """Listener that prepares every new SQLite connection for SpatiaLite and many writers."""

    def on_connect(dbapi_conn, _record):
        # The driver must not issue its own BEGIN: we emit BEGIN IMMEDIATE ourselves so a
        # transaction that reads before it writes cannot deadlock on the lock upgrade.
        dbapi_conn.isolation_level = None
        dbapi_conn.enable_load_extension(True)
        dbapi_conn.load_extension(SPATIALITE_LIBRARY)
        dbapi_conn.enable_load_extension(False)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        # Pages read through a memory map instead of one read() per page: at 10^6 teams the
        # nearest-team query measured 1.9 ms -> 0.9 ms. Address space only, not resident memory.
        cur.execute(f"PRAGMA mmap_size = {int(mmap_bytes)}")
        cur.execute("SELECT CheckSpatialMetaData()")
        if cur.fetchone()[0] == 0:
            # 'WGS84' loads only the WGS-84 reference systems (4326 and the UTM zones): fast.
            cur.execute("SELECT InitSpatialMetaData(1, 'WGS84')")
        cur.close()

    return on_connect


def _sqlite_on_begin(conn):
    """Start SQLite transactions IMMEDIATE unless the connection asks for a deferred one."""
    mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
    conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url, pool_size=10, busy_timeout_ms=30000, mmap_bytes=1 << 30, **kwargs):
    """Create an engine for a sqlite:/// (SpatiaLite) or postgresql URL."""
    if url.startswith("sqlite"):
        path = url.split("sqlite:///", 1)[1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(
            url,
            module=sqlean,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_on_connect(busy_timeout_ms, mmap_bytes))
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         **kwargs)
