"""Reading a finished run: cells by viewport, summaries, gaps, comparisons, exports. No Flask."""

import io
import json
import os
import tempfile

import shapely
from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.orm import aliased

from emergency import spatial
from emergency.errors import Conflict, Invalid, NotFound
from emergency.exports import append_row
from emergency.geo.models import Area, Grid
from emergency.spatial.tiles import tile_layer
from emergency.vocabulary import RISK_COLOUR_NAMES, RISK_LEVEL_NAMES_ZH
from risk import cellstore
from risk.models import RiskCell
from risk.service import area_and_descendants, area_geometry, get_assessment, in_chunks

LEVELS = (1, 2, 3, 4)
PROPS = ("hazard", "exposure", "vulnerability", "capacity", "risk")


def _done(session, assessment_id):
    """The run, which must be done to be read."""
    run = get_assessment(session, assessment_id)
    if run.status != "done":
        raise Conflict(f"assessment {assessment_id} is {run.status}, not done",
                       {"status": [run.status]})
    return run


def check_exportable(session, assessment_id):
    """The run when its cells can be exported (done), else NotFound or Conflict."""
    return _done(session, assessment_id)


def _cell_properties(r):
    """A cell row's properties as the API shows them."""
    props = {k: round(float(getattr(r, k)), 6) for k in PROPS}
    props.update(level=int(r.level), colour=RISK_COLOUR_NAMES[int(r.level)], teams=int(r.teams),
                 gap=bool(r.gap), area_code=r.area_code, grid_code=r.grid_code,
                 row=int(r.row), col=int(r.col), area_m2=round(float(r.area_m2), 1))
    if r.likelihood is not None:
        props.update(likelihood=int(r.likelihood), consequence=int(r.consequence))
    return props


def _cell_columns(session, t):
    """Columns read for each cell."""
    return [t.c.id, t.c.row, t.c.col, t.c.area_code, t.c.grid_code, t.c.area_m2, t.c.teams,
            t.c.likelihood, t.c.consequence, t.c.level, t.c.gap, *(t.c[k] for k in PROPS),
            spatial.as_geojson(session, t.c.geom).label("g")]


def cells(session, assessment_id, bbox=None, max_level=None, gap=None, limit=1000, offset=0):
    """Cells of a done run as (features, total), highest risk first."""
    records, total = cell_records(session, assessment_id, bbox, max_level, gap, limit, offset)
    for record in records:
        record["geometry"] = json.loads(record["geometry"])
    return records, total


def cell_records(session, assessment_id, bbox=None, max_level=None, gap=None, limit=1000,
                 offset=0, order="risk", after=None):
    """cells() with each geometry left as GeoJSON text (for callers that write the text out
    as it is: parsing a thousand small polygons costs more than the query). ``order``:
    "risk" (highest first) or "grid" (by row and column, which the run's unique index
    serves, so deep pages of a large run need no sort of all its cells); with "grid",
    ``after`` (row, col) starts the page after that cell (a keyset page: no rows skipped)."""
    run = _done(session, assessment_id)
    t = RiskCell.__table__
    where = [t.c.assessment_id == run.id]
    if bbox:
        where.append(spatial.bbox_filter(session, t, bbox))
    if max_level:
        where.append(t.c.level <= max_level)
    if gap is not None:
        where.append(t.c.gap == gap)
    if len(where) == 1 and run.cell_count:
        # Every cell of the run: the count its store recorded (a done run never changes),
        # instead of counting hundreds of thousands of rows for each page.
        total = run.cell_count
    else:
        total = session.scalar(select(func.count()).select_from(t).where(*where))
    if after is not None and order == "grid":
        where.append(tuple_(t.c.row, t.c.col) > tuple_(*(int(v) for v in after)))
    ordering = (t.c.row, t.c.col) if order == "grid" else (t.c.level, t.c.risk.desc(), t.c.id)
    rows = session.execute(select(*_cell_columns(session, t)).where(*where)
                           .order_by(*ordering).limit(limit).offset(offset))
    return [{"type": "Feature", "id": r.id, "geometry": r.g,
             "properties": _cell_properties(r)} for r in rows], total


def _cell_feature(r):
    """A cell row as a GeoJSON Feature."""
    return {"type": "Feature", "id": r.id, "geometry": json.loads(r.g),
            "properties": _cell_properties(r)}


def cell(session, assessment_id, cell_id):
    """One cell of a done run as a Feature, or NotFound."""
    run = _done(session, assessment_id)
    t = RiskCell.__table__
    row = session.execute(select(*_cell_columns(session, t))
                          .where(t.c.assessment_id == run.id, t.c.id == cell_id)).first()
    if row is None:
        raise NotFound(f"no cell {cell_id} in assessment {assessment_id}")
    return _cell_feature(row)


def run_extent(session, assessment_id):
    """The bounding box of a done run's cells (its area's, which they cover and are
    clipped to): ``{"bbox", "interval": None}``."""
    run = _done(session, assessment_id)
    geom = area_geometry(session, run.area_code)
    return {"bbox": [float(v) for v in geom.bounds] if geom is not None else None,
            "interval": None}


