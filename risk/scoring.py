"""Risk scoring, the risk model: per-cell indices, capacity, composite risk, levels, 5x5 matrix.

Pure computation on numpy arrays and shapely geometries; every formula here is written out
in docs/risk-model.md. No database, no Flask.
"""

import copy
from dataclasses import dataclass, field

import numpy as np
import shapely

from risk.grid import to_metric, xy_to_metric

DEFAULTS = {
    "method": "composite",
    # risk >= thresholds[0] -> level 1, >= [1] -> 2, >= [2] -> 3, else 4
    "thresholds": [0.5, 0.3, 0.15],
    "exposure_influence": 0.5,
    "vulnerability_influence": 0.5,
    "capacity_influence": 0.5,
    # index used for a role no chosen layer provides
    "default_index": {"exposure": 0.5, "vulnerability": 0.5},
    # point layers: weighted points per km2 at which the index reaches 1 - 1/e
    "point_density_ref": 1.0,
    # capacity: grade -> weight; C = 1 - exp(-sum / capacity_ref)
    "grade_weights": {"1": 3.0, "2": 2.0, "3": 1.5, "none": 1.0},
    "capacity_ref": 2.0,
    # 5x5 matrix: lowest score of each band
    "bands": {"red": 20, "orange": 10, "yellow": 4},
}


def merge_params(given):
    """The defaults overlaid with the given parameters (nested dicts merged one level)."""
    out = copy.deepcopy(DEFAULTS)
    for key, value in (given or {}).items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


@dataclass
class LayerInput:
    """One chosen layer's features for a run (geometries WGS-84)."""

    role: str
    kind: str
    geoms: np.ndarray
    values: np.ndarray
    weight: float = 1.0
    scale: float = 1.0
    density_ref: float | None = None
    likelihood: np.ndarray | None = None
    consequence: np.ndarray | None = None


@dataclass
class Result:
    """Per-cell outputs of a run (arrays aligned with the grid's cells)."""

    hazard: np.ndarray
    exposure: np.ndarray
    vulnerability: np.ndarray
    capacity: np.ndarray
    teams: np.ndarray
    risk: np.ndarray
    level: np.ndarray
    gap: np.ndarray
    likelihood: np.ndarray | None = None
    consequence: np.ndarray | None = None
    extra: dict = field(default_factory=dict)


def _explode_points(layer, epsg):
    """Metric x, y and the per-point layer row (MultiPoints give one row per part)."""
    parts, index = shapely.get_parts(layer.geoms, return_index=True)
    coords = shapely.get_coordinates(parts)
    x, y = xy_to_metric(coords[:, 0], coords[:, 1], epsg)
    return x, y, index


def _points_in_cells(grid, layer):
    """(cell index, layer row) of every point that falls inside a cell."""
    x, y, rows = _explode_points(layer, grid.epsg)
    cells = grid.cell_of_xy(x, y)
    inside = cells >= 0
    # Points in clipped squares may lie outside the area: test those against the clip.
    clipped = inside.copy()
    clipped[inside] = ~grid.full[cells[inside]]
    if clipped.any():
        idx = np.flatnonzero(clipped)
        ok = shapely.contains_xy(grid.geoms[cells[idx]], x[idx], y[idx])
        inside[idx[~ok]] = False
    return cells[inside], rows[inside]


def _polygon_overlaps(grid, layer, tree):
    """(cell index, layer row, overlap area m2) of every polygon-cell overlap."""
    polys = to_metric(layer.geoms, grid.epsg)
    prow, cell = tree.query(polys, predicate="intersects")
    if len(prow) == 0:
        return cell, prow, np.zeros(0)
    whole = shapely.contains_properly(polys[prow], grid.geoms[cell])
    area = grid.area_m2[cell].copy()
    part = ~whole
    if part.any():
        area[part] = shapely.area(shapely.intersection(polys[prow[part]],
                                                       grid.geoms[cell[part]]))
    # Touching along an edge (or float noise there) is no overlap.
    real = area > 1e-9 * grid.size ** 2
    return cell[real], prow[real], area[real]


