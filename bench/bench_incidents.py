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
  (gunicorn), with 1 and 16 concurrent clients (p50/p95/p99), for each server set-up of
  --servers: ``sync:3x1`` (sync workers, one connection per request, as gunicorn sees
  clients behind nginx) and ``gthread:2x2`` (keep-alive clients straight at gthread workers);
- the query plans (no sequential scan of teams may appear).
Default: 10^4 and 10^5 teams (10^6 members). --quick: 10^4 teams only, fewer requests.
--full: adds 10^6 teams (10^7 members, so every size has the same mix of teams).
"""

import argparse
import contextlib
import importlib.util
import os
import re
import selectors
import socket
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

import numpy as np
import shapely
from common import (
    DATA_KEY,
    ROOT,
    Streams,
    cli_env,
    create_database,
    drop_database,
    free_port,
    load_average,
    migrated_engine,
    percentile,
    serve,
    server_cpu,
    stop,
)
from sqlalchemy import text
from sqlalchemy.orm import Session

from emergency import spatial
from emergency.spatial import bulk
from emergency.spatial import nearest as nn

CHONGQING = (105.3, 28.2, 110.2, 32.2)
CATEGORIES = ("mountain", "water", "medical", "building_collapse", "other", "diving")
WEIGHTS = (0.40, 0.25, 0.15, 0.10, 0.08, 0.02)
COMMON, RARE = "mountain", "diving"
MEMBERS_PER_TEAM = 10
# gunicorn set-ups measured, as worker-class:WORKERSxTHREADS (see docs/incidents.md).
SERVERS = "sync:3x1,gthread:2x2,gthread:2x4"


def percentiles(samples):
    """p50, p95, p99 in milliseconds."""
    ms = sorted(s * 1000 for s in samples)
    return percentile(ms, 50), percentile(ms, 95), percentile(ms, 99)


def database(backend, tmp, teams, keep, reset=False):
    """The migrated database of a size: (url, engine, fresh).

    With ``keep`` it has a fixed name (a file under ``tmp`` on SpatiaLite), is not dropped
    afterwards and is reused by the next run (``fresh`` is then False, and only new
    migrations are applied); ``reset`` starts it afresh all the same.
    """
    url, fresh = create_database(backend, tmp, f"incidents-{teams}", keep, reset)
    return url, migrated_engine(url, pool_size=4), fresh


def loaded(engine):
    """How many teams and members a (kept) database holds."""
    with engine.connect() as conn:
        return (conn.scalar(text("SELECT count(*) FROM teams")),
                conn.scalar(text("SELECT count(*) FROM members")))


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
    # The DB-API cursor takes an iterator of rows (SQLAlchemy's executemany wants a list).
    cursor = conn.connection.driver_connection.cursor()
    cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
    cursor.close()


def _migration_0008():
    """Migration 0008 (the team readiness summary) as a module, loaded from its file."""
    path = os.path.join(ROOT, "migrations", "versions", "0008_team_readiness.py")
    spec = importlib.util.spec_from_file_location("migration_0008", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def _readiness_kept_once(session):
    """Bulk-load members and policies with the readiness summary computed once at the end.

    PostgreSQL's readiness triggers are statement-level: one COPY per table fires them once,
    set-based, so nothing changes there. SQLite's are row-level (163 us per policy on this
    machine: hours for 10^7 members), so they are dropped inside the load's transaction and
    recreated from their stored definitions, and the summary is computed with migration
    0008's own set-based statement; a failed load rolls all of it back.
    """
    conn = session.connection()
    if spatial.backend_name(session) == "postgis":
        yield
        return
    conn.exec_driver_sql("PRAGMA cache_size = -1048576")  # 1 GiB for the index inserts
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE "
        "'%readiness%' AND tbl_name IN ('members', 'insurance_policies')").all()
    for name, _sql in triggers:
        conn.exec_driver_sql(f"DROP TRIGGER {name}")
    yield
    migration = _migration_0008()
    summary = migration._SUMMARY.format(where="1", **migration._LITE)
    conn.exec_driver_sql(
        f"UPDATE teams SET member_count = s.members, insured_members = s.insured, "
        f"insured_from = s.since, insured_until = s.until FROM ({summary}) AS s "
        f"WHERE teams.id = s.team_id")
    for _name, sql in triggers:
        conn.exec_driver_sql(sql)


def check_readiness(engine, sample=200):
    """The stored readiness of random teams equals the live count (the load is right)."""
    from registry.service import team_readiness

    with Session(bind=engine) as session:
        ids = session.scalars(text(f"SELECT id FROM teams ORDER BY random() LIMIT {sample}"))
        ids = list(ids)
        live = team_readiness(session, ids)
        rows = session.execute(text(
            "SELECT id, member_count, insured_members FROM teams WHERE id IN "
            f"({', '.join(str(i) for i in ids)})")).all()
        stored = {r.id: (r.member_count, r.insured_members) for r in rows}
        wrong = [i for i in ids
                 if stored[i] != (live[i]["members"], live[i]["insured_members"])]
        if wrong:
            raise AssertionError(f"stored readiness differs from the live count: {wrong[:5]}")


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
        session.commit()
        # Ten members per team on average at every size, so each size has the same mix of
        # teams (readiness, eligibility) and only the count differs. Written team by team,
        # as roster imports are.
        members = teams * MEMBERS_PER_TEAM
        per_team = np.bincount(rng.integers(0, teams, members), minlength=teams)
        team_of = np.repeat(np.arange(1, teams + 1), per_team)
        insured = np.flatnonzero(rng.random(members) < 0.85) + 1
        start, end = date.today() - timedelta(days=30), date.today() + timedelta(days=300)
        with _readiness_kept_once(session):
            _plain_rows(session, "members",
                        ["team_id", "name", "id_number_enc", "id_number_masked", "phone_enc",
                         "phone_masked", "person_hash", "skills", "created_at"],
                        ((int(team_of[i]), "m", "x", "x", "x", "x", f"{i:x}", "[]", now)
                         for i in range(members)))
            _plain_rows(session, "insurance_policies",
                        ["member_id", "insurer", "policy_number", "starts_on", "ends_on",
                         "coverage_amount", "created_at"],
                        ((int(m), "x", str(m), start, end, 100000, now) for m in insured))
        session.commit()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # The readiness triggers updated each team once per chunk: compact the table
            # and its indexes, as routine maintenance would, so dead versions don't count.
            conn.commit()
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM (FULL) teams"))
        conn.execute(text("ANALYZE"))
        conn.commit()
    return time.perf_counter() - started


def sample_points(n, seed=5):
    """Random query points inside the city's box (away from its edge)."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = CHONGQING
    return list(zip(rng.uniform(minx + 0.3, maxx - 0.3, n),
                    rng.uniform(miny + 0.3, maxy - 0.3, n), strict=True))


