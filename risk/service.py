"""Risk layers and assessments: create, run, read cells, summaries, comparisons. No Flask.

A run has three phases so a background worker never holds a write lock while computing:
``load_inputs`` (reads), ``compute`` (pure, no database) and ``store_result`` (one bulk
write). ``run_assessment`` chains them in one session for the CLI, the demo and tests.
"""

import json
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import shapely
from sqlalchemy import delete, func, or_, select

from emergency import spatial
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Invalid, TooMany
from emergency.geo import service as geo_service
from emergency.geo.models import AREA_LEVELS, Area, Grid
from emergency.spatial.bulk import insert_columns
from registry import service as registry_service
from risk import grid as gridlib
from risk import scoring
from risk.models import METHODS, RiskAssessment, RiskCell, RiskLayer, RiskLayerFeature

MAX_CELLS = 2_000_000


# ---- layers ---------------------------------------------------------------------------

def layer_dict(layer):
    """A layer as the API shows it."""
    bbox = None if layer.minx is None else [layer.minx, layer.miny, layer.maxx, layer.maxy]
    return {"id": layer.id, "name": layer.name, "role": layer.role,
            "value_field": layer.value_field, "likelihood_field": layer.likelihood_field,
            "consequence_field": layer.consequence_field,
            "geometry_kind": layer.geometry_kind, "feature_count": layer.feature_count,
            "value_max": layer.value_max, "source_crs": layer.source_crs,
            "source_file": layer.source_file, "bbox": bbox, "created_by": layer.created_by,
            "created_at": layer.created_at}


def list_layers(session, role=None, limit=100, offset=0):
    """Layers, newest first, with the total count."""
    where = [RiskLayer.role == role] if role else []
    total = session.scalar(select(func.count(RiskLayer.id)).where(*where))
    rows = session.scalars(select(RiskLayer).where(*where).order_by(RiskLayer.id.desc())
                           .limit(limit).offset(offset))
    return [layer_dict(r) for r in rows], total


def get_layer(session, layer_id):
    """One layer, or NotFound."""
    return get_or_404(session, RiskLayer, layer_id, "layer")


def layer_features(session, layer_id, bbox=None, limit=1000, offset=0):
    """Features of a layer as (GeoJSON features, total), filtered by bbox."""
    layer = get_layer(session, layer_id)
    t = RiskLayerFeature.__table__
    where = [t.c.layer_id == layer.id]
    if bbox:
        where.append(spatial.bbox_filter(session, t, bbox))
    total = session.scalar(select(func.count()).select_from(t).where(*where))
    rows = session.execute(select(t.c.id, t.c.value, t.c.likelihood, t.c.consequence,
                                  spatial.as_geojson(session, t.c.geom).label("g"))
                           .where(*where).order_by(t.c.id).limit(limit).offset(offset))
    feats = []
    for r in rows:
        props = {"value": r.value, "layer_id": layer.id}
        if r.likelihood is not None:
            props.update(likelihood=r.likelihood, consequence=r.consequence)
        feats.append({"type": "Feature", "id": r.id, "geometry": json.loads(r.g),
                      "properties": props})
    return feats, total


# ---- assessments ----------------------------------------------------------------------

def area_geometry(session, code):
    """The area's boundary (shapely, WGS-84), or None."""
    t = Area.__table__
    wkb = session.scalar(select(spatial.as_wkb(session, t.c.geom)).where(t.c.code == code))
    return None if wkb is None else shapely.from_wkb(bytes(wkb))


