"""Warnings: publishing a warning to 1,000 areas and rendering its CAP 1.2 document, and the
public Atom feed with 500 active warnings (warm), on SpatiaLite and PostGIS, in process.

For each backend, on a scratch database (migrated; 1,000 generated community squares in a
40 x 25 block near Chongqing's centre, 0.01 degree each, and three users):

1. publish: a planner drafts a warning naming all 1,000 areas (validation reads every code),
   an administrator approves, a second planner publishes (the union of the 1,000 outlines is
   stored), then its CAP document is built (area names, the union's polygons, 1,000 geocodes)
   and checked against the CAP 1.2 schema once. Each repetition runs in a transaction that is
   rolled back, so every one publishes the same warning to the same areas. Printed: the
   median and p95 of draft, approve + publish, CAP rendering and the whole, against the floor
   measured in the same run: serialising the same CAP tree from memory (no database), which
   is what rendering costs at least.
2. Atom: 500 published warnings (a few areas each) are committed; the feed is asked R times
   (default 30) after one cold call, through the Flask test client (the whole request: one
   query of the feed's state, the document kept for that state, the ETag) and made again
   without that cache (the rows' query and the XML); the floor is building the same feed
   from rows already in memory. The GeoJSON feed's time and both feeds' sizes are printed
   too.

    .venv/bin/python bench/bench_warnings.py [--backend spatialite|postgis|both] [--runs N]
        [--quick]

Aims (issue 18): publish + CAP <= 200 ms, Atom warm <= 100 ms. The figures are printed with
the load average before and after (the machine is shared); nothing passes or fails on time.
--quick: 3 publish runs, 10 Atom calls. Scratch databases are removed afterwards.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from types import SimpleNamespace

from common import DATA_KEY, migrated_engine, percentile, scratch_database

AREAS = 1000
ACTIVE = 500


def load_average():
    """The 1, 5 and 15 minute load averages as text."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def figures(samples):
    """'median / p95 ms' of samples in seconds."""
    ordered = sorted(samples)
    return (f"{statistics.median(ordered) * 1000:7.1f} / "
            f"{percentile(ordered, 95) * 1000:7.1f} ms")


def square(lon, lat, size=0.01):
    """A square polygon with its south-west corner at lon/lat."""
    from shapely.geometry import box

    return box(lon, lat, lon + size, lat + size)