def cell_view(session, assessment_id):
    """The cells of a done run held in memory (read once per process; runs never change):
    an ``risk.cellstore.RunCells`` for map views by bbox."""
    return cellstore.run_cells(session, get_assessment(session, assessment_id))


def cell_bins(session, assessment_id, bbox, size_deg):
    """Cells of a done run counted per level in squares of ``size_deg`` degrees of longitude
    (and as many metres of latitude) meeting the bbox:
    [{bin: [bx, by], bounds: [w, s, e, n], cells, counts: {"1".."4"}, level, worst, risk}],
    where ``level`` is the most severe level holding, with those above it, a tenth of the
    cells, ``worst`` the most severe level present and ``risk`` the highest cell risk."""
    (bx, by, counts, top, levels, worst), (sx, sy) = cell_view(session, assessment_id).bins(
        bbox, size_deg)
    return [{"bin": [x, y], "bounds": [x * sx, y * sy, (x + 1) * sx, (y + 1) * sy],
             "cells": sum(c), "counts": {str(lv + 1): c[lv] for lv in range(4)},
             "level": level, "worst": w, "risk": round(r, 6)}
            for x, y, c, r, level, w in zip(bx, by, counts, top, levels, worst, strict=True)]


def cell_tile(session, assessment_id, z, x, y):
    """The cells of a done run meeting web-mercator tile z/x/y as the vector tile layer
    ``risk`` with what drawing needs (id, level, gap; a click reads the rest by ``cell``):
    ``spatial.tiles.tile_layer``'s MVT bytes on PostGIS (``ST_AsMVT``), rows on SpatiaLite."""
    run = _done(session, assessment_id)
    t = RiskCell.__table__
    return tile_layer(session, t, z, x, y, [t.c.id, t.c.level, t.c.gap],
                      where=[t.c.assessment_id == run.id], layer="risk")


def _counts(rows):
    """{key: {"1": n, ..., "4": n}} from (key, level, count) rows."""
    out = {}
    for key, level, count in rows:
        out.setdefault(key, {str(lv): 0 for lv in LEVELS})[str(int(level))] += int(count)
    return out


def summary(session, assessment_id, gap_limit=500):
    """Counts per level overall, per area (rolled up to ancestors) and per grid; gaps."""
    run = _done(session, assessment_id)
    t = RiskCell.__table__
    mine = t.c.assessment_id == run.id
    totals = {str(lv): 0 for lv in LEVELS}
    for level, count in session.execute(select(t.c.level, func.count()).where(mine)
                                        .group_by(t.c.level)):
        totals[str(int(level))] = int(count)
    codes = area_and_descendants(session, run.area_code)
    areas = {r.code: r for r in session.execute(
        select(Area.code, Area.name, Area.level, Area.parent_code)
        .where(in_chunks(Area.code, codes)))}
    per_area = {}
    for code, counts in _counts(session.execute(
            select(t.c.area_code, t.c.level, func.count()).where(mine)
            .group_by(t.c.area_code, t.c.level))).items():
        seen = set()
        while code in areas and code not in seen:
            seen.add(code)
            acc = per_area.setdefault(code, {str(lv): 0 for lv in LEVELS})
            for k, v in counts.items():
                acc[k] += v
            if code == run.area_code:
                break
            code = areas[code].parent_code
    grid_names = dict(session.execute(select(Grid.code, Grid.name)
                                      .where(in_chunks(Grid.area_code, codes))).all())
    per_grid = _counts(session.execute(
        select(t.c.grid_code, t.c.level, func.count())
        .where(mine, t.c.grid_code.is_not(None)).group_by(t.c.grid_code, t.c.level)))
    gap_where = [mine, t.c.gap.is_(True)]
    gap_total = session.scalar(select(func.count()).select_from(t).where(*gap_where))
    gap_rows = session.execute(
        select(t.c.id, t.c.row, t.c.col, t.c.level, t.c.risk, t.c.area_code, t.c.grid_code,
               spatial.as_geojson(session, t.c.geom).label("g"))
        .where(*gap_where).order_by(t.c.level, t.c.risk.desc(), t.c.id).limit(gap_limit))
    gaps = []
    for r in gap_rows:
        geom = json.loads(r.g)
        ring = geom["coordinates"][0][0]
        lon = sum(p[0] for p in ring[:-1]) / max(len(ring) - 1, 1)
        lat = sum(p[1] for p in ring[:-1]) / max(len(ring) - 1, 1)
        gaps.append({"cell_id": r.id, "row": r.row, "col": r.col, "level": r.level,
                     "colour": RISK_COLOUR_NAMES[r.level], "risk": round(float(r.risk), 6),
                     "area_code": r.area_code, "grid_code": r.grid_code,
                     "lon": round(lon, 6), "lat": round(lat, 6)})
    return {
        "assessment_id": run.id, "area_code": run.area_code, "cell_size_m": run.cell_size_m,
        "cells": sum(totals.values()),
        "levels": {k: {"count": v, "colour": RISK_COLOUR_NAMES[int(k)],
                       "name": RISK_LEVEL_NAMES_ZH[int(k)]} for k, v in totals.items()},
        "areas": [{"code": c, "name": areas[c].name, "level": areas[c].level,
                   "parent_code": areas[c].parent_code, "counts": v,
                   "cells": sum(v.values())} for c, v in sorted(per_area.items())],
        "grids": [{"code": c, "name": grid_names.get(c, ""), "counts": v,
                   "cells": sum(v.values())} for c, v in sorted(per_grid.items())],
        "gaps": {"count": int(gap_total), "cells": gaps},
    }


