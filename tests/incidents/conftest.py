"""Incident fixtures: organisations, teams and members made through the registry's API."""

from datetime import date, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy.orm import Session

from emergency.auth import service as auth
from tests.registry.registry_factories import (
    credit_code,
    id_number,
    member_body,
    org_body,
    team_body,
)

NOW = "2026-11-28T08:00:00+08:00"
SITE = [106.55, 29.56]


class Forces:
    """Builds approved (or not) organisations with teams, members and insurance."""

    def __init__(self, client, actors):
        self.client, self.actors = client, actors
        self.admin = actors.header("admin")
        self.n = 0

    def org(self, approve=True):
        """A registered organisation and its org_admin headers."""
        self.n += 1
        user, headers = self.actors.make("org_admin")
        org = self.client.post("/api/v1/orgs", json=org_body(self.n), headers=headers)
        assert org.status_code == 201, org.get_json()
        org = org.get_json()
        if approve:
            r = self.client.post(f"/api/v1/orgs/{org['id']}/review",
                                 json={"decision": "approve"}, headers=self.admin)
            assert r.status_code == 200, r.get_json()
        user.org_id = org["id"]
        return org, headers

    def team(self, org_headers, org_id, lon, lat, category="mountain", members=2, insured=2,
             name=None, radius=30):
        """A team at lon/lat with members, ``insured`` of them insured today."""
        self.n += 1
        body = team_body(name=name or f"队{self.n}", category=category,
                         location={"type": "Point", "coordinates": [lon, lat]},
                         service_radius_km=radius)
        team = self.client.post(f"/api/v1/orgs/{org_id}/teams", json=body, headers=org_headers)
        assert team.status_code == 201, team.get_json()
        team = team.get_json()
        for i in range(members):
            self.n += 1
            m = self.client.post(f"/api/v1/teams/{team['id']}/members",
                                 json=member_body(self.n, phone=f"139{self.n:08d}"),
                                 headers=org_headers)
            assert m.status_code == 201, m.get_json()
            if i < insured:
                today = date.today()
                p = self.client.post(f"/api/v1/members/{m.get_json()['id']}/insurance", json={
                    "insurer": "人保", "policy_number": f"P{self.n}",
                    "starts_on": (today - timedelta(days=10)).isoformat(),
                    "ends_on": (today + timedelta(days=300)).isoformat(),
                    "coverage_amount": "500000.00"}, headers=org_headers)
                assert p.status_code == 201, p.get_json()
        return team


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
    from registry import members, service
    from registry.models import Organisation

    session = Session(bind=engine)
    session.info["actor"] = "test"
    admin = auth.create_user(session, "boss", "admin", "correct horse battery")
    auth.create_user(session, "disp", "dispatcher", "correct horse battery")
    org = service.register_org(session, cipher, admin, "蓝天救援队", credit_code(7), "张三",
                               "13812345678", Point(106.57, 29.55), address="渝中区")
    session.flush()
    service.review_org(session, admin, org.id, "approve")
    team = service.create_team(session, admin, org.id, "山地一队", "mountain",
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
