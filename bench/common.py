"""What the benchmarks share: paths, scratch databases, the CLI and the served app, figures.

Every script in bench/ runs as `.venv/bin/python bench/bench_NAME.py`, so this folder is first
on sys.path and `import common` finds this module; importing it puts the project root on
sys.path too (some benches import helpers from `tests`).

Scratch databases: SpatiaLite files in a folder the bench owns, or PostGIS databases created
and dropped through PG_ADMIN (env BENCH_POSTGRES_URL, an administrator URL whose database is
only used to connect). The served app is `emergency serve` (gunicorn) on 127.0.0.1, in its
own process group so that stopping it stops its workers too.
"""

import asyncio
import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
DATA_KEY = "p4m0XbUvQ2tX4GmBv0n6b8dKq2rV3o1sT9y5zW7xA1c="
EMERGENCY = str(Path(sys.executable).with_name("emergency"))
START_SECONDS = 60


# ---- scratch databases ----------------------------------------------------------------------

def _admin():
    """An engine on PG_ADMIN outside transactions (CREATE/DROP DATABASE cannot run in one)."""
    from sqlalchemy import create_engine

    return create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")


def create_database(backend, folder, label, keep=False, reset=False):
    """A scratch database of the backend: (url, fresh).

    SpatiaLite: the file ``bench-LABEL.sqlite`` in ``folder``; PostGIS: the database
    ``bench_LABEL_PID`` (dashes become underscores). With ``keep`` the PostGIS name ends in
    ``_kept`` instead, and a database an earlier run kept is reused (``fresh`` False) unless
    ``reset``; otherwise any leftover of the same name is replaced by an empty one.
    """
    from sqlalchemy import text

    if backend == "spatialite":
        path = Path(folder) / f"bench-{label}.sqlite"
        fresh = reset or not (keep and path.exists())
        if fresh:
            path.unlink(missing_ok=True)
        return f"sqlite:///{path}", fresh
    name = f"bench_{label.replace('-', '_')}_" + ("kept" if keep else str(os.getpid()))
    admin = _admin()
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name})
            fresh = reset or not (keep and exists)
            if fresh:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name, fresh


def drop_database(url):
    """Drop a scratch PostGIS database (SpatiaLite files go with their folder)."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import text

    admin = _admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def scratch_database(backend, folder, label):
    """The URL of a new scratch database for the ``with`` block, dropped afterwards."""
    url, _fresh = create_database(backend, folder, label)
    try:
        yield url
    finally:
        drop_database(url)


def migrated_engine(url, **options):
    """An engine on the database (``spatial.make_engine`` options), migrated to the head."""
    from emergency import migrate, spatial

    engine = spatial.make_engine(url, **options)
    migrate.upgrade(engine=engine)
    return engine


# ---- the CLI and the served app -------------------------------------------------------------

def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(url, folder, **extra):
    """Environment of a CLI or server subprocess on that database (uploads under folder)."""
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench",
            "EMERGENCY_DATA_KEY": DATA_KEY, "UPLOAD_FOLDER": str(Path(folder) / "uploads"),
            "SPATIALITE_LIBRARY_PATH": os.environ.get("SPATIALITE_LIBRARY_PATH",
                                                      "mod_spatialite"), **extra}


def cli(env, *args):
    """Run an `emergency` command; its standard output."""
    return subprocess.run([EMERGENCY, *args], env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


def _healthy(port):
    """True when the app on that port answers its health call with 200."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/api/v1/health")
            return conn.getresponse().status == 200
        finally:
            conn.close()
    except (OSError, http.client.HTTPException):
        return False


def serve(env, port, *options, log=None):
    """Start `emergency serve` on 127.0.0.1 (own process group) and wait for /api/v1/health.

    ``options`` are more `serve` options (workers, threads, worker class); the server's
    output goes to ``log`` (an open file) or nowhere.
    """
    out = subprocess.DEVNULL if log is None else log
    proc = subprocess.Popen([EMERGENCY, "serve", "--host", "127.0.0.1", "--port", str(port),
                             *options], env=env, stdout=out, stderr=out, cwd=ROOT,
                            start_new_session=True)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stop(proc)
            raise SystemExit(f"the server exited with status {proc.returncode}"
                             + ("; see its log" if log is not None else ""))
        if _healthy(port):
            _settle(proc)
            return proc
        time.sleep(0.2)
    stop(proc)
    raise SystemExit(f"the server did not start within {START_SECONDS} s")


