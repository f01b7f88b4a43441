"""Several app hosts that share nothing but PostGIS, proven on this machine (issue 21).

Builds, inside network namespaces of its own (root needed: ``ip netns``, a bridge, veths):

    em-db       10.77.0.10  PostgreSQL primary (a second local cluster: initdb/pg_ctl, port
                            5433, its own data folder; the system cluster is left alone)
    em-replica  10.77.0.11  a streaming replica of it made with pg_basebackup
    em-app1..3  10.77.0.21-23  `emergency serve` (each its own instance and upload folder;
                            the same DATABASE_URL, DATABASE_READ_URL, SECRET_KEY,
                            EMERGENCY_DATA_KEY, nothing else shared; JOB_RUNNER=external)
    em-worker1..2  10.77.0.31-32  `emergency worker --concurrency 2` (JOB_LEASE_SECONDS 10)
    em-proxy    10.77.0.2   nginx (Debian's package) spreading requests over the hosts

and the load generator in the root namespace (10.77.0.1 on the bridge). Then:

1. capacity, 1 host x W workers against 3 hosts x W/3 workers (the same total), both running
   side by side behind the proxy (the one host on another port) and measured in turn,
   alternating for --rounds pairs: hazard reports (POST /api/v1/hazards with an
   Idempotency-Key) from C clients as fast as they are answered for S seconds through the
   proxy: reports/s, p50/p99, per core, CPU per report, and the ratio of each pair;
2. recommendations: --recommend-teams teams (10 members each, as bench_incidents.py makes
   them) and 50 incidents are seeded; --recommend-clients keep-alive clients (32) then ask
   GET /api/v1/incidents/{id}/recommendations through the proxy to the three hosts, first
   closed loop (as fast as answered: the machine saturated, latency mostly queueing), then
   open loop at --load-fraction of the rate that gave: p50/p95/p99 against the 100-ms p95
   aim;
3. the same three hosts at an offered rate (open loop, --rate; 'auto' offers
   --load-fraction of the lowest 3-host capacity just measured) for --kill-seconds (60)
   while one host is killed (SIGKILL, its whole process group) half-way: every acknowledged
   report must be stored exactly once, retries (same key, same client_id) included, and p99
   is checked against 300 ms. After that run, --jobs layer imports (--job-features points
   each) are queued as jobs through the proxy (POST /layers?async=1) and, once three of them
   run on the two workers (so worker1 runs one at least), worker1 is killed with SIGKILL:
   every job must end done, each layer stored once with all its features (the killed run's
   transaction is rolled back and worker2 takes the job again after the lease);
4. through any host: a browser session made on one host works on another and its sign-out
   there ends it everywhere; a photo sent to one host is served by another; a live event
   of a write on one host reaches an SSE client on another (latency printed); lists read
   the replica (its lag printed);

    sudo .venv/bin/python bench/cluster.py [--seconds 30] [--clients 32] [--workers 3]
        [--threads 4] [--rate auto] [--load-fraction 0.6] [--kill-seconds 60]
        [--recommend-teams 10000] [--recommend-clients 32] [--recommend-requests 100]
        [--recommend-fraction F]
        [--rounds 3] [--jobs 16] [--job-features 20000] [--keep]

(as root; `sudo` only if you are not). --rate is the offered load of the run with the killed
host: keep it below the capacity the first runs show (the default 'auto' does), or latency
measures the queue.

nginx is installed with apt-get when missing (the bench only; the test suite never needs
it). Everything is torn down at the end (namespaces, bridge, both PostgreSQL clusters, the
work folder /tmp/em-cluster) unless --keep. The figures go to docs/scale.md by hand.
"""

import argparse
import asyncio
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from common import (
    DATA_KEY,
    EMERGENCY,
    ROOT,
    KeepAliveConnection,
    load_average,
    percentile,
    server_cpu,
    stop,
)

NET = "10.77.0"
BRIDGE = "em-br"
HOSTS = {"db": 10, "replica": 11, "proxy": 2, "app1": 21, "app2": 22, "app3": 23,
         "worker1": 31, "worker2": 32}
PG_PORT, APP_PORT, PROXY_PORT = 5433, 8000, 8080
# The one-host configuration runs beside the three (on host 1, another port, behind another
# proxy port), idle while the other is measured: the two alternate without restarts, so a
# ratio compares runs a minute apart on a machine whose load from others keeps changing.
ONE_PORT, ONE_PROXY_PORT = 8001, 8081
WORK = Path("/tmp/em-cluster")
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PASSWORD = "bench-password"
ORIGIN, GRID = (106.40, 29.40), 0.01
LEASE_SECONDS = 10
WORKERS = ("worker1", "worker2")
SECRET = "cluster-bench-secret"


def ip(name):
    """The address of a namespace's host."""
    return f"{NET}.{HOSTS[name]}"


def sh(*args, ns=None, user=None, check=True, **kwargs):
    """Run a command (in a namespace, as a user); returns the CompletedProcess."""
    cmd = [str(a) for a in args]
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    if ns:
        cmd = ["ip", "netns", "exec", f"em-{ns}", *cmd]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, **kwargs)
    if check and done.returncode != 0:
        log = ""
        if "pg_ctl" in cmd[-1] or any("pg_ctl" in c for c in cmd):
            logs = [c for c in cmd if c.endswith("server.log")]
            log = Path(logs[0]).read_text()[-2000:] if logs and Path(logs[0]).exists() else ""
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}"
                         f"{done.stderr}{log}")
    return done


