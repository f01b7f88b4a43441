"""Test factories shared by every domain: valid identifiers, request bodies, and approved
organisations with teams and members, made through the registry's HTTP API."""

from datetime import date, timedelta

from registry.validators import make_credit_code, make_id_number


def credit_code(n):
    """A valid unified social credit code, different for each n."""
    return make_credit_code("52", "500103", f"MJ{n:06d}")


def id_number(n, area="500103"):
    """A valid resident ID number, different for each n."""
    return make_id_number(area, date(1980 + n % 30, 1 + n % 12, 1 + n % 28), n % 1000)


def org_body(n=1, **extra):
    """A registration body."""
    return {"name": f"蓝天救援队{n}", "credit_code": credit_code(n), "contact_name": "张三",
            "contact_phone": "13812345678", "address": "渝中区解放碑",
            "location": {"type": "Point", "coordinates": [106.57, 29.55]}, **extra}


def team_body(**extra):
    """A team body."""
    return {"name": "山地搜救一队", "category": "mountain",
            "location": {"type": "Point", "coordinates": [106.55, 29.56]},
            "service_radius_km": 30, "equipment": [{"type": "rope", "quantity": 20}], **extra}


def member_body(n=1, **extra):
    """A member body."""
    return {"name": f"队员{n}", "id_number": id_number(n), "phone": f"139{n:08d}",
            "skills": ["rope rescue"], **extra}


def _created(response, status=201):
    """The JSON of a response that must have the given status."""
    assert response.status_code == status, response.get_json()
    return response.get_json()


def register_org(client, actors, n=1, approve=True, admin_headers=None, **body):
    """An organisation registered by a new org_admin and, unless told otherwise, approved:
    (org, org_admin user, org_admin headers)."""
    user, headers = actors.make("org_admin")
    org = _created(client.post("/api/v1/orgs", json=org_body(n, **body), headers=headers))
    if approve:
        _created(client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"},
                             headers=admin_headers or actors.header("admin")), 200)
    user.org_id = org["id"]
    return org, user, headers


def add_team(client, org_id, headers, **body):
    """A team of an organisation (``body`` overrides team_body's fields)."""
    return _created(client.post(f"/api/v1/orgs/{org_id}/teams", json=team_body(**body),
                                headers=headers))


def add_member(client, team_id, headers, n=1, insured=False, **body):
    """A member of a team, insured from ten days ago for 300 days when ``insured``."""
    member = _created(client.post(f"/api/v1/teams/{team_id}/members",
                                  json=member_body(n, **body), headers=headers))
    if insured:
        today = date.today()
        _created(client.post(f"/api/v1/members/{member['id']}/insurance", json={
            "insurer": "人保", "policy_number": f"P{n}",
            "starts_on": (today - timedelta(days=10)).isoformat(),
            "ends_on": (today + timedelta(days=300)).isoformat(),
            "coverage_amount": "500000.00"}, headers=headers))
    return member


def org_with_team(client, actors):
    """An approved organisation with its org_admin, one team and one member."""
    admin_headers = actors.header("admin")
    org, org_admin, org_headers = register_org(client, actors, admin_headers=admin_headers)
    team = add_team(client, org["id"], org_headers)
    member = add_member(client, team["id"], org_headers)
    return {"org": org, "team": team, "member": member, "org_admin": org_admin,
            "org_headers": org_headers, "admin_headers": admin_headers}


class Forces:
    """Builds approved (or not) organisations with teams, members and insurance."""

    def __init__(self, client, actors):
        self.client, self.actors = client, actors
        self.admin = actors.header("admin")
        self.n = 0

    def org(self, approve=True):
        """A registered organisation and its org_admin headers."""
        self.n += 1
        org, _user, headers = register_org(self.client, self.actors, self.n, approve,
                                           self.admin)
        return org, headers

    def team(self, org_headers, org_id, lon, lat, category="mountain", members=2, insured=2,
             name=None, radius=30):
        """A team at lon/lat with members, ``insured`` of them insured today."""
        self.n += 1
        team = add_team(self.client, org_id, org_headers, name=name or f"队{self.n}",
                        category=category,
                        location={"type": "Point", "coordinates": [lon, lat]},
                        service_radius_km=radius)
        for i in range(members):
            self.n += 1
            add_member(self.client, team["id"], org_headers, self.n, insured=i < insured,
                       phone=f"139{self.n:08d}")
        return team
