"""Production serving with gunicorn."""

import ctypes
import gc
import logging
import math
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time

from flask import Flask
from gunicorn.app.base import BaseApplication
from sqlalchemy import text
from werkzeug.wsgi import ClosingIterator

from emergency import config, create_app
from emergency.errors import error_response
from emergency.geo import names

log = logging.getLogger(__name__)


class _Server(BaseApplication):
    """A gunicorn application that builds the Flask app in each worker."""

    def __init__(self, options, app_config=None, ordinary_threads=None):
        self.options = options
        self.app_config = app_config
        self.ordinary_threads = ordinary_threads
        super().__init__()

    def load_config(self):
        """Apply our options to gunicorn's config."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        """Create the app once, in the master before it binds the port (``preload_app``):
        imports, the app and its compiled templates are made before anyone can connect, and
        each worker forks with them (``_post_fork`` gives it its own connections)."""
        app = create_app(self.app_config)
        compile_templates(app)
        try:
            # The first use of everything a request touches (compiled statements, catalogues,
            # the templates' first renders) is paid here once, not by each worker before it
            # accepts; the connection it opens is dropped after the fork (``_post_fork``).
            warm_up(app, 1)
        except Exception:  # a database still starting must not keep the server from starting
            log.exception("warm-up in the master failed; workers warm up on their own")
        # What the master made lives as long as every worker: out of the collectors' reach,
        # and its pages stay shared between the forks (a collection would write to them).
        gc.collect()
        gc.freeze()
        if self.ordinary_threads is not None:
            # Slots for twice the workers: a replaced worker's slot is reused once its
            # process has ended (a worker without a slot just never hands on).
            app.wsgi_app = OrdinaryRequests(app, self.ordinary_threads, crowding=Crowding(
                2 * int(self.options.get("workers", 1))))
        return app


STREAM_PATHS = frozenset({"/api/v1/events"})


class Crowding:
    """How many requests wait at each worker's gate, in memory the workers share (made in the
    master before it forks them), so that a crowded worker hands a connection on only when
    another worker is less crowded: when every worker is busy, closing connections would only
    add reconnects to the load (measured: a load of 50 clients at 100 reports/s that the
    machine could not keep up with got 5 % more CPU per request from them).

    Each worker claims a slot after its fork (``join``): a free one, or one whose process has
    ended (gunicorn replaces workers that die)."""

    def __init__(self, slots):
        self.pids = multiprocessing.RawArray("q", slots)
        self.waiting = multiprocessing.RawArray("i", slots)
        self.lock = multiprocessing.Lock()
        self.mine = None

    def join(self):
        """Claim a slot for this process (without one it never hands a connection on)."""
        pid = os.getpid()
        with self.lock:
            for slot, owner in enumerate(self.pids):
                if owner in (0, pid) or not _alive(owner):
                    self.pids[slot], self.waiting[slot], self.mine = pid, 0, slot
                    return

    def publish(self, waiting):
        """This worker's count of waiting requests, for the others to read."""
        if self.mine is not None:
            self.waiting[self.mine] = waiting

    def freer_elsewhere(self, waiting):
        """True when another worker has at least two requests fewer waiting than ``waiting``."""
        if self.mine is None:
            return False
        return any(slot != self.mine and owner and self.waiting[slot] <= waiting - 2
                   for slot, owner in enumerate(self.pids))


