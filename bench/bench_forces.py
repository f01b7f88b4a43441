"""Benchmark of the forces map (/maps/forces) at province scale: 10^5 rescue teams.

For each backend it loads 1,000 approved organisations and 100,000 teams spread over
Chongqing (bulk, through spatial.bulk.insert_columns), then times inside the app (Flask's
test client, so the figures are server time, without the network):

  * the page itself (HTML: legend counts and first view from one grouped query),
  * the page's first view: the six category layers of the ``forces`` map layer for the bbox
    and zoom a 1280x800 map fitted to every team gets (squares counted by the database),
    each request and their sum (what the server does before the first features show),
  * the layer over random 1280x800 views at zooms 8..16 (p50/p95, features, gzip KB; points
    with their popups once a view holds at most 1,500 teams of a category),

and, in the same run, the floor each is compared to: the bare query of the same squares
(GROUP BY of the teams of a category in the bbox, no scope, no formatting) and of the same
points. The operations map (``/``, every bureau user's home page, whose six teams layers
hold the same 10^5 teams) is timed the same way: the page, then each layer request its
first view makes (read from the page's own map data: the offline base's areas and every
viewport layer shown), p50 of each and their sum, beside the bare queries of the squares of
that view. Last, what a user sees: each page loaded in headless Chromium (Debian's, through
tests/browser.py), timed from the request to the first teams drawn (--browser N loads).
The machine's load average is printed with every figure.

    .venv/bin/python bench/bench_forces.py [--backend spatialite|postgis|both] [--teams N]
        [--samples N] [--browser N]
"""

import argparse
import gzip
import json
import math
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from common import (
    DATA_KEY,
    create_database,
    drop_database,
    load_average,
    migrated_engine,
    percentile,
)
from sqlalchemy import text

CHONGQING = (105.29, 28.16, 110.19, 32.2)
VIEW = (1280, 800)
CATEGORIES = ("building_collapse", "mountain", "water", "diving", "medical", "other")
NOW = "2026-01-01T00:00:00+00:00"


def load_teams(session, n_teams, n_orgs=1000, seed=100_000):
    """Organisations and teams around Chongqing's towns (clustered, as real teams are)."""
    from emergency.spatial import bulk

    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = CHONGQING
    ox, oy = rng.uniform(minx, maxx, n_orgs), rng.uniform(miny, maxy, n_orgs)
    bulk.insert_columns(session, "organisations", {
        "name": [f"bench-org-{i}" for i in range(n_orgs)],
        "credit_code": [f"BENCH{i:013d}" for i in range(n_orgs)], "contact_name": "x",
        "contact_phone_enc": "x", "contact_phone_masked": "138****0000", "address": "",
        "status": "approved", "review_note": "", "submitted_at": NOW, "created_at": NOW},
        n_orgs, lambda a, b: shapely.points(ox[a:b], oy[a:b]), geom_column="location")
    first = session.execute(text(
        "SELECT min(id) FROM organisations WHERE name LIKE 'bench-org-%'")).scalar()
    # Teams near 60 towns, spread a few kilometres to tens of kilometres around them.
    towns = np.column_stack([rng.uniform(minx + 0.3, maxx - 0.3, 60),
                             rng.uniform(miny + 0.3, maxy - 0.3, 60)])
    at = towns[rng.integers(0, 60, n_teams)] + rng.normal(0, 0.12, (n_teams, 2))
    at[:, 0] = at[:, 0].clip(minx, maxx)
    at[:, 1] = at[:, 1].clip(miny, maxy)
    bulk.insert_columns(session, "teams", {
        "org_id": first + rng.integers(0, n_orgs, n_teams),
        "name": [f"救援队{i}" for i in range(n_teams)],
        "category": np.array(CATEGORIES, dtype=object)[rng.integers(0, 6, n_teams)],
        "status": np.array(["available", "dispatched", "unavailable"],
                           dtype=object)[rng.choice(3, n_teams, p=[0.8, 0.1, 0.1])],
        "grade": [None] * n_teams, "service_radius_km": rng.uniform(5, 50, n_teams).round(2),
        "member_count": rng.integers(3, 40, n_teams), "insured_members": 0,
        "created_at": NOW, "updated_at": NOW},
        n_teams, lambda a, b: shapely.points(at[a:b, 0], at[a:b, 1]), geom_column="location")