def bare_query():
    """The bare indexed nearest-neighbour query the service is compared with.

    The k nearest teams of one category, ids and planar distances only, through the same
    seam and the same kind of cached statement as the service (``nearest.Nearest``,
    without per-row columns): ``... WHERE category = ? ORDER BY location <-> point LIMIT k``
    on PostGIS, the growing ``SpatialIndex`` window on SpatiaLite.
    """
    from sqlalchemy import bindparam

    from registry.models import RescueTeam

    t = RescueTeam.__table__
    query = nn.Nearest(t, [t.c.id], [t.c.category == bindparam("category")],
                       late_columns=False)
    window = {}

    def bare(session, lon, lat, k, category):
        """The k nearest ids; the SpatiaLite window starts where the last search ended
        (1.2 × its k-th distance), as the service's does."""
        rows = query(session, lon, lat, k, 0, window.get(category, nn.START_DEG),
                     {"category": category})
        if rows:
            window[category] = max(rows[-1].deg * 1.2, nn.MIN_DEG)
        return rows

    bare.query = query
    return bare


def in_process(engine, category, points):
    """Latencies of the bare nearest query and of the service call, interleaved."""
    from incidents import service

    bare_nearest = bare_query()
    bare, full, stats = [], [], {}
    with Session(bind=engine.execution_options(sqlite_begin="DEFERRED")) as session:
        for lon, lat in points[:5]:  # warm caches and connections
            service.recommend_teams(session, lon, lat, category, 10)
            bare_nearest(session, lon, lat, 10, category)
        for lon, lat in points:
            started = time.perf_counter()
            bare_nearest(session, lon, lat, 10, category)
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = service.recommend_teams(session, lon, lat, category, 10, stats=stats)
            full.append(time.perf_counter() - started)
            assert result["items"], "no recommendation found"
        session.rollback()
    return bare, full, {k: v / len(points) for k, v in stats.items()}


