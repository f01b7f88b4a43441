"""A committed data set for the OGC API tests (not a test module): areas, grids, two
organisations' teams with members, hazard reports, incidents, warnings and a finished risk
run, and users of every role with bearer tokens. Built once per module and backend; the
OGC tests only read."""

import contextlib

from shapely.geometry import shape
from sqlalchemy.orm import Session

from emergency import create_app, spatial
from emergency.auth import service as auth
from emergency.geo import service as geo
from tests.conftest import app_config, drop_database, make_database, square
from tests.factories import add_member, add_team, credit_code, org_body
from tests.hazards.hazard_helpers import INSIDE_1, INSIDE_2
from tests.risk.risk_factories import collection, point, rect, start, upload

DISTRICT, STREET, COMMUNITY = "990101", "990101001", "990101001001"
GRIDS = ["990101001001-01", "990101001001-02"]
RISK_CITY = "880000"
PHONES = ("13900001111", "13900002222")
# Where the teams stand: org A's three and org B's two.
TEAM_SPOTS = {"A": [(106.51, 29.51), (106.52, 29.52), (106.70, 29.70)],
              "B": [(106.56, 29.51), (106.80, 29.80)]}
INCIDENT_TIMES = ["2026-11-01T08:00:00+08:00", "2026-11-15T08:00:00+08:00",
                  "2026-11-28T08:00:00+08:00"]


class World:
    """The committed app, its database and what was made in it."""

    def __init__(self, backend, url, app):
        self.backend, self.url, self.app = backend, url, app
        self.engine = spatial.make_engine(url, pool_size=2)
        self.headers = {}
        self.ids = {}

    def user(self, name, role, **scope):
        """A committed user with a bearer token; their Authorization header."""
        with Session(self.engine) as s:
            s.info["actor"] = "test"
            auth.create_user(s, name, role, "correct horse battery", scope.get("grids", ()),
                             scope.get("org_id"), scope.get("area_code"))
            token = auth.create_token(s, name, 1)
            s.commit()
        self.headers[name] = {"Authorization": f"Bearer {token}"}
        return self.headers[name]

    def token(self, name):
        """The bearer token of a user."""
        return self.headers[name]["Authorization"][7:]


def _areas(engine):
    """The test place (city > district > street > community > two grids) and the risk
    city, committed."""
    with Session(engine) as s:
        s.info["actor"] = "test"
        geo.create_area(s, "990000", "测试市", "city", shape(square(106.0, 29.0, 1.0)))
        geo.create_area(s, DISTRICT, "测试区", "district", shape(square(106.4, 29.4, 0.4)),
                        "990000")
        geo.create_area(s, STREET, "测试街道", "street", shape(square(106.45, 29.45, 0.2)),
                        DISTRICT)
        geo.create_area(s, COMMUNITY, "测试社区", "community",
                        shape(square(106.5, 29.5, 0.1)), STREET)
        geo.create_grid(s, GRIDS[0], "第1网格", COMMUNITY, shape(square(106.5, 29.5, 0.05)))
        geo.create_grid(s, GRIDS[1], "第2网格", COMMUNITY, shape(square(106.55, 29.5, 0.05)))
        geo.create_area(s, RISK_CITY, "测试风险市", "city", rect(0, 0, 2000, 2000))
        s.commit()


def _ok(response, status=(200, 201)):
    """The JSON of a successful response."""
    assert response.status_code in status, response.get_json()
    return response.get_json()


def _forces(world, client):
    """Two approved organisations (A, B) with teams; each team has a member with a phone."""
    admin = world.headers["admin"]
    for n, key in enumerate(("A", "B"), 1):
        org_headers = world.user(f"org{key}", "org_admin")
        org = _ok(client.post("/api/v1/orgs", json=org_body(n, credit_code=credit_code(n)),
                              headers=org_headers))
        _ok(client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"},
                        headers=admin))
        world.ids[f"org{key}"] = org["id"]
        teams = []
        for i, (lon, lat) in enumerate(TEAM_SPOTS[key]):
            team = add_team(client, org["id"], org_headers, name=f"{key}队{i}",
                            location={"type": "Point", "coordinates": [lon, lat]})
            add_member(client, team["id"], org_headers, n * 10 + i, phone=PHONES[n - 1])
            teams.append(team["id"])
        world.ids[f"teams{key}"] = teams