def fitted_view(bbox):
    """(bbox, zoom) of a 1280x800 Leaflet map fitted to ``bbox`` (fitBounds, no padding)."""
    def y(lat):
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    minx, miny, maxx, maxy = bbox
    zx = math.log2(VIEW[0] * 360 / (256 * (maxx - minx)))
    zy = math.log2(VIEW[1] * 2 * math.pi / (256 * (y(maxy) - y(miny))))
    zoom = int(math.floor(min(zx, zy)))
    return view_at((minx + maxx) / 2, (miny + maxy) / 2, zoom), zoom


def view_at(lon, lat, zoom):
    """The bbox of a 1280x800 map centred on lon/lat at ``zoom``."""
    deg = 360 / (256 * 2**zoom)
    half_w = VIEW[0] / 2 * deg
    half_h = VIEW[1] / 2 * deg * math.cos(math.radians(lat))
    return (lon - half_w, lat - half_h, lon + half_w, lat + half_h)


def timed_get(client, url, headers, query=None):
    """(ms, response) of one GET."""
    started = time.perf_counter()
    response = client.get(url, headers=headers, query_string=query)
    ms = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code, response.data[:300])
    return ms, response


def body_of(response):
    """The JSON body of a (maybe gzipped) response."""
    data = response.data
    if response.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return json.loads(data)


def floor_query(session, category, bbox, size, scan):
    """ms of the bare query of the squares: GROUP BY of a category's teams in the bbox
    (the same conditions and expressions, and the same index when scanning; no scope, no
    formatting)."""
    from sqlalchemy import func, select

    from emergency.spatial.tiles import point_xy, points_in_bbox
    from registry.models import RescueTeam
    from registry.teams import ON_MAP

    t = RescueTeam.__table__
    x, y = point_xy(session, t.c.location)
    bx, by = func.floor(x / size), func.floor(y / size)
    where = [t.c.category == category, points_in_bbox(session, t, bbox, "location", scan)]
    if scan:
        where.append(ON_MAP)
    query = select(bx, by, func.count()).where(*where).group_by(bx, by)
    started = time.perf_counter()
    session.execute(query).all()
    return (time.perf_counter() - started) * 1000


def floor_points(session, category, bbox, limit):
    """ms of the bare query of the points: a category's teams in the bbox, columns only."""
    from sqlalchemy import func, select

    from emergency.spatial.tiles import points_in_bbox
    from registry.models import RescueTeam

    t = RescueTeam.__table__
    query = (select(t.c.id, t.c.name, func.ST_X(t.c.location), func.ST_Y(t.c.location))
             .where(t.c.category == category, points_in_bbox(session, t, bbox, "location"))
             .order_by(t.c.id).limit(limit))
    started = time.perf_counter()
    session.execute(query).all()
    return (time.perf_counter() - started) * 1000


# The map data of a page (maps/data.py): one JSON script element per draw function.
MAP_DATA = re.compile(r'<script type="application/json" class="map-data" id="[^"]+">(.*?)'
                      r"</script>", re.S)


def first_view_requests(html, bbox, zoom):
    """The layer requests a map page makes for its first view: ``[(label, url, query)]`` of
    the offline base's areas (basemap.js) and of every viewport layer shown at start that is
    not drawn from vector tiles (viewport.js), as the page's scripts build them."""
    view = {"bbox": ",".join(f"{v:.5f}" for v in bbox), "zoom": zoom}
    requests = []
    for config in map(json.loads, MAP_DATA.findall(html)):
        if config["kind"] == "basemap":
            requests.append(("base areas", config["url"], view))
        if config["kind"] != "viewport":
            continue
        for layer in config["layers"]:
            if not layer["show"] or layer.get("tiles"):
                continue
            query = dict(view) if layer.get("zoom", True) else {"bbox": view["bbox"]}
            query.update(layer["params"])
            label = layer["name"] + "".join(f":{v}" for v in layer["params"].values())
            requests.append((label, layer.get("url") or f"{config['api']}/layers/"
                             f"{layer['name']}", query))
    return requests


