"""Recommendation benchmark: nearest eligible teams on SpatiaLite and PostGIS.

Run: .venv/bin/python bench/bench_incidents.py [--quick | --full] [--backend spatialite|postgis]
     [--sizes 1000000]

Data: teams spread uniformly over Chongqing's bounding box (10 % of organisations not
approved, 10 % of teams busy or unavailable, categories from common to rare: ``mountain``
40 % … ``diving`` 2 %), ten members per team on average, 85 % of them insured.
For each backend and size it measures, in the same run and on the same database:
- the bare indexed nearest-neighbour query (``emergency.spatial.nearest`` selecting ids
  only: KNN on PostGIS, the index window on SpatiaLite), and
- the service call ``recommend_teams`` (classification, readiness, exact geodesic order),
  in-process, for a common and a rare category, with the ratio service / bare;
- GET /api/v1/incidents/{id}/recommendations over HTTP against ``emergency serve``
  (gunicorn), with 1 and 16 concurrent clients (p50/p95/p99);
- the query plans (no sequential scan of teams may appear).
Default: 10^4 and 10^5 teams (10^6 members). --quick: 10^4 teams only, fewer requests.
--full: adds 10^6 teams (10^7 members is too much for this machine: members stay 10^6).
"""

import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta

import numpy as np
import shapely
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from emergency import migrate, spatial
from emergency.spatial import bulk
from emergency.spatial import nearest as nn

