"""Against a real `emergency serve`: open streams never take the threads of ordinary requests;
a full worker answers 503 with Retry-After; sync workers serve no streams."""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from shapely.geometry import box
from sqlalchemy.orm import Session

from emergency.auth import service as auth
from emergency.geo import service as geo
from tests.conftest import drop_database, free_port, make_database, serve

STREAMS = 24


def _token(engine):
    with Session(engine) as s:
        s.info["actor"] = "test"
        auth.create_user(s, "streamer", "dispatcher", "correct horse battery")
        token = auth.create_token(s, "streamer", 1)
        s.commit()
    return {"Authorization": f"Bearer {token}"}


def _open(port, headers):
    response = requests.get(f"http://127.0.0.1:{port}/api/v1/events", headers=headers,
                            stream=True, timeout=(5, 60))
    return response


@pytest.mark.long
@pytest.mark.parametrize("worker_class", ["gthread", "sync"])
def test_ordinary_requests_answer_while_streams_are_open(backend, worker_class, tmp_path,
                                                        monkeypatch):
    if worker_class == "sync" and backend != "spatialite":
        pytest.skip("the worker class does not depend on the database")
    url, engine = make_database(backend, tmp_path, "serve_events")
    headers = _token(engine)
    engine.dispose()
    monkeypatch.setenv("EVENTS_MAX_STREAMS_PER_WORKER", str(STREAMS))
    port = free_port()
    # One worker with two threads for ordinary requests: without the stream threads, two
    # streams would already starve it.
    proc = serve(url, tmp_path, port, "--workers", "1", "--threads", "2", "--worker-class",
                 worker_class)
    streams = []
    try:
        if worker_class == "sync":
            refused = _open(port, headers)
            refused.close()
            assert refused.status_code == 503
            assert refused.headers["Retry-After"]
            return
        with ThreadPoolExecutor(8) as pool:
            streams = list(pool.map(lambda _: _open(port, headers), range(STREAMS)))
        assert [r.status_code for r in streams] == [200] * STREAMS
        for response in streams:
            assert next(response.iter_content(chunk_size=None)).startswith(b"retry: 3000")
        refused = _open(port, headers)
        refused.close()
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        for _ in range(10):
            started = time.monotonic()
            answer = requests.get(f"http://127.0.0.1:{port}/api/v1/areas?limit=5",
                                  headers=headers, timeout=10)
            assert answer.status_code == 200
            assert time.monotonic() - started < 2.0
    finally:
        for response in streams:
            response.close()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        drop_database(url)


def _report(port, headers, n):
    body = {"client_id": f"gate-{n:05d}", "category": "flood", "severity": "general",
            "description": "压力测试", "crs": "wgs84",
            "location": {"type": "Point", "coordinates": [106.55 + n * 1e-4, 29.56]}}
    return requests.post(f"http://127.0.0.1:{port}/api/v1/hazards", json=body,
                         headers=headers, timeout=60).status_code


@pytest.mark.long
def test_a_burst_of_writes_does_not_run_on_the_stream_threads(backend, tmp_path, monkeypatch):
    """Ordinary requests never use the stream threads: a burst of reports larger than the
    pool is served, none refused (before, the burst ran on every thread at once and a
    SpatiaLite worker stalled: the request holding the write lock waited for a second pooled
    connection that the requests waiting for that lock held)."""
    if backend != "spatialite":
        pytest.skip("the stall needs SpatiaLite's single write lock; PostGIS requests use "
                    "one connection")
    url, engine = make_database(backend, tmp_path, "serve_burst")
    with Session(engine) as s:
        s.info["actor"] = "test"
        geo.create_area(s, "990000", "测试市", "city", box(106, 29, 107, 30))
        geo.create_area(s, "990101", "测试区", "district", box(106.5, 29.5, 106.6, 29.6),
                        "990000")
        geo.create_grid(s, "990101-001", "测试网格", "990101", box(106.5, 29.5, 106.6, 29.6))
        # Grid staff: the report reads the reporter's grids on the lock-free reader, the
        # request's second connection.
        auth.create_user(s, "burst", "grid_staff", "correct horse battery", ["990101-001"])
        token = auth.create_token(s, "burst", 1)
        s.commit()
    headers = {"Authorization": f"Bearer {token}"}
    # Two ordinary threads and 24 stream threads, a pool of 2 (+2 overflow) connections and
    # a short lock wait, so that a stall would show as refusals within the test.
    port = free_port()
    proc = serve(url, tmp_path, port, "--workers", "1", "--threads", "2",
                 "--worker-class", "gthread",
                 env={"EVENTS_MAX_STREAMS_PER_WORKER": str(STREAMS), "DB_POOL_SIZE": "2",
                      "SQLITE_BUSY_TIMEOUT_MS": "3000"})
    try:
        with ThreadPoolExecutor(STREAMS + 2) as pool:
            statuses = list(pool.map(lambda n: _report(port, headers, n), range(104)))
        assert statuses == [201] * 104
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM hazard_reports "
                                        "WHERE client_id LIKE 'gate-%'").scalar() == 104
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        engine.dispose()
        drop_database(url)
