"""Benchmark of the grid risk assessment over Chongqing (~82,400 km²), on both backends.

For each backend it imports 10,000 hazard polygons and 100,000 exposure points (synthetic,
generated here) through the same importer as POST /layers, then assesses the city at 1 km
(~82,000 cells) and 500 m (~330,000 cells) with 1,000 synthetic rescue teams, and prints:
wall time of the computation and of the storage separately, the process's peak memory, and
the ratio of the computation to a minimal hand-written geopandas/shapely computation of the
same numbers in the same run (whose results must agree with ours cell by cell).

    .venv/bin/python bench/bench_risk.py [--backend spatialite|postgis|both] [--quick]
        [--sizes 1000,500] [--polygons N] [--points N] [--teams N]

Storage is measured three ways in the same run, on the same cells: ``store_s`` is the app's
path (``service.store_result``: columns through ``spatial.bulk.insert_columns``, COPY on
PostGIS, prepared executemany with the R*Tree filled after on SpatiaLite); ``rows_store_s`` the
path used before (every cell as a Python row through ``bulk.insert_rows``), and ``floor_s`` a
bare bulk insert of the same rows, already encoded, into a table with no index (PostGIS: COPY
of the finished text; SpatiaLite: one executemany of the finished tuples). The machine's load
average is printed with every figure.

--quick: SpatiaLite only, 2 km and 1 km cells, 1,000 polygons, 10,000 points. Scratch
databases are removed afterwards. A full run takes a few minutes on two cores.
"""

import argparse
import json
import resource
import sys
import tempfile
import time

import numpy as np
import shapely
from common import DATA_KEY, create_database, drop_database, load_average, migrated_engine

CITY = "500000"