PG_ADMIN = os.environ.get("BENCH_POSTGRES_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
KEY = "p4m0XbUvQ2tX4GmBv0n6b8dKq2rV3o1sT9y5zW7xA1c="
CHONGQING = (105.3, 28.2, 110.2, 32.2)
CATEGORIES = ("mountain", "water", "medical", "building_collapse", "other", "diving")
WEIGHTS = (0.40, 0.25, 0.15, 0.10, 0.08, 0.02)
COMMON, RARE = "mountain", "diving"
MEMBERS_PER_TEAM = 10
MAX_MEMBERS = 1_000_000


def percentiles(samples):
    """p50, p95, p99 in milliseconds."""
    ms = sorted(s * 1000 for s in samples)

    def pick(q):
        """The q-quantile (nearest rank)."""
        return ms[min(len(ms) - 1, int(round(q * (len(ms) - 1))))]

    return pick(0.50), pick(0.95), pick(0.99)


def database(backend, tmp, label):
    """A freshly migrated database: (url, engine, cleanup)."""
    if backend == "spatialite":
        url = f"sqlite:///{tmp}/bench-incidents-{label}.sqlite"
        engine = spatial.make_engine(url, pool_size=4)
        migrate.upgrade(engine=engine)
        return url, engine, engine.dispose
    name = f"bench_incidents_{label}_{os.getpid()}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    engine = spatial.make_engine(url, pool_size=4)
    migrate.upgrade(engine=engine)

    def cleanup():
        """Drop the scratch database this run created."""
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, engine, cleanup


def _plain_rows(session, table, columns, rows):
    """Insert rows without geometry: COPY on PostGIS, executemany on SpatiaLite."""
    conn = session.connection()
    names = ", ".join(columns)
    if spatial.backend_name(session) == "postgis":
        cursor = conn.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.close()
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


def load(engine, teams):
    """Organisations, teams, members and insurance, bulk-loaded; returns load seconds."""
    started = time.perf_counter()
    rng = np.random.default_rng(2026)
    minx, miny, maxx, maxy = CHONGQING
    orgs = max(1, teams // 10)
    now = "2026-01-01T00:00:00+00:00"
    with Session(bind=engine) as session:
        status = rng.choice(["approved", "submitted", "rejected"], orgs, p=[0.9, 0.06, 0.04])
        ox, oy = rng.uniform(minx, maxx, orgs), rng.uniform(miny, maxy, orgs)
        bulk.insert_rows(
            session, "organisations",
            ["name", "credit_code", "contact_name", "contact_phone_enc", "contact_phone_masked",
             "address", "status", "review_note", "submitted_at", "created_at"],
            [(f"org{i}", f"{i:018d}", "x", "x", "138****0000", "", str(status[i]), "", now,
              now) for i in range(orgs)],
            shapely.points(ox, oy), geom_column="location")
        tx, ty = rng.uniform(minx, maxx, teams), rng.uniform(miny, maxy, teams)
        cats = rng.choice(CATEGORIES, teams, p=WEIGHTS)
        tstat = rng.choice(["available", "dispatched", "unavailable"], teams,
                           p=[0.9, 0.07, 0.03])
        radius = rng.integers(30, 101, teams)
        org_of = rng.integers(1, orgs + 1, teams)
        bulk.insert_rows(
            session, "teams",
            ["org_id", "name", "category", "status", "service_radius_km", "created_at",
             "updated_at"],
            [(int(org_of[i]), f"team{i}", str(cats[i]), str(tstat[i]), int(radius[i]), now,
              now) for i in range(teams)],
            shapely.points(tx, ty), geom_column="location")
        members = min(teams * MEMBERS_PER_TEAM, MAX_MEMBERS)
        team_of = rng.integers(1, teams + 1, members)
        _plain_rows(session, "members",
                    ["team_id", "name", "id_number_enc", "id_number_masked", "phone_enc",
                     "phone_masked", "person_hash", "skills", "created_at"],
                    [(int(team_of[i]), "m", "x", "x", "x", "x", f"{i:x}", "[]", now)
                     for i in range(members)])
        insured = np.flatnonzero(rng.random(members) < 0.85) + 1
        start, end = date.today() - timedelta(days=30), date.today() + timedelta(days=300)
        _plain_rows(session, "insurance_policies",
                    ["member_id", "insurer", "policy_number", "starts_on", "ends_on",
                     "coverage_amount", "created_at"],
                    [(int(m), "x", str(m), start, end, 100000, now) for m in insured])
        session.commit()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return time.perf_counter() - started


def sample_points(n, seed=5):
    """Random query points inside the city's box (away from its edge)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = CHONGQING
    return list(zip(rng.uniform(minx + 0.3, maxx - 0.3, n),
                    rng.uniform(miny + 0.3, maxy - 0.3, n), strict=True))


def in_process(engine, category, points):
    """Latencies of the bare nearest query and of the service call, interleaved."""
    from emergency.incidents import service
    from registry.models import RescueTeam

    t = RescueTeam.__table__
    bare, full = [], []
    with Session(bind=engine.execution_options(sqlite_begin="DEFERRED")) as session:
        for lon, lat in points[:5]:  # warm caches and connections
            service.recommend_teams(session, lon, lat, category, 10)
        for lon, lat in points:
            started = time.perf_counter()
            nn.nearest(session, t, lon, lat, [t.c.id], 10, 0, [t.c.category == category])
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = service.recommend_teams(session, lon, lat, category, 10)
            full.append(time.perf_counter() - started)
            assert result["items"], "no recommendation found"
        session.rollback()
    return bare, full


def plans(engine, category):
    """The query plan of the bare nearest query; True when it never scans teams."""
    from registry.models import RescueTeam

    t = RescueTeam.__table__
    lon, lat = 107.0, 30.0
    with Session(bind=engine) as session:
        spatialite = spatial.backend_name(session) == "spatialite"
        deg = nn.degree_distance(session, t.c.location, lon, lat).label("deg")
        where = [t.c.category == category]
        if spatialite:
            where += [nn.window_filter(session, t, t.c.location, lon, lat, 0.4), deg <= 0.4]
        from sqlalchemy import select

        stmt = select(t.c.id, deg).where(*where).order_by(deg).limit(10)
        compiled = stmt.compile(dialect=session.get_bind().dialect)
        params = compiled.params
        if compiled.positional:
            params = tuple(params[name] for name in compiled.positiontup)
        prefix = "EXPLAIN QUERY PLAN " if spatialite else "EXPLAIN "
        rows = session.connection().exec_driver_sql(prefix + str(compiled), params).all()
        session.rollback()
    plan = "\n".join(str(r[-1]) for r in rows)
    scans = ("SCAN teams" in plan) if spatialite else ("Seq Scan on teams" in plan)
    return plan, not scans


def free_port():
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_token(engine):
    """A dispatcher with a token, and incidents at sample points; returns (token, ids)."""
    from emergency import create_app
    from emergency.auth import service as auth

    app = create_app({"DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
                      "SECRET_KEY": "bench", "EMERGENCY_DATA_KEY": KEY})
    ids = []
    with app.app_context():
        from emergency.db import new_session
        from emergency.incidents import service

        session = new_session()
        session.info["actor"] = "bench"
        user = auth.create_user(session, f"bench{os.getpid()}", "dispatcher", "bench pw 123456")
        token = auth.create_token(session, user.username, 1)
        for lon, lat in sample_points(50, seed=9):
            incident = service.create_incident(session, user, "bench", "flood",
                                               shapely.Point(lon, lat),
                                               service.utcnow(), {})
            ids.append(incident.id)
        session.commit()
        session.close()
    app.extensions["emergency.db"]["engine"].dispose()
    return token, ids


def over_http(url, token, incident_ids, category, clients, requests_per_client):
    """Latencies of GET recommendations from ``clients`` threads against gunicorn."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "EMERGENCY_DATA_KEY": KEY,
           "SECRET_KEY": "bench", "DB_POOL_SIZE": "10"}
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "emergency"),
                               "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("server did not start") from None
                time.sleep(0.3)
        latencies, lock = [], threading.Lock()
        headers = {"Authorization": f"Bearer {token}"}

        def client(seed):
            """One keep-alive client issuing requests one after another."""
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine = []
            for i in range(requests_per_client + 3):
                incident = incident_ids[(seed * 7 + i) % len(incident_ids)]
                started = time.perf_counter()
                conn.request("GET", f"/api/v1/incidents/{incident}/recommendations"
                             f"?category={category}&limit=10", headers=headers)
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - started
                if response.status != 200:
                    raise RuntimeError(f"HTTP {response.status}: {body[:200]!r}")
                if i >= 3:  # the first requests of a connection warm the worker
                    mine.append(elapsed)
            conn.close()
            with lock:
                latencies.extend(mine)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return latencies
    finally:
        server.terminate()
        server.wait(30)