def operations_first_view(client, headers, session, samples, backend):
    """Server time of the operations map (``/``) and of its first view's layer requests
    (p50 of each over ``samples`` rounds, their sum), the bare queries of the view's squares
    beside them; prints and returns the figures."""
    from maps import providers
    from maps.pages import CHONGQING_CENTRE
    from maps.tilemath import pixel_degrees, snap_bbox

    # The home page's map opens at the default view (maps.pages.base_map), every team in it.
    zoom = 7
    bbox = view_at(CHONGQING_CENTRE[1], CHONGQING_CENTRE[0], zoom)
    page_ms, times, html = [], {}, None
    features = teams = kb = 0
    for i in range(samples):
        ms, response = timed_get(client, "/", headers)
        page_ms.append(ms)
        if html is None:
            data = response.data
            if response.headers.get("Content-Encoding") == "gzip":
                data = gzip.decompress(data)
            html = data.decode()
        for label, url, query in first_view_requests(html, bbox, zoom):
            ms, response = timed_get(client, url, headers, query)
            times.setdefault(label, []).append(ms)
            if i == 0 and label.startswith("teams"):
                body = body_of(response)
                features += len(body["features"])
                meta = body["meta"]
                teams += meta.get("in_bins") or meta.get("total") or 0
                kb += len(response.data) / 1024
    p50 = {label: statistics.median(ms) for label, ms in times.items()}
    teams_p50 = sum(v for k, v in p50.items() if k.startswith("teams"))
    size = providers.TEAM_BIN_PX * pixel_degrees(zoom)
    snapped = snap_bbox(bbox, zoom)
    floors = sorted(sum(floor_query(session, c, snapped, size, zoom < providers.TEAM_SCAN_ZOOM)
                        for c in CATEGORIES) for _ in range(samples))
    out = {"page_ms_first": round(page_ms[0], 1),
           "page_ms_p50": round(statistics.median(page_ms[1:] or page_ms), 1),
           "zoom": zoom, "requests": len(p50),
           "layers_ms_p50": {k: round(v, 1) for k, v in p50.items()},
           "layers_ms_p50_sum": round(sum(p50.values()), 1),
           "teams_ms_p50_sum": round(teams_p50, 1),
           "teams_features": features, "teams_in_view": teams, "teams_kb": round(kb, 1),
           "floor_ms_p50": round(statistics.median(floors), 1)}
    out["server_ms_p50"] = round(out["page_ms_p50"] + out["layers_ms_p50_sum"], 1)
    slowest = max(p50, key=p50.get)
    print(f"[{backend}] operations map `/`: page first {out['page_ms_first']:.0f} ms, then p50 "
          f"{out['page_ms_p50']:.0f} ms; first view z{zoom}: {len(p50)} layer requests, p50 "
          f"sum {out['layers_ms_p50_sum']:.0f} ms (six teams layers {teams_p50:.0f} ms: "
          f"{features} features for {teams:,} teams, {kb:.1f} KB gzip; slowest {slowest} "
          f"{p50[slowest]:.0f} ms); page + layers {out['server_ms_p50']:.0f} ms; bare queries "
          f"of the view's squares p50 {out['floor_ms_p50']:.0f} ms, ratio of the teams "
          f"layers {teams_p50 / max(out['floor_ms_p50'], 0.01):.2f}; {load_average()}",
          flush=True)
    return out


