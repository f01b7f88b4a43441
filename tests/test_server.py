"""Serving: workers warmed up before traffic, write requests' lock-free reads, and the two
gunicorn worker classes."""

import os
import signal

import pytest
import requests
from sqlalchemy import text

from tests.conftest import (
    BACKENDS,
    committed_app,
    drop_database,
    free_port,
    make_database,
    serve,
)

pytestmark = pytest.mark.committing


@pytest.mark.parametrize("backend", BACKENDS)
def test_warm_up_opens_the_pool_and_walks_a_request(backend, tmp_path):
    from emergency.server import warm_up

    with committed_app(backend, tmp_path, "warmup") as app:
        engine = app.extensions["emergency.db"]["engine"]
        try:
            warm_up(app, 3)
        finally:
            import gc

            gc.unfreeze()  # warm_up freezes what a worker loaded; a test process goes on
        assert engine.pool.checkedout() == 0
        assert engine.pool.checkedin() >= 3
        # Every page template is compiled before the worker takes its first request.
        pages = set(app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")))
        assert pages and pages <= {key[1] for key in app.jinja_env.cache.keys()}


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_session_of_a_write_request_leaves_the_write_lock_free(backend, tmp_path):
    from emergency.db import get_session, read_session

    with committed_app(backend, tmp_path, "reader") as app:
        engine = app.extensions["emergency.db"]["engine"]
        with app.test_request_context("/api/v1/hazards", method="POST"):
            session, reader = get_session(), read_session()
            assert read_session() is reader
            assert (reader is session) == (backend == "postgis")
            assert reader.execute(text("SELECT count(*) FROM users")).scalar() == 0
            # Another writer gets in while the request has read (SQLite would otherwise wait
            # out the busy timeout and fail); the request then writes in its own session.
            with engine.begin() as other:
                other.execute(text("DELETE FROM login_attempts"))
            if reader is not session:
                reader.rollback()
            session.execute(text("DELETE FROM login_attempts"))
            session.commit()
        assert engine.pool.checkedout() == 0


def _answers(port, keep_alive_requests):
    """Send requests on one keep-alive connection; which responses closed it."""
    seen = []
    with requests.Session() as http:
        for _ in range(keep_alive_requests):
            response = http.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10)
            assert response.status_code == 200
            seen.append("close" in response.headers.get("Connection", "").lower())
    return seen


@pytest.mark.parametrize("worker_class, closes", [("sync", True), ("gthread", False)])
def test_serve_worker_classes(worker_class, closes, tmp_path):
    """``--worker-class sync`` answers one request per connection even when threads are asked
    for (gunicorn would silently make a threaded sync worker gthread); gthread keeps the
    connection alive. The worker class does not depend on the database: SpatiaLite only."""
    url, engine = make_database("spatialite", tmp_path, "serve")
    engine.dispose()
    port = free_port()
    proc = serve(url, tmp_path, port, "--workers", "2", "--threads", "3", "--worker-class",
                 worker_class)
    try:
        assert _answers(port, 3) == [closes] * 3
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        drop_database(url)


def test_ordinary_requests_wait_for_a_slot_and_streams_pass(tmp_path):
    """The worker's gate: a request beyond ``limit`` waits, and gets 503 with Retry-After
    when no slot frees in time; the events stream never waits; a slot returns when the body
    is closed (a test client's response too), not before."""
    from werkzeug.test import Client

    from emergency.server import OrdinaryRequests

    with committed_app("spatialite", tmp_path, "gate") as app:
        app.wsgi_app = gate = OrdinaryRequests(app, 1, wait_seconds=0.2)
        client = Client(app)
        held = client.get("/api/v1/health")  # its body not closed yet: the one slot is taken
        assert held.status_code == 200
        refused = client.get("/api/v1/areas?limit=1", headers={"Accept-Language": "en"})
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        assert refused.get_json()["error"]["code"] == "unavailable"
        # The stream is not gated: without a token it is refused by its own check (401).
        assert client.get("/api/v1/events").status_code == 401
        held.close()
        answer = client.get("/api/v1/health")
        assert answer.status_code == 200
        answer.close()
        assert gate.slots.acquire(blocking=False)  # every slot back
        gate.slots.release()


def _waiting_requests(app, gate, count):
    """``count`` requests that wait at ``gate`` (its one slot held), in threads as gunicorn
    serves them; returns their gunicorn requests once all were answered."""
    import threading
    import time

    from gunicorn.config import Config
    from gunicorn.http.parser import RequestParser
    from werkzeug.test import Client

    from emergency import server

    held = Client(app).get("/api/v1/health")  # the one slot, until its body is closed
    requests_, statuses = [], []

    def waiting_client():
        req = next(RequestParser(Config(), [b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n"],
                                 ("127.0.0.1", 1)))
        requests_.append(req)
        server._pre_request(None, req)  # as gunicorn does in the serving thread
        response = Client(app).get("/api/v1/health")
        statuses.append(response.status_code)
        response.close()

    threads = []
    for waiting in range(1, count + 1):
        threads.append(threading.Thread(target=waiting_client))
        threads[-1].start()
        deadline = time.monotonic() + 10
        while gate.waiting < waiting and time.monotonic() < deadline:
            time.sleep(0.01)
        assert gate.waiting == waiting
    held.close()
    for thread in threads:
        thread.join(30)
    assert statuses == [200] * count
    assert gate.waiting == 0
    return requests_


def _crowding(other_waiting):
    """Shared counts of two workers: this process, and another (live) one with that many
    requests waiting."""
    from emergency.server import Crowding

    crowding = Crowding(2)
    crowding.join()
    other = 1 - crowding.mine
    crowding.pids[other], crowding.waiting[other] = os.getppid(), other_waiting
    return crowding


def test_a_crowded_worker_closes_the_connection_of_a_waiting_request(tmp_path):
    """More requests waiting at a worker's gate than it serves at once, and another worker
    freer: the one that found it so crowded is answered, then its connection closed (its
    client reconnects, most likely to the freer worker); one that waited in a queue no
    longer than that keeps its connection, and so does the next crowded one within
    ``hand_on_seconds`` (no reconnect storm)."""
    from emergency.server import OrdinaryRequests

    with committed_app("spatialite", tmp_path, "crowded") as app:
        crowding = _crowding(other_waiting=0)
        app.wsgi_app = gate = OrdinaryRequests(app, 1, wait_seconds=30, hand_on_seconds=60,
                                               crowding=crowding)
        first, second, third = _waiting_requests(app, gate, 3)
        assert not first.should_close()  # one waiting: the worker serves it in its turn
        assert second.should_close()  # two waiting for one slot: crowded
        assert not third.should_close()  # crowded too, but one was handed on just now
        assert crowding.waiting[crowding.mine] == 0  # published for the other workers


def test_a_worker_keeps_its_connections_when_every_worker_is_as_crowded(tmp_path):
    """Closing a connection helps only if another worker is freer: when all are as crowded,
    every client keeps its connection (reconnects would only add to the load)."""
    from emergency.server import OrdinaryRequests

    with committed_app("spatialite", tmp_path, "crowded-all") as app:
        app.wsgi_app = gate = OrdinaryRequests(app, 1, wait_seconds=30, hand_on_seconds=0,
                                               crowding=_crowding(other_waiting=5))
        assert not any(req.should_close() for req in _waiting_requests(app, gate, 3))