# ---- the machine: network, PostgreSQL, nginx, app hosts --------------------------------------

def network():
    """A bridge in the root namespace and one namespace per host, each on a veth."""
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{NET}.1/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for name, octet in HOSTS.items():
        ns, outer, inner = f"em-{name}", f"em-{name}-o"[:15], f"em-{name}-i"[:15]
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
        sh("ip", "link", "set", inner, "netns", ns)
        sh("ip", "link", "set", outer, "master", BRIDGE)
        sh("ip", "link", "set", outer, "up")
        sh("ip", "addr", "add", f"{NET}.{octet}/24", "dev", inner, ns=name)
        sh("ip", "link", "set", inner, "up", ns=name)
        sh("ip", "link", "set", "lo", "up", ns=name)


def teardown_network():
    """Remove the namespaces and the bridge (their veths go with them)."""
    for name in HOSTS:
        sh("ip", "netns", "del", f"em-{name}", check=False)
    sh("ip", "link", "del", BRIDGE, check=False)


def _pg_start(name, data):
    """Start a cluster in its namespace, listening on its own address only (its socket and
    log outside the data folder, which pg_basebackup copies)."""
    sockets = WORK / f"sock-{name}"
    sockets.mkdir(exist_ok=True)
    shutil.chown(sockets, "postgres", "postgres")
    sh(PG_BIN / "pg_ctl", "-D", data, "-l", WORK / f"pg-{name}.server.log", "-w", "-t", "120",
       "-o", f"-p {PG_PORT} -k {sockets} -c listen_addresses={ip(name)}", "start", ns=name,
       user="postgres")


def postgres():
    """A primary (initdb) and a streaming replica of it (pg_basebackup): their URLs."""
    primary, replica = WORK / "pg-primary", WORK / "pg-replica"
    for folder in (primary, replica):
        folder.mkdir(parents=True)
        shutil.chown(folder, "postgres", "postgres")
        folder.chmod(0o700)
    sh(PG_BIN / "initdb", "-D", primary, "-U", "postgres", "--auth=trust", "-E", "UTF8",
       "--locale=C.UTF-8", user="postgres")
    with open(primary / "postgresql.conf", "a") as conf:
        conf.write("\nwal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                   "max_connections = 300\nshared_buffers = 256MB\n")
    with open(primary / "pg_hba.conf", "a") as hba:
        hba.write(f"\nhost all all {NET}.0/24 trust\nhost replication all {NET}.0/24 trust\n")
    _pg_start("db", primary)
    admin = f"postgresql+psycopg://postgres@{ip('db')}:{PG_PORT}/postgres"
    from sqlalchemy import create_engine, text

    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE emergency"))
    engine.dispose()
    replica.rmdir()  # pg_basebackup makes it
    sh(PG_BIN / "pg_basebackup", "-h", ip("db"), "-p", PG_PORT, "-U", "postgres", "-D",
       replica, "-R", "-X", "stream", "-c", "fast", ns="replica", user="postgres")
    _pg_start("replica", replica)
    url = f"postgresql+psycopg://postgres@{{}}:{PG_PORT}/emergency"
    return url.format(ip("db")), url.format(ip("replica"))


def stop_postgres():
    """Stop both clusters (fast shutdown)."""
    for folder in (WORK / "pg-replica", WORK / "pg-primary"):
        if (folder / "postmaster.pid").exists():
            sh(PG_BIN / "pg_ctl", "-D", folder, "-m", "fast", "stop", user="postgres",
               check=False)


def nginx_binary():
    """Debian's nginx, installed with apt-get for the bench when missing."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                      else None)
    if found is None:
        print("installing nginx (apt-get) for the bench ...", flush=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = "/usr/sbin/nginx"
    return found


NGINX_CONF = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx-tmp/body;
  proxy_temp_path {work}/nginx-tmp/proxy;
  fastcgi_temp_path {work}/nginx-tmp/fastcgi;
  uwsgi_temp_path {work}/nginx-tmp/uwsgi;
  scgi_temp_path {work}/nginx-tmp/scgi;
  upstream app {{
{servers}
    keepalive 64;
  }}
  upstream one {{
    server {one} max_fails=1 fail_timeout=5s;
    keepalive 64;
  }}
  server {{
    listen {one_listen} backlog=4096;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    location / {{ proxy_pass http://one; proxy_next_upstream error timeout non_idempotent; }}
  }}
  server {{
    listen {listen} backlog=4096;
    client_max_body_size 64m;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    location = /api/v1/events {{
      proxy_pass http://app;
      proxy_buffering off;
      proxy_read_timeout 1h;
    }}
    location / {{
      proxy_pass http://app;
      # A host that dies mid-request: try the next one. Safe for POSTs here because every
      # write carries an Idempotency-Key (and hazard reports a client_id).
      proxy_next_upstream error timeout non_idempotent;
      proxy_next_upstream_tries 3;
      proxy_connect_timeout 1s;
      proxy_read_timeout 60s;
    }}
  }}
}}
"""


class Proxy:
    """nginx in em-proxy in front of some of the app hosts."""

    def __init__(self):
        self.binary, self.proc = nginx_binary(), None
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (WORK / "nginx-tmp" / sub).mkdir(parents=True, exist_ok=True)

    def start(self, hosts):
        """(Re)start nginx with these hosts as its upstream."""
        self.stop()
        servers = "\n".join(f"    server {ip(h)}:{APP_PORT} max_fails=1 fail_timeout=5s;"
                            for h in hosts)
        conf = WORK / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=WORK, servers=servers,
                                          listen=f"{ip('proxy')}:{PROXY_PORT}",
                                          one=f"{ip('app1')}:{ONE_PORT}",
                                          one_listen=f"{ip('proxy')}:{ONE_PROXY_PORT}"))
        self.proc = subprocess.Popen(["ip", "netns", "exec", "em-proxy", self.binary, "-c",
                                      str(conf), "-g", "daemon off;"], start_new_session=True)
        wait_healthy(f"http://{ip('proxy')}:{PROXY_PORT}")

    def stop(self):
        """Stop nginx."""
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