def run_backend(backend, args, folder):
    """Load, measure; returns the figures."""
    from emergency import create_app
    from emergency.auth import service as auth
    from emergency.db import new_session
    from maps import providers
    from maps.tilemath import pixel_degrees, snap_bbox

    url, _fresh = create_database(backend, folder, "forces")
    results = {"backend": backend, "teams": args.teams}
    try:
        migrated_engine(url).dispose()
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                          "EMERGENCY_DATA_KEY": DATA_KEY,
                          "UPLOAD_FOLDER": str(Path(folder) / "uploads")})
        with app.app_context():
            session = new_session()
            session.info["actor"] = "bench"
            auth.create_user(session, "benchadmin", "admin", "bench-password-2026")
            session.commit()
            t = time.perf_counter()
            load_teams(session, args.teams)
            session.commit()
            results["load_s"] = round(time.perf_counter() - t, 1)
            if backend == "postgis":
                # What autovacuum does within a minute of such a load: without statistics
                # the planner guessed 111 rows of a category's 16,658.
                session.execute(text("ANALYZE teams"))
                session.commit()
            print(f"[{backend}] {args.teams:,} teams loaded in {results['load_s']} s; "
                  f"{load_average()}", flush=True)
            token = auth.create_token(session, "benchadmin", 1)
            session.commit()
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip",
                   "Accept": "text/html"}
        client = app.test_client()
        # The page: cold (the first after start-up), then warm.
        page_ms = [timed_get(client, "/maps/forces", headers)[0] for _ in range(args.samples)]
        results["page_ms_first"] = round(page_ms[0], 1)
        results["page_ms_p50"] = round(statistics.median(page_ms[1:]), 1)
        print(f"[{backend}] page: first {page_ms[0]:.0f} ms, then p50 "
              f"{results['page_ms_p50']:.0f} ms; {load_average()}", flush=True)
        # The first view of the page: every team fitted into 1280x800.
        with app.app_context():
            session = new_session()
            from registry import teams as registry_teams

            overview = registry_teams.map_overview(session, auth.get_user(session,
                                                                          "benchadmin"))
            boxes = [v["bbox"] for v in overview.values()]
            extent = (min(b[0] for b in boxes), min(b[1] for b in boxes),
                      max(b[2] for b in boxes), max(b[3] for b in boxes))
            bbox, zoom = fitted_view(extent)
            snapped = snap_bbox(bbox, zoom)
            rounds = []
            for _ in range(args.samples):
                times, features, kb, squares = [], 0, 0.0, 0
                for category in CATEGORIES:
                    ms, response = timed_get(client, "/api/v1/maps/layers/forces", headers, {
                        "bbox": ",".join(f"{v:.5f}" for v in bbox), "zoom": zoom,
                        "category": category})
                    body = body_of(response)
                    times.append(ms)
                    features += len(body["features"])
                    squares += body["meta"].get("in_bins", 0)
                    kb += len(response.data) / 1024
                rounds.append((sum(times), max(times), features, kb, squares))
            sums = sorted(r[0] for r in rounds)
            size = providers.TEAM_BIN_PX * pixel_degrees(zoom)
            scan = zoom < providers.TEAM_SCAN_ZOOM
            floors = sorted(sum(floor_query(session, c, snapped, size, scan) for c in CATEGORIES)
                            for _ in range(args.samples))
            results.update(first_view_zoom=zoom, first_view_features=rounds[0][2],
                           first_view_teams=rounds[0][4], first_view_kb=round(rounds[0][3], 1),
                           first_view_ms_p50=round(statistics.median(sums), 1),
                           first_view_ms_p95=round(percentile(sums, 95), 1),
                           first_view_max_request_ms=round(max(r[1] for r in rounds), 1),
                           first_view_floor_ms_p50=round(statistics.median(floors), 1))
            print(f"[{backend}] first view z{zoom}: 6 requests, {rounds[0][2]} features "
                  f"(squares of {rounds[0][4]:,} teams), {rounds[0][3]:.1f} KB gzip; server "
                  f"p50 {results['first_view_ms_p50']:.0f} ms, p95 "
                  f"{results['first_view_ms_p95']:.0f} ms for all six (slowest request "
                  f"{results['first_view_max_request_ms']:.0f} ms); bare queries p50 "
                  f"{results['first_view_floor_ms_p50']:.0f} ms, ratio "
                  f"{results['first_view_ms_p50'] / results['first_view_floor_ms_p50']:.2f}; "
                  f"{load_average()}", flush=True)
            # Random views by zoom, one category per request (as the page asks).
            rnd = random.Random(7)
            results["zooms"] = []
            for z in range(8, 17, 2):
                times, floors, counts, sizes, raw = [], [], [], [], 0
                for _ in range(args.samples):
                    lon = rnd.uniform(106.0, 109.5)
                    lat = rnd.uniform(28.8, 31.5)
                    box = view_at(lon, lat, z)
                    category = rnd.choice(CATEGORIES)
                    ms, response = timed_get(client, "/api/v1/maps/layers/forces", headers, {
                        "bbox": ",".join(f"{v:.5f}" for v in box), "zoom": z,
                        "category": category})
                    body = body_of(response)
                    times.append(ms)
                    counts.append(len(body["features"]))
                    sizes.append(len(response.data) / 1024)
                    snapped = snap_bbox(box, z)
                    if body["meta"].get("aggregated"):
                        floors.append(floor_query(session, category, snapped,
                                                  providers.TEAM_BIN_PX * pixel_degrees(z),
                                                  z < providers.TEAM_SCAN_ZOOM))
                    else:
                        raw += 1
                        floors.append(floor_points(session, category, snapped,
                                                   providers.RAW_TEAM_LIMIT))
                times.sort()
                floors.sort()
                row = {"zoom": z, "p50_ms": round(statistics.median(times), 1),
                       "p95_ms": round(percentile(times, 95), 1),
                       "floor_p50_ms": round(statistics.median(floors), 1),
                       "max_features": max(counts), "p95_kb": round(
                           percentile(sorted(sizes), 95), 1), "points_views": raw,
                       "views": len(times)}
                results["zooms"].append(row)
                print(f"[{backend}] z{z}: p50 {row['p50_ms']:.1f} ms, p95 {row['p95_ms']:.1f} "
                      f"ms (bare query p50 {row['floor_p50_ms']:.1f} ms, ratio "
                      f"{row['p50_ms'] / max(row['floor_p50_ms'], 0.01):.1f}); features "
                      f"≤ {row['max_features']}, p95 {row['p95_kb']} KB; {raw}/{len(times)} "
                      f"views as points; {load_average()}", flush=True)
            results["operations"] = operations_first_view(client, headers, session,
                                                          args.samples, backend)
            session.close()
        if args.browser:
            drawn = browser_first_features(app, args.browser)
            results["browser_first_features_s"] = drawn["forces"]
            results["operations"]["browser_first_teams_s"] = drawn["operations"]
            results["operations"]["browser_all_teams_s"] = drawn["operations_all"]
            for name, times in (("/maps/forces", drawn["forces"]),
                                ("/ (operations map)", drawn["operations"])):
                print(f"[{backend}] {name} in Chromium (1280x800, signed in, the page's own "
                      f"requests to the app's threaded test server): first teams drawn after "
                      f"{', '.join(f'{t:.2f}' for t in times)} s (first: a fresh browser "
                      f"profile; median {statistics.median(times):.2f} s); {load_average()}",
                      flush=True)
            print(f"[{backend}] / every teams layer drawn after "
                  f"{', '.join(f'{t:.2f}' for t in drawn['operations_all'])} s", flush=True)
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        drop_database(url)
    results["load"] = load_average()
    return results