def layer_index(grid, layer, params, tree):
    """The layer's index in 0..1 per cell (see docs/risk-model.md)."""
    n = len(grid)
    scale = layer.scale if layer.scale and layer.scale > 0 else 1.0
    norm = np.clip(np.asarray(layer.values, dtype=float), 0, None) / scale
    if layer.kind == "point":
        cells, rows = _points_in_cells(grid, layer)
        weighted = np.bincount(cells, weights=norm[rows], minlength=n)
        density = weighted / (grid.area_m2 / 1e6)
        ref = layer.density_ref or params["point_density_ref"]
        return 1.0 - np.exp(-density / ref)
    cells, rows, area = _polygon_overlaps(grid, layer, tree)
    covered = np.bincount(cells, weights=norm[rows] * area, minlength=n) / grid.area_m2
    return np.minimum(covered, 1.0)


def role_index(indices, weights, default):
    """Weighted mean of the layer indices of one role, or the default when there are none."""
    if not indices:
        return None if default is None else default
    w = np.asarray(weights, dtype=float)
    return np.sum([wi * ii for wi, ii in zip(w, indices, strict=True)], axis=0) / w.sum()


def _cells_within(grid, x, y, radius):
    """Indices of the cells whose geometry lies within ``radius`` metres of (x, y)."""
    size = grid.size
    c0 = max(int(np.floor((x - radius - grid.x0) / size)), 0)
    c1 = min(int(np.floor((x + radius - grid.x0) / size)), grid.ncols - 1)
    r0 = max(int(np.floor((y - radius - grid.y0) / size)), 0)
    r1 = min(int(np.floor((y + radius - grid.y0) / size)), grid.nrows - 1)
    if c0 > c1 or r0 > r1:
        return np.zeros(0, dtype=np.int64)
    block = grid.lookup[r0:r1 + 1, c0:c1 + 1]
    # Distance from the point to each whole square, by arithmetic.
    left = grid.x0 + np.arange(c0, c1 + 1) * size
    bottom = grid.y0 + np.arange(r0, r1 + 1) * size
    dx = np.maximum(np.maximum(left - x, x - (left + size)), 0.0)
    dy = np.maximum(np.maximum(bottom - y, y - (bottom + size)), 0.0)
    near = (dy[:, None] ** 2 + dx[None, :] ** 2 <= radius * radius) & (block >= 0)
    cells = block[near]
    # A clipped cell may lie farther than its square: measure those exactly.
    clipped = ~grid.full[cells]
    if clipped.any():
        far = shapely.distance(grid.geoms[cells[clipped]], shapely.Point(x, y)) > radius
        cells = np.concatenate([cells[~clipped], cells[clipped][~far]])
    return cells


def capacity_index(grid, teams, params, tree=None):
    """Capacity in 0..1 and the number of teams reaching each cell."""
    n = len(grid)
    total = np.zeros(n)
    count = np.zeros(n, dtype=np.int64)
    if not teams:
        return total, count
    lon = np.array([t["lon"] for t in teams], dtype=float)
    lat = np.array([t["lat"] for t in teams], dtype=float)
    radius = np.array([float(t.get("service_radius_km") or 0) * 1000.0 for t in teams])
    weights = params["grade_weights"]
    grade_w = np.array([float(weights.get(str(t.get("grade")) if t.get("grade") else "none",
                                          weights.get("none", 1.0))) for t in teams])
    xs, ys = xy_to_metric(lon, lat, grid.epsg)
    for x, y, r, w in zip(xs, ys, radius, grade_w, strict=True):
        cells = _cells_within(grid, x, y, r)
        total[cells] += w
        count[cells] += 1
    return 1.0 - np.exp(-total / params["capacity_ref"]), count


def composite_risk(hazard, exposure, vulnerability, capacity, params):
    """R = H * (1-a+aE) * (1-b+bV) * (1-g*C): rises with H, E, V and falls with C."""
    a, b = params["exposure_influence"], params["vulnerability_influence"]
    g = params["capacity_influence"]
    return (np.asarray(hazard) * (1 - a + a * np.asarray(exposure))
            * (1 - b + b * np.asarray(vulnerability)) * (1 - g * np.asarray(capacity)))


def levels_from_thresholds(risk, thresholds):
    """Level 1 (highest) to 4 from descending thresholds t1 > t2 > t3."""
    t1, t2, t3 = thresholds
    risk = np.asarray(risk)
    return np.where(risk >= t1, 1, np.where(risk >= t2, 2, np.where(risk >= t3, 3, 4)))


