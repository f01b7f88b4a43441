"""Fixtures: every database test runs on SpatiaLite and on PostGIS, inside a rolled-back
transaction, on a schema built by the migrations."""

import contextlib
import functools
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from emergency import create_app, migrate, spatial
from emergency.auth import demo as auth_demo
from emergency.events.hub import PRUNE_THREAD
from emergency.geo import demo as geo_demo

BACKENDS = ("spatialite", "postgis")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DATA_KEY = "p4m0XbUvQ2tX4GmBv0n6b8dKq2rV3o1sT9y5zW7xA1c="
STRICT = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Browser tests walk the pages on SpatiaLite only: what a page shows comes through the
    same services, whose every query the API and service tests run on both backends. Those
    marked ``both_backends`` (where nearest-team search, live events or map layers by viewport
    shape the journey) walk on PostGIS too. Long tests are moved to the front. The tests of a
    module that builds a module-scoped fixture (a loaded demo, a live server, a browser) run
    on one worker (``--dist loadgroup``), which then builds it once instead of once each."""
    keep, dropped = [], []
    for item in items:
        fixtures = getattr(item, "_fixtureinfo", None)
        if fixtures is not None and any(
                defs[-1].scope == "module" and not defs[-1].baseid.startswith("_pytest")
                for defs in fixtures.name2fixturedefs.values() if defs):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
        spec = getattr(item, "callspec", None)
        if spec is not None and spec.params.get("backend") == "postgis" and \
                item.get_closest_marker("browser") and \
                not item.get_closest_marker("both_backends"):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    # The longest tests start first (pytest-xdist hands tests out in this order): a long test
    # started last would finish the run alone on one worker while the other stands idle.
    def rank(item):
        if item.get_closest_marker("slow") or item.get_closest_marker("long"):
            return 0
        return 1 if item.get_closest_marker("browser") else 2

    items[:] = sorted(keep, key=rank)


def _worker():
    """A suffix that keeps parallel pytest workers apart."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgis_url(name, template=None):
    """Create (or recreate) a scratch PostGIS database, empty or a copy of ``template``, and
    return its URL."""
    from sqlalchemy import create_engine

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    finally:
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(url):
    """Drop a scratch PostGIS database (SpatiaLite files go with the tmp folder)."""
    if not url.startswith("postgresql"):
        return
    let_pruning_finish()
    from sqlalchemy import create_engine

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    finally:
        admin.dispose()


def make_database(backend, tmp_dir, label="test"):
    """A freshly migrated, empty database of the backend: (url, engine). It is a copy of a
    database migrated once per test process (migrating takes seconds; a copy well under one)."""
    url = _copy_database(backend, _template(backend, ()), Path(tmp_dir), label)
    return url, spatial.make_engine(url, pool_size=5)


def _migrated_database(backend, tmp_dir, label):
    """A new database of the backend, built by running every migration: (url, engine)."""
    if backend == "spatialite":
        url = f"sqlite:///{tmp_dir}/{label}-{_worker()}-{uuid.uuid4().hex[:6]}.sqlite"
    else:
        try:
            # The pid keeps concurrent runs (several developers, xdist workers) apart.
            url = _postgis_url(f"emergency_{label}_{_worker()}_{os.getpid()}")
        except Exception as exc:  # server missing: fail in CI, skip on a bare laptop
            if STRICT:
                pytest.fail(f"PostGIS is required in CI: {exc}")
            pytest.skip(f"PostGIS not available: {exc}")
    engine = spatial.make_engine(url, pool_size=5)
    migrate.upgrade(engine=engine)
    return url, engine


def _not_killed_by_a_drop(record):
    """False for a pool's report that a connection it finalised had been cut off by the
    server's administrator: tests drop their scratch databases WITH (FORCE), which cuts off any
    connection a test left unreturned, and the pool reports that when the garbage collector
    finalises the connection, at whatever moment, with a formatted traceback. Formatting it on
    Python 3.11 calls ``ast.parse``; when that collection happened inside another ``ast`` call
    (werkzeug builds an app's routes with ``ast``), the interpreter failed that call with
    "AST constructor recursion depth mismatch" (cpython gh-106905), so an unrelated test's set-up
    failed. Other pool errors are reported as always."""
    if record.exc_info and record.exc_info[1] is not None:
        from psycopg.errors import AdminShutdown

        return not isinstance(record.exc_info[1], AdminShutdown)
    return True


