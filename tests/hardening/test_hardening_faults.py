"""Faults: a killed import leaves nothing and can be retried; a killed server loses no
acknowledged write; a database connection that vanishes gives 503 and then recovers."""

import json
import os
import signal
import subprocess
import threading
import time

import pytest
import requests
from sqlalchemy import create_engine, func, select, text

from emergency import create_app
from emergency.auth import service as auth_service
from emergency.geo.models import Area
from tests.conftest import (
    EMERGENCY,
    PG_ADMIN_URL,
    app_config,
    cli_env,
    drop_database,
    free_port,
    make_database,
    serve,
)

pytestmark = pytest.mark.committing


def _area_file(path, count):
    """A GeoJSON file of ``count`` small provinces (codes F00000..)."""
    features = []
    for i in range(count):
        x, y = 100 + (i % 200) * 0.01, 20 + (i // 200) * 0.01
        ring = [[x, y], [x + 0.009, y], [x + 0.009, y + 0.009], [x, y + 0.009], [x, y]]
        features.append({"type": "Feature", "properties": {"code": f"{900000 + i}",
                                                           "name": f"测试{i}"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _count_areas(engine):
    """How many areas are stored."""
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Area))


@pytest.mark.long
def test_import_killed_midway_leaves_nothing_and_can_be_retried(backend, tmp_path):
    url, engine = make_database(backend, tmp_path, "fault_import")
    try:
        source = _area_file(tmp_path / "areas.geojson", 900)
        args = [EMERGENCY, "areas", "import", str(source), "--level", "province"]
        proc = subprocess.Popen(args, env=cli_env(url, tmp_path), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        # Wait until the import loop reports progress, then kill the process outright.
        seen = b""
        deadline = time.monotonic() + 120
        while b"areas:" not in seen and time.monotonic() < deadline:
            chunk = proc.stderr.read1(256) if hasattr(proc.stderr, "read1") else b""
            if not chunk and proc.poll() is not None:
                break
            seen += chunk
        assert proc.poll() is None, f"import ended before it could be killed: {seen[-500:]}"
        time.sleep(0.5)
        proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
        proc.stdout.close()
        assert _count_areas(engine) == 0
        # The retry imports everything exactly once.
        done = subprocess.run(args, env=cli_env(url, tmp_path), capture_output=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert _count_areas(engine) == 900
    finally:
        engine.dispose()
        drop_database(url)


def test_server_killed_under_load_loses_no_acknowledged_write(backend, tmp_path):
    url, engine = make_database(backend, tmp_path, "fault_serve")
    app = create_app(app_config(url, tmp_path))
    with app.app_context():
        from emergency.db import new_session

        session = new_session()
        auth_service.create_user(session, "loader", "admin", "correct horse battery")
        token = auth_service.create_token(session, "loader", 1)
        session.commit()
        session.close()
    headers = {"Authorization": f"Bearer {token}"}
    port = free_port()
    acknowledged, lock, stop = [], threading.Lock(), threading.Event()

    def writer(n):
        """Create areas until told to stop; remember every 201."""
        for i in range(400):
            if stop.is_set():
                return
            code = f"{800000 + n * 1000 + i}"
            ring = [[106, 29], [106.001, 29], [106.001, 29.001], [106, 29]]
            try:
                r = requests.post(f"http://127.0.0.1:{port}/api/v1/areas", headers=headers,
                                  timeout=10, json={"code": code, "name": code,
                                                    "level": "province",
                                                    "geometry": {"type": "Polygon",
                                                                 "coordinates": [ring]}})
            except requests.RequestException:
                time.sleep(0.05)
                continue
            if r.status_code == 201:
                with lock:
                    acknowledged.append(code)

    server = serve(url, tmp_path, port, "--workers", "2", "--threads", "4")
    try:
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 40 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.killpg(server.pid, signal.SIGKILL)  # no graceful shutdown at all
        server.wait(timeout=30)
        before_restart = len(acknowledged)
        server = serve(url, tmp_path, port, "--workers", "2", "--threads", "4")
        deadline = time.monotonic() + 30
        while len(acknowledged) < before_restart + 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join(timeout=60)
    finally:
        stop.set()
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    assert before_restart >= 40 and len(acknowledged) > before_restart
    with engine.connect() as conn:
        stored = set(conn.scalars(select(Area.code)))
    assert not set(acknowledged) - stored
    engine.dispose()
    drop_database(url)


def test_database_connections_killed_give_503_then_recover(backend, tmp_path):
    if backend != "postgis":
        pytest.skip("SpatiaLite is a local file: there is no server connection to lose")
    url, engine = make_database(backend, tmp_path, "fault_db")
    engine.dispose()
    app = create_app(app_config(url, tmp_path))
    with app.app_context():
        from emergency.db import new_session

        session = new_session()
        auth_service.create_user(session, "watcher", "auditor", "correct horse battery")
        token = auth_service.create_token(session, "watcher", 1)
        session.commit()
        session.close()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/areas", headers=headers).status_code == 200
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            killed = conn.scalar(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :db AND pid <> pg_backend_pid()"),
                {"db": url.rsplit("/", 1)[1]})
        assert killed >= 1
        first = client.get("/api/v1/areas", headers=headers)
        assert first.status_code in (200, 503)
        if first.status_code == 503:
            assert first.get_json()["error"]["code"] == "unavailable"
        assert client.get("/api/v1/areas", headers=headers).status_code == 200
        assert client.get("/api/v1/health").status_code == 200
    finally:
        admin.dispose()
        app.extensions["emergency.db"]["engine"].dispose()
        drop_database(url)


def _wait_for(proc, marker, seconds=180):
    """Read the process's stderr until ``marker`` shows; returns what was read."""
    seen = b""
    deadline = time.monotonic() + seconds
    while marker not in seen and time.monotonic() < deadline:
        chunk = proc.stderr.read1(256)
        if not chunk and proc.poll() is not None:
            break
        seen += chunk
    return seen


@pytest.mark.long
def test_assessment_killed_midway_leaves_no_cells_and_can_be_retried(backend, tmp_path):
    from risk.models import RiskAssessment, RiskCell
    from tests.risk.risk_factories import collection, rect

    url, engine = make_database(backend, tmp_path, "fault_risk")
    try:
        env = cli_env(url, tmp_path)
        area = collection([(rect(0, 0, 30_000, 30_000), {"code": "880000", "name": "测试市"})])
        (tmp_path / "area.geojson").write_text(json.dumps(area))
        subprocess.run([EMERGENCY, "areas", "import", str(tmp_path / "area.geojson"),
                        "--level", "city"], env=env, check=True, capture_output=True)
        layer = collection([(rect(0, 0, 15_000, 30_000), {"value": 0.9}),
                            (rect(15_000, 0, 30_000, 30_000), {"value": 0.2})])
        (tmp_path / "hazard.geojson").write_text(json.dumps(layer))
        subprocess.run([EMERGENCY, "risk", "import", str(tmp_path / "hazard.geojson"),
                        "--name", "slopes", "--role", "hazard", "--value-field", "value"],
                       env=env, check=True, capture_output=True)
        layer_id = 1
        # 100 m cells over 30 km × 30 km: 90,000 cells, long enough to be killed midway.
        args = [EMERGENCY, "risk", "run", "--area", "880000", "--cell-size", "100",
                "--layer", f"{layer_id}"]
        proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen = _wait_for(proc, b"assessment:")
        assert proc.poll() is None, f"run ended before it could be killed: {seen[-500:]}"
        time.sleep(1.0)
        proc.kill()
        proc.wait(timeout=30)
        proc.stderr.close()
        proc.stdout.close()
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(RiskCell)) == 0
            statuses = list(conn.scalars(select(RiskAssessment.status)))
        assert "done" not in statuses
        retry = [EMERGENCY, "risk", "run", "--area", "880000", "--cell-size", "1000",
                 "--layer", f"{layer_id}"]
        done = subprocess.run(retry, env=env, capture_output=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(RiskCell)) > 0
            assert "done" in set(conn.scalars(select(RiskAssessment.status)))
    finally:
        engine.dispose()
        drop_database(url)
