"""Benchmark of the map layers at city scale: the risk map of Chongqing at 1 km and 500 m.

In headless Chromium (Debian's, driven by Playwright) it loads, in the same run:
  * the viewport page (operations map at /?assessment=ID, layers by bbox from the app),
  * the risk page of the contract (/maps/risk/ID) when it exists,
  * a naive folium page that embeds every cell as GeoJSON,
and prints bytes transferred and time to first features drawn. Then it times the layer
endpoint over random 1280x800 viewports at zooms 7..14 (p50/p95 latency, sizes, feature
counts), and, on PostGIS, ST_AsMVT tiles of the same cells for comparison.

    .venv/bin/python bench/bench_maps.py [--backend spatialite|postgis] [--quick] [--rebuild]

The data (demo areas, a synthetic hazard layer, the runs) is kept between runs in
/tmp/bench-maps.sqlite or the PostGIS database bench_maps_kept (--rebuild redoes it);
building the 500 m run takes about two minutes on SpatiaLite. --quick does 1 km only and
fewer samples.
"""

import argparse
import gzip
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from common import DATA_KEY, create_database, migrated_engine, percentile

CHONGQING = (105.29, 28.16, 110.19, 32.2)
VIEW = (1280, 800)


def make_app(backend, sizes, rebuild):
    """The app on the benchmark database, building the data when needed; {size: run id}."""
    from emergency import create_app

    url, _fresh = create_database(backend, "/tmp", "maps", keep=True, reset=rebuild)
    tmp = Path(tempfile.mkdtemp(prefix="bench-maps-"))
    migrated_engine(url, pool_size=2).dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                      "EMERGENCY_DATA_KEY": DATA_KEY, "UPLOAD_FOLDER": str(tmp / "uploads")})
    with app.app_context():
        runs = _ensure_runs(sizes)
    return app, runs, tmp


def _ensure_runs(sizes):
    """Demo areas, a hazard layer and one finished run per cell size (reused when present)."""
    from emergency.auth.demo import load_users
    from emergency.db import new_session
    from emergency.demo import load
    from emergency.geo.demo import load_areas
    from risk import service
    from risk.layers import import_layer

    session = new_session()
    has_city = _has_city(session)
    session.close()  # SQLite: a reader under BEGIN IMMEDIATE would lock out the loader
    if not has_city:
        load([load_areas, load_users])
    session = new_session()
    try:
        runs = {}
        done, _total = service.list_assessments(session, area_code="500000", status="done",
                                                limit=100)
        for record in done:
            runs.setdefault(record["cell_size_m"], record["id"])
        missing = [s for s in sizes if s not in runs]
        if missing:
            rnd = random.Random(1)
            features = [{"type": "Feature", "properties": {"value": rnd.randint(1, 5)},
                         "geometry": {"type": "Point", "coordinates": [
                             rnd.uniform(105.3, 110.2), rnd.uniform(28.2, 32.2)]}}
                        for _ in range(3000)]
            path = Path(tempfile.mkdtemp()) / "hazards.geojson"
            path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
            layer, _repaired = import_layer(session, str(path), "bench hazards", "hazard",
                                            value_field="value")
            session.commit()
            for size in missing:
                started = time.perf_counter()
                run = service.create_assessment(session, "500000", size,
                                                [{"layer_id": layer.id, "weight": 1.0}])
                session.commit()
                service.run_assessment(session, run.id)
                session.commit()
                runs[size] = run.id
                print(f"built the {size} m run #{run.id} in "
                      f"{time.perf_counter() - started:.0f} s", flush=True)
        return runs
    finally:
        session.close()


def _has_city(session):
    """True when the demo areas are loaded."""
    from emergency.geo import service as geo

    records, _total = geo.list_areas(session, level="city", limit=1)
    return bool(records)


def _token(app):
    """A bearer token of the demo admin."""
    from emergency.auth import service
    from emergency.db import new_session

    with app.app_context():
        session = new_session()
        token = service.create_token(session, "admin", 1)
        session.commit()
        session.close()
    return token


