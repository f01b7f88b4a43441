"""Extents of a set of rows: the bounding box of their geometries (and the span of a time
column) in one aggregate, as each backend computes it best."""

from sqlalchemy import func, select

from emergency.spatial.engine import backend_name


def _bbox_columns(bind, column):
    """Aggregate expressions of (minx, miny, maxx, maxy) of a geometry column."""
    if backend_name(bind) == "spatialite":
        # Read from each blob's MBR header; no geometry is parsed.
        return [func.min(func.MbrMinX(column)), func.min(func.MbrMinY(column)),
                func.max(func.MbrMaxX(column)), func.max(func.MbrMaxY(column))]
    box = func.ST_Extent(column)
    return [func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box)]


def extent(bind, column, where=(), time_columns=()):
    """``{"bbox": [minx, miny, maxx, maxy] | None, "interval": [first, last] | None}`` of the
    rows matching ``where``: the box of ``column`` and the earliest and latest value over
    ``time_columns`` (a single column, or a start and an end column)."""
    times = []
    if time_columns:
        times = [func.min(time_columns[0]), func.max(time_columns[-1])]
    row = bind.execute(select(*_bbox_columns(bind, column), *times).where(*where)).one()
    box = [float(v) for v in row[:4]] if row[0] is not None else None
    interval = [row[4], row[5]] if time_columns and row[4] is not None else None
    return {"bbox": box, "interval": interval}