def _settle(proc, window=0.5, busy=0.1, timeout=30):
    """Wait until the server's processes are idle (under ``busy`` of a core over ``window``
    seconds): `emergency serve` answers its health call while the job worker it starts is
    still importing the app (~4 s of CPU), which would be measured with the first requests."""
    deadline = time.monotonic() + timeout
    before = server_cpu(proc.pid)
    while time.monotonic() < deadline:
        time.sleep(window)
        now = server_cpu(proc.pid)
        if now - before < busy * window:
            return
        before = now


def stop(proc, sig=signal.SIGTERM):
    """Stop a process group started here (a server from ``serve``, nginx, a worker): ``sig``
    to the whole group, SIGKILL if it lingers; waits for its leader."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# ---- figures --------------------------------------------------------------------------------

def load_average():
    """The machine's load averages (1, 5, 15 minutes) as text, printed with each figure: the
    machine is shared, and a figure means little without the load it was measured under."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}/{fifteen:.2f} on {os.cpu_count()} cores"


def percentile(sorted_values, q):
    """The q-th percentile (0-100) of sorted values (nearest rank)."""
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def _cpu_of(pid):
    """CPU seconds (user + system) a process has used so far, or 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(master):
    """CPU seconds of a server process and its children so far (gunicorn: master, workers)."""
    pids = [master]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return sum(_cpu_of(pid) for pid in pids)


# ---- load clients ---------------------------------------------------------------------------

class KeepAliveConnection:
    """One keep-alive HTTP/1.1 connection of a load client: sends prebuilt requests, reads the
    status and body, and reopens after any failure or, with ``idle``, once it has been idle
    that many seconds (before the server's keep-alive timeout can race a request)."""

    def __init__(self, host, port, idle=None, timeout=30):
        self.host, self.port, self.idle, self.timeout = host, port, idle, timeout
        self.reader = self.writer = None
        self.last = 0.0

    async def post(self, raw):
        """Send a prebuilt request; returns the status (0 when the exchange failed)."""
        try:
            stale = self.idle is not None and time.perf_counter() - self.last > self.idle
            if self.writer is None or stale:
                self.close()
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.write(raw)
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), self.timeout)
            status, length, keep = int(head[9:12]), 0, True
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    keep = False
            await self.reader.readexactly(length)
            self.last = time.perf_counter()
            if not keep:
                self.close()
            return status
        except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
            self.close()
            return 0

    def close(self):
        """Drop the connection."""
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Streams:
    """``count`` live event streams (GET /api/v1/events) held open during the load, one socket
    each, on one asyncio loop in a thread of its own; counts the events each receives."""

    def __init__(self, port, token, count):
        self.port, self.token, self.count = port, token, count
        self.statuses, self.events = [], [0] * count
        self.ended_early = 0
        self._ready = threading.Event()
        self._thread = None
        self._loop = self._stop = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    def open(self):
        """Open the streams; returns when every one has answered."""
        if self.count:
            self._thread = threading.Thread(target=asyncio.run, args=(self._main(),),
                                            daemon=True)
            self._thread.start()
            if not self._ready.wait(60):
                raise RuntimeError("the event streams did not open")
        return self

    def close(self):
        """Close every stream."""
        if self._thread is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(30)
            self._thread = None

    async def _main(self):
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        opened = [asyncio.Event() for _ in range(self.count)]
        tasks = [asyncio.create_task(self._one(i, opened[i])) for i in range(self.count)]
        for event in opened:
            await event.wait()
        self._ready.set()
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _one(self, i, opened):
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write((f"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                          f"Authorization: Bearer {self.token}\r\n"
                          "Accept: text/event-stream\r\n\r\n").encode())
            status = await reader.readline()
            self.statuses.append(int(status.split()[1]) if status else 0)
            opened.set()
            while line := await reader.readline():
                # One frame per chunk: an event's lines start at line starts.
                if line.startswith(b"id:"):
                    self.events[i] += 1
            self.ended_early += 1  # the server closed it during the load
        except asyncio.CancelledError:
            pass
        except OSError:
            self.statuses.append(0)
        finally:
            opened.set()
            if writer is not None:
                writer.close()
