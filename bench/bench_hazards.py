"""Load test of hazard reporting against the served app (gunicorn), on SpatiaLite and PostGIS.

Posts N reports (default 10,000) from C concurrent clients (default 50); a tenth of them are
sent again at the same moment by a neighbouring client with the same token (a phone's
foreground and background sync racing), so retries are concurrent. It then checks that
exactly N reports are stored (each client_id once), that no request got a 5xx, and that the
server log holds no "database is locked"; prints throughput (overall and per 10 s window),
latency percentiles, and the ratio to plain single-row inserts of the same rows measured in
the same run (SQLAlchemy Core, one transaction per row, one thread).

    .venv/bin/python bench/bench_hazards.py [--backend spatialite|postgis|both] [--quick]
        [--reports N] [--clients C] [--workers W] [--threads T] [--rate R]

--rate (default 100 new reports/s) paces the clients together at that offered load (open
loop), the way phones arrive, so latency is measured at a known load; --rate 0 sends as fast
as possible (closed loop: with 50 clients latency is then about 50 / throughput by Little's
law, so it measures capacity, not latency).

The server listens on 127.0.0.1 only, on a scratch database that is removed afterwards.
--quick: 1,000 reports from 10 clients. Every loop is bounded; a full run of both backends
takes two to four minutes on two cores.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1/postgres")
DATA_KEY = "p4m0XbUvQ2tX4GmBv0n6b8dKq2rV3o1sT9y5zW7xA1c="
GRID_SIZE = 0.01
ORIGIN = (106.40, 29.40)
REQUEST_TIMEOUT = 30


def _free_port():
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _create_database(backend, folder):
    """A scratch database URL for the backend."""
    if backend == "spatialite":
        return f"sqlite:///{folder}/bench-hazards.sqlite"
    from sqlalchemy import create_engine, text

    name = f"bench_hazards_{os.getpid()}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _drop_database(url):
    """Remove a PostGIS scratch database (SpatiaLite files go with the temp folder)."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


def _square(lon, lat, size):
    """A square polygon with its south-west corner at lon/lat."""
    from shapely.geometry import box

    return box(lon, lat, lon + size, lat + size)


def _seed(env, clients):
    """Migrate, then create one grid and one grid staff member (with a token) per client."""
    from emergency import create_app, migrate
    from emergency.auth import service as auth
    from emergency.db import new_session
    from emergency.geo import service as geo

    app = create_app({"DATABASE_URL": env["DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"],
                      "EMERGENCY_DATA_KEY": DATA_KEY, "UPLOAD_FOLDER": env["UPLOAD_FOLDER"]})
    tokens = []
    with app.app_context():
        migrate.upgrade()
        session = new_session()
        session.info["actor"] = "bench"
        lon0, lat0 = ORIGIN
        geo.create_area(session, "990000", "基准市", "city", _square(lon0 - 1, lat0 - 1, 3))
        geo.create_area(session, "990101", "基准区", "district", _square(lon0, lat0, 1),
                        "990000")
        for i in range(clients):
            code = f"990101-{i:03d}"
            lon, lat = lon0 + (i % 10) * GRID_SIZE, lat0 + (i // 10) * GRID_SIZE
            geo.create_grid(session, code, f"网格{i}", "990101", _square(lon, lat, GRID_SIZE))
            auth.create_user(session, f"bench{i:03d}", "grid_staff", "bench-password", [code])
            tokens.append(auth.create_token(session, f"bench{i:03d}", 1))
        session.commit()
        session.close()
    app.extensions["emergency.db"]["engine"].dispose()
    return tokens


def _payloads(clients, reports):
    """Report bodies per client, each located inside that client's grid."""
    import random

    rng = random.Random(7)
    per_client = [[] for _ in range(clients)]
    for n in range(reports):
        i = n % clients
        lon = ORIGIN[0] + (i % 10) * GRID_SIZE + rng.uniform(0.001, GRID_SIZE - 0.001)
        lat = ORIGIN[1] + (i // 10) * GRID_SIZE + rng.uniform(0.001, GRID_SIZE - 0.001)
        per_client[i].append({
            "client_id": str(uuid.uuid4()), "severity": rng.choice(["major", "general"]),
            "category": rng.choice(["geological", "flood", "fire", "gas", "building"]),
            "description": "基准测试隐患", "crs": "wgs84",
            "location": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}})
    return per_client


def _serve(env, port, workers, threads, log):
    """Start `emergency serve` (gunicorn) on 127.0.0.1 and wait until it answers."""
    import requests

    command = [str(Path(sys.executable).parent / "emergency"), "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--threads", str(threads)]
    proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log,
                            cwd=ROOT)
    for _ in range(300):
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).ok:
                return proc
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            raise SystemExit("the server exited; see its log")
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the server did not start within 30 s")


