"""Demo risk data for Chongqing: SYNTHETIC hazard and exposure layers and a 1 km run.

Nothing here is measured data. River courses are hand-traced approximations of the Yangtze
(长江), Jialing (嘉陵江) and Wu (乌江) rivers; geological hazard points are scattered along
their valleys and in the mountainous north-east, flood zones are buffers of the rivers, and
population points cluster around the main urban area and district seats. They are plausible
enough to show the method, and must never be read as a real assessment.
"""

import json
import os
import tempfile

import numpy as np
import shapely
import shapely.ops
from sqlalchemy import select

from risk import layers, service
from risk.grid import to_metric, to_wgs84
from risk.models import RiskAssessment, RiskLayer

CITY = "500000"
CELL_M = 1000
EPSG = 32648
PREFIX = "演示（合成）"
NAMES = {"geo": PREFIX + "地质灾害隐患点", "flood": PREFIX + "长江嘉陵江洪水淹没区",
         "people": PREFIX + "人口分布"}
# Approximate courses (lon, lat), west to east / upstream to downstream.
YANGTZE = [(105.45, 28.85), (105.75, 28.95), (106.05, 29.05), (106.25, 29.25), (106.45, 29.45),
           (106.59, 29.56), (106.8, 29.62), (107.05, 29.72), (107.4, 29.75), (107.75, 30.0),
           (108.05, 30.3), (108.4, 30.8), (108.9, 30.95), (109.45, 31.05), (109.8, 31.05),
           (110.15, 31.05)]
JIALING = [(106.2, 30.25), (106.28, 30.05), (106.35, 29.95), (106.45, 29.75), (106.52, 29.6),
           (106.58, 29.57)]
WUJIANG = [(108.4, 28.75), (108.0, 29.1), (107.7, 29.35), (107.4, 29.75)]
URBAN = [(106.55, 29.56, 8.0), (108.38, 30.81, 2.0), (107.39, 29.70, 1.5), (106.26, 29.29, 1.2),
         (105.93, 29.35, 1.0), (106.26, 29.98, 1.0), (107.08, 29.86, 0.8), (109.47, 31.04, 0.6),
         (108.77, 29.53, 0.6), (105.71, 29.71, 0.8), (106.63, 29.72, 2.0), (106.45, 29.48, 2.5)]


def _rivers_metric():
    """The river lines in UTM 48N metres."""
    return [to_metric(np.array([shapely.LineString(r)]), EPSG)[0]
            for r in (YANGTZE, JIALING, WUJIANG)]


def _hazard_points(rng, rivers, city):
    """Geological hazard points: dense along valleys, some in the north-east mountains."""
    points, values = [], []
    for river in rivers:
        n = int(river.length / 400)
        at = rng.uniform(0, river.length, n)
        base = shapely.line_interpolate_point(river, at)
        dist = rng.exponential(4000, n) * rng.choice([-1, 1], n)
        angle = rng.uniform(0, 2 * np.pi, n)
        xs = shapely.get_x(base) + dist * np.cos(angle)
        ys = shapely.get_y(base) + dist * np.sin(angle)
        points.extend(shapely.points(xs, ys))
        values.extend(rng.choice([1, 2, 3, 4], n, p=[0.5, 0.3, 0.15, 0.05]))
    minx, miny, maxx, maxy = to_metric(np.array([shapely.box(108.0, 30.6, 109.9, 31.9)]),
                                       EPSG)[0].bounds
    n = 500
    points.extend(shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)))
    values.extend(rng.choice([1, 2, 3], n, p=[0.6, 0.3, 0.1]))
    geoms, values = np.array(points, dtype=object), np.array(values, dtype=float)
    keep = shapely.intersects(city, geoms)
    return geoms[keep], values[keep]


def _flood_zones(rng, rivers, city):
    """Flood zones: river segments buffered by 0.8-2.5 km, with a depth class 1-3."""
    zones, depth = [], []
    for river in rivers:
        cuts = np.linspace(0, river.length, int(river.length / 8000) + 2)
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            piece = shapely.ops.substring(river, a, b)
            width = rng.uniform(800, 2500)
            zones.append(piece.buffer(width, quad_segs=4))
            depth.append(float(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15])))
    zones = shapely.intersection(np.array(zones, dtype=object), city)
    keep = ~shapely.is_empty(zones) & (shapely.area(zones) > 1e4)
    return zones[keep], np.array(depth)[keep]