def matrix_levels(score, bands):
    """Level from a likelihood x consequence score (1..25; 0 means no hazard)."""
    score = np.asarray(score)
    return np.where(score >= bands["red"], 1, np.where(
        score >= bands["orange"], 2, np.where(score >= bands["yellow"], 3, 4)))


def _matrix_scores(grid, layers, tree):
    """Highest likelihood x consequence per cell over every feature touching it."""
    n = len(grid)
    best = np.zeros(n, dtype=np.int64)
    lik = np.zeros(n, dtype=np.int64)
    con = np.zeros(n, dtype=np.int64)
    for layer in layers:
        if layer.likelihood is None or layer.consequence is None:
            continue
        if layer.kind == "point":
            cells, rows = _points_in_cells(grid, layer)
        else:
            cells, rows, _area = _polygon_overlaps(grid, layer, tree)
        li = np.asarray(layer.likelihood, dtype=np.int64)[rows]
        co = np.asarray(layer.consequence, dtype=np.int64)[rows]
        # Order so the best feature of each cell is written last (score, then consequence).
        key = (li * co) * 10 + co
        order = np.lexsort((key, cells))
        cells, li, co = cells[order], li[order], co[order]
        better = li * co * 10 + co > best[cells] * 10 + con[cells]
        cells, li, co = cells[better], li[better], co[better]
        best[cells], lik[cells], con[cells] = li * co, li, co
    return best, lik, con


def assess(grid, layers, teams, params, progress=None):
    """Run the model over the grid: every component, the risk, the level and the gaps."""
    report = progress or (lambda _f: None)
    tree = shapely.STRtree(grid.geoms)
    by_role = {"hazard": ([], []), "exposure": ([], []), "vulnerability": ([], [])}
    steps = len(layers) + 2
    if params["method"] != "matrix":
        for i, layer in enumerate(layers):
            idx = layer_index(grid, layer, params, tree)
            by_role[layer.role][0].append(idx)
            by_role[layer.role][1].append(layer.weight)
            report((i + 1) / steps)
    capacity, count = capacity_index(grid, teams, params, tree)
    report((len(layers) + 1) / steps)
    n = len(grid)
    result_extra = {}
    if params["method"] == "matrix":
        score, lik, con = _matrix_scores(grid, layers, tree)
        hazard, exposure = lik / 5.0, con / 5.0
        vulnerability = np.zeros(n)
        risk = score / 25.0
        level = matrix_levels(score, params["bands"])
        result_extra = {"likelihood": lik, "consequence": con}
    else:
        hazard = role_index(*by_role["hazard"], np.zeros(n))
        default = params["default_index"]
        exposure = role_index(*by_role["exposure"],
                              np.full(n, float(default.get("exposure", 0.5))))
        vulnerability = role_index(*by_role["vulnerability"],
                                   np.full(n, float(default.get("vulnerability", 0.5))))
        risk = composite_risk(hazard, exposure, vulnerability, capacity, params)
        level = levels_from_thresholds(risk, params["thresholds"])
    report(1.0)
    return Result(hazard=hazard, exposure=exposure, vulnerability=vulnerability,
                  capacity=capacity, teams=count, risk=risk, level=level,
                  gap=(level <= 2) & (count == 0), **result_extra)


def assign_codes(points_wgs84, polygons, codes, depth=None):
    """For each point, the code of the polygon holding it (deepest when nested), else None."""
    out = np.full(len(points_wgs84), None, dtype=object)
    if len(polygons) == 0:
        return out
    # The tree holds the points and the polygons are the (prepared) query geometries: that
    # way GEOS prepares each large polygon once instead of testing it point by point.
    tree = shapely.STRtree(points_wgs84)
    poly, pt = tree.query(polygons, predicate="intersects")
    if len(pt) == 0:
        return out
    codes = np.asarray(codes, dtype=object)
    rank = np.zeros(len(polygons)) if depth is None else np.asarray(depth, dtype=float)
    # Sort so the deepest polygon of each point comes last and wins the assignment.
    order = np.lexsort((rank[poly], pt))
    out[pt[order]] = codes[poly[order]]
    return out