def naive_page(app, run_id, folder):
    """A folium page embedding every cell of a run (the default folium way); its file name."""
    import folium

    from emergency.db import new_session
    from maps.assets import offline
    from risk import reports

    with app.app_context():
        session = new_session()
        features, total = reports.cells(session, run_id, limit=10**7)
        session.close()
    fmap = folium.Map(location=(29.9, 107.8), zoom_start=7, tiles=None, prefer_canvas=True)
    folium.GeoJson({"type": "FeatureCollection", "features": features},
                   style_function=lambda f: {"fillColor": f["properties"]["colour"],
                                             "color": f["properties"]["colour"],
                                             "weight": 0, "fillOpacity": 0.6}).add_to(fmap)
    name = f"naive-{run_id}.html"
    offline(fmap).save(str(folder / name))
    return name, total


def measure_page(browser, url, ready_js, timeout_s):
    """(bytes transferred, seconds to first features, requests) of loading one page."""
    context = browser.new_context(viewport={"width": VIEW[0], "height": VIEW[1]})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    sizes = {"bytes": 0, "requests": 0}

    def finished(event):
        sizes["bytes"] += event.get("encodedDataLength", 0)
        sizes["requests"] += 1

    cdp.on("Network.loadingFinished", finished)
    started = time.perf_counter()
    try:
        page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        page.wait_for_function(ready_js, timeout=timeout_s * 1000, polling=50)
        elapsed = time.perf_counter() - started
    except Exception as exc:  # a timeout is a result here, not a failure of the benchmark
        elapsed = float("nan")
        print(f"  {url}: {type(exc).__name__} after {timeout_s} s", flush=True)
    page.wait_for_timeout(300)
    context.close()
    return sizes["bytes"], elapsed, sizes["requests"]


VIEWPORT_READY = ("() => { const v = Object.values(window.viewportLayers || {})[0];"
                  " return v && v.counts.risk > 0; }")
RISK_PAGE_READY = ("() => { const m = document.querySelector('.folium-map');"
                   " return m && Number(m.dataset.cells) > 0; }")
NAIVE_READY = ("() => Object.keys(window).some(k => k.startsWith('geo_json_') &&"
               " window[k].getLayers && window[k].getLayers().length > 0)")


def viewports(zoom, count, rnd):
    """Random 1280x800 bboxes at ``zoom`` whose centres lie in Chongqing."""
    out = []
    for _ in range(count):
        lon = rnd.uniform(106.0, 109.5)
        lat = rnd.uniform(28.8, 31.5)
        deg = 360 / (256 * 2**zoom)
        half_w = VIEW[0] / 2 * deg
        half_h = VIEW[1] / 2 * deg * 0.87  # mercator at ~30° N
        out.append((lon - half_w, lat - half_h, lon + half_w, lat + half_h))
    return out


GC_PAUSES = []  # seconds of each full (generation 2) collection while timing endpoints
_GC_STARTED = [0.0]


def _gc_watch(phase, info):
    """Record the length of full garbage collections (they stall a request)."""
    if phase == "start":
        _GC_STARTED[0] = time.perf_counter()
    elif info["generation"] == 2:
        GC_PAUSES.append(time.perf_counter() - _GC_STARTED[0])