# Plan lines that mean a table is read in full (SQLite: "SCAN t" without an index search;
# PostgreSQL: a sequential scan).
TABLES = ("teams", "organisations", "members", "insurance_policies")


def plans(engine, category):
    """The query plans of the bare query and of the service's query; True when neither
    scans a table in full (the subqueries that count members and policies included)."""
    from incidents import service

    lon, lat = 107.0, 30.0
    values = {"category": category, "today": date.today(), "nn_lon": lon, "nn_lat": lat,
              "nn_limit": 20, "nn_offset": 0, "nn_half": 0.4}
    out, ok = [], True
    with Session(bind=engine) as session:
        spatialite = spatial.backend_name(session) == "spatialite"
        dialect = session.get_bind().dialect
        search = service._CANDIDATES[True]
        for label, stmt in (("bare", bare_query().query._statement(spatialite, True)),
                            ("service", search.query._statement(spatialite, True)),
                            ("largest radius (cached a minute)", search.reach)):
            compiled = stmt.compile(dialect=dialect)
            params = compiled.construct_params(values)
            if compiled.positional:
                params = tuple(params[name] for name in compiled.positiontup)
            prefix = "EXPLAIN QUERY PLAN " if spatialite else "EXPLAIN "
            rows = session.connection().exec_driver_sql(prefix + str(compiled), params).all()
            plan = "\n".join(str(r[-1]) for r in rows)
            for line in plan.splitlines():
                words = line.replace("->", "").split()
                if spatialite:
                    bad = len(words) >= 2 and words[0] == "SCAN" and words[1] in TABLES
                else:
                    bad = "Seq Scan on" in line and any(f" {t} " in f"{line} " for t in TABLES)
                ok = ok and not bad
            out.append(f"{label}:\n{plan}")
        session.rollback()
    return "\n".join(out), ok


def warm_cache(engine):
    """Bring a reused database into the OS page cache before measuring.

    A database loaded in this run is in the cache already; a kept one may have been pushed
    out by other loads, and a cold 10^6-team file made the first measured calls read from
    disk (SpatiaLite 10^6 ran 2.7x slower than 10^4 cold, 1.15x warm). A serving database's
    working set stays cached, so both sizes are measured warm: SQLite's file is read through
    once, PostgreSQL's tables and indexes are read with pg_prewarm.
    """
    if engine.dialect.name == "sqlite":
        with open(engine.url.database, "rb") as f:
            while f.read(1 << 24):
                pass
        return
    with engine.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_prewarm"))
        conn.execute(text(
            "SELECT pg_prewarm(c.oid, 'read') FROM pg_class c "
            "LEFT JOIN pg_index i ON i.indexrelid = c.oid "
            "WHERE c.relkind IN ('r', 'i') AND coalesce(i.indrelid, c.oid) IN "
            "(SELECT oid FROM pg_class WHERE relname IN "
            "('teams', 'organisations', 'members', 'insurance_policies'))"))
        conn.commit()


def make_token(engine):
    """A dispatcher with a token, and incidents at sample points; returns (token, ids)."""
    from emergency import create_app
    from emergency.auth import service as auth

    app = create_app({"DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
                      "SECRET_KEY": "bench", "EMERGENCY_DATA_KEY": DATA_KEY})
    ids = []
    with app.app_context():
        from emergency.db import new_session
        from incidents import service

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


