"""Benchmark of the OGC API – Features items pages: 1,000 features a page.

For each backend it loads 100,000 rescue teams over Chongqing (bench_forces.load_teams) and
the cells of a 500 m risk run (330,000 cells over a block of Chongqing, written in bulk as a
finished run stores them), then times inside the app (Flask's test client: server time,
without the network):

  * ``/ogc/collections/teams/items?limit=1000`` at offsets through the whole set, the same
    pages by cursor (as the next links give them), and with a bbox of a city district
    (~30 x 30 km),
  * ``/ogc/collections/risk-<id>/items?limit=1000`` the same way,

and, in the same run, the floor each is compared to: the bare SQL query of the same rows
(the same columns, filter, order, limit and offset, the geometry as GeoJSON text, no scope,
no formatting), run through the same engine. The machine's load average is printed with
every figure. Issue 20's target: a page of 1,000 features in ≤ 150 ms.

    .venv/bin/python bench/bench_ogc.py [--backend spatialite|postgis|both] [--teams N]
        [--cells N] [--samples N]
"""

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from bench_forces import CHONGQING, load_teams
from common import (
    DATA_KEY,
    create_database,
    drop_database,
    load_average,
    migrated_engine,
    percentile,
)
from sqlalchemy import text

PAGE = 1000
# A 500 m grid near Chongqing's centre: degrees per cell at 29.6° N.
CELL_LON, CELL_LAT = 500 / (111_320 * np.cos(np.radians(29.6))), 500 / 110_570
ORIGIN = (105.9, 28.9)
DISTRICT = 0.3  # the bbox of the bbox pages: about 30 x 30 km


def load_run(session, n_cells, seed=500):
    """A finished 500 m run of ``n_cells`` cells in a block of columns and rows."""
    from emergency.db import utcnow
    from emergency.geo import service as geo
    from emergency.spatial import bulk
    from risk.models import RiskAssessment

    cols = int(np.ceil(np.sqrt(n_cells * 1.1)))
    rows = int(np.ceil(n_cells / cols))
    minx, miny = ORIGIN
    geo.create_area(session, "500000", "重庆市", "city", shapely.box(
        minx, miny, minx + cols * CELL_LON, miny + rows * CELL_LAT))
    session.flush()
    run = RiskAssessment(area_code="500000", cell_size_m=500, layers=[], params={},
                         status="done", progress=1.0, epsg=32648, cell_count=n_cells,
                         created_by="bench", finished_at=utcnow())
    session.add(run)
    session.flush()
    run_id = run.id
    rng = np.random.default_rng(seed)
    r, c = np.divmod(np.arange(n_cells), cols)
    risk = rng.random(n_cells).round(4)
    level = 4 - np.digitize(risk, [0.25, 0.5, 0.75])  # 1 for the highest risk
    x0, y0 = minx + c * CELL_LON, miny + r * CELL_LAT
    bulk.insert_columns(session, "risk_cells", {
        "assessment_id": run_id, "row": r, "col": c, "area_code": "500000",
        "grid_code": [None] * n_cells, "area_m2": 250_000.0,
        "hazard": rng.random(n_cells).round(4), "exposure": rng.random(n_cells).round(4),
        "vulnerability": rng.random(n_cells).round(4), "capacity": 0.0,
        "teams": rng.integers(0, 5, n_cells), "likelihood": [None] * n_cells,
        "consequence": [None] * n_cells, "risk": risk, "level": level,
        "gap": [bool(v) for v in level <= 2]},
        n_cells, lambda a, b: shapely.multipolygons(
            [[p] for p in shapely.box(x0[a:b], y0[a:b], x0[a:b] + CELL_LON,
                                      y0[a:b] + CELL_LAT)]))
    return run_id


def floor_teams(session, bbox, offset, after=None):
    """ms of the bare query of a teams page: the same rows, columns and order."""
    from sqlalchemy import select

    from emergency import spatial
    from registry.models import Organisation, RescueTeam

    t, o = RescueTeam.__table__, Organisation.__table__
    where = [spatial.bbox_filter(session, t, bbox, "location")] if bbox else []
    if after is not None:
        where.append(t.c.id > int(after))
    query = (select(t.c.id, t.c.name, t.c.category, t.c.status, t.c.grade,
                    t.c.service_radius_km, o.c.name, spatial.as_geojson(session, t.c.location))
             .join(o, o.c.id == t.c.org_id).where(*where).order_by(t.c.id)
             .limit(PAGE).offset(offset))
    started = time.perf_counter()
    session.execute(query).all()
    return (time.perf_counter() - started) * 1000


def floor_cells(session, run_id, bbox, offset, after=None):
    """ms of the bare query of a cells page: the same rows, columns and order."""
    from sqlalchemy import select, tuple_

    from emergency import spatial
    from risk.models import RiskCell

    t = RiskCell.__table__
    where = [t.c.assessment_id == run_id]
    if after is not None:
        row, col = (int(v) for v in after.split("."))
        where.append(tuple_(t.c.row, t.c.col) > tuple_(row, col))
    if bbox:
        where.append(spatial.bbox_filter(session, t, bbox))
    query = (select(t.c.id, t.c.row, t.c.col, t.c.level, t.c.risk, t.c.hazard, t.c.exposure,
                    t.c.vulnerability, t.c.capacity, t.c.teams, t.c.gap, t.c.area_code,
                    spatial.as_geojson(session, t.c.geom))
             .where(*where).order_by(t.c.row, t.c.col)
             .limit(PAGE).offset(offset))
    started = time.perf_counter()
    session.execute(query).all()
    return (time.perf_counter() - started) * 1000


