"""Import of hazard, exposure and vulnerability layers through pyogrio, in batches.

A file is read BATCH features at a time, checked, converted to WGS-84 and written in bulk,
so a large file is never held twice in memory. Everything happens inside a savepoint: any
bad feature raises Invalid and nothing of the layer is kept.
"""

import math
import os
import re
import warnings

import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.validation import explain_validity

from emergency import uploads
from emergency.errors import Invalid
from emergency.geo import chinacrs
from emergency.spatial.bulk import insert_rows
from risk.models import LAYER_ROLES, RiskLayer

SUPPORTED = tuple(uploads.GEO_FORMATS)
# A CRS is named by code only: pyproj would also take WKT, PROJ strings and their file lookups.
EPSG_CODE = re.compile(r"(?i)(?:EPSG:)?\d{4,6}")
BATCH = 50_000
MAX_PROBLEMS = 20
# Plausible extent of data for a Chinese bureau; anything outside hints at a wrong CRS.
CHINA_BOUNDS = (73.0, 3.0, 136.0, 54.0)
POINTS, POLYGONS = ("Point", "MultiPoint"), ("Polygon", "MultiPolygon")


def _open_info(source, layer, fmt):
    """pyogrio's description of a checked file, or Invalid (GDAL's words only in the log)."""
    try:
        return pyogrio.read_info(source, layer=layer)
    except Exception as exc:  # GDAL raises many error types for unreadable input
        raise uploads.unreadable(fmt, exc) from None


def _names(fields):
    """The file's field names for a message, bounded (a name may be any length)."""
    return [str(f)[:60] for f in fields[:50]] + (["..."] if len(fields) > 50 else [])


def _target_crs(crs, file_crs):
    """(crs to read the file in, Chinese offset to remove or None); Invalid when unusable."""
    if crs in ("wgs84", "gcj02", "bd09"):
        return "EPSG:4326", (None if crs == "wgs84" else crs)
    if crs:
        if not EPSG_CODE.fullmatch(crs):
            raise Invalid("unknown CRS", {"crs": [
                "wgs84, gcj02, bd09 or an EPSG code such as EPSG:4549"]})
        crs = crs if crs.upper().startswith("EPSG:") else f"EPSG:{crs}"
        try:
            CRS.from_user_input(crs)
        except CRSError as exc:
            raise Invalid("unknown CRS", {"crs": [str(exc)[:200]]}) from None
        return crs, None
    if not file_crs:
        raise Invalid("the file has no CRS; give one",
                      {"crs": ["required: the file does not say its CRS"]})
    return None, None


def _numeric(series, name, offset, problems):
    """A column as float64, recording each non-numeric or missing value as a problem."""
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    for i in bad[:MAX_PROBLEMS]:
        problems.setdefault(f"feature {offset + int(i)}", []).append(
            f"{name} is not a number: {repr(series.iloc[int(i)])[:60]}")
    return values


def _class_1_to_5(series, name, offset, problems):
    """A likelihood/consequence column as integers 1..5 (matrix method)."""
    values = _numeric(series, name, offset, problems)
    bad = np.flatnonzero(np.isfinite(values) & ~np.isin(values, [1, 2, 3, 4, 5]))
    for i in bad[:MAX_PROBLEMS]:
        problems.setdefault(f"feature {offset + int(i)}", []).append(
            f"{name} must be an integer 1..5, not {values[int(i)]:g}")
    return np.nan_to_num(values).astype(int)


def _geometries(frame, offset, kind, repair, problems, repaired):
    """Checked 2-D geometries of a batch; problems name each bad feature."""
    geoms = np.asarray(shapely.force_2d(frame.geometry.array), dtype=object)
    minx, miny, maxx, maxy = CHINA_BOUNDS
    for i, geom in enumerate(geoms):
        key = f"feature {offset + i}"
        if geom is None or geom.is_empty:
            problems.setdefault(key, []).append("empty geometry")
            continue
        gtype = geom.geom_type
        if gtype not in POINTS + POLYGONS:
            problems.setdefault(key, []).append(f"{gtype} is not supported (points or polygons)")
            continue
        this_kind = "point" if gtype in POINTS else "polygon"
        if kind[0] is None:
            kind[0] = this_kind
        elif kind[0] != this_kind:
            problems.setdefault(key, []).append(f"{gtype} mixed with {kind[0]} features")
            continue
        bx = geom.bounds
        if not all(math.isfinite(v) for v in bx) or bx[0] < minx or bx[2] > maxx \
                or bx[1] < miny or bx[3] > maxy:
            problems.setdefault(key, []).append(
                "coordinates outside China (lon 73..136, lat 3..54) after conversion to "
                f"WGS-84: {tuple(round(v, 4) for v in bx)}; is the CRS right?")
            continue
        if not geom.is_valid:
            if not repair:
                problems.setdefault(key, []).append(
                    f"invalid geometry: {explain_validity(geom)} (send repair=true to repair)")
                continue
            fixed = shapely.make_valid(geom)
            parts = [p for p in shapely.get_parts(fixed) if p.geom_type in POLYGONS]
            if not parts:
                problems.setdefault(key, []).append("invalid geometry that cannot be repaired")
                continue
            geoms[i] = shapely.MultiPolygon(
                [q for p in parts for q in getattr(p, "geoms", [p])])
            repaired.append(offset + i)
    return geoms