def compare(session, assessment_id, other, limit=1000, offset=0):
    """Cells of a run whose level differs from the same cell in another run over that grid."""
    run, other = _done(session, assessment_id), _done(session, other)
    if (run.area_code, run.cell_size_m, run.epsg) != (other.area_code, other.cell_size_m,
                                                       other.epsg):
        raise Invalid("the runs do not share a grid", {"other": [
            "compare runs of the same area and cell size"]})
    a, b = RiskCell.__table__, aliased(RiskCell.__table__)
    join = b.join(a, and_(a.c.row == b.c.row, a.c.col == b.c.col))
    where = [a.c.assessment_id == run.id, b.c.assessment_id == other.id, a.c.level != b.c.level]
    transitions = {f"{int(x)}->{int(y)}": int(n) for x, y, n in session.execute(
        select(b.c.level, a.c.level, func.count()).select_from(join).where(*where)
        .group_by(b.c.level, a.c.level))}
    rows = session.execute(select(*_cell_columns(session, a), b.c.level.label("other_level"))
                           .select_from(join).where(*where).order_by(a.c.level, a.c.id)
                           .limit(limit).offset(offset))
    feats = []
    for r in rows:
        props = _cell_properties(r)
        props["other_level"] = int(r.other_level)
        feats.append({"type": "Feature", "id": r.id, "geometry": json.loads(r.g),
                      "properties": props})
    return feats, sum(transitions.values()), transitions


def export_cells(session, assessment_id, fmt):
    """Every cell of a run as GeoPackage or GeoJSON bytes (with its file name)."""
    import geopandas as gpd  # heavy (pandas); only this export needs it


    run = _done(session, assessment_id)
    t = RiskCell.__table__
    cols = [c for c in _cell_columns(session, t) if getattr(c, "name", "") != "g"]
    rows = session.execute(select(*cols, spatial.as_wkb(session, t.c.geom).label("wkb"))
                           .where(t.c.assessment_id == run.id).order_by(t.c.id)).all()
    records = [{**_cell_properties(r), "id": r.id} for r in rows]
    frame = gpd.GeoDataFrame(records, geometry=shapely.from_wkb([bytes(r.wkb) for r in rows]),
                             crs=4326)
    suffix = {"gpkg": ".gpkg", "geojson": ".geojson"}[fmt]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"risk-{run.id}{suffix}")
        frame.to_file(path, driver="GPKG" if fmt == "gpkg" else "GeoJSON", layer="risk_cells",
                      engine="pyogrio")
        with open(path, "rb") as fh:
            return fh.read(), f"risk-assessment-{run.id}{suffix}"


def summary_xlsx(session, assessment_id):
    """The summary as an .xlsx workbook (bytes)."""
    from openpyxl import Workbook  # loaded by the spreadsheet exports only

    data = summary(session, assessment_id, gap_limit=100_000)
    wb = Workbook()
    ws = wb.active
    ws.title = "总体 Overall"
    ws.append(["风险等级 Level", "名称 Name", "颜色 Colour", "网格单元数 Cells"])
    for k, v in data["levels"].items():
        append_row(ws, [int(k), v["name"], v["colour"], v["count"]])
    ws.append(["合计 Total", "", "", data["cells"]])
    heads = ["重大 1", "较大 2", "一般 3", "低 4", "合计 Total"]
    ws = wb.create_sheet("区域 Areas")
    ws.append(["代码 Code", "名称 Name", "级别 Level", *heads])
    for a in data["areas"]:
        append_row(ws, [a["code"], a["name"], a["level"],
                        *(a["counts"][str(lv)] for lv in LEVELS), a["cells"]])
    ws = wb.create_sheet("网格 Grids")
    ws.append(["网格 Grid", "名称 Name", *heads])
    for g in data["grids"]:
        append_row(ws, [g["code"], g["name"], *(g["counts"][str(lv)] for lv in LEVELS),
                        g["cells"]])
    ws = wb.create_sheet("缺口 Gaps")
    ws.append(["单元 Cell", "等级 Level", "风险 Risk", "区域 Area", "网格 Grid", "经度 Lon",
               "纬度 Lat"])
    for g in data["gaps"]["cells"]:
        append_row(ws, [g["cell_id"], g["level"], g["risk"], g["area_code"], g["grid_code"],
                        g["lon"], g["lat"]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue(), f"risk-assessment-{assessment_id}-summary.xlsx"