def endpoint_latencies(app, token, run_id, zooms, samples, layer="risk"):
    """Per zoom: p50/p95 ms, p95/max gzip KB and max features of a layer endpoint over
    random views, and the p50 ms of the same views asked again (another user, a pan back)."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    rnd = random.Random(7)
    rows = []
    for zoom in zooms:
        times, sizes, counts, again = [], [], [], []
        for bbox in viewports(zoom, samples, rnd):
            started = time.perf_counter()
            query = {"bbox": ",".join(f"{v:.5f}" for v in bbox), "zoom": zoom}
            if layer == "risk":
                query["assessment_id"] = run_id
            response = client.get(f"/api/v1/maps/layers/{layer}", headers=headers,
                                  query_string=query)
            times.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            client.get(f"/api/v1/maps/layers/{layer}", headers=headers, query_string=query)
            again.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.data[:300]
            sizes.append(len(response.data) / 1024)
            body = json.loads(gzip.decompress(response.data) if response.headers.get(
                "Content-Encoding") == "gzip" else response.data)
            counts.append(len(body["features"]))
        times.sort()
        rows.append((zoom, statistics.median(times), percentile(times, 95),
                     percentile(sorted(sizes), 95), max(sizes), max(counts),
                     statistics.median(again)))
    return rows


def mvt_latencies(app, run_id, zooms, samples):
    """Per zoom: p95 ms and max KB of ST_AsMVT tiles of the run's cells (PostGIS only)."""
    from sqlalchemy import text

    from emergency.db import new_session
    from maps.tilemath import tile_bounds  # noqa: F401  (same tile grid as the pages)

    sql = text("""
        WITH b AS (SELECT ST_TileEnvelope(:z, :x, :y) AS e),
        t AS (SELECT level, ST_AsMVTGeom(ST_Transform(c.geom, 3857), b.e) AS geom
              FROM risk_cells c, b
              WHERE c.assessment_id = :run AND c.geom && ST_Transform(b.e, 4326))
        SELECT ST_AsMVT(t, 'risk') FROM t""")
    rnd = random.Random(3)
    rows = []
    with app.app_context():
        session = new_session()
        for zoom in zooms:
            n = 2**zoom
            x0, x1 = int((106.0 + 180) / 360 * n), int((109.5 + 180) / 360 * n)
            y0, y1 = int(0.4165 * n), int(0.4245 * n)  # ~31.5°N .. ~28.8°N
            times, sizes = [], []
            for _ in range(samples):
                x, y = rnd.randint(x0, max(x0, x1)), rnd.randint(y0, max(y0, y1))
                started = time.perf_counter()
                tile = session.execute(sql, {"z": zoom, "x": x, "y": y, "run": run_id}).scalar()
                times.append((time.perf_counter() - started) * 1000)
                sizes.append(len(gzip.compress(bytes(tile or b""))) / 1024)
            times.sort()
            rows.append((zoom, percentile(times, 95), max(sizes)))
        session.close()
    return rows