for _pool in ("QueuePool", "NullPool", "SingletonThreadPool", "StaticPool",
              "AsyncAdaptedQueuePool"):
    logging.getLogger(f"sqlalchemy.pool.impl.{_pool}").addFilter(_not_killed_by_a_drop)


@pytest.fixture(scope="session", autouse=True)
def _one_hash_per_password():
    """Hash each test password once per process: every test user shares the same real
    argon2id hash of the same password (about 0.3 s of CPU each, thousands of users over the
    suite). Verification stays real; tests of hashing itself call argon2 directly."""
    from emergency.auth import service

    real = service.hash_password
    cached = functools.lru_cache(maxsize=64)(real)
    service.hash_password = cached
    yield
    service.hash_password = real


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request):
    """The spatial backend under test."""
    return request.param


@pytest.fixture(scope="session")
def database(backend, tmp_path_factory):
    """One migrated database per backend for the whole run: (url, engine)."""
    url, engine = make_database(backend, tmp_path_factory.mktemp("db"))
    yield url, engine
    engine.dispose()
    drop_database(url)


@pytest.fixture
def engine(database):
    """The engine of the backend under test."""
    return database[1]


@pytest.fixture
def db(database):
    """A session inside an outer transaction that is rolled back after the test."""
    _url, eng = database
    connection = eng.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    yield session
    session.close()
    outer.rollback()
    connection.close()


# Migrated databases with demo steps loaded, made once per test process and copied for each
# test that asks for the same steps: {(backend, steps): (url, folder)}. Migrating and loading
# the demo's districts and users takes seconds per test (tens under load); a copy takes
# well under one (PostgreSQL's CREATE DATABASE ... TEMPLATE, a file copy for SpatiaLite).
_TEMPLATES = {}


def _template(backend, demo_steps):
    """The URL of a migrated database holding ``demo_steps``, made on first use."""
    key = (backend, tuple(f"{s.__module__}.{s.__qualname__}" for s in demo_steps))
    if key not in _TEMPLATES:
        folder = Path(tempfile.mkdtemp(prefix="emergency-template-"))
        url, engine = _migrated_database(backend, folder, f"tpl{len(_TEMPLATES)}")
        engine.dispose()
        if demo_steps:
            from emergency.demo import load

            app = create_app(app_config(url, folder))
            with app.app_context():
                load(list(demo_steps))
            app.extensions["emergency.db"]["engine"].dispose()
        _TEMPLATES[key] = (url, folder)
    return _TEMPLATES[key]


def _copy_database(backend, template, tmp_path, label):
    """A new scratch database that is a copy of ``template`` (url, folder): its URL."""
    url, folder = template
    if (folder / "uploads").is_dir():
        shutil.copytree(folder / "uploads", tmp_path / "uploads", dirs_exist_ok=True)
    if backend == "spatialite":
        source = url.removeprefix("sqlite:///")
        target = f"{tmp_path}/{label}-{_worker()}-{uuid.uuid4().hex[:6]}.sqlite"
        shutil.copyfile(source, target)  # the template's connections are closed: no WAL left
        return f"sqlite:///{target}"
    return _postgis_url(f"emergency_{label}_{_worker()}_{os.getpid()}",
                        template=url.rsplit("/", 1)[1])


@pytest.fixture(scope="session", autouse=True)
def _drop_templates():
    """Drop the template databases at the end of the run."""
    yield
    for url, folder in _TEMPLATES.values():
        drop_database(url)
        shutil.rmtree(folder, ignore_errors=True)
    _TEMPLATES.clear()


@contextlib.contextmanager
def committed_app(backend, tmp_path, label, demo_steps=()):
    """An app on its own freshly migrated scratch database whose writes really commit (browser,
    concurrency and demo tests), holding ``demo_steps`` (a copy of a template made once per
    process); the database is dropped afterwards."""
    url = _copy_database(backend, _template(backend, demo_steps), tmp_path, label)
    app = create_app(app_config(url, tmp_path))
    try:
        yield app
    finally:
        let_pruning_finish()
        app.extensions["emergency.db"]["engine"].dispose()
        drop_database(url)