def _check_params(params, layers):
    """Merge and validate the model parameters; Invalid names each bad one."""
    merged = scoring.merge_params(params)
    problems = {}
    if merged["method"] not in METHODS:
        problems["params.method"] = [f"must be one of {', '.join(METHODS)}"]
    t = merged["thresholds"]
    if not (isinstance(t, list) and len(t) == 3 and all(isinstance(v, int | float) for v in t)
            and 1 >= t[0] > t[1] > t[2] > 0):
        problems["params.thresholds"] = ["three numbers with 1 >= t1 > t2 > t3 > 0"]
    b = merged["bands"]
    try:
        if not 25 >= int(b["red"]) > int(b["orange"]) > int(b["yellow"]) >= 1:
            raise ValueError
    except (KeyError, TypeError, ValueError):
        problems["params.bands"] = ["red > orange > yellow, integers 1..25"]
    for key in ("exposure_influence", "vulnerability_influence", "capacity_influence"):
        if not isinstance(merged[key], int | float) or not 0 <= merged[key] <= 1:
            problems[f"params.{key}"] = ["a number in 0..1"]
    for key in ("point_density_ref", "capacity_ref"):
        if not isinstance(merged[key], int | float) or merged[key] <= 0:
            problems[f"params.{key}"] = ["a positive number"]
    weights = merged["grade_weights"]
    if not isinstance(weights, dict) or not all(isinstance(v, int | float) and v >= 0
                                                for v in weights.values()):
        problems["params.grade_weights"] = ["{grade: weight >= 0}"]
    if merged["method"] == "composite" and not any(r.role == "hazard" for r in layers):
        problems["layers"] = ["the composite method needs at least one hazard layer"]
    if merged["method"] == "matrix" and not any(r.likelihood_field for r in layers):
        problems["layers"] = ["the matrix method needs a layer with likelihood and consequence"]
    if problems:
        raise Invalid("invalid assessment parameters", problems)
    return merged


def create_assessment(session, area_code, cell_size_m, layers, params=None, actor="",
                      max_active=None, stale_after=3600):
    """A queued assessment; the run itself is started by the caller (jobs.start).
    ``max_active`` bounds the runs queued or running at once (TooMany beyond it); runs older
    than ``stale_after`` seconds are dead (see fail_interrupted) and do not count."""
    if max_active is not None:
        active = session.scalar(select(func.count(RiskAssessment.id)).where(
            RiskAssessment.status.in_(("queued", "running")),
            RiskAssessment.created_at >= utcnow() - timedelta(seconds=stale_after)))
        if active >= max_active:
            raise TooMany(f"{active} assessments are already running; start this one when "
                          "one of them has finished", {"_request": [
                              f"at most {max_active} assessments run at once"]})
    area = area_geometry(session, area_code)
    if area is None:
        raise Invalid(f"unknown area {area_code}", {"area_code": [f"no area {area_code}"]})
    if not 50 <= int(cell_size_m) <= 20_000:
        raise Invalid("cell size out of range", {"cell_size_m": ["50..20000 metres"]})
    epsg = gridlib.utm_epsg(area.centroid.x, area.centroid.y)
    minx, miny, maxx, maxy = gridlib.to_metric(np.array([area.envelope]), epsg)[0].bounds
    estimate = (maxx - minx) * (maxy - miny) / float(cell_size_m) ** 2
    if estimate > MAX_CELLS:
        raise Invalid("too many cells", {"cell_size_m": [
            f"about {int(estimate):,} cells; the limit is {MAX_CELLS:,}: use larger cells"]})
    records, chosen = [], []
    for i, item in enumerate(layers or []):
        layer = session.get(RiskLayer, item["layer_id"])
        if layer is None:
            raise Invalid(f"unknown layer {item['layer_id']}",
                          {f"layers.{i}.layer_id": [f"no layer {item['layer_id']}"]})
        records.append(layer)
        chosen.append({"layer_id": layer.id, "weight": float(item.get("weight", 1.0)),
                       "scale": item.get("scale"), "density_ref": item.get("density_ref")})
    if len({c["layer_id"] for c in chosen}) != len(chosen):
        raise Invalid("a layer is listed twice", {"layers": ["each layer at most once"]})
    merged = _check_params(params, records)
    run = RiskAssessment(area_code=area_code, cell_size_m=int(cell_size_m),
                         method=merged["method"], layers=chosen, params=merged,
                         status="queued", progress=0.0, error="", epsg=epsg,
                         created_by=actor or "")
    session.add(run)
    session.flush()
    return run


def get_assessment(session, assessment_id):
    """One assessment, or NotFound."""
    return get_or_404(session, RiskAssessment, assessment_id, "assessment")


def assessment_dict(run):
    """An assessment as the API shows it."""
    return {"id": run.id, "area_code": run.area_code, "cell_size_m": run.cell_size_m,
            "method": run.method, "layers": run.layers, "params": run.params,
            "status": run.status, "progress": round(float(run.progress), 4),
            "error": run.error or None, "epsg": run.epsg, "cell_count": run.cell_count,
            "team_count": run.team_count, "created_by": run.created_by,
            "created_at": run.created_at, "started_at": run.started_at,
            "finished_at": run.finished_at}