def main(argv=None):
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("spatialite", "postgis"), default="spatialite")
    parser.add_argument("--quick", action="store_true", help="1 km only, fewer samples")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data")
    parser.add_argument("--naive-timeout", type=int, default=90)
    args = parser.parse_args(argv)
    sizes = [1000] if args.quick else [1000, 500]
    samples = 6 if args.quick else 12

    import logging

    from werkzeug.middleware.shared_data import SharedDataMiddleware

    from tests.browser import chromium, live_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log lines
    app, runs, tmp = make_app(args.backend, sizes, args.rebuild)
    pages = tmp / "pages"
    pages.mkdir()
    app.wsgi_app = SharedDataMiddleware(app.wsgi_app, {"/bench-pages": str(pages)})
    token = _token(app)
    has_risk_page = any(r.rule == "/maps/risk/<int:assessment_id>"
                        for r in app.url_map.iter_rules())
    print(f"backend {args.backend}; runs {runs}", flush=True)
    results = []
    with live_server(app) as base, chromium() as browser:
        login = browser.new_context()
        page = login.new_page()
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "demo-admin-2026")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        state = login.storage_state()
        login.close()

        def context_with_login(**kw):
            """New contexts carry the signed-in session cookie."""
            return original(storage_state=state, **kw)

        original = browser.new_context
        browser.new_context = context_with_login
        for size in sizes:
            run_id = runs[size]
            row = {"size": size}
            if has_risk_page:
                # The run's first page on this process: its cells are read into memory by
                # the page's first layer request (forget what signing in to / loaded).
                from maps import responses
                from risk import cellstore

                cellstore.clear()
                responses.RESPONSES.clear()
                row["risk_page_cold"] = measure_page(browser, f"{base}/maps/risk/{run_id}",
                                                     RISK_PAGE_READY, 60)
            # Warm the server once per run (the run's cells are read into memory once per
            # process), as a running server would be; the time of that first read is shown.
            started = time.perf_counter()
            warm = app.test_client().get("/api/v1/maps/layers/risk", headers={
                "Authorization": f"Bearer {token}"}, query_string={
                "bbox": ",".join(map(str, CHONGQING)), "zoom": 7, "assessment_id": run_id})
            assert warm.status_code == 200, warm.data[:300]
            print(f"{size} m: first layer request of the run "
                  f"{'after its page' if has_risk_page else '(cold process)'}: "
                  f"{time.perf_counter() - started:.2f} s", flush=True)
            started = time.perf_counter()
            name, total = naive_page(app, run_id, pages)
            build_s = time.perf_counter() - started
            html_mb = (pages / name).stat().st_size / 1e6
            print(f"{size} m: {total} cells; naive page {html_mb:.1f} MB built in "
                  f"{build_s:.0f} s", flush=True)
            row.update(cells=total, naive_html_mb=html_mb)
            row["viewport"] = measure_page(browser, f"{base}/?assessment={run_id}",
                                           VIEWPORT_READY, 60)
            if has_risk_page:
                row["risk_page"] = measure_page(browser, f"{base}/maps/risk/{run_id}",
                                                RISK_PAGE_READY, 60)
            row["naive"] = measure_page(browser, f"{base}/bench-pages/{name}", NAIVE_READY,
                                        args.naive_timeout)
            results.append(row)
    print("\n== Page loads (Chromium, 1280x800, Chongqing at zoom 7) ==")
    print(f"{'cells':>8} {'page':<22} {'MB transferred':>15} {'first features s':>17} "
          f"{'requests':>9}")
    for row in results:
        for key, label in (("viewport", "viewport layers (/)"),
                           ("risk_page_cold", "/maps/risk/<id> cold"),
                           ("risk_page", "/maps/risk/<id>"), ("naive", "naive folium")):
            if key in row:
                mb, secs, requests = row[key]
                print(f"{row['cells']:>8} {label:<22} {mb / 1e6:>15.2f} {secs:>17.2f} "
                      f"{requests:>9}")
    zooms = [7, 8, 9, 10, 11, 12, 13, 14] if not args.quick else [7, 10, 12, 14]
    # The naive pages were built in this (the server's) process, which a server never does:
    # collect their garbage first, then report the full collections met while timing.
    import gc

    gc.collect()
    gc.callbacks.append(_gc_watch)
    for size in sizes:
        print(f"\n== /api/v1/maps/layers/risk, {size} m run, {samples} random views per zoom "
              "(gzip) ==")
        print(f"{'zoom':>4} {'p50 ms':>8} {'p95 ms':>8} {'p95 KB':>8} {'max KB':>8} "
              f"{'max features':>13} {'again p50':>10}")
        for zoom, p50, p95, kb95, kbmax, nmax, rep in endpoint_latencies(
                app, token, runs[size], zooms, samples):
            print(f"{zoom:>4} {p50:>8.1f} {p95:>8.1f} {kb95:>8.1f} {kbmax:>8.1f} {nmax:>13} "
                  f"{rep:>10.1f}")
        if GC_PAUSES:
            print(f"   ({len(GC_PAUSES)} full GC while timing, longest "
                  f"{max(GC_PAUSES) * 1000:.0f} ms)")
            GC_PAUSES.clear()
        if size == sizes[-1]:
            print(f"\n== /api/v1/maps/layers/areas, {samples} random views per zoom (gzip) ==")
            print(f"{'zoom':>4} {'p50 ms':>8} {'p95 ms':>8} {'p95 KB':>8} {'max KB':>8} "
                  f"{'max features':>13} {'again p50':>10}")
            for zoom, p50, p95, kb95, kbmax, nmax, rep in endpoint_latencies(
                    app, token, None, zooms, samples, layer="areas"):
                print(f"{zoom:>4} {p50:>8.1f} {p95:>8.1f} {kb95:>8.1f} {kbmax:>8.1f} "
                      f"{nmax:>13} {rep:>10.1f}")
        if args.backend == "postgis":
            print(f"-- ST_AsMVT 256 px tiles of the same cells ({size} m) --")
            print(f"{'zoom':>4} {'p95 ms':>8} {'max KB gz':>10}")
            for zoom, p95, kbmax in mvt_latencies(app, runs[size], zooms, samples):
                print(f"{zoom:>4} {p95:>8.1f} {kbmax:>10.1f}")


if __name__ == "__main__":
    main()