def _alive(pid):
    """True while a process of that id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OrdinaryRequests:
    """WSGI middleware: at most ``limit`` requests other than live event streams inside the
    app at once in this worker.

    A gthread worker has ``threads`` threads for ordinary requests plus one per stream slot,
    and gunicorn hands any connection to any free thread: without this gate a burst of
    ordinary requests would run on the stream threads too, 200 at once, each holding a
    database connection (two for a write on SpatiaLite: the request's and the lock-free
    reader). The pool then runs dry while the SpatiaLite write lock is held by a request
    waiting for its second connection, and every other request waits for that lock: the
    worker stalls until timeouts break it up (measured: a hazard load at 100 reports/s
    stalled within seconds). Gated, at most ``limit`` ordinary requests hold connections
    (2 x ``limit`` <= the pool), the rest wait here holding nothing; a request still waiting
    after ``wait_seconds`` gets 503 with Retry-After.

    It also spreads kept-alive connections over the workers: a request that finds more than
    ``limit`` others waiting has its connection closed after its answer (``Connection:
    close``), so its client's next connection is accepted by whichever worker is freest:
    only while another worker has fewer requests waiting (``crowding``, shared by the
    workers; without it, whenever crowded), at most one connection per ``hand_on_seconds``.
    Without that, 16 clients' connections often sat on one worker (one core, by the GIL)
    while the other idled: recommendation p95 125-150 ms instead of 60-90 ms
    (docs/operations.md, "Serving model").
    """

    def __init__(self, flask_app, limit, wait_seconds=60, hand_on_seconds=0.1, crowding=None):
        self.flask_app = flask_app
        self.inner = flask_app.wsgi_app
        self.limit = max(1, int(limit))
        self.slots = threading.BoundedSemaphore(self.limit)
        self.counting, self.waiting = threading.Lock(), 0
        self.wait_seconds = wait_seconds
        self.hand_on_seconds, self.handed_on = hand_on_seconds, -math.inf
        self.crowding = crowding

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") in STREAM_PATHS:
            return self.inner(environ, start_response)
        if not self.slots.acquire(blocking=False):
            with self.counting:
                self.waiting += 1
                now = time.monotonic()
                hand_on = (self.waiting > self.limit
                           and now - self.handed_on >= self.hand_on_seconds
                           and (self.crowding is None
                                or self.crowding.freer_elsewhere(self.waiting)))
                if hand_on:
                    self.handed_on = now
                if self.crowding is not None:
                    self.crowding.publish(self.waiting)
            if hand_on:
                # More requests wait here than the worker serves at once: answer this one,
                # then close its connection, so the client's next connection goes to
                # whichever worker accepts first (a less crowded one, most likely). A
                # kept-alive connection otherwise stays with the worker that accepted it,
                # however crowded: one worker (one core, by the GIL) served most of a load
                # while the other idled. Only while another worker is less crowded
                # (``Crowding``), and one connection per ``hand_on_seconds`` at most.
                _close_after_response()
            try:
                admitted = self.slots.acquire(timeout=self.wait_seconds)
            finally:
                with self.counting:
                    self.waiting -= 1
                    if self.crowding is not None:
                        self.crowding.publish(self.waiting)
            if not admitted:
                with self.flask_app.request_context(environ):
                    response = error_response(503, "unavailable", "the server is busy; "
                                              "retry shortly")
                    response.headers["Retry-After"] = "5"
                return response(environ, start_response)
        try:
            body = self.inner(environ, start_response)
        except BaseException:
            self.slots.release()
            raise
        # Released when the server closes the body: a streamed download keeps its slot (and
        # its connection) until it is sent.
        return ClosingIterator(body, self.slots.release)


# The gunicorn request each thread is serving (``_pre_request``), so the gate can ask for its
# connection to be closed after the response: gunicorn drops a Connection header an app sets.
_serving = threading.local()


def _pre_request(worker, req):
    """gunicorn hook, in the thread about to serve ``req``."""
    _serving.request = req


def _close_after_response():
    """Close the current request's connection once its response is sent (under gunicorn;
    elsewhere nothing)."""
    req = getattr(_serving, "request", None)
    if req is not None:
        req.must_close = True


def compile_templates(app):
    """Compile every page template into the app's Jinja cache."""
    for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")):
        app.jinja_env.get_template(name)


def warm_up(app, connections):
    """Open the worker's database connections and walk one request through the app before the
    worker takes traffic.

    A cold worker pays for its first connections (SpatiaLite loads its extension on each,
    PostGIS authenticates) and for first-use work in Flask and SQLAlchemy; measured, the first
    report a cold worker stored took 56 ms on SpatiaLite and 128 ms on PostGIS against 6-8 ms
    warm, and a burst of phones arriving at a restarted server set the whole run's p99.
    """
    engine = app.extensions["emergency.db"]["engine"]
    held = []
    try:
        for _ in range(max(1, connections)):
            conn = engine.connect()
            held.append(conn)
            conn.execute(text("SELECT 1"))
            conn.rollback()
    finally:
        for conn in held:
            conn.close()
    client = app.test_client()
    # Each response closed: a worker's app is gated (``OrdinaryRequests``) and a request
    # keeps its slot until its body is closed.
    client.get("/api/v1/health").close()
    # An unknown token walks the bearer-token look-up (401) without touching any account.
    client.get("/api/v1/areas?limit=1", headers={"Authorization": "Bearer em_warm-up"}).close()
    # Every page template compiled once (already done when the master preloaded the app),
    # and a page rendered in each language (the catalogues load on first use): otherwise the
    # first user to open each page after a restart waits for its template to compile
    # (measured 40-50 ms each, several per page).
    compile_templates(app)
    for language in ("zh", "en"):
        client.get(f"/login?lang={language}").close()
    # The pinyin dictionaries the name pickers need, loaded on first use elsewhere (~0.5 s).
    names.initials("重庆")
    # Everything loaded so far (modules, mappers, compiled statements) lives as long as the
    # worker: moved out of the collector's reach, full collections shrink from 100-120 ms
    # (one request in ten under map load) to 12-14 ms.
    gc.collect()
    gc.freeze()