def measure(client, headers, path, session, floor, total, samples, rnd, extent, cursor):
    """Pages at random offsets, the same found by cursor (as next links give them), then
    pages of random district bboxes: figures. ``cursor(offset)``: the cursor of the
    feature before that offset."""
    figures = {}
    for kind in ("offset", "cursor", "bbox"):
        times, floors, sizes, counts = [], [], [], []
        for _ in range(samples):
            query = {"limit": PAGE}
            bbox = after = None
            offset = rnd.randrange(1, max(total - PAGE, 2)) if kind != "bbox" else 0
            if kind == "cursor":
                after = query["cursor"] = cursor(offset)
                query["offset"] = offset
            elif kind == "bbox":
                lon = rnd.uniform(extent[0], extent[2] - DISTRICT)
                lat = rnd.uniform(extent[1], extent[3] - DISTRICT)
                bbox = (lon, lat, lon + DISTRICT, lat + DISTRICT)
                query["bbox"] = ",".join(f"{v:.5f}" for v in bbox)
            else:
                query["offset"] = offset
            started = time.perf_counter()
            response = client.get(path, headers=headers, query_string=query)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.data[:300]
            counts.append(json.loads(response.data)["numberReturned"])
            sizes.append(len(response.data) / 1024)
            floors.append(floor(session, bbox, 0 if after else offset, after))
        times.sort()
        floors.sort()
        figures[kind] = {"p50_ms": round(statistics.median(times), 1),
                         "p95_ms": round(percentile(times, 95), 1),
                         "floor_p50_ms": round(statistics.median(floors), 1),
                         "ratio_p50": round(statistics.median(times)
                                            / max(statistics.median(floors), 0.01), 1),
                         "features_p50": int(statistics.median(counts)),
                         "kb_p50": round(statistics.median(sizes), 1)}
    return figures


def run_backend(backend, args, folder):
    """Load, measure; returns the figures."""
    from emergency import create_app
    from emergency.auth import service as auth
    from emergency.db import new_session

    url, _fresh = create_database(backend, folder, "ogc")
    results = {"backend": backend, "teams": args.teams, "cells": args.cells}
    try:
        migrated_engine(url).dispose()
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                          "EMERGENCY_DATA_KEY": DATA_KEY,
                          "UPLOAD_FOLDER": str(Path(folder) / "uploads")})
        with app.app_context():
            session = new_session()
            session.info["actor"] = "bench"
            auth.create_user(session, "benchadmin", "admin", "bench-password-2026")
            t = time.perf_counter()
            load_teams(session, args.teams)
            run_id = load_run(session, args.cells)
            session.commit()
            if backend == "postgis":
                session.execute(text("ANALYZE"))
                session.commit()
            results["load_s"] = round(time.perf_counter() - t, 1)
            token = auth.create_token(session, "benchadmin", 1)
            session.commit()
            print(f"[{backend}] {args.teams:,} teams and {args.cells:,} cells loaded in "
                  f"{results['load_s']} s; {load_average()}", flush=True)
            headers = {"Authorization": f"Bearer {token}"}
            client = app.test_client()
            rnd = random.Random(20)
            cells_extent = (ORIGIN[0], ORIGIN[1], ORIGIN[0] + 2.5, ORIGIN[1] + 2.5)
            first_team = session.execute(text("SELECT min(id) FROM teams")).scalar()
            cols = int(np.ceil(np.sqrt(args.cells * 1.1)))
            for name, path, floor, total, extent, cursor in (
                    ("teams", "/ogc/collections/teams/items", floor_teams, args.teams,
                     CHONGQING, lambda o: str(first_team + o - 1)),
                    ("cells", f"/ogc/collections/risk-{run_id}/items",
                     lambda s, b, o, a=None: floor_cells(s, run_id, b, o, a), args.cells,
                     cells_extent, lambda o: "{}.{}".format(*divmod(o - 1, cols)))):
                client.get(path, headers=headers, query_string={"limit": PAGE})  # warm up
                figures = measure(client, headers, path, session, floor, total, args.samples,
                                  rnd, extent, cursor)
                results[name] = figures
                for kind, row in figures.items():
                    print(f"[{backend}] {name} by {kind}: p50 {row['p50_ms']} ms, p95 "
                          f"{row['p95_ms']} ms for {row['features_p50']} features "
                          f"({row['kb_p50']} KB); bare query p50 {row['floor_p50_ms']} ms, "
                          f"ratio {row['ratio_p50']}; {load_average()}", flush=True)
            session.close()
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        drop_database(url)
    results["load"] = load_average()
    return results


def main():
    """Parse options, run each backend, print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["spatialite", "postgis", "both"],
                        default="both")
    parser.add_argument("--teams", type=int, default=100_000)
    parser.add_argument("--cells", type=int, default=330_000)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    out = []
    with tempfile.TemporaryDirectory() as folder:
        for name in (("spatialite", "postgis") if args.backend == "both" else (args.backend,)):
            out.append(run_backend(name, args, folder))
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
