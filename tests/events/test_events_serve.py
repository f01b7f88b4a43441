"""Against a real `emergency serve`: open streams never take the threads of ordinary requests;
a full worker answers 503 with Retry-After; sync workers serve no streams."""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy.orm import Session

from emergency.auth import service as auth
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