FORCES_DRAWN = ("() => { const m = document.querySelector('.leaflet-container');"
                " return m && Number(m.dataset.teams) > 0; }")
# The operations map: teams counted in its "in view" box (operations-live.js), i.e. one
# teams layer drawn; then every teams layer answered.
OPERATIONS_DRAWN = ("() => { const n = document.querySelector("
                    "'.ops-counts [data-layer=teams]'); return n && Number(n.dataset.count) > 0; }")
OPERATIONS_ALL = ("() => Object.values(window.viewportLayers || {}).some(v => v.defs.filter("
                  "d => d.name === 'teams').every(d => d.meta))")


def browser_first_features(app, rounds):
    """Seconds from asking for /maps/forces, then for / (the operations map), to its first
    teams drawn, in headless Chromium, ``rounds`` times each in fresh contexts:
    ``{"forces": [...], "operations": [...], "operations_all": [...]}`` (the last: until every
    teams layer of / has answered, which each round waits for so that the next one starts on
    an idle server)."""
    import logging

    from tests.browser import chromium, live_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    times = {"forces": [], "operations": [], "operations_all": []}
    with live_server(app) as base, chromium() as browser:
        login = browser.new_context()
        page = login.new_page()
        # Signed in through a light page: after the default one (the operations map, whose
        # city-wide layers of 10^5 teams take seconds) its requests went on in the server
        # while the first measured page loaded (2.4-2.6 s instead of 0.5 s on PostGIS).
        page.goto(f"{base}/login?next=/jobs")
        page.fill("input[name=username]", "benchadmin")
        page.fill("input[name=password]", "bench-password-2026")
        page.click("button[type=submit]")
        # Signed in once the form has gone (the page after it holds a live event stream
        # open, so the network never goes idle).
        page.wait_for_url(lambda url: "/jobs" in url)
        state = login.storage_state()
        login.close()
        for path, drawn, key in (("/maps/forces", FORCES_DRAWN, "forces"),
                                 ("/", OPERATIONS_DRAWN, "operations")):
            for _ in range(rounds):
                context = browser.new_context(storage_state=state,
                                              viewport={"width": 1280, "height": 800})
                page = context.new_page()
                started = time.perf_counter()
                page.goto(f"{base}{path}", wait_until="commit")
                page.wait_for_function(drawn, timeout=120_000, polling=20)
                times[key].append(round(time.perf_counter() - started, 3))
                if key == "operations":
                    page.wait_for_function(OPERATIONS_ALL, timeout=300_000, polling=50)
                    times["operations_all"].append(round(time.perf_counter() - started, 3))
                context.close()
    return times


def main():
    """Parse options, run each backend, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"],
                        default="both")
    parser.add_argument("--teams", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--browser", type=int, default=3, metavar="N",
                        help="loads of the page in headless Chromium, timed to the first "
                        "teams drawn (0: none)")
    args = parser.parse_args()
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for name in (("spatialite", "postgis") if args.backend == "both" else (args.backend,)):
            out.append(run_backend(name, args, folder))
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