def _population(rng, city):
    """Population points (thousands of people) around the urban centres."""
    points, values = [], []
    for lon, lat, weight in URBAN:
        n = int(400 * weight)
        centre = to_metric(np.array([shapely.Point(lon, lat)]), EPSG)[0]
        r = rng.exponential(3000 * np.sqrt(weight), n)
        a = rng.uniform(0, 2 * np.pi, n)
        points.extend(shapely.points(centre.x + r * np.cos(a), centre.y + r * np.sin(a)))
        values.extend(rng.gamma(2.0, 1.5, n))
    minx, miny, maxx, maxy = city.bounds
    n = 3000  # villages everywhere
    points.extend(shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)))
    values.extend(rng.gamma(1.5, 0.3, n))
    geoms, values = np.array(points, dtype=object), np.array(values, dtype=float)
    keep = shapely.intersects(city, geoms)
    return geoms[keep], values[keep]


def _import(session, name, role, geoms, values):
    """Write the features to a temporary GeoJSON file and import it like any upload."""
    wgs = to_wgs84(geoms, EPSG)
    features = [{"type": "Feature", "properties": {"value": round(float(v), 3)},
                 "geometry": shapely.geometry.mapping(g)} for g, v in zip(wgs, values,
                                                                          strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "layer.geojson")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"type": "FeatureCollection", "features": features}, fh)
        record, _repaired = layers.import_layer(session, path, name, role, "value",
                                                crs="wgs84", actor="demo",
                                                source_name="synthetic (risk.demo)")
    return record


def load_risk(session):
    """Synthetic hazard/exposure layers and a finished 1 km assessment of Chongqing."""
    existing = {r.name: r for r in session.scalars(
        select(RiskLayer).where(RiskLayer.name.in_(NAMES.values())))}
    city = service.area_geometry(session, CITY)
    if city is None:
        return ["risk: skipped (no area 500000; load the areas first)"]
    rng = np.random.default_rng(500000)
    city_m = shapely.make_valid(to_metric(np.array([city]), EPSG)[0])
    rivers = _rivers_metric()
    made = []
    if NAMES["geo"] not in existing:
        existing[NAMES["geo"]] = _import(session, NAMES["geo"], "hazard",
                                         *_hazard_points(rng, rivers, city_m))
        made.append(NAMES["geo"])
    if NAMES["flood"] not in existing:
        existing[NAMES["flood"]] = _import(session, NAMES["flood"], "hazard",
                                           *_flood_zones(rng, rivers, city_m))
        made.append(NAMES["flood"])
    if NAMES["people"] not in existing:
        existing[NAMES["people"]] = _import(session, NAMES["people"], "exposure",
                                            *_population(rng, city_m))
        made.append(NAMES["people"])
    lines = [f"risk: synthetic layers {', '.join(made) or 'already present'}"]
    done = session.scalar(select(RiskAssessment.id).where(
        RiskAssessment.area_code == CITY, RiskAssessment.cell_size_m == CELL_M,
        RiskAssessment.status == "done", RiskAssessment.created_by == "demo"))
    if done:
        return [*lines, f"risk: assessment {done} (1 km) already done"]
    run = service.create_assessment(session, CITY, CELL_M, [
        {"layer_id": existing[NAMES["geo"]].id, "weight": 1.0, "density_ref": 0.5},
        {"layer_id": existing[NAMES["flood"]].id, "weight": 1.5},
        {"layer_id": existing[NAMES["people"]].id, "weight": 1.0, "density_ref": 0.5},
    ], {"thresholds": [0.15, 0.08, 0.03]}, actor="demo")
    service.run_assessment(session, run.id)
    return [*lines, f"risk: assessment {run.id} of Chongqing at 1 km, {run.cell_count} cells "
            f"(synthetic data; capacity from {run.team_count} registered teams)"]