def list_assessments(session, area_code=None, status=None, limit=100, offset=0):
    """Assessments, newest first, with the total count."""
    where = []
    if area_code:
        where.append(RiskAssessment.area_code == area_code)
    if status:
        where.append(RiskAssessment.status == status)
    total = session.scalar(select(func.count(RiskAssessment.id)).where(*where))
    rows = session.scalars(select(RiskAssessment).where(*where)
                           .order_by(RiskAssessment.created_at.desc(),
                                     RiskAssessment.id.desc()).limit(limit).offset(offset))
    return [assessment_dict(r) for r in rows], total


def set_state(session, assessment_id, status=None, progress=None, error=None):
    """Record a run's status/progress (the caller commits)."""
    run = get_assessment(session, assessment_id)
    if run.status == "done":
        raise Conflict(f"assessment {assessment_id} is done and cannot change")
    if status:
        run.status = status
        if status == "running" and run.started_at is None:
            run.started_at = utcnow()
        if status in ("done", "failed"):
            run.finished_at = utcnow()
    if progress is not None:
        run.progress = float(min(max(progress, 0.0), 1.0))
    if error is not None:
        run.error = str(error)[:2000]
    session.flush()
    return run


def fail_interrupted(session, max_seconds, now=None):
    """Mark failed every run still queued or running ``max_seconds`` after it was queued:
    its worker died with its process (a restart, the OOM killer). Returns how many."""
    now = now or utcnow()
    limit = now - timedelta(seconds=max_seconds)
    stale = session.scalars(select(RiskAssessment).where(
        RiskAssessment.status.in_(("queued", "running")), RiskAssessment.created_at < limit))
    count = 0
    for run in stale:
        set_state(session, run.id, status="failed",
                  error=f"interrupted: still {run.status} after {max_seconds} s; run it again "
                        f"with `emergency risk run --id {run.id}`")
        count += 1
    return count


# ---- running --------------------------------------------------------------------------

@dataclass
class RunInputs:
    """Everything a run reads from the database, so the computation needs none."""

    assessment_id: int
    area_code: str
    area: object
    cell_size_m: int
    epsg: int
    params: dict
    layers: list
    teams: list
    areas: tuple
    grids: tuple


def capacity_teams(session):
    """Live capacity: approved organisations' available teams."""
    return list(registry_service.capacity_teams(session, bbox=None))


def _layer_input(session, chosen, area_bbox):
    """A chosen layer's features inside the area's bbox as a scoring.LayerInput."""
    layer = get_layer(session, chosen["layer_id"])
    t = RiskLayerFeature.__table__
    rows = session.execute(select(t.c.value, t.c.likelihood, t.c.consequence,
                                  spatial.as_wkb(session, t.c.geom))
                           .where(t.c.layer_id == layer.id,
                                  spatial.bbox_filter(session, t, area_bbox))).all()
    values = np.array([r[0] for r in rows], dtype=float)
    geoms = shapely.from_wkb([bytes(r[3]) for r in rows]) if rows else np.array([], object)
    matrix = layer.likelihood_field is not None
    return scoring.LayerInput(
        role=layer.role, kind=layer.geometry_kind, geoms=np.asarray(geoms, dtype=object),
        values=values, weight=chosen["weight"],
        scale=float(chosen.get("scale") or layer.value_max or 1.0),
        density_ref=chosen.get("density_ref"),
        likelihood=np.array([r[1] for r in rows]) if matrix else None,
        consequence=np.array([r[2] for r in rows]) if matrix else None)


def area_and_descendants(session, code):
    """The code of an area and of every area below it (by parent links, not code prefixes)."""
    return geo_service.area_descendants(session, code)


def in_chunks(column, values, size=5000):
    """``column IN values`` split in chunks (SQLite limits bound parameters)."""
    values = list(values)
    return or_(*(column.in_(values[i:i + size]) for i in range(0, len(values), size)))


