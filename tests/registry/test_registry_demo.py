"""The registry demo step, on the small test area tree."""

from sqlalchemy import func, select

from emergency.auth import service as auth_service
from registry import validators as v
from registry.demo import load_registry
from registry.models import InsurancePolicy, Organisation, RescueTeam, TeamMember
from registry.service import capacity_teams, team_readiness


def test_demo_step_is_idempotent_and_valid(db, ctx, place):
    user = auth_service.create_user(db, "orgadmin", "org_admin", "demo-orgadmin-2026")
    lines = load_registry(db)
    assert "organisations" in lines[0]
    orgs = db.scalars(select(Organisation)).all()
    assert len(orgs) == 8 and all(v.credit_code_problem(o.credit_code) is None for o in orgs)
    assert all(m.id_number_masked.startswith(place["district"])
               for m in db.scalars(select(TeamMember)))
    assert user.org_id in [o.id for o in orgs if o.status == "approved"]
    assert db.scalar(select(func.count(InsurancePolicy.id))) > 0
    again = load_registry(db)
    assert again == ["registry: demo forces already loaded"]
    assert db.scalar(select(func.count(Organisation.id))) == 8


def test_capacity_and_readiness_interfaces(db, ctx, place):
    load_registry(db)
    teams = capacity_teams(db)
    approved = {o.id for o in db.scalars(select(Organisation)) if o.status == "approved"}
    eligible = db.scalars(select(RescueTeam.id).where(RescueTeam.status == "available",
                                                      RescueTeam.org_id.in_(approved))).all()
    assert sorted(t["id"] for t in teams) == sorted(eligible)
    assert set(teams[0]) == {"id", "lon", "lat", "service_radius_km", "grade", "category"}
    assert capacity_teams(db, bbox=(0, 0, 1, 1)) == []
    ready = team_readiness(db, [teams[0]["id"]])
    counts = ready[teams[0]["id"]]
    assert counts["members"] >= counts["insured_members"] >= 0
    assert counts["members"] == db.scalar(select(func.count(TeamMember.id)).where(
        TeamMember.team_id == teams[0]["id"]))
