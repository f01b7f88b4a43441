"""The candidates iterator of the seam (nearest.NearestSearch) against brute force."""

import numpy as np
import shapely
from pyproj import Geod
from sqlalchemy import literal, select

from emergency.spatial import bulk
from emergency.spatial.nearest import NearestSearch
from registry.models import Organisation

N = 300
GEOD = Geod(ellps="WGS84")
T = Organisation.__table__
# Only this test's rows (the shared database may hold others).
OURS = T.c.name.like("nn-%")


def _places(db):
    """N organisations at random points over ~4° around Chongqing: {name: (lon, lat)}."""
    rng = np.random.default_rng(17)
    xs, ys = rng.uniform(105.0, 109.0, N), rng.uniform(28.0, 32.0, N)
    now = "2026-01-01T00:00:00+00:00"
    bulk.insert_rows(db, "organisations",
                     ["name", "credit_code", "contact_name", "contact_phone_enc",
                      "contact_phone_masked", "address", "status", "review_note",
                      "submitted_at", "created_at"],
                     [(f"nn-{i}", f"NN{i:016d}", "x", "x", "138****0000", "", "approved", "",
                       now, now) for i in range(N)],
                     shapely.points(xs, ys), geom_column="location")
    return {f"nn-{i}": (float(x), float(y)) for i, (x, y) in enumerate(zip(xs, ys, strict=True))}


def _by_metres(places, lon, lat):
    """{name: geodesic metres from lon/lat}."""
    return {name: GEOD.inv(lon, lat, x, y)[2] for name, (x, y) in places.items()}


def test_candidates_come_nearest_first_and_only_within_reach(db):
    places = _places(db)
    search = NearestSearch(T, [T.c.name], [OURS])
    for lon, lat in [(106.5, 29.5), (108.9, 31.9), (105.2, 28.1), (107.0, 30.0)]:
        exact = _by_metres(places, lon, lat)
        for within_km in (40, 150, None):
            got = list(search(db, lon, lat, within_km=within_km, key="all", expect=5))
            wanted = sorted((n for n, m in exact.items()
                             if within_km is None or m <= within_km * 1000), key=exact.get)
            assert [row[0] for _m, row in got] == wanted, (lon, lat, within_km)
            for metres, row in got:
                assert abs(metres - exact[row[0]]) < 0.01


def test_the_reach_statement_bounds_every_search(db):
    places = _places(db)
    search = NearestSearch(T, [T.c.name], [OURS], reach=select(literal(25.0)))
    exact = _by_metres(places, 107.0, 30.0)
    for within_km in (None, 100):
        got = [row[0] for _m, row in search(db, 107.0, 30.0, within_km=within_km)]
        assert got == sorted((n for n, m in exact.items() if m <= 25_000), key=exact.get)
    nearer = [row[0] for _m, row in search(db, 107.0, 30.0, within_km=10)]
    assert nearer == sorted((n for n, m in exact.items() if m <= 10_000), key=exact.get)


def _take(search, db, count, stats):
    """The names of the first ``count`` candidates near one point; the caller stops there."""
    taken = []
    for _metres, row in search(db, 106.6, 29.6, key="k", expect=5, stats=stats):
        taken.append(row[0])
        if len(taken) == count:
            break
    return taken


def test_a_search_learns_how_many_rows_its_callers_take(db):
    _places(db)
    search = NearestSearch(T, [T.c.name], [OURS], make_row=tuple)
    first, again, afresh = {}, {}, {}
    taken = _take(search, db, 40, first)
    # The first search started small (the caller said it expects 5) and read on.
    assert first["batches"] > 1 and first["rows"] < N
    assert _take(search, db, 40, again) == taken
    assert again["batches"] == 1  # it read as many rows as the last caller took at once
    search.forget()
    assert _take(search, db, 40, afresh) == taken and afresh["batches"] > 1
