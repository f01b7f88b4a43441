"""The team readiness summary (migration 0008): kept by triggers, read only where it holds."""

from datetime import date, timedelta

from shapely.geometry import Point
from sqlalchemy import select, text

from registry.models import RescueTeam
from tests.factories import credit_code, id_number


def _arrange(db):
    """An approved organisation, a team with three members (current, future and expired
    insurance) and a second, fully insured team a little farther away."""
    from emergency.auth import service as auth
    from registry import members, service, teams
    from registry.crypto import cipher_for
    from tests.conftest import DATA_KEY

    cipher = cipher_for(DATA_KEY)
    admin = auth.create_user(db, "rdadmin", "admin", "correct horse battery")
    org = service.register_org(db, cipher, admin, "测试救援队", credit_code(41), "张三",
                               "13812345678", Point(106.5, 29.5))
    db.flush()
    service.review_org(db, admin, org.id, "approve")
    team = teams.create_team(db, admin, org.id, "山地一队", "mountain", Point(106.50, 29.50),
                               100)
    other = teams.create_team(db, admin, org.id, "山地二队", "mountain", Point(106.60, 29.50),
                                100)
    db.flush()
    # The triggers count with the database's date; expectations follow it.
    day = db.execute(text("SELECT CURRENT_DATE")).scalar()
    day = day if isinstance(day, date) else date.fromisoformat(day)
    spans = [(-10, 20), (5, 100), (-100, -3)]
    ids = []
    for n, (start, end) in enumerate(spans):
        member = members.add_member(db, cipher, admin, team.id, f"队员{n}", id_number(50 + n),
                                    f"1390000005{n}")
        members.add_insurance(db, admin, member.id, "人保", f"P{n}",
                              day + timedelta(days=start), day + timedelta(days=end),
                              "100000.00")
        ids.append(member.id)
    helper = members.add_member(db, cipher, admin, other.id, "队员9", id_number(59),
                                "13900000059")
    members.add_insurance(db, admin, helper.id, "人保", "P9", day - timedelta(days=400),
                          day + timedelta(days=400), "100000.00")
    db.flush()
    return admin, team.id, other.id, ids, day


def _summary(db, team_id):
    t = RescueTeam.__table__
    return db.execute(select(t.c.member_count, t.c.insured_members, t.c.insured_from,
                             t.c.insured_until).where(t.c.id == team_id)).one()


def test_triggers_keep_counts_and_the_span_they_hold_for(app, db):
    from registry import members

    with app.app_context():
        admin, team_id, _, ids, day = _arrange(db)
        # Insured today: only the current policy; the count holds from the day after the
        # expired policy ended until the day before the future one starts.
        assert tuple(_summary(db, team_id)) == (3, 1, day - timedelta(days=2),
                                                day + timedelta(days=4))
        members.remove_member(db, admin, ids[0])
        db.flush()
        assert tuple(_summary(db, team_id)) == (2, 0, day - timedelta(days=2),
                                                day + timedelta(days=4))
        db.execute(text("UPDATE insurance_policies SET starts_on = :d WHERE member_id = :m"),
                   {"d": day - timedelta(days=1), "m": ids[1]})
        assert tuple(_summary(db, team_id))[:2] == (2, 1)
        # Any writer is seen, not only the registry's functions (bulk loads, restores).
        db.execute(text("DELETE FROM insurance_policies WHERE member_id = :m"), {"m": ids[2]})
        db.execute(text("DELETE FROM members WHERE id = :m"), {"m": ids[2]})
        assert tuple(_summary(db, team_id)) == (1, 1, day - timedelta(days=1),
                                                day + timedelta(days=100))


def test_recommendations_count_live_outside_the_span(app, db):
    """On any day the insured count equals the live count, inside the span or not."""
    from incidents import service
    from registry.service import team_readiness

    with app.app_context():
        _, team_id, _, _, day = _arrange(db)
        for offset in (-120, -50, -4, -2, 0, 3, 4, 5, 6, 19, 20, 21, 99, 100, 101, 400):
            today = day + timedelta(days=offset)
            live = team_readiness(db, [team_id], today)[team_id]
            result = service.recommend_teams(db, 106.5, 29.5, "mountain", 5, today=today)
            rows = {r["team_id"]: r for r in result["items"] + result["excluded"]}
            assert rows[team_id]["members"] == live["members"] == 3
            assert rows[team_id]["insured_members"] == live["insured_members"], offset
            if live["insured_members"]:
                assert team_id in {r["team_id"] for r in result["items"]}
            else:
                assert rows[team_id]["reason"] == "uninsured"


def test_recommendations_are_exactly_what_the_schema_dumps(app, db):
    """The API sends the service's dict without marshmallow: it must equal the dump."""
    from incidents import schemas, service

    with app.app_context():
        _, team_id, other_id, _, day = _arrange(db)
        result = service.recommend_teams(db, 106.5, 29.5, "mountain", 5,
                                         today=day + timedelta(days=200))
        assert [r["team_id"] for r in result["items"]] == [other_id]
        assert [r["team_id"] for r in result["excluded"]] == [team_id]
        body = {"incident_id": 1, "category": "mountain", "limit": 5, "radius_km": None,
                **result}
        assert schemas.RecommendationsOut().dump(body) == body
        for record in result["items"] + result["excluded"]:
            assert type(record["distance_km"]) is float
            assert type(record["service_radius_km"]) is float
            assert type(record["members"]) is int and type(record["insured_members"]) is int


def test_refresh_readiness_recentres_only_lapsed_spans(app, db, runner):
    """A span that no longer holds today is recomputed by the daily refresh; others stay."""
    from registry import service

    with app.app_context():
        _, team_id, other_id, _, day = _arrange(db)
        held = tuple(_summary(db, other_id))
        # As if the span ended yesterday and its count went stale meanwhile.
        db.execute(text("UPDATE teams SET insured_members = 7, insured_until = :d "
                        "WHERE id = :t"), {"d": day - timedelta(days=1), "t": team_id})
        assert service.refresh_readiness(db) == 1
        assert tuple(_summary(db, team_id)) == (3, 1, day - timedelta(days=2),
                                                day + timedelta(days=4))
        assert tuple(_summary(db, other_id)) == held
        assert service.refresh_readiness(db) == 0
        db.execute(text("UPDATE teams SET insured_members = 5 WHERE id = :t"),
                   {"t": other_id})
        result = runner.invoke(args=["registry", "refresh-readiness", "--all"])
        assert result.exit_code == 0, result.output
        assert "refreshed the readiness of 2 team(s)" in result.output
        assert tuple(_summary(db, other_id)) == held