def _post_fork(server, worker):
    """gunicorn hook, in a new worker: claim its slot of the shared crowding counts, and
    forget the master's pooled connections (a connection must never be used on both sides of
    a fork); the worker opens its own in warm-up."""
    app = server.app.callable
    if app is not None:
        gate = app.wsgi_app
        if isinstance(gate, OrdinaryRequests) and gate.crowding is not None:
            gate.crowding.join()
        app.extensions["emergency.db"]["engine"].dispose(close=False)
        replica = app.extensions["emergency.db"].get("replica")
        if replica is not None:
            replica.dispose(close=False)


def _post_worker_init(worker):
    """gunicorn hook: warm the worker up once its app is loaded, before it accepts."""
    try:
        # Connections for the threads of ordinary requests; stream threads hold none.
        streams = worker.wsgi.config["EVENTS_MAX_STREAMS_PER_WORKER"]
        warm_up(worker.wsgi, max(1, worker.cfg.threads - streams))
    except Exception:  # a database still starting must not keep the worker from serving
        log.exception("worker warm-up failed; serving cold")


def stream_slots():
    """EVENTS_MAX_STREAMS_PER_WORKER as the workers will read it (defaults, instance file,
    environment), known before they fork."""
    app = Flask("emergency", instance_relative_config=True)
    config.load(app)
    return app.config["EVENTS_MAX_STREAMS_PER_WORKER"]


def _configured(name):
    """A setting as the workers will read it (defaults, instance file, environment)."""
    app = Flask("emergency", instance_relative_config=True)
    config.load(app)
    return app.config[name]


def _die_with_parent():
    """In the child: end it with SIGTERM when its parent dies (Linux), even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: the parent's finally still stops it
        pass


def start_job_worker():
    """``emergency worker`` as a child process of ``emergency serve`` (JOB_RUNNER=serve), or
    None (JOB_RUNNER=external). A child, not a thread of the gunicorn master, which forks."""
    if _configured("JOB_RUNNER") != "serve":
        return None
    return subprocess.Popen([sys.executable, "-c", "from emergency.cli import main; main()",
                             "worker"], preexec_fn=_die_with_parent)  # noqa: PLW1509


def stop_job_worker(child, timeout=30):
    """Stop the child worker: it finishes its running jobs' current step, or is killed."""
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def run(host, port, workers=2, threads=4, worker_class="gthread"):
    """Serve until interrupted.

    ``gthread`` workers keep connections alive, and each connection stays with the worker
    that accepted it until that worker is crowded (``OrdinaryRequests`` then closes it after
    an answer, and the client reconnects to a freer one); ``sync`` workers take one request
    per connection, whichever worker is free takes the next, so CPU-bound requests are served
    in arrival order (meant behind a buffering proxy; see docs/operations.md).

    Live event streams (``GET /api/v1/events``) hold a thread each for as long as the browser
    stays: a gthread worker gets EVENTS_MAX_STREAMS_PER_WORKER threads on top of ``threads``,
    and refuses streams beyond that many (503, the browser retries), so streams never take
    the ``threads`` that ordinary requests are served by; and ordinary requests never run on
    more than ``threads`` of them at once (``OrdinaryRequests``); a waiting stream blocks on a
    condition, without the GIL. A sync worker would be held by one stream until gunicorn's
    timeout kills it, so sync workers refuse streams.
    """
    app_config = None
    ordinary = threads
    if worker_class == "gthread":
        threads += stream_slots()
    else:
        app_config = {"EVENTS_MAX_STREAMS_PER_WORKER": 0}
    child = start_job_worker()
    try:
        _Server({"bind": f"{host}:{port}", "workers": workers, "threads": threads,
                 "worker_class": worker_class, "timeout": 120, "accesslog": "-",
                 "graceful_timeout": 20, "preload_app": True, "post_fork": _post_fork,
                 "post_worker_init": _post_worker_init, "pre_request": _pre_request},
                app_config, ordinary).run()
    finally:
        stop_job_worker(child)