def over_http(port, token, paths, clients, requests_per_client, warm=3, keep_alive=True):
    """Latencies of GETs from ``clients`` concurrent clients, driven by one thread.

    A lean load generator: one ``selectors`` loop, requests pre-encoded as bytes, responses
    parsed only for the status and Content-Length. Each client sends its next request as
    soon as the previous answer is complete (closed loop); the first ``warm`` answers of
    each client are not counted. With ``keep_alive`` a client keeps one connection; without,
    it opens a new one for every request (its clock starts before the connect), as nginx
    does towards its upstream by default. A response saying ``Connection: close`` ends a kept
    connection and the client's next request opens a new one (counted in its latency).
    Returns (latencies, client CPU seconds, wall seconds, connections the server ended).
    """
    close = b"" if keep_alive else b"Connection: close\r\n"
    requests = [(f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 f"Authorization: Bearer {token}\r\n").encode() + close + b"\r\n"
                for p in paths]
    selector = selectors.DefaultSelector()
    latencies = []
    conns = []
    cpu0, wall0 = time.process_time(), time.perf_counter()

    def connect(state):
        """Open the client's connection and watch it."""
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        state["sock"] = sock
        selector.register(sock, selectors.EVENT_READ, state)

    def send(state):
        """Send the client's next request (on a new connection unless kept alive)."""
        request = requests[(state["n"] * 7 + state["i"]) % len(requests)]
        state["t"] = time.perf_counter()
        if state["sock"] is None:
            connect(state)
        state["sock"].sendall(request)

    for n in range(clients):
        state = {"sock": None, "n": n, "i": 0, "buf": bytearray(), "need": None, "t": 0.0,
                 "closing": False, "reconnects": 0}
        conns.append(state)
        if keep_alive:
            connect(state)
    todo = clients * (requests_per_client + warm)
    for state in conns:
        send(state)
    while todo:
        for key, _ in selector.select(60):
            state = key.data
            chunk = state["sock"].recv(262144)
            if not chunk:
                raise RuntimeError("server closed the connection")
            buf = state["buf"]
            buf += chunk
            if state["need"] is None:
                head_end = buf.find(b"\r\n\r\n")
                if head_end < 0:
                    continue
                head = bytes(buf[:head_end]).lower()
                status = int(head[9:12])
                at = head.find(b"\r\ncontent-length:")
                if status != 200 or at < 0:
                    raise RuntimeError(f"HTTP {status}: {bytes(buf[:300])!r}")
                state["need"] = head_end + 4 + int(head[at + 17:head.find(b"\r\n", at + 2)])
                # The server may end a kept-alive connection (a crowded worker does, so the
                # client reconnects to a freer one): as any HTTP client, reconnect.
                state["closing"] = b"\r\nconnection: close" in head
            if len(buf) < state["need"]:
                continue
            elapsed = time.perf_counter() - state["t"]
            del buf[:state["need"]]
            state["need"] = None
            if state["i"] >= warm:
                latencies.append(elapsed)
            state["i"] += 1
            todo -= 1
            last = state["i"] >= requests_per_client + warm
            if last or not keep_alive or state["closing"]:
                if keep_alive and not last:
                    state["reconnects"] += 1
                selector.unregister(state["sock"])
                state["sock"].close()
                state["sock"] = None
            if not last:
                send(state)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    selector.close()
    return latencies, cpu, wall, sum(state["reconnects"] for state in conns)


def run(backend, teams, args, tmp):
    """Every measurement for one backend and size; yields result lines."""
    keep = bool(args.keep)
    url, engine, fresh = database(backend, tmp, teams, keep)
    if not fresh and loaded(engine) != (teams, teams * MEMBERS_PER_TEAM):  # a partial load
        engine.dispose()
        url, engine, fresh = database(backend, tmp, teams, keep, reset=True)
    try:
        if fresh:
            seconds = load(engine, teams)
            check_readiness(engine)
            how = f"load={seconds:.1f}s"
        else:
            warm_cache(engine)
            how = "reused, read into the page cache"
        members = teams * MEMBERS_PER_TEAM
        yield f"{backend} teams={teams:,} members={members:,} {how}"
        points = sample_points(args.requests)
        if "inproc" in args.parts:
            for category in (COMMON, RARE):
                bare, full, stats = in_process(engine, category, points)
                b, f = percentiles(bare), percentiles(full)
                ratio = statistics.median(full) / statistics.median(bare)
                plan, ok = plans(engine, category)
                yield (f"  {category:<9} bare p50/p95/p99 {b[0]:.2f}/{b[1]:.2f}/{b[2]:.2f} ms"
                       f" | service {f[0]:.2f}/{f[1]:.2f}/{f[2]:.2f} ms | ratio {ratio:.1f}x"
                       f" | index plan {'ok' if ok else 'FULL SCAN'} | service read "
                       f"{stats['rows']:.0f} rows in {stats['batches']:.2f} batches per call")
                if not ok or args.show_plans:
                    yield "    " + plan.replace("\n", "\n    ")
        if "http" not in args.parts:
            return
        token, ids = make_token(engine)
        paths = [f"/api/v1/incidents/{i}/recommendations?category={COMMON}&limit=10"
                 for i in ids]
        for setup in args.servers:
            yield from _over_http_with(url, tmp, setup, token, paths, args.requests,
                                       args.streams)
    finally:
        engine.dispose()
        if not keep:
            drop_database(url)


