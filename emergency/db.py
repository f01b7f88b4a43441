"""Database core: declarative base, column types, and one session per request."""

import time
from contextlib import contextmanager
from datetime import UTC, datetime

from flask import current_app, g, has_request_context, request
from sqlalchemy import MetaData
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from emergency import spatial
from emergency.errors import NotFound
from emergency.spatial.types import UTCDateTime  # noqa: F401  (models import it from here)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every table of the application."""

    metadata = MetaData(naming_convention=NAMING)


def utcnow():
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def init_app(app):
    """Create the engine for the configured database and manage request sessions."""
    session = app.config.get("TEST_DB_SESSION")
    if session is not None:
        # Tests hand in one session inside an outer transaction that they roll back.
        app.extensions["emergency.db"] = {"engine": session.get_bind(), "factory": None,
                                          "session": session}
    else:
        engine = spatial.make_engine(
            app.config["DATABASE_URL"],
            pool_size=app.config["DB_POOL_SIZE"],
            busy_timeout_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"],
            mmap_bytes=app.config["SQLITE_MMAP_BYTES"],
        )
        # One option-engine for reads, made once: reads need no write lock on SQLite.
        reader = spatial.for_reading(engine)
        app.extensions["emergency.db"] = {"engine": engine, "reader": reader,
                                          "factory": sessionmaker(engine), "session": None}
    replica_url = app.config.get("DATABASE_READ_URL")
    if replica_url:
        app.extensions["emergency.db"]["replica"] = spatial.make_engine(
            replica_url, pool_size=app.config["DB_POOL_SIZE"])
        app.extensions["emergency.db"]["replica_down_until"] = 0.0
    app.teardown_appcontext(_close_session)


def engine():
    """The application's engine."""
    return current_app.extensions["emergency.db"]["engine"]


def get_session() -> Session:
    """The session of the current request (or CLI command), created on first use."""
    if "db_session" not in g:
        ext = current_app.extensions["emergency.db"]
        if ext["session"] is not None:
            # A test session: the request works in its own savepoint so that a failed
            # request undoes only its own writes, never the test's arranged data.
            g.db_session = ext["session"]
            g.db_session.flush()
            g.db_request_savepoint = g.db_session.begin_nested()
        else:
            # Reads need no write lock on SQLite; writes take it at BEGIN (see spatial.engine).
            reading = request and request.method in ("GET", "HEAD", "OPTIONS")
            g.db_session = Session(bind=ext["reader"] if reading else ext["engine"])
        g.db_session.info["actor_resolver"] = _request_actor
    return g.db_session


def read_session() -> Session:
    """A session for the look-ups a write request makes before it writes.

    On SpatiaLite the request's own session takes the database's single write lock at its
    first statement (BEGIN IMMEDIATE), so reads done there hold every other writer back.
    This one reads without the lock (BEGIN DEFERRED) on its own connection; when it is not
    the request's session, end it with ``rollback()`` before the request writes, so a request
    never holds two connections. On PostGIS, where readers never block writers, it is the
    request's session itself (one connection, one transaction). Objects loaded here belong
    to this session. It is closed with the request.
    """
    ext = current_app.extensions["emergency.db"]
    session = get_session()
    if ext["session"] is not None or not spatial.writes_lock_out_writers_at_begin(session):
        return session
    if "db_read_session" not in g:
        g.db_read_session = Session(bind=ext["reader"])
    return g.db_read_session


WROTE_COOKIE = "emergency_wrote"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
REPLICA_RETRY_SECONDS = 10