def wait_healthy(base, path="/api/v1/health/ready", seconds=120):
    """Wait until GET base+path answers 200."""
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if requests.get(base + path, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise SystemExit(f"{base}{path} not ready within {seconds} s")


def host_env(name, urls):
    """What a host is configured with: the shared settings, and its own folders."""
    own = WORK / name
    own.mkdir(exist_ok=True)
    return {**os.environ, "DATABASE_URL": urls[0], "DATABASE_READ_URL": urls[1],
            "SECRET_KEY": SECRET, "EMERGENCY_DATA_KEY": DATA_KEY,
            "UPLOAD_FOLDER": str(own / "uploads"), "PROXY_FIX_HOPS": "1",
            "DB_POOL_SIZE": "8", "LOGIN_MAX_FAILURES": "1000",
            # Jobs run on the two worker hosts only; a short lease so that the job of the
            # killed worker is taken over within the run, not a minute later.
            "JOB_RUNNER": "external", "JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "JOB_POLL_SECONDS": "0.5"}


class Hosts:
    """The app hosts that are running: {name: Popen}."""

    def __init__(self, urls):
        self.urls, self.procs = urls, {}

    def start(self, names, workers, threads, port=APP_PORT, key=""):
        """Start `emergency serve` on each named host and wait until each is ready; the
        servers are known by name (plus ``key``)."""
        for name in names:
            log = open(WORK / f"{name}{key}.log", "a")  # noqa: SIM115  (kept by the child)
            self.procs[name + key] = subprocess.Popen(
                ["ip", "netns", "exec", f"em-{name}", EMERGENCY, "serve", "--host", ip(name),
                 "--port", str(port), "--workers", str(workers), "--threads",
                 str(threads)], env=host_env(name, self.urls), stdout=log, stderr=log,
                cwd=WORK / name, start_new_session=True)
        for name in names:
            wait_healthy(f"http://{ip(name)}:{port}")

    def kill(self, name):
        """Kill a host at once (SIGKILL to the whole gunicorn process group)."""
        proc = self.procs.pop(name)
        stop(proc, signal.SIGKILL)

    def stop_all(self):
        """Stop every host."""
        for proc in self.procs.values():
            stop(proc)
        self.procs.clear()

    def cpu(self):
        """{host: CPU seconds used so far (master and workers)} of the running hosts."""
        return {name: server_cpu(p.pid) for name, p in self.procs.items()}


def start_workers(urls, concurrency=2):
    """`emergency worker` on the two worker hosts: {name: Popen}."""
    procs = {}
    for name in WORKERS:
        log = open(WORK / f"{name}.log", "a")  # noqa: SIM115  (kept by the child)
        procs[name] = subprocess.Popen(
            ["ip", "netns", "exec", f"em-{name}", EMERGENCY, "worker", "--concurrency",
             str(concurrency)], env=host_env(name, urls), stdout=log, stderr=log,
            cwd=WORK / name, start_new_session=True)
    print(f"workers: `emergency worker --concurrency {concurrency}` on {', '.join(WORKERS)} "
          f"(lease {LEASE_SECONDS} s)", flush=True)
    return procs


# ---- data and load ---------------------------------------------------------------------------

def seed(urls, clients):
    """Migrate, then one grid and one grid staff member (token) per client, and an admin."""
    from shapely.geometry import box

    from emergency import create_app, migrate
    from emergency.auth import service as auth
    from emergency.db import new_session
    from emergency.geo import service as geo

    app = create_app({"DATABASE_URL": urls[0], "SECRET_KEY": SECRET,
                      "EMERGENCY_DATA_KEY": DATA_KEY, "UPLOAD_FOLDER": str(WORK / "seed")})
    tokens = []
    with app.app_context():
        migrate.upgrade()
        session = new_session()
        session.info["actor"] = "bench"
        lon0, lat0 = ORIGIN
        geo.create_area(session, "990000", "基准市", "city", box(lon0 - 1, lat0 - 1, lon0 + 2,
                                                                  lat0 + 2))
        geo.create_area(session, "990101", "基准区", "district",
                        box(lon0, lat0, lon0 + 1, lat0 + 1), "990000")
        for i in range(clients):
            lon, lat = lon0 + (i % 10) * GRID, lat0 + (i // 10) * GRID
            geo.create_grid(session, f"990101-{i:03d}", f"网格{i}", "990101",
                            box(lon, lat, lon + GRID, lat + GRID))
            auth.create_user(session, f"bench{i:03d}", "grid_staff", PASSWORD,
                             [f"990101-{i:03d}"])
            tokens.append(auth.create_token(session, f"bench{i:03d}", 1))
        auth.create_user(session, "bench-admin", "admin", PASSWORD)
        admin = auth.create_token(session, "bench-admin", 1)
        auth.create_user(session, "bench-planner", "planner", PASSWORD)
        planner = auth.create_token(session, "bench-planner", 1)
        session.commit()
        session.close()
    app.extensions["emergency.db"]["engine"].dispose()
    return tokens, admin, planner


def report_body(i, rng, prefix):
    """A report inside client i's grid."""
    lon = ORIGIN[0] + (i % 10) * GRID + rng.uniform(0.001, GRID - 0.001)
    lat = ORIGIN[1] + (i // 10) * GRID + rng.uniform(0.001, GRID - 0.001)
    return {"client_id": f"{prefix}{uuid.uuid4()}", "category": "geological",
            "severity": rng.choice(["major", "general"]), "description": "集群基准隐患",
            "crs": "wgs84", "location": {"type": "Point",
                                         "coordinates": [round(lon, 6), round(lat, 6)]}}


def request_bytes(token, payload, key, port=PROXY_PORT):
    """The whole POST /api/v1/hazards request with its Idempotency-Key."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    head = (f"POST /api/v1/hazards HTTP/1.1\r\nHost: {ip('proxy')}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


RETRYABLE = {0, 409, 429, 500, 502, 503, 504}


def load(tokens, seconds, rate, prefix, during=None, port=PROXY_PORT):
    """C clients post reports through the proxy for ``seconds``, each retrying a report
    (same key, same body) until it is acknowledged; open loop at ``rate`` reports/s (latency
    from the scheduled moment), or as fast as answered when 0. ``during(t)`` is called once
    at half time. Returns {acked: {client_id: latency}, statuses: Counter, retries, seconds}.
    """
    import random
    from collections import Counter

    clients = len(tokens)
    acked, statuses, retries, failed = {}, Counter(), [0], []
    interval = clients / rate if rate else 0.0

    async def client(i, began, stop_at):
        rng = random.Random(i)
        conn = KeepAliveConnection(ip("proxy"), port)
        k = 0
        while True:
            when = began + interval * (i / clients + k) if interval else time.perf_counter()
            if when >= stop_at:
                break
            pause = when - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
            payload = report_body(i, rng, prefix)
            raw = request_bytes(tokens[i], payload, uuid.uuid4().hex, port)
            start = min(when, time.perf_counter())
            for attempt in range(20):
                status = await conn.post(raw)
                statuses[status] += 1
                if status in (200, 201):
                    acked[payload["client_id"]] = time.perf_counter() - start
                    break
                if status not in RETRYABLE:
                    failed.append((payload["client_id"], status))
                    break
                retries[0] += 1
                await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
            else:
                failed.append((payload["client_id"], "gave up"))
            k += 1
        conn.close()

    async def main():
        began = time.perf_counter() + 0.2
        stop_at = began + seconds
        tasks = [asyncio.create_task(client(i, began, stop_at)) for i in range(clients)]
        if during is not None:
            await asyncio.sleep(0.2 + seconds / 2)
            await asyncio.get_running_loop().run_in_executor(None, during)
        await asyncio.gather(*tasks)
        return time.perf_counter() - began

    elapsed = asyncio.run(main())
    return {"acked": acked, "statuses": statuses, "retries": retries[0], "failed": failed,
            "seconds": elapsed}


def machine_busy():
    """Busy CPU seconds of the whole machine since boot (all cores)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def stored(url, prefix):
    """{client_id: count} of the reports whose client_id starts with prefix (primary)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT client_id, count(*) FROM hazard_reports WHERE "
                                 "client_id LIKE :p GROUP BY client_id"),
                            {"p": prefix + "%"}).all()
    engine.dispose()
    return dict(rows)


def summarise(label, result, cpu_hosts, cpu_machine, cores):
    """Print one run's figures; returns (reports/s, p99 ms)."""
    latencies = sorted(result["acked"].values())
    n, seconds = len(latencies), result["seconds"]
    rate = n / seconds
    p50 = percentile(latencies, 50) * 1000 if latencies else float("nan")
    p99 = percentile(latencies, 99) * 1000 if latencies else float("nan")
    print(f"{label}: {n} reports in {seconds:.1f} s = {rate:.0f}/s "
          f"({rate / cores:.0f}/s per core), p50 {p50:.0f} ms, p99 {p99:.0f} ms; "
          f"retries {result['retries']}, statuses {dict(result['statuses'])}; "
          f"CPU per report: app hosts {cpu_hosts / max(n, 1) * 1000:.1f} ms, whole machine "
          f"{cpu_machine / max(n, 1) * 1000:.1f} ms; {load_average()}", flush=True)
    return rate, p99


def measured_run(label, hosts, tokens, seconds, rate, prefix, cores, during=None,
                 port=PROXY_PORT):
    """One load run with its CPU accounting; returns (result, reports/s, p99)."""
    cpu0, busy0 = hosts.cpu(), machine_busy()
    result = load(tokens, seconds, rate, prefix, during, port)
    # Hosts that ran throughout (a killed host's counters go with it).
    cpu1, busy = hosts.cpu(), machine_busy() - busy0
    cpu_hosts = sum(cpu1[h] - cpu0[h] for h in cpu1 if h in cpu0)
    rate_done, p99 = summarise(label, result, max(cpu_hosts, 0.0), busy, cores)
    return result, rate_done, p99


def check_exactly_once(url, result, prefix):
    """Every acknowledged report stored once, nothing stored twice: (ok, text)."""
    counts = stored(url, prefix)
    missing = [c for c in result["acked"] if c not in counts]
    doubled = {c: n for c, n in counts.items() if n != 1}
    ok = not missing and not doubled and not result["failed"]
    return ok, (f"{len(result['acked'])} acknowledged, {len(counts)} stored, "
                f"{len(missing)} acknowledged but missing, {len(doubled)} stored twice, "
                f"{len(counts) - len(result['acked'])} stored without an answer (a retry "
                f"would find them), failed {result['failed'][:5]}")


# ---- jobs: imports queued through the proxy, a worker killed while it runs them ------------

def layer_file(features, seed_value):
    """A GeoJSON point layer of ``features`` points with a numeric ``v`` (bytes)."""
    import random

    rng = random.Random(seed_value)
    lon0, lat0 = ORIGIN
    feats = [{"type": "Feature", "properties": {"v": rng.randint(1, 5)},
              "geometry": {"type": "Point", "coordinates": [
                  round(lon0 + rng.uniform(0, 1), 6), round(lat0 + rng.uniform(0, 1), 6)]}}
             for _ in range(features)]
    return json.dumps({"type": "FeatureCollection", "features": feats}).encode()


def queue_imports(planner, count, features, prefix="bench-job-"):
    """Queue ``count`` layer imports through the proxy (POST /layers?async=1): {name: job id}.
    """
    import requests

    jobs = {}
    for i in range(count):
        name = f"{prefix}{i:03d}"
        resp = requests.post(
            f"http://{ip('proxy')}:{PROXY_PORT}/api/v1/layers?async=1",
            headers={"Authorization": f"Bearer {planner}"}, timeout=60,
            data={"name": name, "role": "hazard", "value_field": "v"},
            files={"file": (f"{name}.geojson", layer_file(features, i), "application/json")})
        if resp.status_code != 202:
            raise SystemExit(f"queueing an import: {resp.status_code} {resp.text[:300]}")
        jobs[name] = resp.json()["id"]
    return jobs


def job_states(url, ids):
    """{job id: (status, attempts)} of job records."""
    from sqlalchemy import bindparam, create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, status, attempts FROM jobs WHERE id IN :ids")
                                .bindparams(bindparam("ids", expanding=True)),
                                {"ids": list(ids)}).all()
    finally:
        engine.dispose()
    return {r.id: (r.status, r.attempts) for r in rows}


def wait_for_jobs(url, ids, seconds):
    """Wait until every job has ended (or ``seconds`` passed); their states and the wait."""
    began = time.perf_counter()
    while True:
        states = job_states(url, ids)
        active = [i for i, (status, _a) in states.items() if status in ("queued", "running")]
        if not active or time.perf_counter() - began > seconds:
            return states, time.perf_counter() - began
        time.sleep(1)


def check_jobs_once(url, jobs, features, states, killed_running):
    """Every job done, each import's layer there exactly once with all its features: (ok,
    text)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            layers = conn.execute(text(
                "SELECT l.name, count(DISTINCT l.id) AS layers, min(l.feature_count) AS fc, "
                "count(f.id) AS rows FROM risk_layers l LEFT JOIN risk_layer_features f "
                "ON f.layer_id = l.id WHERE l.name LIKE 'bench-job-%' GROUP BY l.name")).all()
            left = conn.scalar(text("SELECT count(*) FROM procrastinate_jobs "
                                    "WHERE status IN ('todo', 'doing')"))
    finally:
        engine.dispose()
    by_name = {r.name: r for r in layers}
    not_done = {i: s for i, s in states.items() if s[0] != "done"}
    wrong = [n for n in jobs if n not in by_name or by_name[n].layers != 1
             or by_name[n].fc != features or by_name[n].rows != features]
    retried = sorted(a for _s, a in states.values() if a > 1)
    ok = not not_done and not wrong and len(states) == len(jobs)
    return ok, (f"{len(jobs)} import jobs of {features} features: {len(jobs) - len(not_done)} "
                f"done, not done {not_done}; layers wrong or doubled {wrong}; "
                f"{len(retried)} run again after the kill (attempts {retried}); jobs running "
                f"when the worker was killed: {killed_running}; queue jobs left {left}")



# ---- recommendations at 32 clients through the proxy -------------------------------------

def seed_teams(url, teams):
    """Teams, members and insurance as bench_incidents.py makes them, and incidents with a
    dispatcher's token: (token, incident ids, load seconds)."""
    import bench_incidents
    from common import migrated_engine

    engine = migrated_engine(url, pool_size=2)
    try:
        seconds = bench_incidents.load(engine, teams)
        bench_incidents.check_readiness(engine)
        token, ids = bench_incidents.make_token(engine)
    finally:
        engine.dispose()
    return token, ids, seconds


def recommendations(token, ids, clients, per_client, warm=3, rate=0):
    """GET /api/v1/incidents/{id}/recommendations from ``clients`` keep-alive clients through
    the proxy: closed loop (each asks again once answered), or open loop at ``rate``
    requests/s in all (latency from the scheduled moment): (sorted latencies in s, non-200
    statuses, requests/s)."""
    from collections import Counter

    raws = [(f"GET /api/v1/incidents/{i}/recommendations?category=mountain&limit=10 "
             f"HTTP/1.1\r\nHost: {ip('proxy')}:{PROXY_PORT}\r\n"
             f"Authorization: Bearer {token}\r\n\r\n").encode() for i in ids]
    latencies, bad = [], Counter()

    interval = clients / rate if rate else 0.0

    async def client(c, start):
        conn = KeepAliveConnection(ip("proxy"), PROXY_PORT)
        for n in range(per_client + warm):
            began = time.perf_counter()
            if interval:
                began = start + interval * (c / clients + n)
                if began > time.perf_counter():
                    await asyncio.sleep(began - time.perf_counter())
            status = await conn.post(raws[(c * 7 + n) % len(raws)])
            if status != 200:
                bad[status] += 1
            elif n >= warm:
                latencies.append(time.perf_counter() - began)
        conn.close()

    async def main():
        began = time.perf_counter()
        await asyncio.gather(*(client(c, began + 0.1) for c in range(clients)))
        return time.perf_counter() - began

    wall = asyncio.run(main())
    return sorted(latencies), dict(bad), clients * (per_client + warm) / wall

# ---- through any host --------------------------------------------------------------------

WHOAMI = 'id="whoami"'


def session_across_hosts():
    """Sign in on host 1, use the cookie on host 3, sign out on host 3, refused on host 1."""
    import requests

    one, three = f"http://{ip('app1')}:{APP_PORT}", f"http://{ip('app3')}:{APP_PORT}"
    browser = requests.Session()
    page = browser.get(f"{one}/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    signed = browser.post(f"{one}/login", data={"username": "bench-admin", "password": PASSWORD,
                                                "csrf_token": csrf}, allow_redirects=False)
    # A cookie jar keeps cookies per host name; behind the proxy the browser sees one name,
    # here the same cookies are handed to the other host by hand.
    jar = browser.cookies.get_dict()
    home = requests.get(f"{three}/", cookies=jar, allow_redirects=False)
    works = signed.status_code in (302, 303) and home.status_code == 200 and \
        WHOAMI in home.text
    if not works:
        return False, (f"sign-in on host 1: {signed.status_code}; page on host 3: "
                       f"{home.status_code}, signed in: {WHOAMI in home.text}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)
    jar.update(home.cookies.get_dict())  # the page may renew the cookie (its CSRF secret)
    out = requests.post(f"{three}/logout", data={"csrf_token": csrf}, cookies=jar,
                        allow_redirects=False)
    # The old cookie, replayed on host 1 after the sign-out on host 3, must no longer work.
    replay = requests.get(f"{one}/", cookies=jar, allow_redirects=False)
    ended = WHOAMI not in replay.text
    return ended, (f"signed in on host 1, page on host 3: {home.status_code} signed in; "
                   f"sign-out on host 3: {out.status_code}; the same cookie on host 1 then "
                   f"{'is refused' if ended else 'STILL WORKS'} ({replay.status_code})")


def photo_across_hosts(token):
    """Report and photo sent to host 1, photo read from host 2."""
    import requests
    from PIL import Image

    one, two = f"http://{ip('app1')}:{APP_PORT}", f"http://{ip('app2')}:{APP_PORT}"
    headers = {"Authorization": f"Bearer {token}"}
    import random

    report = requests.post(f"{one}/api/v1/hazards", headers=headers,
                           json=report_body(0, random.Random(99), "photo-")).json()
    image = io.BytesIO()
    Image.new("RGB", (1600, 1200), (30, 120, 200)).save(image, "JPEG", quality=95)
    sent = requests.post(f"{one}/api/v1/hazards/{report['id']}/photos", headers=headers,
                         files={"photo": ("p.jpg", image.getvalue(), "image/jpeg")}).json()
    served = requests.get(two + sent["url"], headers=headers)
    ok = served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == \
        sent["sha256"]
    return ok, (f"photo of {sent['size']} bytes sent to host 1, read from host 2: "
                f"{served.status_code}, checksum {'matches' if ok else 'DIFFERS'}")


def event_across_hosts(admin, token):
    """An SSE client on host 3 sees the hazard.created of a report posted to host 1."""
    import random

    import requests

    got, opened = {}, threading.Event()

    def listen():
        with requests.get(f"http://{ip('app3')}:{APP_PORT}/api/v1/events", stream=True,
                          headers={"Authorization": f"Bearer {admin}"}, timeout=20) as resp:
            opened.set()
            for line in resp.iter_lines(decode_unicode=True):
                if line and line.startswith("data:"):
                    data = json.loads(line[5:])
                    if data.get("type") == "hazard.created" and data.get("id") == got.get("id"):
                        got["at"] = time.perf_counter()
                        return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    opened.wait(10)
    time.sleep(0.5)
    sent = time.perf_counter()
    report = requests.post(f"http://{ip('app1')}:{APP_PORT}/api/v1/hazards",
                           headers={"Authorization": f"Bearer {token}"},
                           json=report_body(0, random.Random(7), "event-")).json()
    got["id"] = report["id"]
    thread.join(15)
    if "at" not in got:
        return False, "event of a report posted to host 1 did NOT reach host 3 within 15 s"
    return True, (f"hazard.created posted to host 1 reached an SSE client on host 3 in "
                  f"{(got['at'] - sent) * 1000:.0f} ms (including the POST)")


def replica_state(urls):
    """The replica's view: lag and what it holds."""
    from sqlalchemy import create_engine, text

    primary, replica = create_engine(urls[0]), create_engine(urls[1])
    try:
        with primary.connect() as conn:
            lag = conn.execute(text("SELECT application_name, state, replay_lag FROM "
                                    "pg_stat_replication")).all()
            count = conn.scalar(text("SELECT count(*) FROM hazard_reports"))
        time.sleep(1)
        with replica.connect() as conn:
            in_recovery = conn.scalar(text("SELECT pg_is_in_recovery()"))
            replica_count = conn.scalar(text("SELECT count(*) FROM hazard_reports"))
    finally:
        primary.dispose()
        replica.dispose()
    return in_recovery and replica_count == count, (
        f"replica in recovery: {in_recovery}; reports on primary {count}, on replica a second "
        f"later {replica_count}; pg_stat_replication {[tuple(map(str, r)) for r in lag]}")


def report_sizes(url):
    """Bytes per stored hazard report and per idempotency answer (heap, TOAST, indexes)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    parts = []
    with engine.connect() as conn:
        for table in ("hazard_reports", "idempotent_responses", "live_events"):
            rows = conn.scalar(text(f"SELECT count(*) FROM {table}"))
            size = conn.scalar(text(f"SELECT pg_total_relation_size('{table}')"))
            parts.append(f"{table} {size / max(rows, 1):.0f} B/row ({rows} rows)")
    engine.dispose()
    return "sizes: " + ", ".join(parts)


# ---- the run ----------------------------------------------------------------------------

def main():
    """Build the cluster, measure, prove, tear down."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=3, help="total gunicorn workers")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rate", default="auto", help="offered reports/s while a host is "
                        "killed: a number (0: as fast as answered) or 'auto', --load-fraction "
                        "of the lowest 3-host capacity measured in this run")
    parser.add_argument("--load-fraction", type=float, default=0.6,
                        help="share of the measured capacity offered with --rate auto")
    parser.add_argument("--kill-seconds", type=int, default=60,
                        help="length of the open-loop run in which a host is killed")
    parser.add_argument("--recommend-teams", type=int, default=10000, help="teams seeded "
                        "for the recommendation run (0: no recommendation run)")
    parser.add_argument("--recommend-clients", type=int, default=32)
    parser.add_argument("--recommend-fraction", type=float, default=None, help="share of "
                        "the closed-loop rate offered in the open-loop recommendation run "
                        "(default: --load-fraction)")
    parser.add_argument("--recommend-requests", type=int, default=100,
                        help="requests per recommendation client")
    parser.add_argument("--rounds", type=int, default=3, help="alternating 1-host and "
                        "3-host capacity runs")
    parser.add_argument("--jobs", type=int, default=16, help="layer imports queued as jobs "
                        "for the run in which a worker is killed")
    parser.add_argument("--job-features", type=int, default=20000,
                        help="points per imported layer")
    parser.add_argument("--keep", action="store_true", help="leave everything running")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (network namespaces, a second PostgreSQL cluster)")
    cores = os.cpu_count()
    print(f"cluster bench: {cores} cores, {load_average()}", flush=True)
    teardown_network()
    stop_postgres()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    shutil.chown(WORK, "postgres", "postgres")
    WORK.chmod(0o755)
    hosts = proxy = None
    workers = {}
    checks = []
    try:
        network()
        urls = postgres()
        tokens, admin, planner = seed(urls, args.clients)
        if args.recommend_teams:
            dispatcher, incident_ids, took = seed_teams(urls[0], args.recommend_teams)
            print(f"seeded {args.recommend_teams} teams and {args.recommend_teams * 10} "
                  f"members in {took:.1f} s, {len(incident_ids)} incidents", flush=True)
        proxy = Proxy()
        hosts = Hosts(urls)
        names = ["app1", "app2", "app3"]
        per_host = max(1, args.workers // 3)
        print(f"primary {urls[0]}, replica {urls[1]}; {args.clients} clients, "
              f"{args.seconds} s per run", flush=True)

        hosts.start(["app1"], args.workers, args.threads, ONE_PORT, "-one")
        hosts.start(names, per_host, args.threads)
        proxy.start(names)
        workers = start_workers(urls)
        load(tokens[:4], 3, 0, "warm1-", port=ONE_PROXY_PORT)
        load(tokens[:4], 3, 0, "warm3-")
        ratios, p99s, threes = [], [], []
        for r in range(args.rounds):
            order = [("one", ONE_PROXY_PORT), ("three", PROXY_PORT)]
            got = {}
            for which, port in order if r % 2 == 0 else order[::-1]:
                label = (f"round {r + 1}: 1 host x {args.workers} workers" if which == "one"
                         else f"round {r + 1}: 3 hosts x {per_host} workers")
                _res, rate, p99 = measured_run(label, hosts, tokens, args.seconds, 0,
                                               f"{which}{r}-", cores, port=port)
                got[which] = (rate, p99)
                if which == "three":
                    threes.append((rate, p99))
            ratios.append(got["three"][0] / got["one"][0])
            p99s.append((got["one"][1], got["three"][1]))
        ratios.sort()
        if ratios:
            print(f"cost of spreading: 3 hosts give {ratios[len(ratios) // 2]:.2f} of 1 host's "
                  f"throughput (median of {len(ratios)} alternating pairs; each pair "
                  f"{', '.join(f'{x:.2f}' for x in ratios)}); p99 1 host -> 3 hosts "
                  f"{', '.join(f'{a:.0f} -> {b:.0f} ms' for a, b in p99s)}", flush=True)
        hosts.kill("app1-one")  # not part of the rest

        if args.recommend_teams:
            recommendations(dispatcher, incident_ids, 8, 3)  # warm every host's pool
            closed_rps = None
            for mode in ("closed", "open"):
                rate = 0 if mode == "closed" else max(1, int(closed_rps * (
                    args.recommend_fraction or args.load_fraction)))
                cpu0, busy0 = hosts.cpu(), machine_busy()
                lat, bad, rps = recommendations(dispatcher, incident_ids,
                                                args.recommend_clients,
                                                args.recommend_requests, rate=rate)
                closed_rps = closed_rps or rps
                cpu1, busy = hosts.cpu(), machine_busy() - busy0
                app_cpu = sum(cpu1[h] - cpu0[h] for h in cpu1 if h in cpu0)
                done = args.recommend_clients * (args.recommend_requests + 3)
                p50, p95, p99 = (percentile(lat, q) * 1000 for q in (50, 95, 99))
                how = ("closed loop (each asks again once answered)" if mode == "closed" else
                       f"open loop at {rate}/s ({rate / closed_rps:.0%} of the closed-loop "
                       f"rate)")
                print(f"recommendations, {args.recommend_teams} teams, "
                      f"{args.recommend_clients} clients through the proxy to 3 hosts, {how}: "
                      f"{len(lat)} requests, p50/p95/p99 {p50:.0f}/{p95:.0f}/{p99:.0f} ms, "
                      f"{rps:.0f} req/s; CPU per request: app hosts "
                      f"{app_cpu / done * 1000:.1f} ms, whole machine "
                      f"{busy / done * 1000:.1f} ms; non-200 {bad}; {load_average()}",
                      flush=True)
                checks.append((f"recommendation p95 <= 100 ms at {args.recommend_clients} "
                               f"clients, {mode} loop", p95 <= 100 and not bad,
                               f"p95 {p95:.0f} ms (p50 {p50:.0f}, p99 {p99:.0f}) at "
                               f"{rps:.0f} req/s, {len(lat)} answers, non-200 {bad}"))

        if args.rate == "auto" and not threes:
            raise SystemExit("--rate auto needs the capacity runs (--rounds 1 at least)")
        if args.rate == "auto":
            capacity = min(r for r, _p in threes)
            rate = max(1, int(capacity * args.load_fraction))
            print(f"offered rate for the host kill: {args.load_fraction:.0%} of the lowest "
                  f"3-host capacity measured ({capacity:.0f}/s) = {rate}/s", flush=True)
        else:
            rate = int(args.rate)
        killed, jobs = {}, {}

        def kill_host():
            killed["at"] = time.perf_counter()
            hosts.kill("app2")
            print("  killed host app2 (SIGKILL to its process group)", flush=True)

        result, _rate, p99 = measured_run(
            f"3 hosts at {rate}/s offered for {args.kill_seconds} s, app2 killed half-way",
            hosts, tokens, args.kill_seconds, rate, "kill-", cores, during=kill_host)
        ok, text = check_exactly_once(urls[0], result, "kill-")
        checks.append(("exactly once with a host killed", ok, text))
        checks.append((f"p99 <= 300 ms at {rate}/s with a host killed", p99 <= 300,
                       f"p99 {p99:.0f} ms"))

        if args.jobs:
            # After the report run, so that the imports' CPU does not count in its latency.
            jobs.update(queue_imports(planner, args.jobs, args.job_features))
            print(f"queued {len(jobs)} layer imports of {args.job_features} points as jobs "
                  f"through the proxy (POST /layers?async=1)", flush=True)
            # Three jobs running on two workers of concurrency 2: worker1 runs one at least.
            deadline = time.monotonic() + 60
            running = 0
            while time.monotonic() < deadline:
                states = job_states(urls[0], jobs.values())
                running = sum(1 for st, _a in states.values() if st == "running")
                if running >= 3 or all(st == "done" for st, _a in states.values()):
                    break
                time.sleep(0.2)
            stop(workers.pop("worker1"), signal.SIGKILL)
            killed["running"], killed["worker_at"] = running, time.perf_counter()
            print(f"  killed worker1 (SIGKILL) with {running} import jobs running on the two "
                  f"workers", flush=True)
            states, waited = wait_for_jobs(urls[0], jobs.values(), 10 * LEASE_SECONDS + 240)
            print(f"jobs: every job ended {time.perf_counter() - killed['worker_at']:.0f} s "
                  f"after worker1 was killed (lease {LEASE_SECONDS} s)", flush=True)
            checks.append(("jobs once with a worker killed",
                           *check_jobs_once(urls[0], jobs, args.job_features, states,
                                            killed.get("running"))))
        hosts.start(["app2"], per_host, args.threads)
        checks.append(("session through any host", *session_across_hosts()))
        checks.append(("photo through any host", *photo_across_hosts(tokens[0])))
        checks.append(("event across hosts", *event_across_hosts(admin, tokens[0])))
        checks.append(("replica follows", *replica_state(urls)))
        print(report_sizes(urls[0]), flush=True)
        for name, ok, text in checks:
            print(f"{'PASS' if ok else 'FAIL'} {name}: {text}", flush=True)
        return 0 if all(ok for _n, ok, _t in checks) else 1
    finally:
        if not args.keep:
            for proc in workers.values():
                stop(proc)
            if hosts is not None:
                hosts.stop_all()
            if proxy is not None:
                proxy.stop()
            stop_postgres()
            teardown_network()
            shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
