"""Benchmark of the dispatcher's pages: the console's first draw on the demo and the incident
list with 10,000 incidents, on SpatiaLite and PostGIS.

Run: .venv/bin/python bench/bench_incident_pages.py [--backend spatialite|postgis]
     [--incidents 10000] [--repeat 15] [--no-browser]

For each backend, on a scratch database holding the demo (areas, users, registry, plans,
incidents), it measures in the same run:
- the console page ``/maps/incidents/{id}`` of the demo's live incident: server time
  in-process (p50/p95 of ``--repeat`` requests), against the bare SELECT of the incident row
  and ``GET /api/v1/incidents/{id}`` as baselines; then in headless Chromium (signed in,
  against a local threaded server) the time from navigation to ``.leaflet-container`` and to
  the first recommended team drawn in the side panel;
- the list ``/incidents`` once ``--incidents`` incidents are added (spread over the demo's
  districts, area codes those districts', occurred over the last two years): page 1, a
  status filter, a title search, a district, a date range, a deep page (offset 5000) and the
  xlsx export of one district, against the bare ``SELECT count(*)`` + first page of 50 rows
  ordered by time in the same run, with the database's plan of that page query;
and prints the load average before and after, since the machine is shared.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import DATA_KEY, create_database, drop_database, migrated_engine, percentile

PASSWORD = "bench correct horse"


def load_average():
    """The 1, 5 and 15 minute load averages as text."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def timed(call, repeat):
    """(p50, p95) in milliseconds of ``repeat`` calls after one warm-up call."""
    call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), percentile(samples, 95)


def make_app(backend, folder):
    """The app on a scratch database with the demo loaded: (app, url)."""
    from emergency import create_app
    from emergency.auth.demo import load_users
    from emergency.demo import load
    from emergency.geo.demo import load_areas
    from incidents.demo import load_incidents
    from plans.demo import load_plans
    from registry.demo import load_registry

    url, _fresh = create_database(backend, folder, "incident-pages")
    migrated_engine(url, pool_size=2).dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                      "EMERGENCY_DATA_KEY": DATA_KEY,
                      "UPLOAD_FOLDER": str(Path(folder) / "uploads")})
    started = time.perf_counter()
    with app.app_context():
        load([load_areas, load_users, load_registry, load_plans, load_incidents])
    print(f"  demo loaded in {time.perf_counter() - started:.1f} s", flush=True)
    return app, url


def bench_user(app):
    """A dispatcher for the bench: its bearer header."""
    from emergency.auth import service
    from emergency.db import new_session

    with app.app_context():
        session = new_session()
        service.create_user(session, "bench-disp", "dispatcher", PASSWORD)
        token = service.create_token(session, "bench-disp", 1)
        session.commit()
        session.close()
    return {"Authorization": f"Bearer {token}"}


def live_incident(app):
    """The id of the demo's incident under way (the console's typical case)."""
    from sqlalchemy import select

    from emergency.db import new_session
    from incidents.models import Incident

    with app.app_context():
        session = new_session()
        found = session.scalar(select(Incident.id).where(Incident.status == "responding")
                               .order_by(Incident.id).limit(1)) or \
            session.scalar(select(Incident.id).order_by(Incident.id).limit(1))
        session.close()
    return found


def get(app, headers, path):
    """A function that GETs ``path`` with a fresh client and checks the answer."""
    def call():
        response = app.test_client().get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        return response
    return call


def bare(app, sql, params=None):
    """A function running one SQL statement on a fresh session (the baseline)."""
    from sqlalchemy import text

    from emergency.db import new_session

    def call():
        with app.app_context():
            session = new_session()
            try:
                session.execute(text(sql), params or {}).all()
            finally:
                session.close()
    return call


def console_server(app, headers, incident_id, repeat):
    """Server times of the console against its baselines."""
    rows = [("bare SELECT of the incident", bare(app, "SELECT * FROM incidents WHERE id = :i",
                                                 {"i": incident_id})),
            ("GET /api/v1/incidents/{id}", get(app, headers, f"/api/v1/incidents/{incident_id}")),
            ("console page /maps/incidents/{id}",
             get(app, headers, f"/maps/incidents/{incident_id}"))]
    for label, call in rows:
        p50, p95 = timed(call, repeat)
        print(f"  {label:<44} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms", flush=True)