def let_pruning_finish(seconds=10):
    """Wait for the live events' pruning threads a commit may have started (at most one a
    minute per process, a short DELETE on the app's engine), so that no database is dropped
    or engine disposed under one."""
    for thread in threading.enumerate():
        if thread.name == PRUNE_THREAD:
            thread.join(seconds)


DEMO_SHELL = (geo_demo.load_areas, auth_demo.load_users)


def app_config(url, tmp_path, **extra):
    """Configuration of a test app."""
    return {"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test-secret",
            "EMERGENCY_DATA_KEY": DATA_KEY, "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            **extra}


@pytest.fixture
def app(database, db, tmp_path):
    """The app, sharing the test's session so HTTP calls see and roll back with it."""
    return create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db))


@pytest.fixture
def client(app):
    """An HTTP test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


@pytest.fixture
def ctx(database, db, tmp_path):
    """An application context for calling services directly. It belongs to a second app on
    the same session, so HTTP requests of the ``client`` get contexts (and ``g``) of their own
    instead of reusing this one."""
    other = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db))
    with other.app_context():
        yield


class Actors:
    """Creates users of any role and gives their bearer headers."""

    def __init__(self, db):
        self.db = db
        self.count = 0

    def make(self, role, grids=(), org_id=None, area_code=None, username=None):
        """A user of that role and an Authorization header for them."""
        from emergency.auth import service

        self.count += 1
        name = username or f"{role}{self.count}-{uuid.uuid4().hex[:4]}"
        user = service.create_user(self.db, name, role, "correct horse battery", grids,
                                   org_id, area_code)
        token = service.create_token(self.db, name, 1)
        return user, {"Authorization": f"Bearer {token}"}

    def header(self, role, **kwargs):
        """Only the Authorization header of a new user of that role."""
        return self.make(role, **kwargs)[1]


@pytest.fixture
def actors(db, app):
    """User factory (bound to the test session)."""
    return Actors(db)


def square(lon, lat, size=0.01):
    """A square GeoJSON polygon with its south-west corner at lon/lat."""
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat],
            [lon + size, lat + size], [lon, lat + size], [lon, lat]]]}


@pytest.fixture
def place(db, app):
    """A small city → district → street → community → grid tree around (106.5, 29.5)."""
    from shapely.geometry import shape

    from emergency.geo import service

    service.create_area(db, "990000", "测试市", "city", shape(square(106.0, 29.0, 1.0)))
    service.create_area(db, "990101", "测试区", "district", shape(square(106.4, 29.4, 0.4)),
                        "990000")
    service.create_area(db, "990101001", "测试街道", "street",
                        shape(square(106.45, 29.45, 0.2)), "990101")
    service.create_area(db, "990101001001", "测试社区", "community",
                        shape(square(106.5, 29.5, 0.1)), "990101001")
    service.create_grid(db, "990101001001-01", "第1网格", "990101001001",
                        shape(square(106.5, 29.5, 0.05)))
    service.create_grid(db, "990101001001-02", "第2网格", "990101001001",
                        shape(square(106.55, 29.5, 0.05)))
    db.flush()
    return {"city": "990000", "district": "990101", "street": "990101001",
            "community": "990101001001", "grids": ["990101001001-01", "990101001001-02"]}


def error_of(response):
    """The contract's error body of a response (asserting its shape)."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert re.match(r"^[a-z_]+$", body["error"]["code"])
    return body["error"]


EMERGENCY = str(Path(sys.executable).with_name("emergency"))


def cli_env(url, tmp_path):
    """Environment of a CLI or server subprocess on that database."""
    # JOB_RUNNER=external: a served app starts no worker of its own unless a test asks.
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "subprocess-test",
            "EMERGENCY_DATA_KEY": DATA_KEY, "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "JOB_RUNNER": "external"}


def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url, tmp_path, port, *options, env=None):
    """Start `emergency serve` (in its own process group, with ``env`` added to the
    environment) and wait until it answers."""
    import requests

    proc = subprocess.Popen([EMERGENCY, "serve", "--port", str(port), *options],
                            env={**cli_env(url, tmp_path), **(env or {})},
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("server did not start")
