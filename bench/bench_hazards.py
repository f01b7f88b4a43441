"""Load test of hazard reporting against the served app (gunicorn), on SpatiaLite and PostGIS.

Posts N reports (default 10,000) from C concurrent clients (default 50); a tenth of them are
sent again, at the same scheduled moment and on a second connection, by the neighbouring
client with the same token (a phone's foreground and background sync racing), so retries are
concurrent. It then checks that exactly N reports are stored (each client_id once), that no
request got a 5xx, and that the server log holds no "database is locked"; prints throughput
(overall and per 10 s window), latency percentiles (all, new reports, retries), where the
requests over 200 ms fell, the CPU used by the server, the load generator and the rest of the
machine during the load, and the ratio to plain single-row inserts of the same rows measured
in the same run (SQLAlchemy Core, one transaction per row, one thread).

    .venv/bin/python bench/bench_hazards.py [--backend spatialite|postgis|both] [--quick]
        [--reports N] [--clients C] [--workers W] [--threads T] [--worker-class sync|gthread]
        [--rate R] [--warmup K] [--streams S]

--rate (default 100 new reports/s) paces the clients together at that offered load (open
loop), the way phones arrive, so latency is measured at a known load (from the scheduled send
time); --rate 0 sends as fast as possible (closed loop: with 50 clients latency is then about
50 / throughput by Little's law, so it measures capacity, not latency; with W x T server
threads that many writers are busy at once).

--warmup K (default 2): right after the server starts, each client first posts K reports of
its own (stored under "warmup-" client_ids, checked and printed apart) so the measured run
meets warm workers; --warmup 0 measures from a cold start.

--streams S (default 0): S live event streams of a dispatcher (GET /api/v1/events) are held
open through the measured run, as open consoles and maps hold them; each must stay open and
receive every report's event (checked and printed), and the latencies then show what open
streams cost the writes.

The load generator is one asyncio loop in one thread with one keep-alive connection per
client and every request prebuilt as bytes (~0.2-0.3 ms of CPU per request, printed), so it
takes little of the two cores it shares with the server. gunicorn defaults here: 2 workers x
4 threads (the recommendation for two cores, see docs/hazards.md).

The server listens on 127.0.0.1 only, on a scratch database that is removed afterwards.
--quick: 1,000 reports from 10 clients at 50/s. Every loop is bounded; a full run of both
backends takes about five minutes on two cores.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

from common import (
    DATA_KEY,
    KeepAliveConnection,
    Streams,
    cli_env,
    create_database,
    drop_database,
    free_port,
    percentile,
    serve,
    server_cpu,
    stop,
)

GRID_SIZE = 0.01
ORIGIN = (106.40, 29.40)
REQUEST_TIMEOUT = 30
WARMUP_PREFIX = "warmup-"


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
        # The streams' reader: a dispatcher sees every report's event.
        auth.create_user(session, "bench-watch", "dispatcher", "bench-password")
        tokens.append(auth.create_token(session, "bench-watch", 1))
        session.commit()
        session.close()
    app.extensions["emergency.db"]["engine"].dispose()
    return tokens


def _payloads(clients, reports, prefix="", seed=7):
    """Report bodies per client, each located inside that client's grid."""
    import random

    rng = random.Random(seed)
    per_client = [[] for _ in range(clients)]
    for n in range(reports):
        i = n % clients
        lon = ORIGIN[0] + (i % 10) * GRID_SIZE + rng.uniform(0.001, GRID_SIZE - 0.001)
        lat = ORIGIN[1] + (i // 10) * GRID_SIZE + rng.uniform(0.001, GRID_SIZE - 0.001)
        per_client[i].append({
            "client_id": prefix + str(uuid.uuid4()), "severity": rng.choice(["major", "general"]),
            "category": rng.choice(["geological", "flood", "fire", "gas", "building"]),
            "description": "基准测试隐患", "crs": "wgs84",
            "location": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]}})
    return per_client


