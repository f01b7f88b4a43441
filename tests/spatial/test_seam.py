"""The spatial seam: index-backed filters that agree with plain geometry on both backends."""

import random

import shapely
from shapely.geometry import box
from sqlalchemy import select

from emergency import spatial
from emergency.geo import service
from emergency.geo.models import Grid


def _grid_of_squares(db, place, n=6):
    """n×n small grids in the test community; returns {code: shapely polygon}."""
    shapes = {}
    for i in range(n):
        for j in range(n):
            poly = box(106.5 + i * 0.01, 29.5 + j * 0.01, 106.5 + (i + 1) * 0.01,
                       29.5 + (j + 1) * 0.01)
            code = f"sq-{i}-{j}"
            service.create_grid(db, code, code, place["community"], poly)
            shapes[code] = poly
    db.flush()
    return shapes


def test_bbox_filter_matches_shapely(db, place):
    shapes = _grid_of_squares(db, place)
    table = Grid.__table__
    rng = random.Random(7)
    for _ in range(25):
        x0, y0 = rng.uniform(106.49, 106.56), rng.uniform(29.49, 29.56)
        bbox = (x0, y0, x0 + rng.uniform(0.0001, 0.03), y0 + rng.uniform(0.0001, 0.03))
        found = set(db.scalars(select(table.c.code).where(
            table.c.code.like("sq-%"), spatial.bbox_filter(db, table, bbox))))
        expected = {c for c, p in shapes.items() if p.intersects(box(*bbox))}
        assert found == expected, bbox


def test_point_filter_matches_shapely(db, place):
    shapes = _grid_of_squares(db, place, 3)
    rng = random.Random(11)
    for _ in range(25):
        lon, lat = rng.uniform(106.499, 106.531), rng.uniform(29.499, 29.531)
        found = service.grid_at(db, lon, lat)
        expected = sorted(c for c, p in shapes.items() if p.covers(shapely.Point(lon, lat)))
        if expected:
            assert found in expected + place["grids"], (lon, lat)
        else:
            assert found is None or not found.startswith("sq-"), (lon, lat)


def test_spatialite_filters_go_through_the_spatial_index(db, backend, place):
    table = Grid.__table__
    query = select(table.c.code).where(spatial.bbox_filter(db, table, (106, 29, 107, 30)))
    compiled = query.compile(db.get_bind())
    sql = str(compiled)
    if backend == "spatialite":
        assert "SpatialIndex" in sql
        params = tuple(compiled.params[k] for k in compiled.positiontup)
        plan = " ".join(str(r) for r in db.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + sql, params))
        assert "VIRTUAL TABLE INDEX" in plan and "SpatialIndex" in plan
    else:
        assert "&&" in sql
