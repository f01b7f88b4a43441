"""Benchmark of the vector tiles (GET /api/v1/maps/tiles/{layer}/{z}/{x}/{y}.mvt).

For each backend, on the data bench_maps.py keeps (/tmp/bench-maps.sqlite or the PostGIS
database bench_maps_kept: Chongqing's areas and a finished 500 m run, built when missing)
plus 100,000 teams loaded as bench_forces.py loads them (added once, kept):

  * tile latency inside the app (Flask's test client: server time, no network), p50/p95 at
    z 8..14 over random tiles of the city, for the ``risk`` layer (each tile's first request,
    the run already in memory, and the same tile again: the response cache) and ``teams``,
    with raw and gzipped sizes;
  * the floor each is compared to, in the same run: the bare tile query — ``ST_AsMVT`` of
    the same rows in SQL (PostGIS), the SpatialIndex query of the same rows without encoding
    (SpatiaLite);
  * the bytes of the risk map's views (1280x800 at z 7..14): the tiles covering the view
    (gzip) against the GeoJSON viewport layer the page used before (gzip), side by side;
  * throughput: 50 concurrent clients (threads, keep-alive) asking random risk and teams
    tiles at z 10..14 of `emergency serve` (default workers and threads) for 20 s.

The machine's load average is printed with every figure.

    .venv/bin/python bench/bench_tiles.py [--backend spatialite|postgis|both] [--samples N]
        [--clients N] [--seconds S] [--parts latency,bytes,throughput]
"""

import argparse
import gzip
import http.client
import math
import random
import statistics
import threading
import time

from bench_forces import load_teams
from bench_maps import _token, make_app
from common import cli_env, free_port, load_average, percentile, serve, server_cpu, stop

CITY = (105.6, 28.6, 109.9, 31.9)  # inside Chongqing, where the cells and teams are
ZOOMS = range(8, 15)
VIEW = (1280, 800)


def tile_of(lon, lat, z):
    """(x, y) of the web-mercator tile holding a point."""
    n = 2 ** z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


def random_tiles(z, count, rnd):
    """``count`` random tiles at zoom z over the city."""
    out = []
    for _ in range(count):
        out.append(tile_of(rnd.uniform(CITY[0], CITY[2]), rnd.uniform(CITY[1], CITY[3]), z))
    return out


def ensure_teams(app, n_teams=100_000):
    """The bench's 100,000 teams, loaded once into the kept database."""
    from sqlalchemy import text

    from emergency.db import new_session

    with app.app_context():
        session = new_session()
        have = session.execute(text(
            "SELECT count(*) FROM teams WHERE name LIKE '救援队%'")).scalar()
        session.close()
        if have >= n_teams:
            return have
        session = new_session()
        session.info["actor"] = "bench"
        started = time.perf_counter()
        load_teams(session, n_teams)
        session.commit()
        session.close()
        print(f"loaded {n_teams:,} teams in {time.perf_counter() - started:.0f} s", flush=True)
        return n_teams


def timed(client, url, headers):
    """(ms, status, raw bytes, gzip bytes) of one GET through the test client."""
    started = time.perf_counter()
    response = client.get(url, headers=headers)
    ms = (time.perf_counter() - started) * 1000
    data = response.data
    raw = len(gzip.decompress(data)) if response.headers.get("Content-Encoding") else len(data)
    return ms, response.status_code, raw, len(data)


def summary(times):
    times = sorted(times)
    return percentile(times, 50), percentile(times, 95)


def floor_sql(session, backend, layer, run_id, z, x, y):
    """The bare query of one tile (ms): ST_AsMVT in SQL on PostGIS; the SpatialIndex query of
    the same rows (WKB and attributes, no encoding) on SpatiaLite."""
    from sqlalchemy import text

    from emergency.spatial.tiles import tile_lonlat

    w, s, e, n = tile_lonlat(z, x, y, 64 / 4096)
    if backend == "postgis":
        table, cond, cols = (("risk_cells", "assessment_id = :run", "id, level, risk")
                             if layer == "risk" else ("teams", "true", "id, name, category"))
        geom = "geom" if layer == "risk" else "location"
        sql = text(f"""
            SELECT ST_AsMVT(t, '{layer}', 4096, 'g') FROM (
              SELECT ST_AsMVTGeom(ST_Transform({geom}, 3857), ST_TileEnvelope(:z, :x, :y),
                                  4096, 64, true) AS g, {cols}
              FROM {table} WHERE {cond}
                AND {geom} && ST_MakeEnvelope(:w, :s, :e, :n, 4326)) t
            WHERE g IS NOT NULL""")
    else:
        table, cond, cols, geom = (("risk_cells", "assessment_id = :run", "id, level, risk",
                                    "geom") if layer == "risk"
                                   else ("teams", "1", "id, name, category", "location"))
        sql = text(f"""
            SELECT AsBinary({geom}), {cols} FROM {table} WHERE {cond} AND id IN (
              SELECT ROWID FROM SpatialIndex WHERE f_table_name = '{table}'
                AND f_geometry_column = '{geom}'
                AND search_frame = BuildMbr(:w, :s, :e, :n, 4326))""")
    started = time.perf_counter()
    session.execute(sql, {"z": z, "x": x, "y": y, "run": run_id, "w": w, "s": s, "e": e,
                          "n": n}).all()
    return (time.perf_counter() - started) * 1000