def console_browser(app, incident_id, runs):
    """Navigation → .leaflet-container and → first recommended team, in Chromium."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.browser import chromium, live_server

    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "bench-disp")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda u: "/login" not in u)
        maps, panels = [], []
        for n in range(runs + 1):
            started = time.perf_counter()
            page.goto(f"{base}/maps/incidents/{incident_id}", wait_until="commit")
            page.wait_for_selector(".leaflet-container", state="attached")
            drawn = time.perf_counter()
            page.wait_for_selector("#recommendations tbody tr", state="attached")
            if n:  # the first load warms the server's and the browser's caches
                maps.append((drawn - started) * 1000)
                panels.append((time.perf_counter() - started) * 1000)
        page.close()
    for label, samples in (("Chromium: navigation → .leaflet-container", maps),
                           ("Chromium: navigation → first team in panel", panels)):
        samples.sort()
        print(f"  {label:<44} p50 {statistics.median(samples):7.1f} ms   "
              f"max {samples[-1]:7.1f} ms", flush=True)


def add_incidents(app, count, seed=16):
    """``count`` incidents over the demo's districts; returns the district codes."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point, shape

    from emergency.db import new_session
    from emergency.geo import service as geo
    from emergency.spatial.bulk import insert_many
    from incidents.models import Incident
    from plans.incident_types import SUBTYPES

    rnd = random.Random(seed)
    now = datetime.now(UTC)
    words = ("山体滑坡", "洪涝", "火灾", "交通事故", "危化品泄漏", "地震", "森林火情", "城市内涝")
    types = list(SUBTYPES)
    with app.app_context():
        session = new_session()
        outlines = geo.district_outlines(session)["features"]
        boxes = [(f["properties"]["code"], shape(f["geometry"]).bounds) for f in outlines]
        rows = []
        for n in range(count):
            code, (x0, y0, x1, y1) = rnd.choice(boxes)
            point = Point(rnd.uniform(x0, x1), rnd.uniform(y0, y1))
            rows.append({
                "title": f"{rnd.choice(words)} {n}", "incident_type": rnd.choice(types),
                "status": rnd.choices(("open", "responding", "closed"), (1, 1, 8))[0],
                "location": from_shape(point, srid=4326), "area_code": code,
                "occurred_at": now - timedelta(minutes=rnd.randrange(2 * 365 * 24 * 60)),
                "metrics": {"deaths": rnd.randrange(4)}, "matched": [], "required_forces": [],
                "response_level": rnd.choice((None, 1, 2, 3, 4)), "created_by": "bench",
                "created_at": now, "updated_at": now})
        started = time.perf_counter()
        insert_many(session, Incident.__table__, rows)
        session.commit()
        session.close()
    print(f"  {count} incidents added in {time.perf_counter() - started:.1f} s", flush=True)
    return [code for code, _box in boxes]


PAGE_SQL = ("SELECT id, title, incident_type, status, area_code, occurred_at, response_level, "
            "plan_title FROM incidents {where} ORDER BY occurred_at DESC, id DESC LIMIT 50")


def query_plans(app, backend):
    """The database's plans of the list's page query, unfiltered and by status."""
    from sqlalchemy import text

    from emergency.db import new_session

    explain = "EXPLAIN QUERY PLAN " if backend == "spatialite" else "EXPLAIN "
    with app.app_context():
        session = new_session()
        for label, where in (("page", ""), ("page, status=open", "WHERE status = 'open'")):
            rows = session.execute(text(explain + PAGE_SQL.format(where=where))).all()
            plan = " | ".join(str(r[-1]).strip() for r in rows)
            print(f"  plan of the {label} query: {plan}", flush=True)
        session.close()


def list_pages(app, headers, districts, repeat):
    """Server times of the list against the bare count + first page."""
    day = (datetime.now(UTC) - timedelta(days=200)).date()
    district = districts[len(districts) // 2]
    base = [("bare count + first 50 by time", lambda: (
        bare(app, "SELECT count(*) FROM incidents")(),
        bare(app, PAGE_SQL.format(where=""))()))]
    pages = [("/incidents", "/incidents"),
             ("/incidents?status=open", "/incidents?status=open"),
             ("/incidents?q=滑坡", "/incidents?q=%E6%BB%91%E5%9D%A1"),
             ("/incidents?district=…", f"/incidents?district={district}"),
             ("/incidents?date_from…date_to (30 days)",
              f"/incidents?date_from={day}&date_to={day + timedelta(days=30)}"),
             ("/incidents?offset=5000", "/incidents?offset=5000"),
             ("/incidents/export.xlsx?district=…", f"/incidents/export.xlsx?district={district}")]
    for label, call in [*base, *((label, get(app, headers, path)) for label, path in pages)]:
        p50, p95 = timed(call, repeat)
        print(f"  {label:<44} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms", flush=True)


def run(backend, args):
    """One backend's measurements."""
    folder = tempfile.mkdtemp(prefix="bench-incident-pages-")
    print(f"\n== {backend} (load average {load_average()})", flush=True)
    app, url = make_app(backend, folder)
    try:
        headers = bench_user(app)
        incident_id = live_incident(app)
        print(f"console of demo incident {incident_id}:", flush=True)
        console_server(app, headers, incident_id, args.repeat)
        if not args.no_browser:
            console_browser(app, incident_id, min(args.repeat, 8))
        districts = add_incidents(app, args.incidents)
        print(f"list with {args.incidents} more incidents:", flush=True)
        query_plans(app, backend)
        list_pages(app, headers, districts, args.repeat)
    finally:
        app.extensions["emergency.db"]["engine"].dispose()
        drop_database(url)
    print(f"  load average after: {load_average()}", flush=True)


def main(argv=None):
    """Parse the options and run each backend."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("spatialite", "postgis"))
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
    print(f"load average {load_average()} on {os.cpu_count()} CPUs", flush=True)
    for backend in [args.backend] if args.backend else ["spatialite", "postgis"]:
        run(backend, args)


if __name__ == "__main__":
    main()