def replica_session() -> Session:
    """The session for reads that may come from the streaming replica (DATABASE_READ_URL):
    map layers, tiles, list pages. It is the request's own session (the primary) when no
    replica is configured or reachable, in requests that write, and for READ_AFTER_WRITE_SECONDS
    after this client's last write (read-your-own-writes while the replica catches up).
    Closed with the request."""
    ext = current_app.extensions["emergency.db"]
    replica = ext.get("replica")
    if (replica is None or ext["session"] is not None or not has_request_context()
            or request.method not in SAFE_METHODS or wrote_recently()
            or time.monotonic() < ext["replica_down_until"]):
        return get_session()
    if "db_replica_session" not in g:
        session = Session(bind=replica)
        try:
            session.connection()
        except OperationalError:
            # Replica down or restarting: read the primary for a while, then try again.
            session.close()
            ext["replica_down_until"] = time.monotonic() + REPLICA_RETRY_SECONDS
            return get_session()
        session.info["actor_resolver"] = _request_actor
        g.db_replica_session = session
    return g.db_replica_session


def replica_state():
    """'off' without DATABASE_READ_URL, else 'ok' or 'unavailable' (answers a query now)."""
    ext = current_app.extensions["emergency.db"]
    replica = ext.get("replica")
    if replica is None:
        return "off"
    try:
        with replica.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except OperationalError:
        ext["replica_down_until"] = time.monotonic() + REPLICA_RETRY_SECONDS
        return "unavailable"
    ext["replica_down_until"] = 0.0
    return "ok"


def wrote_recently():
    """Whether this client wrote within READ_AFTER_WRITE_SECONDS (its cookie says when)."""
    try:
        at = float(request.cookies.get(WROTE_COOKIE, ""))
    except ValueError:
        return False
    return time.time() - at < current_app.config["READ_AFTER_WRITE_SECONDS"]


def note_write(response):
    """After a committed write, tell the client (a cookie every host reads) to read the
    primary for the next READ_AFTER_WRITE_SECONDS. Only when a replica is configured."""
    if (current_app.extensions["emergency.db"].get("replica") is not None
            and request.method not in SAFE_METHODS and response.status_code < 400):
        window = current_app.config["READ_AFTER_WRITE_SECONDS"]
        response.set_cookie(WROTE_COOKIE, f"{time.time():.3f}", max_age=window,
                            httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _request_actor():
    """(username, address) of the current request for the audit log, or None outside one."""
    if not has_request_context():
        return None
    user = g.get("_login_user")
    name = user.username if user is not None and user.is_authenticated else "anonymous"
    return name, request.remote_addr or ""


def new_session(readonly=False) -> Session:
    """A session outside any request (CLI, background jobs)."""
    ext = current_app.extensions["emergency.db"]
    if ext["session"] is not None:
        return ext["session"]
    return Session(bind=ext["reader"] if readonly else ext["engine"])


@contextmanager
def unit_of_work(actor="cli"):
    """A session outside any request (CLI, demo) whose work is committed at the end of the
    block, or rolled back when the block raises; ``actor`` names the writer in the audit log."""
    session = new_session()
    session.info["actor"] = actor
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_or_404(session, model, key, what, lock=False):
    """The row of ``model`` with that primary key, or NotFound ("no <what> <key>");
    ``lock`` takes it FOR UPDATE."""
    row = session.get(model, key, with_for_update=lock or None)
    if row is None:
        raise NotFound(f"no {what} {key}")
    return row


def finish_request(ok):
    """End the request's transaction: commit when ``ok``, else roll back."""
    session = g.get("db_session")
    if session is None:
        return
    savepoint = g.pop("db_request_savepoint", None)
    if savepoint is not None:
        if savepoint.is_active:
            savepoint.commit() if ok else savepoint.rollback()
        return
    session.commit() if ok else session.rollback()


def _close_session(_exc):
    """Roll back whatever the request did not commit and return the connection."""
    for name in ("db_read_session", "db_replica_session"):
        other = g.pop(name, None)
        if other is not None:
            other.close()
    session = g.get("db_session")
    if session is None:
        return
    if g.get("db_request_savepoint") is not None:
        finish_request(False)
    g.pop("db_session")
    if session is not current_app.extensions["emergency.db"]["session"]:
        session.close()
