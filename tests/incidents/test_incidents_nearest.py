"""The nearest-neighbour seam and the recommendation order against brute force."""

from datetime import date, timedelta

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import Point
from sqlalchemy import text

from emergency.spatial import bulk
from emergency.spatial import nearest as nn
from registry.models import RescueTeam

N = 400


def _teams(db, cipher):
    """N teams (half mountain) at random points over ~4° around Chongqing, all insured."""
    from emergency.auth import service as auth
    from registry import service
    from tests.factories import credit_code

    admin = auth.create_user(db, "nnadmin", "admin", "correct horse battery")
    org = service.register_org(db, cipher, admin, "测试队", credit_code(99), "张三",
                               "13812345678", Point(106.5, 29.5))
    db.flush()
    service.review_org(db, admin, org.id, "approve")
    db.flush()
    rng = np.random.default_rng(3)
    xs, ys = rng.uniform(105.0, 109.0, N), rng.uniform(28.0, 32.0, N)
    now = "2026-01-01T00:00:00+00:00"
    bulk.insert_rows(db, "teams", ["org_id", "name", "category", "status",
                                   "service_radius_km", "created_at", "updated_at"],
                     [(org.id, f"t{i}", "mountain" if i % 2 else "water", "available", 1000,
                       now, now) for i in range(N)], shapely.points(xs, ys),
                     geom_column="location")
    # Ids from the database: PostgreSQL sequences do not roll back with earlier tests.
    by_name = dict(db.execute(text("SELECT name, id FROM teams WHERE org_id = :o"),
                              {"o": org.id}).all())
    ids = [by_name[f"t{i}"] for i in range(N)]
    conn = db.connection()
    for tid in ids:
        member = conn.execute(text(
            "INSERT INTO members (team_id, name, id_number_enc, id_number_masked, phone_enc, "
            "phone_masked, person_hash, skills, created_at) VALUES (:t, 'm', 'x', 'x', 'x', "
            "'x', :h, '[]', :n) RETURNING id"), {"t": tid, "h": f"h{tid}", "n": now}).scalar()
        conn.execute(text(
            "INSERT INTO insurance_policies (member_id, insurer, policy_number, starts_on, "
            "ends_on, coverage_amount, created_at) VALUES (:m, 'x', 'p', :s, :e, 1, :n)"),
            {"m": member, "s": date.today() - timedelta(days=1),
             "e": date.today() + timedelta(days=9), "n": now})
    return dict(zip(ids, zip(xs, ys, strict=True), strict=True))


def test_seam_and_recommendations_match_brute_force(app, db):
    from registry.crypto import cipher_for
    from tests.conftest import DATA_KEY

    with app.app_context():
        points = _teams(db, cipher_for(DATA_KEY))
    from incidents import service

    t = RescueTeam.__table__
    geod = Geod(ellps="WGS84")
    for lon, lat in [(106.5, 29.5), (108.7, 31.8), (105.1, 28.1), (107.0, 30.0)]:
        by_deg = sorted(points, key=lambda i: (points[i][0] - lon) ** 2 +
                        (points[i][1] - lat) ** 2)
        for offset in (0, 10):
            rows = nn.nearest(db, t, lon, lat, [t.c.id], 10, offset)
            assert [r.id for r in rows] == by_deg[offset:offset + 10]
        result = service.recommend_teams(db, lon, lat, "mountain", 8, radius_km=5000)
        got = [r["team_id"] for r in result["items"]]
        exact = {i: geod.inv(lon, lat, *points[i])[2] / 1000 for i in _mountain_ids(points)}
        assert got == sorted(exact, key=exact.get)[:8]
        for r in result["items"]:
            assert abs(r["distance_km"] - exact[r["team_id"]]) <= exact[r["team_id"]] * 0.01


def _mountain_ids(points):
    """Ids of the mountain teams (odd positions in insertion order)."""
    ordered = sorted(points)
    return {tid for pos, tid in enumerate(ordered) if pos % 2}