def load_inputs(session, assessment_id):
    """Read the area, layers, live teams, sub-areas and grids of a run."""
    run = get_assessment(session, assessment_id)
    area = area_geometry(session, run.area_code)
    bbox = area.bounds
    layers = [_layer_input(session, c, bbox) for c in run.layers]
    a, g = Area.__table__, Grid.__table__
    codes = area_and_descendants(session, run.area_code)
    arows = session.execute(select(a.c.code, a.c.level, spatial.as_wkb(session, a.c.geom))
                            .where(in_chunks(a.c.code, codes))).all()
    grows = session.execute(select(g.c.code, spatial.as_wkb(session, g.c.geom))
                            .where(in_chunks(g.c.area_code, codes))).all()
    areas = ([r[0] for r in arows], [AREA_LEVELS.index(r[1]) for r in arows],
             shapely.from_wkb([bytes(r[2]) for r in arows]))
    grids = ([r[0] for r in grows], shapely.from_wkb([bytes(r[1]) for r in grows])
             if grows else np.array([], object))
    return RunInputs(assessment_id=run.id, area_code=run.area_code, area=area,
                     cell_size_m=run.cell_size_m, epsg=run.epsg, params=run.params, layers=layers,
                     teams=capacity_teams(session), areas=areas, grids=grids)


def _metric(geoms, epsg):
    """WGS-84 geometries (any sequence) in the run's metric CRS."""
    geoms = np.asarray(geoms, dtype=object)
    return gridlib.to_metric(geoms, epsg) if len(geoms) else geoms


def compute(inputs, progress=None):
    """Build the grid and run the model (no database): (grid, result, area codes, grid codes)."""
    report = progress or (lambda _f: None)
    grid = gridlib.build_grid(inputs.area, inputs.cell_size_m, inputs.epsg)
    report(0.1)
    result = scoring.assess(grid, inputs.layers, inputs.teams, inputs.params,
                            progress=lambda f: report(0.1 + 0.7 * f))
    # Assign in the metric CRS, where the cells were clipped, so a point near a boundary
    # falls on the same side as its cell did; a cell no sub-area claims is the run's own.
    rep = grid.representative_points()
    codes, depth, polys = inputs.areas
    area_codes = scoring.assign_codes(rep, _metric(polys, grid.epsg), codes, depth)
    area_codes[area_codes == None] = inputs.area_code  # noqa: E711 (numpy comparison)
    grid_codes = scoring.assign_codes(rep, _metric(inputs.grids[1], grid.epsg), inputs.grids[0])
    report(0.9)
    return grid, result, area_codes, grid_codes


def _small_ints(values):
    """Likelihood or consequence of every cell: None (not computed), an integer array, or a
    list of ints and None."""
    if values is None:
        return None
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        return values
    return [None if v is None else int(v) for v in values.tolist()]


def store_result(session, assessment_id, grid, result, area_codes, grid_codes, team_count):
    """Write every cell in bulk and mark the run done; a done run cannot be written again."""
    run = get_assessment(session, assessment_id)
    if run.status == "done":
        raise Conflict(f"assessment {assessment_id} is done and immutable")
    session.execute(delete(RiskCell.__table__).where(RiskCell.assessment_id == run.id))
    n = len(grid)
    # Columns, not rows: the bulk path formats them a batch at a time and makes each batch's
    # WGS-84 cells only when it writes them, so memory stays flat at any cell size.
    columns = {"assessment_id": run.id, "row": grid.row, "col": grid.col,
               "area_code": area_codes, "grid_code": grid_codes, "area_m2": grid.area_m2,
               "hazard": result.hazard, "exposure": result.exposure,
               "vulnerability": result.vulnerability, "capacity": result.capacity,
               "teams": result.teams, "likelihood": _small_ints(result.likelihood),
               "consequence": _small_ints(result.consequence), "risk": result.risk,
               "level": result.level, "gap": result.gap}
    insert_columns(session, "risk_cells", columns, n,
                   lambda start, stop: gridlib.cells_wgs84(grid, start, stop))
    run.cell_count, run.team_count = n, int(team_count)
    set_state(session, run.id, status="done", progress=1.0)
    return run


def run_assessment(session, assessment_id, progress=None):
    """Run an assessment start to end in this session (the caller commits)."""
    set_state(session, assessment_id, status="running", progress=0.0)
    inputs = load_inputs(session, assessment_id)
    grid, result, area_codes, grid_codes = compute(inputs, progress)
    return store_result(session, assessment_id, grid, result, area_codes, grid_codes,
                        len(inputs.teams))
