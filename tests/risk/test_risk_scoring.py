"""The pure risk scoring: grid geometry and the monotonic properties the model promises."""

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from risk import grid as gridlib
from risk import scoring
from tests.risk.risk_factories import X0, Y0, lonlat, rect


def test_cells_cover_the_area_exactly_and_are_clipped():
    area = shapely.Polygon([lonlat(X0 + 1000 * np.cos(a) * 3.3, Y0 + 1000 * np.sin(a) * 2.1)
                            for a in np.linspace(0, 2 * np.pi, 60)[:-1]])
    grid = gridlib.build_grid(area, 500)
    metric = gridlib.to_metric(np.array([area]), grid.epsg)[0]
    assert grid.epsg == 32648
    assert grid.area_m2.sum() == pytest.approx(metric.area, rel=1e-9)
    assert (grid.area_m2 <= 500 * 500 + 1e-6).all()
    assert (~grid.full).any() and grid.full.any()
    union = shapely.union_all(grid.geoms)
    assert union.symmetric_difference(metric).area < 1e-6 * metric.area
    cells = gridlib.cells_wgs84(grid)
    assert set(shapely.get_type_id(cells)) == {6}


def test_matrix_bands_by_default():
    scores = np.array([0, 1, 3, 4, 9, 10, 16, 20, 25])
    levels = scoring.matrix_levels(scores, scoring.DEFAULTS["bands"])
    assert levels.tolist() == [4, 4, 4, 3, 3, 2, 2, 1, 1]
    custom = scoring.matrix_levels(scores, {"red": 15, "orange": 8, "yellow": 3})
    assert custom.tolist() == [4, 4, 3, 3, 2, 2, 1, 1, 1]


AREA = rect(0, 0, 3000, 2000)
GRID = gridlib.build_grid(AREA, 500)
PARAMS = scoring.merge_params({})

coord = st.floats(min_value=-200, max_value=3200, allow_nan=False)
value = st.floats(min_value=0, max_value=10, allow_nan=False)
polygon_spec = st.tuples(coord, coord, st.floats(50, 1500), st.floats(50, 1500), value)
point_spec = st.tuples(coord, coord, value)
team_spec = st.tuples(coord, coord, st.floats(0.1, 3), st.sampled_from([None, 1, 2, 3]))


def _polygons(specs):
    """A hazard polygon layer from (x, y, w, h, value) specs (UTM offsets)."""
    geoms = np.array([rect(x, y, x + w, y + h) for x, y, w, h, _v in specs], dtype=object)
    return scoring.LayerInput(role="hazard", kind="polygon", geoms=geoms,
                              values=np.array([s[4] for s in specs]), weight=2.0, scale=10.0)


def _points(specs, role="hazard"):
    """A point layer from (x, y, value) specs."""
    geoms = np.array([shapely.Point(lonlat(X0 + x, Y0 + y)) for x, y, _v in specs],
                     dtype=object)
    return scoring.LayerInput(role=role, kind="point", geoms=geoms,
                              values=np.array([s[2] for s in specs], dtype=float),
                              weight=1.0, scale=10.0)


def _teams(specs):
    """Team dicts from (x, y, radius_km, grade) specs."""
    out = []
    for i, (x, y, radius, grade) in enumerate(specs):
        lon, lat = lonlat(X0 + x, Y0 + y)
        out.append({"id": i, "lon": lon, "lat": lat, "service_radius_km": radius,
                    "grade": grade, "category": "mountain"})
    return out


def _run(polys, points, people, teams):
    """Assess the fixed grid."""
    layers = [_polygons(polys), _points(points), _points(people, "exposure")]
    return scoring.assess(GRID, layers, _teams(teams), PARAMS)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(polys=st.lists(polygon_spec, min_size=1, max_size=5),
       points=st.lists(point_spec, min_size=1, max_size=8),
       people=st.lists(point_spec, min_size=1, max_size=5),
       teams=st.lists(team_spec, max_size=3),
       extra_poly=polygon_spec, extra_point=point_spec, bump=st.floats(0, 5))
def test_more_hazard_never_lowers_risk(polys, points, people, teams, extra_poly, extra_point,
                                       bump):
    before = _run(polys, points, people, teams)
    raised = [(x, y, w, h, min(v + bump, 10)) for x, y, w, h, v in polys]
    after = _run([*raised, extra_poly], [*points, extra_point], people, teams)
    assert (after.hazard >= before.hazard - 1e-12).all()
    assert (after.risk >= before.risk - 1e-12).all()
    assert (after.level <= before.level).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(polys=st.lists(polygon_spec, min_size=1, max_size=5),
       points=st.lists(point_spec, max_size=8),
       people=st.lists(point_spec, max_size=5),
       teams=st.lists(team_spec, max_size=3), extra_team=team_spec)
def test_an_added_team_never_raises_risk(polys, points, people, teams, extra_team):
    before = _run(polys, points, people, teams)
    after = _run(polys, points, people, [*teams, extra_team])
    assert (after.capacity >= before.capacity - 1e-12).all()
    assert (after.risk <= before.risk + 1e-12).all()
    assert (after.level >= before.level).all()
    assert (after.gap <= before.gap).all()


def test_a_covering_team_closes_a_gap():
    polys = [(0, 0, 3000, 2000, 10)]
    alone = _run(polys, [(100, 100, 10)], [(100, 100, 10)], [])
    assert alone.gap.tolist() == (alone.level <= 2).tolist() and alone.gap.sum() == 1
    covered = _run(polys, [(100, 100, 10)], [(100, 100, 10)], [(1500, 1000, 5, 1)])
    assert not covered.gap.any() and (covered.teams == 1).all()
    assert (covered.risk < alone.risk).all()
