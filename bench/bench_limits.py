"""Hostile input against the served app: every rejection answers fast and the server stays up.

Starts `emergency serve` (gunicorn, as a user starts it) on a scratch database holding the
demonstration data, on SpatiaLite and PostGIS, and sends each payload family of issue 15 over
real HTTP: deeply nested and huge JSON, chunked bodies without a length, long integers, lone
surrogates, NUL, 300,000 metric keys, spreadsheet and image dimension bombs, a zip that
inflates to a gigabyte, a GDAL VRT disguised as GeoJSON, and a password spray. For each it
prints the status, the time to answer, the ratio to a plain health call measured in the same
run (the baseline), and the status and time of a health call made right after. It exits
non-zero when a rejection took 2 s or more, answered anything but the status of that limit
(a 5xx, an acceptance, or a refusal for another reason), or the health call after it failed.

    .venv/bin/python bench/bench_limits.py [--backend spatialite|postgis|both] [--quick]

--quick inflates the zip bomb to 200 MB instead of 1 GB. The server listens on 127.0.0.1
only; every loop is bounded; scratch databases are removed afterwards.
"""

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
import zipfile

import requests
from common import cli, cli_env, create_database, drop_database, free_port, serve, stop

LIMIT_SECONDS = 2.0


# ---- hostile files, made here and small on disk ---------------------------------------------

def xlsx_with_cell(ref):
    """An .xlsx whose one cell sits at ``ref`` (its declared dimension reaches that far)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"], sheet["C1"] = "name", "id_number", "phone"
    sheet["D2"] = "x"
    made = io.BytesIO()
    book.save(made)
    # openpyxl writes no row past Excel's 1,048,576: the cell is moved in the sheet's XML,
    # as a hostile file would have it.
    row = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    moves = ((b"A1:D2", f"A1:{ref}"), (b'<row r="2">', f'<row r="{row}">'),
             (b'r="D2"', f'r="{ref}"'))
    out = io.BytesIO()
    with (zipfile.ZipFile(made) as source,
          zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target):
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                for old, new in moves:
                    body = body.replace(old, new.encode())
            target.writestr(item, body)
    return out.getvalue()


def png_of(width, height):
    """A PNG of that many pixels (all black, so a few hundred KB at most)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, "PNG", optimize=True)
    return out.getvalue()


