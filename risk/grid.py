"""The analysis grid: square cells in a metric CRS, covering an area and clipped to it.

Pure computation (shapely, numpy, pyproj); no database, no Flask.
"""

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import Transformer

# Cells per side of the tiles used to find the cells on the boundary (see _cells).
TILE = 16


def utm_epsg(lon, lat):
    """EPSG code of the WGS-84 UTM zone holding a lon/lat (north: 326zz, south: 327zz)."""
    zone = min(int((lon + 180) // 6) + 1, 60)
    return (32600 if lat >= 0 else 32700) + zone


def to_metric(geoms, epsg):
    """WGS-84 geometries (array) to the metric CRS."""
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))


def to_wgs84(geoms, epsg):
    """Metric geometries (array) back to WGS-84."""
    inv = Transformer.from_crs(epsg, 4326, always_xy=True)
    return shapely.transform(geoms, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1])))


def xy_to_metric(lon, lat, epsg):
    """Arrays of lon/lat to metric x/y."""
    fwd = Transformer.from_crs(4326, epsg, always_xy=True)
    return fwd.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))


@dataclass
class AnalysisGrid:
    """Cells of one run: geometry and index arrays, all in the metric CRS."""

    epsg: int
    size: float
    x0: float
    y0: float
    ncols: int
    nrows: int
    row: np.ndarray
    col: np.ndarray
    geoms: np.ndarray
    full: np.ndarray
    area_m2: np.ndarray
    lookup: np.ndarray

    def __len__(self):
        """Number of cells."""
        return len(self.geoms)

    def cell_of_xy(self, x, y):
        """Index of the cell whose (unclipped) square holds each metric point, or -1."""
        c = np.floor((np.asarray(x) - self.x0) / self.size).astype(np.int64)
        r = np.floor((np.asarray(y) - self.y0) / self.size).astype(np.int64)
        ok = (c >= 0) & (c < self.ncols) & (r >= 0) & (r < self.nrows)
        out = np.full(len(c), -1, dtype=np.int64)
        out[ok] = self.lookup[r[ok], c[ok]]
        return out

    def representative_points(self):
        """A point inside every cell: the centre of whole squares, a surface point otherwise."""
        cx = self.x0 + (self.col + 0.5) * self.size
        cy = self.y0 + (self.row + 0.5) * self.size
        points = shapely.points(cx, cy)
        partial = ~self.full
        if partial.any():
            points[partial] = shapely.point_on_surface(self.geoms[partial])
        return points


def _polygonal(geom):
    """The polygonal part of a clipping result as a MultiPolygon (or None when empty)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "MultiPolygon":
        return geom
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys = []
    for part in parts:
        polys.extend(getattr(part, "geoms", [part]))
    return shapely.MultiPolygon(polys) if polys else None


def _boxes(rows, cols, size, x0, y0):
    """Square cells (metric) of the given rows and columns."""
    return shapely.box(x0 + cols * size, y0 + rows * size, x0 + (cols + 1) * size,
                       y0 + (rows + 1) * size)


def _cells(area, size, x0, y0, nrows, ncols, tile=TILE):
    """Rows, columns, clipped geometries and "whole square" flags of the cells meeting area.

    Two levels, because testing and clipping every square against a large boundary is the
    cost: tiles of ``tile`` x ``tile`` cells wholly inside the area give whole squares with
    no test; only the tiles on the boundary are clipped to the area (one intersection each),
    and their cells are tested and clipped against that small piece.
    """
    trows, tcols = -(-nrows // tile), -(-ncols // tile)
    tr, tc = np.divmod(np.arange(trows * tcols, dtype=np.int64), tcols)
    tiles = _boxes(tr, tc, size * tile, x0, y0)
    shapely.prepare(area)
    inside = shapely.contains(area, tiles)
    edge = np.flatnonzero(shapely.intersects(area, tiles) & ~inside)
    offs_r, offs_c = np.divmod(np.arange(tile * tile, dtype=np.int64), tile)
    parts = []
    for sel, whole in ((np.flatnonzero(inside), True), (edge, False)):
        r = (tr[sel][:, None] * tile + offs_r[None, :]).ravel()
        c = (tc[sel][:, None] * tile + offs_c[None, :]).ravel()
        owner = np.repeat(sel, tile * tile)
        ok = (r < nrows) & (c < ncols)
        parts.append((r[ok], c[ok], owner[ok], whole))
    r_in, c_in, _o, _w = parts[0]
    geoms_in = _boxes(r_in, c_in, size, x0, y0)
    r_e, c_e, owner, _w = parts[1]
    pieces = np.empty(trows * tcols, dtype=object)
    pieces[edge] = shapely.intersection(tiles[edge], area)
    piece = pieces[owner]
    shapely.prepare(piece)
    boxes = _boxes(r_e, c_e, size, x0, y0)
    hit = shapely.intersects(piece, boxes)
    r_e, c_e, boxes, piece = r_e[hit], c_e[hit], boxes[hit], piece[hit]
    whole = shapely.contains(piece, boxes)
    geoms_e = boxes.copy()
    cut = np.flatnonzero(~whole)
    if len(cut):
        geoms_e[cut] = [_polygonal(g) for g in shapely.intersection(boxes[cut], piece[cut])]
    order = np.lexsort((np.concatenate([c_in, c_e]), np.concatenate([r_in, r_e])))
    return (np.concatenate([r_in, r_e])[order], np.concatenate([c_in, c_e])[order],
            np.concatenate([geoms_in, geoms_e])[order],
            np.concatenate([np.ones(len(r_in), bool), whole])[order])


def build_grid(area_wgs84, size_m, epsg=None):
    """Square cells of ``size_m`` over the area, clipped to its boundary (metric CRS).

    The grid is anchored at multiples of ``size_m`` in the UTM zone of the area's centre, so
    two runs over the same area and cell size share cells (used to compare runs).
    """
    if epsg is None:
        centre = area_wgs84.centroid
        epsg = utm_epsg(centre.x, centre.y)
    area = to_metric(np.array([area_wgs84]), epsg)[0]
    area = shapely.make_valid(area)
    minx, miny, maxx, maxy = area.bounds
    size = float(size_m)
    # A tolerance of 1e-9 cells keeps round-trip noise on an aligned edge from adding a
    # row or column of slivers.
    eps = 1e-9
    x0, y0 = np.floor(minx / size + eps) * size, np.floor(miny / size + eps) * size
    ncols = max(int(np.ceil((maxx - x0) / size - eps)), 1)
    nrows = max(int(np.ceil((maxy - y0) / size - eps)), 1)
    rows, cols, geoms, full = _cells(area, size, x0, y0, nrows, ncols)
    keep = np.array([g is not None for g in geoms]) & (shapely.area(geoms) > 0)
    rows, cols, geoms, full = rows[keep], cols[keep], geoms[keep], full[keep]
    lookup = np.full((nrows, ncols), -1, dtype=np.int64)
    lookup[rows, cols] = np.arange(len(rows))
    return AnalysisGrid(epsg=epsg, size=size, x0=float(x0), y0=float(y0), ncols=ncols,
                        nrows=nrows, row=rows, col=cols, geoms=geoms, full=full,
                        area_m2=shapely.area(geoms), lookup=lookup)


def cells_wgs84(grid, start=0, stop=None):
    """The cells (``start:stop``, all by default) as WGS-84 MultiPolygons (for storage)."""
    out = to_wgs84(grid.geoms[start:stop], grid.epsg)
    single = shapely.get_type_id(out) == 3
    if single.any():
        out[single] = shapely.multipolygons(out[single], indices=np.arange(single.sum()))
    return out