def check_form(name, role, value_field=None, likelihood_field=None, consequence_field=None):
    """Invalid naming each bad field of a layer's form (before its file is read)."""
    problems = {}
    if role not in LAYER_ROLES:
        problems["role"] = [f"must be one of {', '.join(LAYER_ROLES)}"]
    if not (name or "").strip():
        problems["name"] = ["required"]
    if not value_field and not (likelihood_field and consequence_field):
        problems["value_field"] = ["required (or likelihood_field and consequence_field)"]
    if problems:
        raise Invalid("invalid layer", problems)


def import_layer(session, path, name, role, value_field=None, crs=None, encoding=None,
                 likelihood_field=None, consequence_field=None, repair=False, layer=None,
                 actor="", source_name=None, progress=None, batch=BATCH):
    """Import one layer file; all or nothing. Returns (RiskLayer, repaired feature numbers)."""
    check_form(name, role, value_field, likelihood_field, consequence_field)
    with uploads.geodata(path) as source:
        return _import(
            session, source, uploads.GEO_FORMATS[os.path.splitext(str(path))[1].lower()],
            name=name, role=role, value_field=value_field, crs=crs, encoding=encoding,
            likelihood_field=likelihood_field, consequence_field=consequence_field,
            repair=repair, layer=layer, actor=actor,
            source_name=source_name or os.path.basename(str(path)), progress=progress,
            batch=batch)


def _import(session, source, fmt, *, name, role, value_field, crs, encoding, likelihood_field,
            consequence_field, repair, layer, actor, source_name, progress, batch):
    """import_layer on a checked file that GDAL may open."""
    problems = {}
    info = _open_info(source, layer, fmt)
    fields = list(info["fields"])
    wanted = [f for f in (value_field, likelihood_field, consequence_field) if f]
    missing = [f for f in wanted if f not in fields]
    if missing:
        raise Invalid("missing fields: " + ", ".join(missing),
                      {"value_field" if f == value_field else
                       ("likelihood_field" if f == likelihood_field else "consequence_field"):
                       [f"no field {f[:100]!r}; the file has {_names(fields)}"]
                       for f in missing})
    read_crs, offset_crs = _target_crs(crs, info.get("crs"))
    total = int(info.get("features") or -1)
    record = RiskLayer(name=name.strip()[:200], role=role, value_field=value_field,
                       likelihood_field=likelihood_field, consequence_field=consequence_field,
                       geometry_kind="point", source_crs=str(crs or info.get("crs") or "")[:200],
                       source_file=source_name[:300],
                       created_by=actor or "")
    kind, repaired = [None], []
    count, vmax = 0, 0.0
    bounds = [math.inf, math.inf, -math.inf, -math.inf]
    kwargs = {"layer": layer} if layer else {}
    if encoding:
        kwargs["encoding"] = encoding
    with session.begin_nested():
        session.add(record)
        session.flush()
        start = 0
        while total < 0 or start < total:
            try:
                with warnings.catch_warnings():
                    # Mixed-type columns warn and stay text; _numeric names the bad value.
                    warnings.simplefilter("ignore")
                    frame = pyogrio.read_dataframe(source, columns=wanted,
                                                   skip_features=start, max_features=batch,
                                                   **kwargs)
            except Exception as exc:  # a corrupt file can fail half-way through
                raise uploads.unreadable(fmt, exc) from None
            if len(frame) == 0:
                break
            if read_crs:
                frame = frame.set_crs(read_crs, allow_override=True)
            try:
                frame = frame.to_crs(4326)
            except Exception as exc:  # pyproj refuses some CRS pairs
                raise Invalid("cannot convert to WGS-84", {"crs": [str(exc)[:200]]}) from None
            if offset_crs:
                frame["geometry"] = [chinacrs.transform_geometry(g, offset_crs)
                                     if g is not None else None for g in frame.geometry]
            values = (_numeric(frame[value_field], value_field, start, problems)
                      if value_field else np.ones(len(frame)))
            lik = (_class_1_to_5(frame[likelihood_field], likelihood_field, start, problems)
                   if likelihood_field else None)
            con = (_class_1_to_5(frame[consequence_field], consequence_field, start, problems)
                   if consequence_field else None)
            geoms = _geometries(frame, start, kind, repair, problems, repaired)
            if problems:
                shown = dict(list(problems.items())[:MAX_PROBLEMS])
                raise Invalid(f"{len(problems)} bad feature(s) or more; nothing imported",
                              shown)
            rows = [(record.id, float(v), None if lik is None else int(lik[i]),
                     None if con is None else int(con[i])) for i, v in enumerate(values)]
            insert_rows(session, "risk_layer_features",
                        ["layer_id", "value", "likelihood", "consequence"], rows, geoms)
            b = shapely.total_bounds(geoms)
            bounds = [min(bounds[0], b[0]), min(bounds[1], b[1]),
                      max(bounds[2], b[2]), max(bounds[3], b[3])]
            vmax = max(vmax, float(np.abs(values).max()))
            count += len(frame)
            start += len(frame)
            del frame, geoms, rows
            if progress:
                progress(count, max(total, count))
            if len(values) < batch:
                break
        if count == 0:
            raise Invalid("the file has no features", {"file": ["no features"]})
        record.geometry_kind = kind[0]
        record.feature_count = count
        record.value_max = vmax
        record.minx, record.miny, record.maxx, record.maxy = bounds
        session.flush()
    return record, repaired