def peak_mb():
    """Peak resident memory of this process so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chongqing():
    """The city boundary (WGS-84) and its district features, from the demo data."""
    from shapely.geometry import shape

    from emergency.geo.demo import districts

    feats = districts()
    return shapely.coverage_union_all([shape(f["geometry"]) for f in feats]), feats


def synthetic(city, n_polygons, n_points, n_teams, seed=82400):
    """Hazard polygons, exposure points and teams inside the city (all WGS-84)."""
    from risk.grid import to_metric, to_wgs84

    rng = np.random.default_rng(seed)
    epsg = 32648
    city_m = to_metric(np.array([city]), epsg)[0]
    shapely.prepare(city_m)
    minx, miny, maxx, maxy = city_m.bounds

    def inside(n, make):
        out = []
        while len(out) < n:
            geoms = make(2 * (n - len(out)))
            out.extend(geoms[shapely.intersects(city_m, geoms)][: n - len(out)])
        return np.array(out, dtype=object)

    def polys(k):
        x, y = rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)
        w, h = rng.uniform(300, 3000, k), rng.uniform(300, 3000, k)
        return shapely.box(x, y, x + w, y + h)

    def points(k):
        return shapely.points(rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k))

    hazard = to_wgs84(inside(n_polygons, polys), epsg)
    people = to_wgs84(inside(n_points, points), epsg)
    sites = to_wgs84(inside(n_teams, points), epsg)
    teams = [{"id": i, "lon": p.x, "lat": p.y, "service_radius_km": float(r), "grade": g,
              "category": "other"} for i, (p, r, g) in enumerate(zip(
                  sites, rng.uniform(5, 40, n_teams),
                  rng.choice([None, 1, 2, 3], n_teams), strict=True))]
    return (hazard, rng.uniform(0.5, 5, len(hazard)), people, rng.gamma(2, 1, len(people)),
            teams)


def write_layer(path, geoms, values):
    """A GeoPackage of the features with a ``value`` field."""
    import geopandas as gpd

    gpd.GeoDataFrame({"value": values}, geometry=list(geoms), crs=4326).to_file(
        path, engine="pyogrio")


def minimal(area, size, layers, teams, params):
    """The same numbers by hand on the same cells: overlaps, densities, capacity, risk, level.

    The clipped grid itself comes from build_grid (timed here too): clipping every boundary
    square against the whole city boundary, the obvious hand-written way, took 33 s at 2 km
    and 157 s at 1 km on this machine, which would flatter the ratio.
    """
    from pyproj import Transformer

    from risk.grid import build_grid

    grid = build_grid(area, size)
    fwd = Transformer.from_crs(4326, grid.epsg, always_xy=True)

    def metric(g):
        return shapely.transform(g, lambda xy: np.column_stack(fwd.transform(*xy.T)))

    cells, area_m2, n = grid.geoms, grid.area_m2, len(grid)
    x0, y0, nc = grid.x0, grid.y0, grid.ncols
    index = grid.lookup.ravel()
    ctree = shapely.STRtree(cells)
    sums = {"hazard": [], "exposure": []}
    for layer in layers:
        norm = np.clip(layer.values, 0, None) / layer.scale
        g = metric(layer.geoms)
        if layer.kind == "point":
            xy = shapely.get_coordinates(g)
            c = np.floor((xy[:, 0] - x0) / size).astype(int)
            r = np.floor((xy[:, 1] - y0) / size).astype(int)
            inb = (c >= 0) & (c < nc) & (r >= 0) & (r < grid.nrows)
            k = np.full(len(xy), -1)
            k[inb] = index[r[inb] * nc + c[inb]]
            ok = k >= 0
            ok[ok] = shapely.contains_xy(cells[k[ok]], xy[ok, 0], xy[ok, 1])
            dens = np.bincount(k[ok], norm[ok], n) / (area_m2 / 1e6)
            idx = 1 - np.exp(-dens / (layer.density_ref or params["point_density_ref"]))
        else:
            p, q = ctree.query(g, predicate="intersects")
            inter = shapely.area(shapely.intersection(g[p], cells[q]))
            real = inter > 1e-9 * size ** 2
            idx = np.minimum(np.bincount(q[real], norm[p[real]] * inter[real], n) / area_m2, 1)
        sums[layer.role].append((layer.weight, idx))
    hazard = sum(w * i for w, i in sums["hazard"]) / sum(w for w, _ in sums["hazard"])
    exposure = sum(w * i for w, i in sums["exposure"]) / sum(w for w, _ in sums["exposure"])
    tx, ty = fwd.transform([t["lon"] for t in teams], [t["lat"] for t in teams])
    radius = np.array([t["service_radius_km"] * 1000 for t in teams])
    gw = params["grade_weights"]
    weight = np.array([gw[str(t["grade"])] if t["grade"] else gw["none"] for t in teams])
    ti, ci = ctree.query(shapely.points(tx, ty), predicate="dwithin", distance=radius)
    capacity = 1 - np.exp(-np.bincount(ci, weight[ti], n) / params["capacity_ref"])
    risk = hazard * (0.5 + 0.5 * exposure) * 0.75 * (1 - 0.5 * capacity)
    t1, t2, t3 = params["thresholds"]
    level = np.where(risk >= t1, 1, np.where(risk >= t2, 2, np.where(risk >= t3, 3, 4)))
    return grid.row, grid.col, risk, level


def _cell_rows(run_id, grid, result, area_codes, grid_codes):
    """Every cell as a Python row, the way store_result built them before it went columnar."""
    n = len(grid)
    return list(zip([run_id] * n, grid.row.tolist(), grid.col.tolist(), area_codes.tolist(),
                    grid_codes.tolist(), grid.area_m2.tolist(), result.hazard.tolist(),
                    result.exposure.tolist(), result.vulnerability.tolist(),
                    result.capacity.tolist(), result.teams.tolist(), [None] * n, [None] * n,
                    result.risk.tolist(), result.level.tolist(), result.gap.tolist(),
                    strict=True))


CELL_COLUMNS = ["assessment_id", "row", "col", "area_code", "grid_code", "area_m2", "hazard",
                "exposure", "vulnerability", "capacity", "teams", "likelihood", "consequence",
                "risk", "level", "gap"]


def rows_store(session, run, grid, result, area_codes, grid_codes):
    """Seconds to store the run's cells again the way it was done before (rows, insert_rows),
    under a copy of the run; the copy is deleted afterwards."""
    from emergency.spatial.bulk import insert_rows
    from risk import grid as gridlib
    from risk.models import RiskAssessment

    twin = RiskAssessment(area_code=run.area_code, cell_size_m=run.cell_size_m, layers=[],
                          params={}, status="running", epsg=run.epsg, created_by="bench")
    session.add(twin)
    session.commit()
    t = time.perf_counter()
    rows = _cell_rows(twin.id, grid, result, area_codes, grid_codes)
    insert_rows(session, "risk_cells", CELL_COLUMNS, rows, gridlib.cells_wgs84(grid))
    session.commit()
    seconds = time.perf_counter() - t
    del rows
    session.delete(twin)
    session.commit()
    return seconds


def floor_store(session, grid, result, area_codes, grid_codes):
    """Seconds of a bare bulk insert of the same cells, already encoded, into a table with no
    index and no geometry type (COPY of finished text / executemany of finished tuples)."""
    from sqlalchemy import text

    from emergency.spatial.bulk import _copy_text
    from emergency.spatial.engine import backend_name
    from risk import grid as gridlib

    rows = _cell_rows(0, grid, result, area_codes, grid_codes)
    wkbs = shapely.to_wkb(gridlib.cells_wgs84(grid))
    postgis = backend_name(session) == "postgis"
    types = ["integer"] * 3 + ["text"] * 2 + ["double precision"] * 5 + ["integer"] * 3 + [
        "double precision", "integer", "boolean", "bytea" if postgis else "blob"]
    names = ", ".join(f'"{c}" {t}' for c, t in zip([*CELL_COLUMNS, "geom"], types,
                                                    strict=True))
    session.execute(text(f"CREATE TABLE bench_floor ({names})"))
    session.commit()
    conn = session.connection()
    if postgis:
        data = "".join("\t".join([*map(_copy_text, row), "\\\\x" + wkb.hex()]) + "\n"
                       for row, wkb in zip(rows, wkbs, strict=True))
        cursor = conn.connection.driver_connection.cursor()
        t = time.perf_counter()
        with cursor.copy("COPY bench_floor FROM STDIN") as copy:
            copy.write(data)
        session.commit()
        seconds = time.perf_counter() - t
        cursor.close()
    else:
        data = [(*row, wkb) for row, wkb in zip(rows, wkbs, strict=True)]
        marks = ", ".join("?" * len(data[0]))
        t = time.perf_counter()
        conn.exec_driver_sql(f"INSERT INTO bench_floor VALUES ({marks})", data)
        session.commit()
        seconds = time.perf_counter() - t
    del data, rows
    session.execute(text("DROP TABLE bench_floor"))
    session.commit()
    return seconds


def _by_cell(rows, cols, risk, level):
    """{(row, col): (risk, level)}."""
    return {(int(r), int(c)): (float(x), int(v))
            for r, c, x, v in zip(rows, cols, risk, level, strict=True)}


def run_backend(backend, args, data, folder):
    """Import, assess at every size, store; returns result rows."""
    from emergency import create_app
    from emergency.db import new_session
    from emergency.geo import service as geo
    from risk import layers, service
    from risk.grid import build_grid  # noqa: F401  (warm import)

    city, districts, hazard, hvals, people, pvals, teams = data
    url, _fresh = create_database(backend, folder, "risk")
    results = []
    try:
        migrated_engine(url).dispose()
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                          "EMERGENCY_DATA_KEY": DATA_KEY})
        with app.app_context():
            session = new_session()
            session.info["actor"] = "bench"
            geo.upsert_area(session, CITY, "重庆市", "city", city)
            for f in districts:
                geo.upsert_area(session, f["properties"]["code"], f["properties"]["name"],
                                "district", shapely.geometry.shape(f["geometry"]), CITY)
            session.commit()
            t = time.perf_counter()
            hz, _ = layers.import_layer(session, f"{folder}/hazard.gpkg", "hazard polygons",
                                        "hazard", "value", actor="bench")
            ex, _ = layers.import_layer(session, f"{folder}/people.gpkg", "exposure points",
                                        "exposure", "value", actor="bench")
            session.commit()
            t_import = time.perf_counter() - t
            print(f"[{backend}] imported {hz.feature_count:,} polygons and "
                  f"{ex.feature_count:,} points in {t_import:.1f} s; peak {peak_mb():.0f} MB",
                  flush=True)
            for size in args.sizes:
                run = service.create_assessment(session, CITY, size, [
                    {"layer_id": hz.id, "weight": 2}, {"layer_id": ex.id, "weight": 1}],
                    {"thresholds": [0.3, 0.15, 0.05]}, actor="bench")
                session.commit()
                t = time.perf_counter()
                inputs = service.load_inputs(session, run.id)
                inputs.teams = teams  # synthetic teams instead of the (empty) registry
                t_load = time.perf_counter() - t
                t = time.perf_counter()
                grid, result, area_codes, grid_codes = service.compute(inputs)
                t_compute = time.perf_counter() - t
                t = time.perf_counter()
                service.store_result(session, run.id, grid, result, area_codes, grid_codes,
                                     len(teams))
                session.commit()
                t_store = time.perf_counter() - t
                peak_store = peak_mb()
                t_rows = rows_store(session, run, grid, result, area_codes, grid_codes)
                t_floor = floor_store(session, grid, result, area_codes, grid_codes)
                t = time.perf_counter()
                rows, cols, risk, level = minimal(inputs.area, size, inputs.layers, teams,
                                                  inputs.params)
                t_min = time.perf_counter() - t
                ours = _by_cell(grid.row, grid.col, result.risk, result.level)
                theirs = _by_cell(rows, cols, risk, level)
                same = set(ours) == set(theirs)
                worst = max((abs(ours[k][0] - theirs[k][0]) for k in ours if k in theirs),
                            default=0.0)
                levels = sum(ours[k][1] != theirs[k][1] for k in ours if k in theirs)
                row = {"backend": backend, "cell_m": size, "cells": len(grid),
                       "load_s": round(t_load, 2), "compute_s": round(t_compute, 2),
                       "store_s": round(t_store, 2), "rows_store_s": round(t_rows, 2),
                       "floor_s": round(t_floor, 2), "peak_after_store_mb": round(peak_store),
                       "end_to_end_s": round(t_load + t_compute + t_store, 2),
                       "minimal_s": round(t_min, 2), "ratio": round(t_compute / t_min, 2),
                       "same_cells": same, "max_risk_diff": worst, "level_diffs": levels,
                       "peak_mb": round(peak_mb()), "load": load_average()}
                results.append(row)
                print(f"[{backend}] {size} m: {len(grid):,} cells; compute {t_compute:.2f} s "
                      f"(minimal {t_min:.2f} s, ratio {t_compute / t_min:.2f}); load "
                      f"{t_load:.2f} s; store {t_store:.2f} s (rows path {t_rows:.2f} s, "
                      f"{t_rows / t_store:.2f}x; bare insert {t_floor:.2f} s, store/floor "
                      f"{t_store / t_floor:.2f}); end to end {row['end_to_end_s']:.1f} s; "
                      f"agree: cells {same}, max |Δrisk| {worst:.1e}, level differences "
                      f"{levels}; peak after storing {peak_store:.0f} MB, at the end "
                      f"{peak_mb():.0f} MB; {load_average()}", flush=True)
            session.close()
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        drop_database(url)
    return results


def main():
    """Parse options, generate data, run each backend, print a summary table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--sizes")
    parser.add_argument("--polygons", type=int)
    parser.add_argument("--points", type=int)
    parser.add_argument("--teams", type=int, default=1000)
    args = parser.parse_args()
    backend = args.backend or ("spatialite" if args.quick else "both")
    args.sizes = [int(s) for s in (args.sizes or ("2000,1000" if args.quick else "1000,500"))
                  .split(",")]
    n_poly = args.polygons or (1000 if args.quick else 10_000)
    n_pts = args.points or (10_000 if args.quick else 100_000)
    city, districts = chongqing()
    t = time.perf_counter()
    hazard, hvals, people, pvals, teams = synthetic(city, n_poly, n_pts, args.teams)
    print(f"generated {len(hazard):,} polygons, {len(people):,} points, {len(teams):,} teams "
          f"in {time.perf_counter() - t:.1f} s", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        write_layer(f"{folder}/hazard.gpkg", hazard, hvals)
        write_layer(f"{folder}/people.gpkg", people, pvals)
        data = (city, districts, hazard, hvals, people, pvals, teams)
        for name in (("spatialite", "postgis") if backend == "both" else (backend,)):
            results.extend(run_backend(name, args, data, folder))
    print(json.dumps(results, indent=1))
    bad = [r for r in results if not r["same_cells"] or r["max_risk_diff"] > 1e-9]
    if bad:
        print("MISMATCH between the model and the minimal computation", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
