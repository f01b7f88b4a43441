"""The columnar bulk insert (spatial.bulk.insert_columns): values round-trip on both backends
(text needing COPY escapes, NULLs, one value for every row, numpy numbers and booleans),
batches join up, the spatial index finds every new row (on SpatiaLite with the boxes its own
triggers would make), and a failure leaves nothing."""

import numpy as np
import pytest
import shapely
from sqlalchemy import select, text

from emergency import spatial
from emergency.spatial import bulk
from registry.models import Organisation, RescueTeam

ORGS, T = Organisation.__table__, RescueTeam.__table__
NOW = "2026-01-01T00:00:00+00:00"


def _org(db):
    """One organisation for the teams to belong to."""
    bulk.insert_columns(db, "organisations", {
        "name": ["bulk-org"], "credit_code": ["BULK000000000001"], "contact_name": "x",
        "contact_phone_enc": "x", "contact_phone_masked": "138****0000", "address": "",
        "status": "approved", "review_note": "", "submitted_at": NOW, "created_at": NOW},
        1, lambda start, stop: shapely.points([[106.5, 29.5]] * (stop - start)),
        geom_column="location")
    return db.scalar(select(ORGS.c.id).where(ORGS.c.name == "bulk-org"))


@pytest.mark.parametrize("many", [10_000, 5])
def test_columns_round_trip_in_batches_and_are_indexed(db, monkeypatch, many):
    # many=5: on SpatiaLite the per-row index triggers are suspended and the rows indexed
    # batch by batch with one INSERT ... SELECT each; 10,000: the triggers index them.
    monkeypatch.setattr(bulk, "MANY", many)
    org = _org(db)
    n = 11
    rng = np.random.default_rng(3)
    xs, ys = rng.uniform(106.0, 107.0, n), rng.uniform(29.0, 30.0, n)
    names = [f"bulk-{i}\t\\a\nb" if i % 3 == 0 else f"bulk-{i}" for i in range(n)]
    radii = 1.5 + 0.25 * np.arange(n)  # exact in binary and in two decimals
    grades = [None if i % 2 else (i % 3) + 1 for i in range(n)]
    count = bulk.insert_columns(db, "teams", {
        "org_id": org, "name": names, "category": np.array(["water"] * n, dtype=object),
        "status": "available", "grade": grades,
        "service_radius_km": radii, "member_count": np.arange(n),
        "insured_members": np.zeros(n, dtype=np.int64), "created_at": NOW, "updated_at": NOW},
        n, lambda start, stop: shapely.points(xs[start:stop], ys[start:stop]),
        geom_column="location", batch=4)
    assert count == n
    rows = db.execute(select(T.c.name, T.c.grade, T.c.service_radius_km, T.c.member_count,
                             spatial.as_geojson(db, T.c.location).label("at"))
                      .where(T.c.org_id == org).order_by(T.c.id)).all()
    assert [r.name for r in rows] == names
    assert [r.grade for r in rows] == grades
    assert [float(r.service_radius_km) for r in rows] == radii.tolist()
    assert [r.member_count for r in rows] == list(range(n))
    box = (106.2, 29.2, 106.8, 29.8)
    inside = {names[i] for i in range(n)
              if box[0] <= xs[i] <= box[2] and box[1] <= ys[i] <= box[3]}
    found = db.scalars(select(T.c.name).where(
        T.c.org_id == org, spatial.bbox_filter(db, T, box, column="location"))).all()
    assert set(found) == inside and inside


def test_bulk_index_boxes_are_those_the_triggers_make(db, backend, monkeypatch):
    """The R*Tree boxes of a bulk insert (triggers suspended, boxes filled batch by batch)
    are exactly those SpatiaLite's own insert trigger makes for the same points (rounded
    outward to float32 by SQLite)."""
    if backend != "spatialite":
        pytest.skip("the R*Tree and its triggers are SpatiaLite's")
    org = _org(db)
    rng = np.random.default_rng(7)
    n = 23
    xs, ys = rng.uniform(-180, 180, n), rng.uniform(-90, 90, n)
    boxes = {}
    for label, many in (("trigger", 10_000), ("bulk", 5)):
        monkeypatch.setattr(bulk, "MANY", many)
        bulk.insert_columns(db, "teams", {
            "org_id": org, "name": [f"{label}-{i}" for i in range(n)], "category": "water",
            "status": "available", "service_radius_km": np.ones(n), "created_at": NOW,
            "updated_at": NOW}, n,
            lambda start, stop: shapely.points(xs[start:stop], ys[start:stop]),
            geom_column="location", batch=5)
        boxes[label] = db.execute(text(
            'SELECT i.xmin, i.xmax, i.ymin, i.ymax FROM teams t JOIN "idx_teams_location" i '
            "ON i.pkid = t.id WHERE t.name LIKE :p ORDER BY t.id"), {"p": f"{label}-%"}).all()
    assert len(boxes["bulk"]) == n
    assert boxes["bulk"] == boxes["trigger"]
    for (xmin, xmax, ymin, ymax), x, y in zip(boxes["bulk"], xs, ys, strict=True):
        assert xmin <= x <= xmax and ymin <= y <= ymax


def test_a_bad_row_leaves_nothing(db):
    org = _org(db)
    savepoint = db.begin_nested()
    with pytest.raises(Exception):  # noqa: B017 (either driver's integrity error)
        bulk.insert_columns(db, "teams", {
            "org_id": org, "name": ["ok", None], "category": "water", "status": "available",
            "service_radius_km": np.array([1.0, 2.0]), "created_at": NOW, "updated_at": NOW},
            2, lambda start, stop: shapely.points([[106.5, 29.5]] * (stop - start)),
            geom_column="location")
    savepoint.rollback()
    assert db.scalars(select(T.c.name).where(T.c.org_id == org)).all() == []