def _over_http_with(url, tmp, setup, token, paths, requests, streams=0):
    """HTTP measurements against one gunicorn set-up (``class:WxT``); yields result lines."""
    worker_class, shape = setup.split(":")
    workers, threads = (int(n) for n in shape.split("x"))
    keep_alive = worker_class != "sync"  # sync workers answer one request per connection
    port = free_port()
    server = serve(cli_env(url, tmp, DB_POOL_SIZE=str(max(2, threads + 1))), port,
                   "--workers", str(workers), "--threads", str(threads),
                   "--worker-class", worker_class)
    # Sync workers serve no streams (docs/operations.md): they are measured without.
    watching = Streams(port, token, streams if worker_class == "gthread" else 0)
    try:
        over_http(port, token, paths, 2 * workers, 5, keep_alive=keep_alive)  # warm
        watching.open()
        for clients in (1, 16):
            per = max(5, requests // clients) if clients > 1 else requests
            cpu0 = server_cpu(server.pid)
            lat, client_cpu, wall, ended = over_http(port, token, paths, clients, per,
                                                     keep_alive=keep_alive)
            served = server_cpu(server.pid) - cpu0
            p, done = percentiles(lat), clients * (per + 3)
            yield (f"  http {setup} {'keep-alive' if keep_alive else 'per-request'} "
                   f"{clients:>2} client(s) {len(lat)} requests p50/p95/p99 "
                   f"{p[0]:.1f}/{p[1]:.1f}/{p[2]:.1f} ms | {done / wall:.0f} req/s | "
                   f"CPU per request: server {served / done * 1000:.1f} ms, "
                   f"load generator {client_cpu / done * 1000:.2f} ms "
                   f"({client_cpu / (client_cpu + served) * 100:.0f} % of the CPU used)"
                   f"{f' | {ended} connections ended by the server' if keep_alive else ''}"
                   f"{f' | {watching.count} event streams open' if watching.count else ''}"
                   f" | {load_average()}")
        if watching.count:
            ok = watching.statuses == [200] * watching.count and watching.ended_early == 0
            yield (f"  http {setup} streams: {watching.count} opened, statuses "
                   f"{sorted(set(watching.statuses))}, closed by the server "
                   f"{watching.ended_early} -> {'OK' if ok else 'FAILED'}")
    finally:
        watching.close()
        stop(server)


def main(argv=None):
    """Parse options and run the benchmark on each backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10^4 teams, few requests")
    parser.add_argument("--full", action="store_true", help="also 10^6 teams")
    parser.add_argument("--backend", choices=("spatialite", "postgis"), action="append")
    parser.add_argument("--sizes", help="comma-separated team counts, e.g. 1000000")
    parser.add_argument("--requests", type=int, help="requests per measurement "
                        "(default 300, --quick 60)")
    parser.add_argument("--keep", nargs="?", const=os.path.join(tempfile.gettempdir(),
                                                                "bench-incidents"),
                        metavar="DIR", help="keep the databases (SpatiaLite files in DIR) "
                        "and reuse them in the next run instead of loading again")
    parser.add_argument("--only", choices=("inproc", "http"), help="one part only")
    parser.add_argument("--servers", default=SERVERS,
                        help="gunicorn set-ups to measure over HTTP, comma-separated "
                        "worker-class:WORKERSxTHREADS (default %(default)s)")
    parser.add_argument("--show-plans", action="store_true", help="print the query plans")
    parser.add_argument("--streams", type=int, default=0, help="live event streams held open "
                        "(gthread set-ups) while the recommendations are measured")
    args = parser.parse_args(argv)
    sizes = [10_000] if args.quick else [10_000, 100_000]
    if args.full:
        sizes.append(1_000_000)
    if args.sizes:
        sizes = [int(n) for n in args.sizes.split(",")]
    args.requests = args.requests or (60 if args.quick else 300)
    args.parts = [args.only] if args.only else ["inproc", "http"]
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    for setup in args.servers:
        if not re.fullmatch(r"(sync|gthread):[1-9][0-9]*x[1-9][0-9]*", setup):
            parser.error(f"--servers: {setup!r} is not worker-class:WORKERSxTHREADS")
    with tempfile.TemporaryDirectory() as scratch:
        tmp = args.keep or scratch
        os.makedirs(tmp, exist_ok=True)
        for backend in args.backend or ["spatialite", "postgis"]:
            for size in sizes:
                for line in run(backend, size, args, tmp):
                    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
