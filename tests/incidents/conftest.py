"""Incident fixtures: organisations, teams and members made through the registry's API."""

from datetime import date, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy.orm import Session

from emergency.auth import service as auth
from tests.factories import Forces, credit_code, id_number

NOW = "2026-11-28T08:00:00+08:00"
SITE = [106.55, 29.56]
# A complete after-action record (POST /incidents/{id}/close).
AFTER_ACTION = {"summary": "处置完毕", "dead": 0, "missing": 0, "injured": 2,
                "losses_yuan": "12000.50", "lessons": "加强巡查"}


@pytest.fixture(autouse=True)
def _fresh_search_caches():
    """Each test starts without the recommendation search's cached hints."""
    from incidents import service

    service.clear_caches()
    yield
    service.clear_caches()


@pytest.fixture
def forces(client, actors):
    """The force factory."""
    return Forces(client, actors)


@pytest.fixture
def dispatcher(actors):
    """Headers of a dispatcher."""
    return actors.header("dispatcher")


def incident_body(**extra):
    """A POST /incidents body."""
    return {"title": "山体滑坡", "incident_type": "geological",
            "location": {"type": "Point", "coordinates": SITE}, "occurred_at": NOW,
            "metrics": {"deaths": 0, "injured": 2}, **extra}


def arrange_committed(engine, cipher):
    """An approved organisation with one insured team, a dispatcher and an incident."""
    from registry import members, service, teams
    from registry.models import Organisation

    session = Session(bind=engine)
    session.info["actor"] = "test"
    admin = auth.create_user(session, "boss", "admin", "correct horse battery")
    auth.create_user(session, "disp", "dispatcher", "correct horse battery")
    org = service.register_org(session, cipher, admin, "蓝天救援队", credit_code(7), "张三",
                               "13812345678", Point(106.57, 29.55), address="渝中区")
    session.flush()
    service.review_org(session, admin, org.id, "approve")
    team = teams.create_team(session, admin, org.id, "山地一队", "mountain",
                               Point(106.56, 29.57), 50)
    session.flush()
    member = members.add_member(session, cipher, admin, team.id, "队员", id_number(3),
                                "13900000003")
    session.flush()
    members.add_insurance(session, admin, member.id, "人保", "P1",
                          date.today() - timedelta(days=1), date.today() + timedelta(days=99),
                          "100000.00")
    token = auth.create_token(session, "disp", 1)
    session.commit()
    assert session.get(Organisation, org.id).status == "approved"
    team_id = team.id
    session.close()
    return team_id, token