def prepare(session):
    """1,000 community areas under one district (street level skipped: a community's parent
    is any area), and the three people of the four eyes."""
    from emergency.auth import service as auth
    from emergency.geo import service as geo

    geo.create_area(session, "500000", "基准市", "city", square(105.5, 28.5, 2.0))
    geo.create_area(session, "500100", "基准区", "district", square(106.0, 29.3, 0.6), "500000")
    codes = []
    for n in range(AREAS):
        code = f"500100{n:06d}"
        geo.create_area(session, code, f"第{n + 1}社区", "community",
                        square(106.1 + (n % 40) * 0.01, 29.4 + (n // 40) * 0.01), "500100")
        codes.append(code)
    people = [auth.create_user(session, name, role, "correct horse battery", [], None, None)
              for name, role in (("b-author", "planner"), ("b-admin", "admin"),
                                 ("b-planner", "planner"))]
    session.commit()
    return codes, people


def bench_publish(app, session, codes, people, runs):
    """Draft, approve + publish, render: timings of each and of the whole."""
    from lxml import etree

    from alerts import cap, feeds, service
    from emergency.db import utcnow

    author, approver, publisher = people
    sender = app.config["CAP_SENDER"]
    region = app.config["SERVED_BBOX"]
    draft_t, publish_t, render_t, whole_t, floor_t = [], [], [], [], []
    size = 0
    for run in range(runs + 1):  # the first run warms caches and is not counted
        now = utcnow()
        started = time.perf_counter()
        warning = service.create_warning(
            session, author, region=region, title="基准区暴雨红色预警",
            hazard_type="meteorological", level="red", area_codes=codes, geometry=None,
            onset=now, expires=now + timedelta(hours=6), description="预计降雨量 100 毫米以上。",
            instruction="停止户外活动。")
        drafted = time.perf_counter()
        service.transition(session, approver, warning.id, "approved")
        service.transition(session, publisher, warning.id, "published")
        published = time.perf_counter()
        document = feeds.cap_document(session, warning, sender, web="http://localhost/")
        rendered = time.perf_counter()
        if run == 0:
            assert cap.schema().validate(etree.fromstring(document)), cap.schema().error_log
            size = len(document)
            # The floor: the same tree serialised from memory, no database.
            names = feeds.area_names(session, codes)
            geometry = feeds.warning_geometry(session, warning)
            plain = SimpleNamespace(**{k: getattr(warning, k) for k in (
                "title", "hazard_type", "level", "status", "area_codes", "onset", "expires",
                "description", "instruction", "version", "cap_identifier", "references",
                "published_at", "updated_at", "lifted_at", "cancelled_at", "note")})
        else:
            draft_t.append(drafted - started)
            publish_t.append(published - drafted)
            render_t.append(rendered - published)
            whole_t.append(rendered - started)
        session.rollback()
    for _ in range(max(runs, 5)):
        started = time.perf_counter()
        cap.alert_document(plain, sender=sender, area_names=names, geometry=geometry,
                           web="http://localhost/")
        floor_t.append(time.perf_counter() - started)
    print(f"  publish to {AREAS} areas and render its CAP ({runs} runs, median / p95):")
    print(f"    draft (1,000 codes checked)    {figures(draft_t)}")
    print(f"    approve + publish (union)      {figures(publish_t)}")
    print(f"    CAP document ({size / 1024:.0f} KB)          {figures(render_t)}")
    print(f"    whole: draft to CAP            {figures(whole_t)}   aim <= 200 ms")
    print(f"    publish + CAP (after drafting) "
          f"{figures([p + r for p, r in zip(publish_t, render_t, strict=True)])}")
    print(f"    floor: the same CAP tree from memory {figures(floor_t)}  "
          f"(rendering / floor: {statistics.median(render_t) / statistics.median(floor_t):.1f}x)")


def add_active(session, codes):
    """ACTIVE published warnings of a few areas each, committed."""
    from geoalchemy2.shape import from_shape

    from alerts.models import EarlyWarning
    from emergency.db import utcnow

    now = utcnow()
    levels = ("red", "orange", "yellow", "blue")
    for n in range(ACTIVE):
        mine = codes[(n * 3) % AREAS:(n * 3) % AREAS + 3]
        session.add(EarlyWarning(
            title=f"第{n + 1}号预警", hazard_type="meteorological", level=levels[n % 4],
            status="published", area_codes=mine, onset=now, expires=now + timedelta(hours=12),
            description="", instruction="", version=1, references=[],
            cap_identifier=f"bench-{n}-1", published_at=now - timedelta(seconds=n),
            created_at=now, updated_at=now,
            geometry=from_shape(_multi(square(106.1 + (n % 40) * 0.01,
                                              29.4 + (n // 40) * 0.01, 0.03)), srid=4326)))
    session.commit()


def _multi(polygon):
    """A polygon as a MultiPolygon."""
    from shapely.geometry import MultiPolygon

    return MultiPolygon([polygon])


def bench_atom(app, session, runs):
    """The Atom feed with ACTIVE warnings: HTTP, service and floor; the GeoJSON feed."""
    from alerts import feeds
    from emergency.db import utcnow

    client = app.test_client()
    links = feeds.Links(cap=lambda i: f"http://localhost/api/v1/public/warnings/{i}.cap",
                        page=lambda i: f"http://localhost/public/warnings#w{i}",
                        feed="http://localhost/api/v1/public/warnings.atom",
                        html="http://localhost/public/warnings")
    sender = app.config["CAP_SENDER"]
    started = time.perf_counter()
    first = client.get("/api/v1/public/warnings.atom")
    cold = time.perf_counter() - started
    assert first.status_code == 200
    http_t, service_t, floor_t, geo_t = [], [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get("/api/v1/public/warnings.atom")
        http_t.append(time.perf_counter() - started)
        assert response.status_code == 200
        started = time.perf_counter()
        feeds.atom(session, utcnow(), links, sender, cached=False)
        service_t.append(time.perf_counter() - started)
        session.rollback()
    now = utcnow()
    rows = feeds.public_rows(session, now, lifted_since=now - feeds.CANCEL_KEPT)
    names = feeds.area_names(session, [c for r in rows for c in (r.area_codes or [])])
    session.rollback()
    last = max(r.published_at for r in rows)
    for _ in range(runs):
        started = time.perf_counter()
        feeds.atom_document(rows, names, last, links, sender)
        floor_t.append(time.perf_counter() - started)
    client.get("/api/v1/public/warnings")
    for _ in range(runs):
        started = time.perf_counter()
        geo = client.get("/api/v1/public/warnings")
        geo_t.append(time.perf_counter() - started)
    tag = response.headers["ETag"]
    started = time.perf_counter()
    not_modified = client.get("/api/v1/public/warnings.atom", headers={"If-None-Match": tag})
    revalidate = time.perf_counter() - started
    entries = response.get_data().count(b"<entry>")
    print(f"  Atom feed, {entries} active warnings ({len(response.get_data()) / 1024:.0f} KB; "
          f"cold first call {cold * 1000:.0f} ms):")
    print(f"    GET .atom (whole request)      {figures(http_t)}   aim <= 100 ms warm")
    print(f"    made again (query + XML)       {figures(service_t)}")
    print(f"    floor: XML from rows in memory {figures(floor_t)}")
    print(f"    If-None-Match -> {not_modified.status_code}          "
          f"{revalidate * 1000:7.1f} ms")
    print(f"  GeoJSON feed, {ACTIVE} warnings ({len(geo.get_data()) / 1024:.0f} KB): "
          f"{figures(geo_t)}")


def run(backend, runs, atom_runs, folder):
    """Both measurements on one backend."""
    from emergency import create_app
    from emergency.db import new_session

    with scratch_database(backend, folder, "warnings") as url:
        migrated_engine(url, pool_size=2).dispose()
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                          "EMERGENCY_DATA_KEY": DATA_KEY,
                          "UPLOAD_FOLDER": os.path.join(folder, "uploads")})
        print(f"{backend}: load average {load_average()}", flush=True)
        with app.test_request_context("/"):
            session = new_session()
            session.info["actor"] = "bench"
            try:
                codes, people = prepare(session)
                bench_publish(app, session, codes, people, runs)
                add_active(session, codes)
            finally:
                session.close()
        with app.app_context():
            session = new_session(readonly=True)
            try:
                bench_atom(app, session, atom_runs)
            finally:
                session.close()
        app.extensions["emergency.db"]["engine"].dispose()
        print(f"{backend}: load average {load_average()}", flush=True)


def main():
    """Parse the options and run each backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("spatialite", "postgis", "both"), default="both")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--atom-runs", type=int, default=30)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    if options.quick:
        options.runs, options.atom_runs = 3, 10
    backends = ("spatialite", "postgis") if options.backend == "both" else (options.backend,)
    with tempfile.TemporaryDirectory(prefix="bench-warnings-") as folder:
        for backend in backends:
            run(backend, options.runs, options.atom_runs, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