def _load(port, tokens, per_client, retry_every, rate):
    """Run the clients; returns (records of (start, latency, status, kind), seconds, began).

    With ``rate`` > 0 the clients together offer that many new reports per second (open
    loop, each on its own schedule) and latency counts from the scheduled send time, so a
    server that falls behind shows it; with 0 every client sends as fast as it can.
    """
    import requests

    clients = len(tokens)
    url = f"http://127.0.0.1:{port}/api/v1/hazards"
    records, lock = [], threading.Lock()
    barrier = threading.Barrier(clients)

    def client(i):
        session = requests.Session()
        own = {"Authorization": f"Bearer {tokens[i]}"}
        # This thread also resends every retry_every-th report of its neighbour, at the
        # same position in the sequence, so the two copies race each other.
        j = (i + 1) % clients
        neighbour = {"Authorization": f"Bearer {tokens[j]}"}
        work = []
        for k, payload in enumerate(per_client[i]):
            work.append((payload, own, "new"))
            if k < len(per_client[j]) and k % retry_every == 0:
                work.append((per_client[j][k], neighbour, "retry"))
        mine = []
        interval = clients / rate if rate else 0.0
        barrier.wait()
        scheduled = time.perf_counter() + (interval * i / clients)
        for payload, headers, kind in work:
            if interval and kind == "new":
                pause = scheduled - time.perf_counter()
                if pause > 0:
                    time.sleep(min(pause, 60))
                start = min(scheduled, time.perf_counter())
                scheduled += interval
            else:
                start = time.perf_counter()
            try:
                status = session.post(url, json=payload, headers=headers,
                                      timeout=REQUEST_TIMEOUT).status_code
            except requests.RequestException:
                status = 0
            mine.append((start, time.perf_counter() - start, status, kind))
        with lock:
            records.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return records, time.perf_counter() - began, began