def latencies(app, backend, token, run_id, samples):
    """Per layer and zoom: first-request and repeat p50/p95, sizes, and the bare query."""
    from emergency.db import new_session

    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    client.get(f"/api/v1/maps/tiles/risk/10/{tile_of(106.5, 29.5, 10)[0]}/"
               f"{tile_of(106.5, 29.5, 10)[1]}.mvt?assessment={run_id}", headers=headers)
    rnd = random.Random(7)
    print(f"\n[{backend}] tile latency in the app, {samples} random tiles per zoom; "
          f"{load_average()}")
    print("| layer | z | p50 / p95 ms | again p50 ms | bare query p50 / p95 ms | "
          "max KB (gzip KB) | median KB | empty |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with app.app_context():
        session = new_session()
        for layer in ("risk", "teams"):
            for z in ZOOMS:
                tiles = random_tiles(z, samples, rnd)
                query = f"?assessment={run_id}" if layer == "risk" else ""
                first, again, floor, raw, zipped, empty = [], [], [], [], [], 0
                for x, y in tiles:
                    url = f"/api/v1/maps/tiles/{layer}/{z}/{x}/{y}.mvt{query}"
                    ms, status, size, gz = timed(client, url, headers)
                    assert status in (200, 204), (url, status)
                    first.append(ms)
                    empty += status == 204
                    raw.append(size / 1024)
                    zipped.append(gz / 1024)
                    again.append(timed(client, url, headers)[0])
                    floor.append(floor_sql(session, backend, layer, run_id, z, x, y))
                p50, p95 = summary(first)
                f50, f95 = summary(floor)
                print(f"| {layer} | {z} | {p50:.1f} / {p95:.1f} | {summary(again)[0]:.1f} | "
                      f"{f50:.1f} / {f95:.1f} | {max(raw):.0f} ({max(zipped):.0f}) | "
                      f"{statistics.median(raw):.1f} | {empty} |", flush=True)
        session.close()
    print(f"[{backend}] {load_average()}")


def view_tiles(lon, lat, z):
    """The tiles a VIEW-sized map centred on lon/lat at zoom z shows."""
    n = 2 ** z
    cx = (lon + 180) / 360 * n * 256
    cy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n * 256
    x0, x1 = int((cx - VIEW[0] / 2) // 256), int((cx + VIEW[0] / 2) // 256)
    y0, y1 = int((cy - VIEW[1] / 2) // 256), int((cy + VIEW[1] / 2) // 256)
    bbox = []
    for px, py in ((cx - VIEW[0] / 2, cy + VIEW[1] / 2), (cx + VIEW[0] / 2, cy - VIEW[1] / 2)):
        bbox += [px / 256 / n * 360 - 180,
                 math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * py / 256 / n))))]
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)], bbox