def zip_bomb(inflated_bytes):
    """A zip holding one GeoJSON file of ``inflated_bytes`` (mostly spaces)."""
    out = io.BytesIO()
    head = b'{"type": "FeatureCollection", "features": ['
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("roads.geojson", "w", force_zip64=True) as member:
            member.write(head)
            block = b" " * (1 << 20)
            for _ in range(inflated_bytes // len(block)):
                member.write(block)
            member.write(b"]}")
    return out.getvalue()


VRT = (b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>CSV:/etc/passwd'
       b'</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')


# ---- the run --------------------------------------------------------------------------------

def _cases(base, tokens, quick):
    """(name, the statuses that mean "refused for this reason", a call returning the
    response) for every payload family; the layer uploads name a value field, so that the
    file itself is what gets refused."""
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    planner = {"Authorization": f"Bearer {tokens['planner']}"}
    org = {"Authorization": f"Bearer {tokens['orgadmin']}"}
    as_json = {"Content-Type": "application/json"}
    plan_id = requests.get(f"{base}/api/v1/plans?limit=1", headers=admin,
                           timeout=30).json()["items"][0]["id"]
    team_id = requests.get(f"{base}/api/v1/teams?limit=1", headers=org,
                           timeout=30).json()["features"][0]["id"]
    report_id = requests.get(f"{base}/api/v1/hazards?limit=1", headers=admin,
                             timeout=30).json()["features"][0]["id"]

    def post(path, headers, **kwargs):
        return lambda: requests.post(base + path, headers=headers, timeout=60, **kwargs)

    def chunks(total, piece=1 << 20):
        yield b'{"name": "'
        for _ in range(total // piece):
            yield b"x" * piece
        yield b'"}'

    zipped = zip_bomb((200 if quick else 1024) << 20)
    return [
        ("JSON nested 5,000 deep", (400,), post("/api/v1/orgs", {**admin, **as_json},
                                        data=b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}")),
        ("integer of 5,000 digits", (400,), post("/api/v1/orgs", {**admin, **as_json},
                                         data=b'{"a": ' + b"9" * 5000 + b"}")),
        ("lone surrogate", (400,), post("/api/v1/orgs", {**admin, **as_json},
                                data=b'{"name": "\\ud800"}')),
        ("NUL in a string", (422,), post("/api/v1/orgs", {**admin, **as_json},
                                 data=b'{"name": "a\\u0000b"}')),
        ("evaluate with 300,000 keys", (413, 422), post(
            f"/api/v1/plans/{plan_id}/evaluate", {**admin, **as_json},
            data=json.dumps({"metrics": {f"m{i}": i for i in range(300_000)}}).encode())),
        ("9 MB JSON with a length", (413,), post("/api/v1/orgs", {**admin, **as_json},
                                         data=b'{"name": "' + b"x" * (9 << 20) + b'"}')),
        ("20 MB chunked JSON", (413,), post("/api/v1/orgs", {**admin, **as_json},
                                    data=chunks(20 << 20))),
        ("xlsx cell at XFD1048576", (413,), post(f"/api/v1/teams/{team_id}/members/import", org,
                                         files={"file": ("r.xlsx", xlsx_with_cell("XFD1048576"))})),
        ("xlsx cell at Z2000000", (413,), post(f"/api/v1/teams/{team_id}/members/import", org,
                                       files={"file": ("r.xlsx", xlsx_with_cell("Z2000000"))})),
        ("PNG of 7700x7700", (413,), post(f"/api/v1/hazards/{report_id}/photos", admin,
                                  files={"photo": ("p.png", png_of(7700, 7700), "image/png")})),
        (f"zip inflating to {200 if quick else 1024} MB", (413,), post(
            "/api/v1/layers", planner, data={"name": "bomb", "role": "hazard", "value_field": "v"},
            files={"file": ("roads.zip", zipped)})),
        ("VRT disguised as GeoJSON", (422,), post(
            "/api/v1/layers", planner, data={"name": "vrt", "role": "hazard", "value_field": "v"},
            files={"file": ("roads.geojson", VRT)})),
    ]


def _spray(base):
    """Wrong passwords over 30 user names from one address; (statuses, slowest seconds)."""
    import re

    session = requests.Session()
    statuses, slowest = [], 0.0
    for i in range(30):
        page = session.get(f"{base}/login", timeout=30).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        start = time.perf_counter()
        response = session.post(f"{base}/login", data={
            "username": f"spray{i}", "password": "wrong-password", "csrf_token": token},
            timeout=30, allow_redirects=False)
        slowest = max(slowest, time.perf_counter() - start)
        statuses.append(response.status_code)
    return statuses, slowest


def _health(base):
    """Status and seconds of one health call."""
    start = time.perf_counter()
    try:
        status = requests.get(f"{base}/api/v1/health", timeout=30).status_code
    except requests.RequestException:
        status = 0
    return status, time.perf_counter() - start


def run(backend, quick):
    """Run every case on one backend; returns the number of failed checks."""
    tmp = tempfile.mkdtemp(prefix="bench-limits-")
    url, _fresh = create_database(backend, tmp, "limits")
    env = cli_env(url, tmp)
    proc = None
    try:
        cli(env, "db", "upgrade")
        cli(env, "demo", "load")
        tokens = {name: cli(env, "tokens", "create", name, "--days", "1")
                  for name in ("admin", "planner", "orgadmin")}
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = serve(env, port)
        baseline = statistics.median(_health(base)[1] for _ in range(20))
        print(f"\n== {backend}: baseline health call {baseline * 1000:.1f} ms "
              f"(load average {os.getloadavg()[0]:.2f})")
        print(f"{'case':34} {'status':>6} {'ms':>8} {'x base':>8} {'health after':>13}")
        failed = 0
        for name, expected, call in _cases(base, tokens, quick):
            start = time.perf_counter()
            try:
                status = call().status_code
            except requests.RequestException as exc:  # a reset after 413 is a rejection too
                status = f"reset ({type(exc).__name__})"
            seconds = time.perf_counter() - start
            health, health_seconds = _health(base)
            bad = (seconds >= LIMIT_SECONDS or health != 200
                   or (isinstance(status, int) and status not in expected))
            failed += bad
            print(f"{name:34} {status!s:>6} {seconds * 1000:8.0f} {seconds / baseline:8.0f} "
                  f"{health:>6} {health_seconds * 1000:5.0f} ms{'  FAIL' if bad else ''}")
        statuses, slowest = _spray(base)
        health, health_seconds = _health(base)
        bad = 429 not in statuses or slowest >= LIMIT_SECONDS or health != 200
        failed += bad
        print(f"{'password spray, 30 user names':34} {statuses.count(429):>3}x429 "
              f"{slowest * 1000:8.0f} {slowest / baseline:8.0f} {health:>6} "
              f"{health_seconds * 1000:5.0f} ms{'  FAIL' if bad else ''}  (slowest try)")
        return failed
    finally:
        if proc is not None:
            stop(proc)
        drop_database(url)


def main():
    """Parse arguments and run the chosen backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("spatialite", "postgis", "both"), default="both")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    backends = ("spatialite", "postgis") if args.backend == "both" else (args.backend,)
    failed = sum(run(backend, args.quick) for backend in backends)
    print(f"\n{'every limit held' if not failed else f'{failed} check(s) failed'}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
