"""Cold start of `emergency serve` as a user starts it (default workers and threads).

For each backend: a scratch database with the demo's areas and an administrator; the server
is started, and as soon as the port accepts connections the script asks, in this order and
timing each: a signed-in page (/maps/forces with a bearer token), the sign-in page, an API
list; then the same three again (warm). The first figures are what the first user after a
restart waits for; the floor they are compared to is the same request warm, in the same run.
The machine's load average is printed with each figure.

    .venv/bin/python bench/bench_serve.py [--backend spatialite|postgis|both] [--rounds N]
"""

import argparse
import http.client
import socket
import statistics
import subprocess
import tempfile
import time

from common import (
    EMERGENCY,
    ROOT,
    cli_env,
    create_database,
    drop_database,
    free_port,
    load_average,
    migrated_engine,
    stop,
)

PATHS = ("/maps/forces", "/login", "/api/v1/areas?limit=20")


def _accepting(port):
    """True when something accepts TCP connections on the port."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _get(port, path, token):
    """(ms, status) of one GET on a new connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}",
                                           "Accept": "text/html"})
        response = conn.getresponse()
        response.read()
        return (time.perf_counter() - started) * 1000, response.status
    finally:
        conn.close()


def prepare(backend, folder):
    """A migrated scratch database with the demo areas and an admin token: (url, token)."""
    from emergency import create_app
    from emergency.auth import service as auth
    from emergency.db import new_session
    from emergency.geo.demo import load_areas

    url, _fresh = create_database(backend, folder, "serve")
    migrated_engine(url).dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                      "EMERGENCY_DATA_KEY": cli_env(url, folder)["EMERGENCY_DATA_KEY"]})
    with app.app_context():
        session = new_session()
        session.info["actor"] = "bench"
        load_areas(session)
        auth.create_user(session, "servebench", "admin", "bench-password-2026")
        session.commit()
        token = auth.create_token(session, "servebench", 1)
        session.commit()
        session.close()
    app.extensions["emergency.db"]["engine"].dispose()
    return url, token


def one_start(url, folder, token):
    """Start the server, time the first and the warm requests; stop it."""
    port = free_port()
    log = open(f"{folder}/serve.log", "ab")  # noqa: SIM115 (closed with the server)
    started = time.perf_counter()
    proc = subprocess.Popen([EMERGENCY, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=cli_env(url, folder, PYTHONPATH=str(ROOT)), stdout=log,
                            stderr=log, cwd=ROOT,
                            start_new_session=True)
    try:
        while not _accepting(port):
            if proc.poll() is not None or time.perf_counter() - started > 60:
                log.close()
                raise SystemExit("the server did not start:\n"
                                 + open(f"{folder}/serve.log").read()[-2000:])
            time.sleep(0.02)
        accepting = time.perf_counter() - started
        first = {path: _get(port, path, token) for path in PATHS}
        warm = {path: _get(port, path, token) for path in PATHS}
    finally:
        stop(proc)
        log.close()
    return accepting, first, warm


def main():
    """Parse options, measure each backend, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"],
                        default="both")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for backend in (("spatialite", "postgis") if args.backend == "both"
                        else (args.backend,)):
            url, token = prepare(backend, folder)
            try:
                runs = [one_start(url, folder, token) for _ in range(args.rounds)]
            finally:
                drop_database(url)
            print(f"[{backend}] accepting after a median "
                  f"{statistics.median(r[0] for r in runs):.1f} s (warm-up included); "
                  f"{load_average()}")
            for path in PATHS:
                firsts = [r[1][path][0] for r in runs]
                warms = [r[2][path][0] for r in runs]
                statuses = {r[1][path][1] for r in runs}
                print(f"[{backend}] {path}: first request after start max "
                      f"{max(firsts):.0f} ms, median {statistics.median(firsts):.0f} ms; warm "
                      f"median {statistics.median(warms):.0f} ms (first/warm "
                      f"{statistics.median(firsts) / statistics.median(warms):.1f}x); status "
                      f"{sorted(statuses)}; {load_average()}", flush=True)


if __name__ == "__main__":
    main()