def _plain_inserts(url, per_client):
    """Rows/s of the same reports inserted directly, one transaction per row."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point
    from sqlalchemy import delete, insert, select

    from emergency import spatial
    from emergency.auth.models import User
    from emergency.db import utcnow
    from emergency.hazards.models import HazardReport

    engine = spatial.make_engine(url)
    table = HazardReport.__table__
    with engine.begin() as conn:
        reporter = conn.scalar(select(User.id).limit(1))
    rows = []
    for i, payloads in enumerate(per_client):
        for p in payloads:
            now = utcnow()
            lon, lat = p["location"]["coordinates"]
            rows.append({"client_id": "plain-" + p["client_id"], "category": p["category"],
                         "severity": p["severity"], "description": p["description"],
                         "status": "reported", "grid_code": f"990101-{i:03d}",
                         "area_code": "990101", "reporter_id": reporter, "created_at": now,
                         "updated_at": now, "stage_started_at": now, "due_at": now,
                         "geom": from_shape(Point(lon, lat), srid=4326)})
    began = time.perf_counter()
    for row in rows:
        with engine.begin() as conn:
            conn.execute(insert(table), row)
    seconds = time.perf_counter() - began
    with engine.begin() as conn:
        conn.execute(delete(table).where(table.c.client_id.startswith("plain-")))
    engine.dispose()
    return len(rows) / seconds


def _stored(url):
    """(reports, distinct client ids) in the database."""
    from sqlalchemy import func, select

    from emergency import spatial
    from emergency.hazards.models import HazardReport

    engine = spatial.make_engine(url)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count(HazardReport.id)))
        distinct = conn.scalar(select(func.count(func.distinct(HazardReport.client_id))))
    engine.dispose()
    return total, distinct


def _percentile(sorted_values, q):
    """The q-th percentile of sorted values (nearest rank)."""
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def run(backend, reports, clients, workers, threads, rate):
    """Benchmark one backend; returns True when every acceptance check held."""
    folder = tempfile.mkdtemp(prefix="bench-hazards-")
    url = _create_database(backend, folder)
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench-secret", "EMERGENCY_DATA_KEY": DATA_KEY,
           "UPLOAD_FOLDER": f"{folder}/uploads"}
    log_path = Path(folder) / "server.log"
    proc = None
    try:
        tokens = _seed(env, clients)
        per_client = _payloads(clients, reports)
        port = _free_port()
        with log_path.open("w") as log:
            proc = _serve(env, port, workers, threads, log)
            records, seconds, began = _load(port, tokens, per_client, 10, rate)
            proc.terminate()
            proc.wait(30)
            proc = None
        stored, distinct = _stored(url)
        plain_rate = _plain_inserts(url, per_client)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    statuses = Counter(r[2] for r in records)
    latencies = sorted(r[1] * 1000 for r in records)
    # Windows by completion time: what the server achieved, not what was offered.
    windows = Counter(int((r[0] + r[1] - began) // 10) for r in records if r[3] == "new")
    full_windows = [n / 10 for w, n in sorted(windows.items()) if (w + 1) * 10 <= seconds]
    log_text = log_path.read_text(errors="replace")
    locked = log_text.count("database is locked")
    fivexx = sum(n for s, n in statuses.items() if s >= 500 or s == 0)
    achieved = reports / seconds
    print(f"\n== {backend}: {reports} reports, {len(records)} requests "
          f"({len(records) - reports} concurrent retries), {clients} clients, "
          f"gunicorn {workers} workers x {threads} threads, "
          f"{f'offered {rate:g} new reports/s' if rate else 'as fast as possible'}")
    print(f"   statuses: {dict(sorted(statuses.items()))}")
    print(f"   stored: {stored} reports, {distinct} distinct client_ids (expected {reports})")
    print(f"   time {seconds:.1f} s; {achieved:.0f} new reports/s, "
          f"{len(records) / seconds:.0f} requests/s; per 10 s window (new reports/s): "
          f"min {min(full_windows, default=achieved):.0f}, "
          f"max {max(full_windows, default=achieved):.0f}")
    print(f"   latency ms: p50 {_percentile(latencies, 50):.1f}, "
          f"p95 {_percentile(latencies, 95):.1f}, p99 {_percentile(latencies, 99):.1f}, "
          f"max {latencies[-1]:.1f}, mean {statistics.fmean(latencies):.1f}")
    print(f"   plain single-row inserts: {plain_rate:.0f} rows/s; API/plain = "
          f"{achieved / plain_rate:.3f}")
    print(f"   5xx or failed requests: {fivexx}; 'database is locked' in server log: {locked}")
    ok = stored == distinct == reports and fivexx == 0 and locked == 0 \
        and set(statuses) <= {200, 201}
    print(f"   {'OK' if ok else 'FAILED'}")
    _drop_database(url)
    return ok


def main():
    """Parse options and benchmark the chosen backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="1,000 reports from 10 clients")
    parser.add_argument("--reports", type=int, default=None)
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rate", type=float, default=100.0,
                        help="new reports/s offered by all clients together (open loop); "
                        "0 = as fast as possible (closed loop)")
    args = parser.parse_args()
    reports = args.reports or (1000 if args.quick else 10_000)
    clients = args.clients or (10 if args.quick else 50)
    if not 1 <= clients <= 200 or not clients <= reports <= 1_000_000:
        parser.error("need 1..200 clients and at least one report per client")
    backends = ["spatialite", "postgis"] if args.backend == "both" else [args.backend]
    if not 0 <= args.rate <= 10_000:
        parser.error("--rate must be 0..10000")
    rate = args.rate if not args.quick or args.rate != 100.0 else 50.0
    results = [run(b, reports, clients, args.workers, args.threads, rate) for b in backends]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