def run(backend, teams, requests, tmp):
    """Every measurement for one backend and size; returns result lines."""
    label = f"{teams}"
    url, engine, cleanup = database(backend, tmp, label)
    lines = []
    try:
        seconds = load(engine, teams)
        members = min(teams * MEMBERS_PER_TEAM, MAX_MEMBERS)
        lines.append(f"{backend} teams={teams:,} members={members:,} load={seconds:.1f}s")
        points = sample_points(requests)
        for category in (COMMON, RARE):
            bare, full = in_process(engine, category, points)
            b, f = percentiles(bare), percentiles(full)
            ratio = statistics.median(full) / statistics.median(bare)
            plan, ok = plans(engine, category)
            lines.append(f"  {category:<9} bare p50/p95/p99 {b[0]:.2f}/{b[1]:.2f}/{b[2]:.2f} ms"
                         f" | service {f[0]:.2f}/{f[1]:.2f}/{f[2]:.2f} ms | ratio {ratio:.1f}x"
                         f" | index plan {'ok' if ok else 'FULL SCAN'}")
            if not ok:
                lines.append("    " + plan.replace("\n", "\n    "))
        token, ids = make_token(engine)
        for clients in (1, 16):
            per = max(5, requests // clients) if clients > 1 else requests
            lat = over_http(url, token, ids, COMMON, clients, per)
            p = percentiles(lat)
            lines.append(f"  http {clients:>2} client(s) {len(lat)} requests p50/p95/p99 "
                         f"{p[0]:.1f}/{p[1]:.1f}/{p[2]:.1f} ms")
    finally:
        cleanup()
    return lines


def main(argv=None):
    """Parse options and run the benchmark on each backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 teams, few requests")
    parser.add_argument("--full", action="store_true", help="also 10^6 teams")
    parser.add_argument("--backend", choices=("spatialite", "postgis"), action="append")
    parser.add_argument("--sizes", help="comma-separated team counts, e.g. 1000000")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else [10_000, 100_000]
    if args.full:
        sizes.append(1_000_000)
    if args.sizes:
        sizes = [int(n) for n in args.sizes.split(",")]
    requests = 60 if args.quick else 300
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backend or ["spatialite", "postgis"]:
            for size in sizes:
                for line in run(backend, size, requests, tmp):
                    print(line, flush=True)
                results[(backend, size)] = True
    return 0


if __name__ == "__main__":
    sys.exit(main())
