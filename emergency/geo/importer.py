"""Import areas and grids from GeoJSON, GeoPackage or zipped Shapefile (via pyogrio)."""

import os

import pyogrio
import shapely
from shapely.validation import explain_validity

from emergency import uploads
from emergency.errors import Invalid
from emergency.geo import chinacrs, service

SUPPORTED = tuple(uploads.GEO_FORMATS)


def read_features(path, layer=None, crs=None, encoding=None):
    """Read a vector file into a GeoDataFrame in WGS-84; ``crs`` overrides or fills the file's.

    ``crs`` may be an EPSG code/WKT understood by pyproj, or ``gcj02`` / ``bd09`` for data
    published in those Chinese offset systems (their coordinates are lon/lat).
    """
    kwargs = {"layer": layer} if layer else {}
    if encoding:
        kwargs["encoding"] = encoding
    # Only as its declared format, checked first; GDAL's words (paths, content) stay in the log.
    with uploads.geodata(path) as source:
        try:
            frame = pyogrio.read_dataframe(source, **kwargs)
        except Exception as exc:  # pyogrio raises many GDAL error types
            raise uploads.unreadable(
                uploads.GEO_FORMATS[os.path.splitext(str(path))[1].lower()], exc) from None
    offset = None
    if crs in ("gcj02", "bd09", "wgs84"):
        offset, crs = (None if crs == "wgs84" else crs), "EPSG:4326"
    if crs:
        frame = frame.set_crs(crs, allow_override=True)
    if frame.crs is None:
        raise Invalid("the file has no CRS; give one", {"crs": ["required for this file"]})
    frame = frame.to_crs(4326)
    if offset:
        frame["geometry"] = [chinacrs.transform_geometry(g, offset) if g is not None else None
                             for g in frame.geometry]
    return frame


def _check_fields(frame, needed):
    """Raise when a mapped field is missing from the file."""
    missing = [f for f in needed if f and f not in frame.columns]
    if missing:
        raise Invalid("missing fields: " + ", ".join(missing),
                      {"fields": [f"no field {f!r}; the file has {list(frame.columns)}"
                                  for f in missing]})


def _geometries(frame):
    """Valid (multi)polygons of every row, or Invalid listing each bad feature."""
    problems = {}
    geoms = []
    for i, geom in enumerate(frame.geometry):
        if geom is None or geom.is_empty:
            problems[f"feature {i}"] = ["empty geometry"]
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems[f"feature {i}"] = [f"{geom.geom_type} is not a polygon"]
        elif not geom.is_valid:
            problems[f"feature {i}"] = [f"invalid geometry: {explain_validity(geom)}"]
        else:
            geoms.append(shapely.force_2d(geom))
    if problems:
        raise Invalid(f"{len(problems)} bad feature(s); nothing imported", problems)
    return geoms


def _text(value):
    """A field value as text ('' for missing; integral floats without '.0')."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def import_areas(session, path, level, code_field="code", name_field="name",
                 parent_field=None, parent_code=None, name_en_field=None, layer=None,
                 crs=None, encoding=None, progress=None):
    """Create or update one area per feature; all or nothing (the caller owns the commit)."""
    frame = read_features(path, layer, crs, encoding)
    _check_fields(frame, [code_field, name_field, parent_field, name_en_field])
    geoms = _geometries(frame)
    # Parents first, so a file holding several levels can reference its own rows.
    order = sorted(range(len(frame)), key=lambda i: len(_text(frame[code_field].iloc[i])))
    for n, i in enumerate(order):
        row = frame.iloc[i]
        try:
            service.upsert_area(
                session, _text(row[code_field]), _text(row[name_field]), level, geoms[i],
                _text(row[parent_field]) if parent_field else parent_code,
                _text(row[name_en_field]) if name_en_field else "")
        except Invalid as exc:
            raise Invalid(f"feature {i}: {exc.message}", {f"feature {i}": exc.details}) from None
        if progress:
            progress(n + 1, len(frame))
    return len(frame)


def import_grids(session, path, code_field="code", name_field="name", area_field="area_code",
                 layer=None, crs=None, encoding=None, progress=None):
    """Create or update one management grid per feature; all or nothing."""
    frame = read_features(path, layer, crs, encoding)
    _check_fields(frame, [code_field, name_field, area_field])
    geoms = _geometries(frame)
    for i in range(len(frame)):
        row = frame.iloc[i]
        try:
            service.upsert_grid(session, _text(row[code_field]), _text(row[name_field]),
                                _text(row[area_field]), geoms[i])
        except Invalid as exc:
            raise Invalid(f"feature {i}: {exc.message}", {f"feature {i}": exc.details}) from None
        if progress:
            progress(i + 1, len(frame))
    return len(frame)