def view_bytes(app, backend, token, run_id, views):
    """Bytes of the risk map's views: the tiles of each view vs the GeoJSON layer."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
    rnd = random.Random(11)
    print(f"\n[{backend}] bytes of a 1280x800 view of the risk map (gzip), {views} random "
          f"views per zoom; {load_average()}")
    print("| z | tiles per view | tiles KB p50 / max | GeoJSON layer KB p50 / max | "
          "tiles / GeoJSON |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for z in range(7, 15):
        tiles_kb, geo_kb, counts = [], [], []
        for _ in range(views):
            lon, lat = rnd.uniform(CITY[0], CITY[2]), rnd.uniform(CITY[1], CITY[3])
            tiles, bbox = view_tiles(lon, lat, z)
            counts.append(len(tiles))
            tiles_kb.append(sum(timed(client, f"/api/v1/maps/tiles/risk/{z}/{x}/{y}.mvt"
                                      f"?assessment={run_id}", headers)[3]
                                for x, y in tiles) / 1024)
            box = ",".join(f"{v:.5f}" for v in bbox)
            geo_kb.append(timed(client, f"/api/v1/maps/layers/risk?bbox={box}&zoom={z}"
                                f"&assessment_id={run_id}", headers)[3] / 1024)
        t50, g50 = statistics.median(tiles_kb), statistics.median(geo_kb)
        print(f"| {z} | {statistics.median(counts):.0f} | {t50:.1f} / {max(tiles_kb):.1f} | "
              f"{g50:.1f} / {max(geo_kb):.1f} | {t50 / g50 if g50 else float('nan'):.2f} |",
              flush=True)


def throughput(url, folder, token, run_id, clients, seconds):
    """Tiles per second from ``clients`` threads against `emergency serve`."""
    port = free_port()
    log = open(f"{folder}/serve.log", "ab")  # noqa: SIM115 (closed with the server)
    proc = serve(cli_env(url, folder), port, log=log)
    rnd = random.Random(13)
    paths = []
    for _ in range(2000):
        z = rnd.randint(10, 14)
        x, y = tile_of(rnd.uniform(CITY[0], CITY[2]), rnd.uniform(CITY[1], CITY[3]), z)
        layer = rnd.choice(("risk", "teams"))
        query = f"?assessment={run_id}" if layer == "risk" else ""
        paths.append(f"/api/v1/maps/tiles/{layer}/{z}/{x}/{y}.mvt{query}")
    done, failed, times = [0], [0], []
    lock = threading.Lock()
    stop_at = [0.0]

    def client(seed):
        own = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "gzip"}
        while time.monotonic() < stop_at[0]:
            started = time.perf_counter()
            try:
                conn.request("GET", own.choice(paths), headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status in (200, 204)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                ok = False
            with lock:
                if ok:
                    done[0] += 1
                    times.append((time.perf_counter() - started) * 1000)
                else:
                    failed[0] += 1
        conn.close()

    try:
        # warm-up: every worker reads the run once
        stop_at[0] = time.monotonic() + 5
        warm = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for t in warm:
            t.start()
        for t in warm:
            t.join()
        done[0], failed[0], times[:] = 0, 0, []
        started = time.monotonic()
        cpu0, own0 = server_cpu(proc.pid), time.process_time()
        stop_at[0] = started + seconds
        threads = [threading.Thread(target=client, args=(100 + i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        # Cores the server used, and the load clients (this process, on the same 2 cores).
        cores = (server_cpu(proc.pid) - cpu0) / elapsed
        client_cores = (time.process_time() - own0) / elapsed
    finally:
        stop(proc)
        log.close()
    times.sort()
    return (done[0] / elapsed, failed[0], summary(times) if times else (0, 0), cores,
            client_cores)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"], default="both")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--views", type=int, default=4)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--parts", default="latency,bytes,throughput",
                        help="which measurements, comma-separated (default all)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    for backend in (("spatialite", "postgis") if args.backend == "both" else (args.backend,)):
        app, runs, tmp = make_app(backend, [500], rebuild=False)
        run_id = runs[500]
        teams = ensure_teams(app)
        token = _token(app)
        print(f"[{backend}] run #{run_id} (500 m), {teams:,} teams; {load_average()}",
              flush=True)
        if "latency" in parts:
            latencies(app, backend, token, run_id, args.samples)
        if "bytes" in parts:
            view_bytes(app, backend, token, run_id, args.views)
        url = app.config["DATABASE_URL"]
        app.extensions["emergency.db"]["engine"].dispose()
        if "throughput" not in parts:
            continue
        rate, failed, (p50, p95), cores, client_cores = throughput(
            url, tmp, token, run_id, args.clients, args.seconds)
        print(f"\n[{backend}] {args.clients} concurrent clients against `emergency serve`, "
              f"{args.seconds:.0f} s of random risk/teams tiles at z10-14: {rate:.0f} tiles/s, "
              f"p50 / p95 {p50:.0f} / {p95:.0f} ms, {failed} failed; the server used "
              f"{cores:.2f} cores ({rate / max(cores, 1e-9):.0f} tiles per CPU second), the "
              f"load clients {client_cores:.2f}; {load_average()}", flush=True)


if __name__ == "__main__":
    main()