def _reports(world, client):
    """Hazard reports: three by the grid 1 staff, two by the admin in grid 2."""
    body = {"category": "geological", "severity": "general", "crs": "wgs84",
            "description": "斜坡裂缝，联系人13900001111"}
    made = []
    for i in range(3):
        made.append(_ok(client.post("/api/v1/hazards", headers=world.headers["staff"], json={
            **body, "client_id": f"ogc-staff-{i}", "location": {
                "type": "Point", "coordinates": [INSIDE_1[0] + i * 0.001, INSIDE_1[1]]}}))["id"])
    for i in range(2):
        made.append(_ok(client.post("/api/v1/hazards", headers=world.headers["admin"], json={
            **body, "client_id": f"ogc-admin-{i}", "location": {
                "type": "Point", "coordinates": [INSIDE_2[0] + i * 0.001, INSIDE_2[1]]}}))["id"])
    world.ids["hazards"] = made


def _incidents(world, client):
    """Three incidents at different times."""
    world.ids["incidents"] = [_ok(client.post("/api/v1/incidents", headers=world.headers[
        "dispatcher"], json={"title": f"山体滑坡{i}", "incident_type": "geological",
                             "location": {"type": "Point", "coordinates": [106.55 + i * 0.01,
                                                                           29.56]},
                             "occurred_at": at, "metrics": {"injured": i}}))["id"]
        for i, at in enumerate(INCIDENT_TIMES)]


def _warnings(world, client):
    """A published warning with a drawn area and a draft one."""
    from datetime import timedelta

    from emergency.db import utcnow

    def body(title, lon):
        return {"title": title, "hazard_type": "meteorological", "level": "red",
                "area_codes": [DISTRICT], "geometry": square(lon, 29.5, 0.1),
                "onset": utcnow().isoformat(),
                "expires": (utcnow() + timedelta(hours=24)).isoformat(),
                "description": "暴雨", "instruction": "远离河道"}

    published = _ok(client.post("/api/v1/warnings", json=body("暴雨红色预警", 106.5),
                                headers=world.headers["planner"]))
    for to, who in (("approved", "admin"), ("published", "planner2")):
        _ok(client.post(f"/api/v1/warnings/{published['id']}/transition",
                        json={"to": to, "note": ""}, headers=world.headers[who]))
    draft = _ok(client.post("/api/v1/warnings", json=body("草稿预警", 106.6),
                            headers=world.headers["planner"]))
    world.ids["warnings"] = {"published": published["id"], "draft": draft["id"]}


def _risk(world, client):
    """A finished 100 m run over the 2 km risk city: 400 cells."""
    headers = world.headers["planner"]
    layer = upload(client, headers, collection([(point(x, y), {"value": 5})
                                                for x in (150, 950) for y in (150, 1450)]))
    run = _ok(start(client, headers, RISK_CITY, 100, [{"layer_id": layer.get_json()["id"]}]),
              (200, 201, 202))
    assert run["status"] == "done", run
    world.ids["risk"] = run["id"]


@contextlib.contextmanager
def world(backend, tmp):
    """The data set on a scratch database of the backend; dropped afterwards."""
    url, engine = make_database(backend, tmp, "ogc")
    app = create_app(app_config(url, tmp, RISK_RUN_INLINE=True))
    built = World(backend, url, app)
    try:
        _areas(built.engine)
        for name, role, scope in (
                ("admin", "admin", {}), ("planner", "planner", {}),
                ("planner2", "planner", {}), ("dispatcher", "dispatcher", {}),
                ("auditor", "auditor", {}), ("staff", "grid_staff", {"grids": [GRIDS[0]]}),
                ("elsewhere", "dispatcher", {"area_code": RISK_CITY})):
            built.user(name, role, **scope)
        client = app.test_client()
        _forces(built, client)  # each org admin's registration makes the org theirs
        _reports(built, client)
        _incidents(built, client)
        _warnings(built, client)
        _risk(built, client)
        yield built
    finally:
        built.engine.dispose()
        app.extensions["emergency.db"]["engine"].dispose()
        engine.dispose()
        drop_database(url)