def _request_bytes(port, token, payload):
    """The whole HTTP/1.1 request for one report, built once before the run."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    head = (f"POST /api/v1/hazards HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode() + body


# gunicorn closes a keep-alive connection after 2 s idle; a client reopens before that to never
# race its close (a phone would also reconnect after a pause).
IDLE = 1.5


def _load(port, tokens, per_client, retry_every, rate):
    """Run the clients; returns (records of (start, latency, status, kind), seconds, began).

    One asyncio loop in one thread drives every client (each with its own keep-alive
    connection, requests prebuilt as bytes), so the generator spends little CPU of the two
    cores it shares with the server. With ``rate`` > 0 the clients together offer that many
    new reports per second (open loop, each client on its own schedule) and latency counts
    from the scheduled send time, so a server that falls behind shows it; with 0 every client
    sends as fast as it can. A retry of report k of client j is sent by client i = j - 1 on
    its second connection (the phone's background sync) at the same scheduled moment as the
    original, so the two copies race.
    """

    def connect():
        return KeepAliveConnection("127.0.0.1", port, IDLE, REQUEST_TIMEOUT)
    import asyncio

    clients = len(tokens)
    interval = clients / rate if rate else 0.0
    own = [[_request_bytes(port, tokens[i], p) for p in per_client[i]] for i in range(clients)]
    records = []

    async def run_all():
        loop = asyncio.get_running_loop()
        began = time.perf_counter() + 0.2  # every schedule starts together, after set-up

        def at(i, k):
            return began + interval * (i / clients + k)

        async def sender(conn, jobs):
            # Sequential on one connection: a job waits while the previous one is answered.
            await asyncio.sleep(max(0.0, began - time.perf_counter()))  # start together
            for when, raw, kind in jobs:
                if interval:
                    pause = when - time.perf_counter()
                    if pause > 0:
                        await asyncio.sleep(pause)
                    start = min(when, time.perf_counter())
                else:
                    start = time.perf_counter()
                status = await conn.post(raw)
                records.append((start, time.perf_counter() - start, status, kind))
            conn.close()

        tasks = []
        for i in range(clients):
            j = (i + 1) % clients
            mine = [(at(i, k), raw, "new") for k, raw in enumerate(own[i])]
            retries = [(at(j, k), raw, "retry") for k, raw in enumerate(own[j])
                       if retry_every and k % retry_every == 0]
            if interval:
                tasks.append(loop.create_task(sender(connect(), mine)))
                tasks.append(loop.create_task(sender(connect(), retries)))
            else:
                # As fast as possible: the retry of the neighbour's report k follows our own
                # report k on the same connection, while the neighbour sends the original.
                jobs = []
                for k, job in enumerate(mine):
                    jobs.append(job)
                    if retry_every and k % retry_every == 0 and k < len(own[j]):
                        jobs.append((0.0, own[j][k], "retry"))
                tasks.append(loop.create_task(sender(connect(), jobs)))
        await asyncio.gather(*tasks)
        return began

    began = asyncio.run(run_all())
    return records, time.perf_counter() - began, began


def _plain_inserts(url, per_client):
    """Rows/s of the same reports inserted directly, one transaction per row."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point
    from sqlalchemy import delete, insert, select

    from emergency import spatial
    from emergency.auth.models import User
    from emergency.db import utcnow
    from hazards.models import HazardReport

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
    """(measured reports, their distinct client ids, warm-up reports) in the database."""
    from sqlalchemy import func, select

    from emergency import spatial
    from hazards.models import HazardReport

    engine = spatial.make_engine(url)
    warm = HazardReport.client_id.startswith(WARMUP_PREFIX)
    with engine.connect() as conn:
        total = conn.scalar(select(func.count(HazardReport.id)).where(~warm))
        distinct = conn.scalar(select(func.count(func.distinct(HazardReport.client_id)))
                               .where(~warm))
        warmed = conn.scalar(select(func.count(HazardReport.id)).where(warm))
    engine.dispose()
    return total, distinct, warmed


def _machine_cpu():
    """Busy CPU seconds of the whole machine since boot, all cores together."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def _cpu_sample(master):
    """CPU counters at one moment: generator process, server processes, whole machine."""
    own = os.times()
    return own.user + own.system, server_cpu(master), _machine_cpu(), time.perf_counter()


def run(backend, reports, clients, workers, threads, rate, warmup, worker_class="gthread",
        streams=0):
    """Benchmark one backend; returns True when every acceptance check held."""
    folder = tempfile.mkdtemp(prefix="bench-hazards-")
    url, _fresh = create_database(backend, folder, "hazards")
    env = cli_env(url, folder)
    log_path = Path(folder) / "server.log"
    proc = None
    try:
        *tokens, watcher = _seed(env, clients)
        per_client = _payloads(clients, reports)
        port = free_port()
        with log_path.open("w") as log:
            proc = serve(env, port, "--workers", str(workers), "--threads", str(threads),
                         "--worker-class", worker_class, log=log)
            cold = []
            if warmup:
                # A server that has just started is slow for about a second (each worker
                # opens its database connections, compiles its statements, imports lazily):
                # a few reports per client first, stored under their own client_ids,
                # measured and printed apart, then the measured run on a warm server.
                cold, _s, _b = _load(port, tokens, _payloads(clients, clients * warmup,
                                                             WARMUP_PREFIX, seed=8), 0, 0)
                time.sleep(1)
            with Streams(port, watcher, streams) as watching:
                before = _cpu_sample(proc.pid)
                records, seconds, began = _load(port, tokens, per_client, 10, rate)
                after = _cpu_sample(proc.pid)
                time.sleep(2)  # the last reports' events reach the streams
            stop(proc)
            proc = None
        stored, distinct, warmed = _stored(url)
        plain_rate = _plain_inserts(url, per_client)
    finally:
        if proc is not None:
            stop(proc)
        drop_database(url)
    statuses = Counter(r[2] for r in records)
    latencies = sorted(r[1] * 1000 for r in records)
    # Windows by completion time: what the server achieved, not what was offered.
    windows = Counter(int((r[0] + r[1] - began) // 10) for r in records if r[3] == "new")
    full_windows = [n / 10 for w, n in sorted(windows.items()) if (w + 1) * 10 <= seconds]
    log_text = log_path.read_text(errors="replace")
    locked = log_text.count("database is locked")
    fivexx = sum(n for s, n in (statuses + Counter(r[2] for r in cold)).items()
                 if s >= 500 or s == 0)
    achieved = reports / seconds
    print(f"\n== {backend}: {reports} reports, {len(records)} requests "
          f"({len(records) - reports} concurrent retries), {clients} clients, "
          f"gunicorn {workers} {worker_class} workers x "
          f"{1 if worker_class == 'sync' else threads} threads, "
          f"{f'offered {rate:g} new reports/s' if rate else 'as fast as possible'}, "
          f"{streams} live event streams open")
    print(f"   statuses: {dict(sorted(statuses.items()))}")
    if cold:
        part = sorted(r[1] * 1000 for r in cold)
        print(f"   warm-up right after start, not in the figures below: {len(cold)} reports "
              f"({warmup} per client at once), statuses {dict(Counter(r[2] for r in cold))}, "
              f"p50 {percentile(part, 50):.0f}, p99 {percentile(part, 99):.0f}, "
              f"max {part[-1]:.0f} ms")
    print(f"   stored: {stored} reports, {distinct} distinct client_ids (expected {reports}); "
          f"warm-up reports: {warmed} (expected {len(cold)})")
    print(f"   time {seconds:.1f} s; {achieved:.0f} new reports/s, "
          f"{len(records) / seconds:.0f} requests/s; per 10 s window (new reports/s): "
          f"min {min(full_windows, default=achieved):.0f}, "
          f"max {max(full_windows, default=achieved):.0f}")
    print(f"   latency ms: p50 {percentile(latencies, 50):.1f}, "
          f"p95 {percentile(latencies, 95):.1f}, p99 {percentile(latencies, 99):.1f}, "
          f"max {latencies[-1]:.1f}, mean {statistics.fmean(latencies):.1f}")
    for kind in ("new", "retry"):
        part = sorted(r[1] * 1000 for r in records if r[3] == kind)
        print(f"   {kind:>5}: p50 {percentile(part, 50):.1f}, p95 {percentile(part, 95):.1f}, "
              f"p99 {percentile(part, 99):.1f} ms over {len(part)} requests")
    slow = Counter(int((r[0] - began) // 10) * 10 for r in records if r[1] > 0.2)
    print(f"   requests over 200 ms by 10 s window (start s: count): "
          f"{dict(sorted(slow.items())) or 'none'}")
    generator, server = after[0] - before[0], after[1] - before[1]
    busy, span = after[2] - before[2], (after[3] - before[3]) / 100  # % of one core
    print(f"   CPU during the load, % of one core (the machine has {os.cpu_count()}): machine "
          f"{busy / span:.0f}, server (gunicorn) {server / span:.0f}, load generator "
          f"{generator / span:.0f}, rest (database server, others) "
          f"{(busy - server - generator) / span:.0f}; per request: server "
          f"{server / len(records) * 1000:.1f} ms, generator "
          f"{generator / len(records) * 1000:.2f} ms")
    print(f"   plain single-row inserts: {plain_rate:.0f} rows/s; API/plain = "
          f"{achieved / plain_rate:.3f}")
    print(f"   5xx or failed requests: {fivexx}; 'database is locked' in server log: {locked}")
    streams_ok = True
    if streams:
        # Every stream sees every report's event (each report's hazard.created), warm-up's too.
        expected = reports
        got = sorted(watching.events)
        streams_ok = (watching.statuses == [200] * streams and watching.ended_early == 0
                      and got[0] >= expected)
        print(f"   streams: {streams} opened, statuses {dict(Counter(watching.statuses))}, "
              f"closed by the server during the load {watching.ended_early}; events received "
              f"per stream min {got[0]}, max {got[-1]} (every report's: {expected})")
    ok = stored == distinct == reports and warmed == len(cold) and fivexx == 0 \
        and locked == 0 and set(statuses) | {r[2] for r in cold} <= {200, 201} and streams_ok
    print(f"   {'OK' if ok else 'FAILED'}")
    return ok


def main():
    """Parse options and benchmark the chosen backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="1,000 reports from 10 clients")
    parser.add_argument("--reports", type=int, default=None)
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", choices=["gthread", "sync"], default="gthread",
                        help="gunicorn worker class; sync answers one request per connection "
                        "(the clients then reconnect for every report, as nginx does upstream)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="reports per client sent right after the server starts, before "
                        "the measured run (stored, printed apart); 0 = measure from a cold start")
    parser.add_argument("--rate", type=float, default=100.0,
                        help="new reports/s offered by all clients together (open loop); "
                        "0 = as fast as possible (closed loop)")
    parser.add_argument("--streams", type=int, default=0,
                        help="live event streams (a dispatcher's, seeing every report) held "
                        "open during the measured run; each must receive every report's event")
    args = parser.parse_args()
    reports = args.reports or (1000 if args.quick else 10_000)
    clients = args.clients or (10 if args.quick else 50)
    if not 1 <= clients <= 200 or not clients <= reports <= 1_000_000:
        parser.error("need 1..200 clients and at least one report per client")
    backends = ["spatialite", "postgis"] if args.backend == "both" else [args.backend]
    if not 0 <= args.rate <= 10_000:
        parser.error("--rate must be 0..10000")
    rate = args.rate if not args.quick or args.rate != 100.0 else 50.0
    if not 0 <= args.warmup <= 100:
        parser.error("--warmup must be 0..100")
    results = [run(b, reports, clients, args.workers, args.threads, rate, args.warmup,
                   args.worker_class, args.streams) for b in backends]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
