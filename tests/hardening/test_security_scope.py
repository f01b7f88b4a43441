"""District scope (issue 15, class 10): a bureau user scoped to district A (``--area``) reads,
changes and reveals only what lies in A — incidents, dispatches, requisitions, claims,
organisations, teams, members, hazard bulletins, risk runs and the map layers — and still can
for A. Outside the scope lists leave the objects out and single objects answer 403.

The codes are chosen so that only parent links can tell what is inside: the city 970000 is
the parent of 970101 (A) and of 980102 (B), which no code prefix of the city's matches.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from shapely.geometry import shape

from tests.conftest import error_of, square
from tests.factories import id_number, member_body, org_body, team_body
from tests.hazards.hazard_helpers import body as hazard_body

CITY, A, A_STREET, B = "970000", "970101", "970101001", "980102"
A_SITE, B_SITE = [107.9, 30.75], [108.2, 30.75]  # A_SITE lies in A's street
A_TEAM_AT, B_TEAM_AT = [107.95, 30.75], [108.05, 30.75]  # 10 km apart, across the border
A_HAZARD, B_HAZARD = [107.65, 30.65], [108.15, 30.65]
NOW = "2026-11-28T08:00:00+08:00"
SHARED_PERSON = 903  # one person serving in a team of A and a team of B


def _ok(response, status=(200, 201)):
    """The JSON of a response that must have succeeded."""
    assert response.status_code in ((status,) if isinstance(status, int) else status), \
        (response.status_code, response.get_data(as_text=True)[:500])
    return response.get_json()


def _forbidden(response):
    """The response is the contract's 403."""
    assert response.status_code == 403, (response.status_code,
                                         response.get_data(as_text=True)[:300])
    assert error_of(response)["code"] == "forbidden"


def _areas(db):
    """City 970000 with districts 970101 (A, with a street) and 980102 (B), and a grid each."""
    from emergency.geo import service

    service.create_area(db, CITY, "范围市", "city", shape(square(107.5, 30.5, 1.0)))
    service.create_area(db, A, "甲区", "district", shape(square(107.5, 30.5, 0.5)), CITY)
    service.create_area(db, A_STREET, "甲街道", "street", shape(square(107.6, 30.6, 0.4)), A)
    service.create_area(db, B, "乙区", "district", shape(square(108.0, 30.5, 0.5)), CITY)
    service.create_grid(db, "970101001-01", "甲网格", A_STREET, shape(square(107.6, 30.6, 0.1)))
    service.create_grid(db, "980102-01", "乙网格", B, shape(square(108.1, 30.6, 0.1)))
    db.flush()


def _point(lonlat):
    """A GeoJSON point."""
    return {"type": "Point", "coordinates": list(lonlat)}


def _side(client, actors, admin, n, org_at, team_at, incident_at, hazard_at):
    """One district's organisation, team, members, incident, dispatch, requisition, claim and
    hazard report, arranged by unscoped users."""
    _user, oh = actors.make("org_admin")
    org = _ok(client.post("/api/v1/orgs", json=org_body(900 + n, location=_point(org_at),
                                                        name=f"Org-{n}"), headers=oh))
    _ok(client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"},
                    headers=admin))
    team = _ok(client.post(f"/api/v1/orgs/{org['id']}/teams", headers=oh, json=team_body(
        name=f"Team-{n}", location=_point(team_at), service_radius_km=50)))
    member = _ok(client.post(f"/api/v1/teams/{team['id']}/members", headers=oh,
                             json=member_body(900 + n)))
    shared = _ok(client.post(f"/api/v1/teams/{team['id']}/members", headers=oh,
                             json=member_body(SHARED_PERSON)))
    today = date.today()
    for m in (member, shared):
        _ok(client.post(f"/api/v1/members/{m['id']}/insurance", headers=oh, json={
            "insurer": "人保", "policy_number": f"P{m['id']}",
            "starts_on": (today - timedelta(days=10)).isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(),
            "coverage_amount": "500000.00"}))
    incident = _ok(client.post("/api/v1/incidents", headers=admin, json={
        "title": f"Incident-{n}", "incident_type": "geological", "location": _point(incident_at),
        "occurred_at": NOW, "metrics": {"injured": 1}}))
    # A second team, kept free for dispatches within the scope.
    spare = _ok(client.post(f"/api/v1/orgs/{org['id']}/teams", headers=oh, json=team_body(
        name=f"Spare-{n}", location=_point(team_at), service_radius_km=50)))
    dispatch = _ok(client.post(f"/api/v1/incidents/{incident['id']}/dispatches", headers=admin,
                               json={"team_id": team["id"], "members_requested": 2}))
    _ok(client.post(f"/api/v1/dispatches/{dispatch['id']}/transition", headers=oh,
                    json={"to": "accepted"}))
    claim = _ok(client.post(f"/api/v1/dispatches/{dispatch['id']}/compensation", headers=oh,
                            json={"items": [{"kind": "fuel", "quantity": 1,
                                             "unit_price": "100.00"}]}))
    requisition = _ok(client.post(f"/api/v1/incidents/{incident['id']}/requisitions",
                                  headers=admin, json={
                                      "owner_name": f"Owner-{n}", "owner_contact": "13812345678",
                                      "property": "挖掘机", "quantity": 1,
                                      "starts_at": NOW, "valuation": "1000.00",
                                      "legal_basis": "应对法第七十六条", "authority": "区政府"}))
    hazard = _ok(client.post("/api/v1/hazards", json=hazard_body(hazard_at), headers=admin))
    return {"org": org, "oh": oh, "team": team, "spare": spare, "member": member,
            "shared": shared, "incident": incident, "dispatch": dispatch, "claim": claim,
            "requisition": requisition, "hazard": hazard}


@pytest.fixture
def world(client, actors, db):
    """Districts A and B, each with its forces and operations, and users scoped to A."""
    _areas(db)
    admin = actors.header("admin")
    a = _side(client, actors, admin, 1, A_SITE, A_TEAM_AT, A_SITE, A_HAZARD)
    b = _side(client, actors, admin, 2, B_SITE, B_TEAM_AT, B_SITE, B_HAZARD)
    assert a["org"]["area_code"] == A and b["org"]["area_code"] == B
    assert a["incident"]["area_code"] == A_STREET and b["incident"]["area_code"] == B
    return {"a": a, "b": b, "admin": admin,
            "dispatcher": actors.header("dispatcher", area_code=A),
            "planner": actors.header("planner", area_code=A),
            "auditor": actors.header("auditor", area_code=A),
            "city": actors.header("dispatcher", area_code=CITY)}


# ---------------------------------------------------------------- incidents


def test_incident_list_and_reads_stay_in_the_district(client, world):
    a, b, me = world["a"], world["b"], world["dispatcher"]
    for headers in (me, world["auditor"]):
        listed = _ok(client.get("/api/v1/incidents", headers=headers))
        ids = {f["id"] for f in listed["features"]}
        assert a["incident"]["id"] in ids and b["incident"]["id"] not in ids
        assert listed["total"] == len(ids)
    for suffix in ("", "/timeline", "/recommendations", "/dispatches", "/requisitions"):
        _forbidden(client.get(f"/api/v1/incidents/{b['incident']['id']}{suffix}", headers=me))
        _ok(client.get(f"/api/v1/incidents/{a['incident']['id']}{suffix}", headers=me))
    # The city's dispatcher sees both districts: inside is decided by parent links.
    city = {f["id"] for f in _ok(client.get("/api/v1/incidents",
                                            headers=world["city"]))["features"]}
    assert {a["incident"]["id"], b["incident"]["id"]} <= city
    _ok(client.get(f"/api/v1/incidents/{b['incident']['id']}", headers=world["city"]))


def test_incident_writes_outside_the_district_are_refused(client, world):
    a, b, me = world["a"], world["b"], world["dispatcher"]
    _forbidden(client.patch(f"/api/v1/incidents/{b['incident']['id']}",
                            json={"title": "changed"}, headers=me))
    _forbidden(client.post(f"/api/v1/incidents/{b['incident']['id']}/transition",
                           json={"to": "open", "note": "x"}, headers=me))
    body = {"title": "elsewhere", "incident_type": "geological", "location": _point(B_SITE),
            "occurred_at": NOW}
    _forbidden(client.post("/api/v1/incidents", json=body, headers=me))
    after = _ok(client.get(f"/api/v1/incidents/{b['incident']['id']}",
                           headers=world["admin"]))
    assert after["title"] == "Incident-2" and after["status"] == "responding"
    changed = _ok(client.patch(f"/api/v1/incidents/{a['incident']['id']}",
                               json={"title": "changed"}, headers=me))
    assert changed["title"] == "changed"
    _ok(client.post("/api/v1/incidents", json={**body, "location": _point(A_SITE)},
                    headers=me), 201)


def test_dispatches_stay_in_the_district(client, world):
    a, b, me = world["a"], world["b"], world["dispatcher"]
    listed = _ok(client.get("/api/v1/dispatches", headers=me))
    assert [d["id"] for d in listed["items"]] == [a["dispatch"]["id"]]
    assert listed["total"] == 1
    _forbidden(client.get(f"/api/v1/dispatches/{b['dispatch']['id']}", headers=me))
    _forbidden(client.post(f"/api/v1/dispatches/{b['dispatch']['id']}/transition",
                           json={"to": "cancelled"}, headers=me))
    # B's incident, and B's team for A's incident, are out of reach.
    _forbidden(client.post(f"/api/v1/incidents/{b['incident']['id']}/dispatches",
                           json={"team_id": b["spare"]["id"]}, headers=me))
    _forbidden(client.post(f"/api/v1/incidents/{a['incident']['id']}/dispatches",
                           json={"team_id": b["spare"]["id"]}, headers=me))
    team_b = _ok(client.get(f"/api/v1/teams/{b['spare']['id']}", headers=world["admin"]))
    assert team_b["status"] == "available"
    _ok(client.get(f"/api/v1/dispatches/{a['dispatch']['id']}", headers=me))
    _ok(client.post(f"/api/v1/incidents/{a['incident']['id']}/dispatches",
                    json={"team_id": a["spare"]["id"]}, headers=me), 201)


def test_recommendations_leave_out_other_districts_teams(client, world):
    a, b = world["a"], world["b"]
    path = f"/api/v1/incidents/{a['incident']['id']}/recommendations?limit=10"
    unscoped = _ok(client.get(path, headers=world["admin"]))
    shown = {t["team_id"] for t in unscoped["items"] + unscoped["excluded"]}
    assert b["spare"]["id"] in shown  # near enough to be recommended without a scope
    mine = _ok(client.get(path, headers=world["dispatcher"]))
    shown = {t["team_id"] for t in mine["items"] + mine["excluded"]}
    assert a["spare"]["id"] in shown
    assert not shown & {b["spare"]["id"], b["team"]["id"]}


def test_requisitions_stay_in_the_district(client, world):
    a, b, me = world["a"], world["b"], world["dispatcher"]
    body = {"owner_name": "x", "owner_contact": "13812345678", "property": "船", "quantity": 1,
            "starts_at": NOW, "valuation": "10.00", "legal_basis": "应对法第七十六条",
            "authority": "区政府"}
    _forbidden(client.post(f"/api/v1/incidents/{b['incident']['id']}/requisitions", json=body,
                           headers=me))
    rb, ra = b["requisition"]["id"], a["requisition"]["id"]
    _forbidden(client.get(f"/api/v1/requisitions/{rb}", headers=me))
    _forbidden(client.post(f"/api/v1/requisitions/{rb}/return", json={"condition": "intact"},
                           headers=me))
    items = {"items": [{"kind": "property", "quantity": 1, "unit_price": "10.00"}]}
    _forbidden(client.post(f"/api/v1/requisitions/{rb}/compensation", json=items, headers=me))
    _ok(client.post(f"/api/v1/incidents/{a['incident']['id']}/requisitions", json=body,
                    headers=me), 201)
    _ok(client.get(f"/api/v1/requisitions/{ra}", headers=me))
    _ok(client.post(f"/api/v1/requisitions/{ra}/return", json={"condition": "intact"},
                    headers=me))
    _ok(client.post(f"/api/v1/requisitions/{ra}/compensation", json=items, headers=me), 201)


def test_compensation_stays_in_the_district(client, world):
    a, b, me = world["a"], world["b"], world["dispatcher"]
    _forbidden(client.get(f"/api/v1/compensations/{b['claim']['id']}", headers=me))
    _forbidden(client.get(f"/api/v1/dispatches/{b['dispatch']['id']}/compensation/prefill",
                          headers=me))
    ledger = _ok(client.get("/api/v1/compensations", headers=me))
    assert [c["id"] for c in ledger["items"]] == [a["claim"]["id"]]
    assert ledger["total"] == 1 and ledger["sum"] == "100.00"
    assert "Org-2" not in str(ledger["by_organisation"])
    filtered = _ok(client.get(f"/api/v1/compensations?incident_id={b['incident']['id']}",
                              headers=me))
    assert filtered["items"] == []
    _ok(client.get(f"/api/v1/compensations/{a['claim']['id']}", headers=me))
    _ok(client.get(f"/api/v1/dispatches/{a['dispatch']['id']}/compensation/prefill",
                   headers=me))


def test_incident_pages_stay_in_the_district(client, world):
    a, b, me = world["a"], world["b"], world["dispatcher"]
    html = {"Accept": "text/html", **me}
    page = client.get("/incidents", headers=html)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Incident-1" in text and "Incident-2" not in text
    assert client.get(f"/maps/incidents/{b['incident']['id']}", headers=html).status_code == 403
    assert client.get(f"/maps/incidents/{a['incident']['id']}", headers=html).status_code == 200


# ---------------------------------------------------------------- registry


def test_organisations_and_teams_stay_in_the_district(client, world):
    a, b = world["a"], world["b"]
    for me in (world["dispatcher"], world["planner"], world["auditor"]):
        orgs = _ok(client.get("/api/v1/orgs", headers=me))
        assert [o["id"] for o in orgs["items"]] == [a["org"]["id"]] and orgs["total"] == 1
        teams = _ok(client.get("/api/v1/teams", headers=me))
        assert {f["id"] for f in teams["features"]} == {a["team"]["id"], a["spare"]["id"]}
        _forbidden(client.get(f"/api/v1/orgs/{b['org']['id']}", headers=me))
        _forbidden(client.get(f"/api/v1/teams/{b['team']['id']}", headers=me))
        _ok(client.get(f"/api/v1/orgs/{a['org']['id']}", headers=me))
        _ok(client.get(f"/api/v1/teams/{a['team']['id']}", headers=me))
    city = _ok(client.get("/api/v1/orgs", headers=world["city"]))
    assert {a["org"]["id"], b["org"]["id"]} <= {o["id"] for o in city["items"]}


def test_members_of_other_districts_are_neither_read_nor_revealed(client, world, db):
    from emergency.audit.models import AuditEntry

    a, b, me = world["a"], world["b"], world["dispatcher"]
    before = db.query(AuditEntry).filter(AuditEntry.action == "member.reveal").count()
    for path in (f"/api/v1/members/{b['member']['id']}",
                 f"/api/v1/members/{b['member']['id']}?reveal=1",
                 f"/api/v1/teams/{b['team']['id']}/members",
                 f"/api/v1/teams/{b['team']['id']}/members?reveal=1",
                 f"/api/v1/teams/{b['team']['id']}/members/export?reveal=1"):
        _forbidden(client.get(path, headers=me))
    assert db.query(AuditEntry).filter(AuditEntry.action == "member.reveal").count() == before
    revealed = _ok(client.get(f"/api/v1/members/{a['member']['id']}?reveal=1", headers=me))
    assert revealed["id_number"] == id_number(901)
    export = client.get(f"/api/v1/teams/{a['team']['id']}/members/export", headers=me)
    assert export.status_code == 200
    # The same person serves in B too: that membership is not shown inside A.
    shared = _ok(client.get(f"/api/v1/members/{a['shared']['id']}", headers=me))
    assert shared["also_serves"] == [] and shared["duplicate_person"] is False
    unscoped = _ok(client.get(f"/api/v1/members/{a['shared']['id']}",
                              headers=world["admin"]))
    assert unscoped["also_serves"] == [{"team_id": b["team"]["id"], "org_id": b["org"]["id"]}]


def test_person_lookup_finds_only_memberships_in_the_district(client, world):
    a, me = world["a"], world["dispatcher"]
    body = {"id_number": id_number(SHARED_PERSON)}
    found = _ok(client.post("/api/v1/registry/person-lookup", json=body, headers=me))
    assert found["items"] == [{"member_id": a["shared"]["id"], "team_id": a["team"]["id"],
                               "org_id": a["org"]["id"]}]
    everyone = _ok(client.post("/api/v1/registry/person-lookup", json=body,
                               headers=world["admin"]))
    assert len(everyone["items"]) == 2
    nobody = _ok(client.post("/api/v1/registry/person-lookup",
                             json={"id_number": id_number(902)}, headers=me))
    assert nobody["items"] == []


def test_expiring_and_trainings_stay_in_the_district(client, world):
    a, b, me = world["a"], world["b"], world["auditor"]
    expiring = _ok(client.get("/api/v1/registry/expiring?days=60", headers=me))
    assert {p["org_id"] for p in expiring["insurance"]} == {a["org"]["id"]}
    for side in (a, b):
        _ok(client.post("/api/v1/trainings", headers=side["oh"], json={
            "held_on": "2026-11-01", "hours": "2.0", "topic": f"drill-{side['org']['id']}",
            "team_ids": [side["team"]["id"]]}), 201)
    trainings = _ok(client.get("/api/v1/trainings", headers=me))
    assert [t["topic"] for t in trainings["items"]] == [f"drill-{a['org']['id']}"]
    assert trainings["total"] == 1


# ---------------------------------------------------------------- maps


def test_map_layers_and_forces_map_stay_in_the_district(client, world):
    a, b, me = world["a"], world["b"], world["dispatcher"]
    view = "bbox=107.4,30.4,108.6,31.6&zoom=9"
    teams = _ok(client.get(f"/api/v1/maps/layers/teams?{view}", headers=me))
    assert {f["id"] for f in teams["features"]} == {a["team"]["id"], a["spare"]["id"]}
    incidents = _ok(client.get(f"/api/v1/maps/layers/incidents?{view}", headers=me))
    assert {f["id"] for f in incidents["features"]} == {a["incident"]["id"]}
    hazards = _ok(client.get(f"/api/v1/maps/layers/hazards?{view}", headers=me))
    assert {f["id"] for f in hazards["features"]} == {a["hazard"]["id"]}
    page = client.get("/maps/forces", headers={"Accept": "text/html", **me})
    assert page.status_code == 200
    # The forces map's layer (its teams by viewport) holds district A's teams only.
    forces = _ok(client.get(f"/api/v1/maps/layers/forces?{view}", headers=me))
    assert {f["id"] for f in forces["features"]} == {a["team"]["id"], a["spare"]["id"]}
    assert b["team"]["name"] == "Team-2"


def test_disaster_reports_stay_in_the_district(client, world):
    admin, me = world["admin"], world["planner"]
    made = {}
    for name, at in (("a", A_HAZARD), ("b", B_HAZARD)):
        made[name] = _ok(client.post("/api/v1/disaster-reports", headers=admin, json={
            "client_id": f"scope-disaster-{name}", "kind": "flood", "location": _point(at),
            "dead": 1, "losses_yuan": "10.00"}), 201)
    listed = _ok(client.get("/api/v1/disaster-reports", headers=me))
    assert [f["id"] for f in listed["features"]] == [made["a"]["id"]]
    summed = _ok(client.get("/api/v1/disaster-reports/summary", headers=me))
    assert [i["area_code"] for i in summed["items"]] == [A]
    assert summed["sums"]["dead"] == 1
    layer = _ok(client.get("/api/v1/maps/layers/disasters?bbox=107.4,30.4,108.6,31.6&zoom=9",
                           headers=me))
    assert {f["id"] for f in layer["features"]} == {made["a"]["id"]}
    everything = _ok(client.get("/api/v1/disaster-reports/summary", headers=world["city"]))
    assert [i["area_code"] for i in everything["items"]] == [A, B]


# ---------------------------------------------------------------- hazards and risk


def test_published_bulletin_of_a_scoped_planner_covers_only_the_district(client, world):
    me = world["planner"]
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    draft = _ok(client.get("/api/v1/hazards/bulletin", query_string=period, headers=me))
    assert draft["totals"]["new"] == 1
    published = _ok(client.post("/api/v1/hazards/bulletins", json=period, headers=me), 201)
    assert published["content"]["totals"]["new"] == 1
    assert {r["area_code"] for r in published["content"]["by_area"]} <= {A, A_STREET}
    everything = _ok(client.post("/api/v1/hazards/bulletins", json=period,
                                 headers=world["admin"]), 201)
    assert everything["content"]["totals"]["new"] == 2


def test_risk_runs_are_started_only_for_the_district(client, world):
    me = world["planner"]
    body = {"area_code": B, "cell_size_m": 1000, "layers": [{"layer_id": 999999, "weight": 1}]}
    _forbidden(client.post("/api/v1/risk/assessments", json=body, headers=me))
    _forbidden(client.post("/api/v1/risk/assessments", json={**body, "area_code": CITY},
                           headers=me))
    # Inside the scope the request gets past it, to the check of its (missing) layer.
    inside = client.post("/api/v1/risk/assessments", json={**body, "area_code": A_STREET},
                         headers=me)
    assert inside.status_code == 422, inside.get_json()


# ---------------------------------------------------------------- every operation on an object

# Each operation on one incident, dispatch, requisition, claim, organisation, team or member:
# a body (or a function of the side giving it) for the district-scoped dispatcher, or why no
# district-scoped user can reach it. A new such operation without a row fails the first test.
WRITERS_ONLY = "admin and org_admin only; neither is ever district-scoped"
ADMIN_ONLY = "admin only; admins are never district-scoped"
DISTRICT_ROWS = {
    "GET /api/v1/incidents/{incident_id}": None,
    "PATCH /api/v1/incidents/{incident_id}": {"title": "renamed"},
    "POST /api/v1/incidents/{incident_id}/transition": {"to": "open", "note": "x"},
    "POST /api/v1/incidents/{incident_id}/close": {  # A's: 409, its dispatch is active
        "summary": "x", "dead": 0, "missing": 0, "injured": 0, "losses_yuan": "0",
        "lessons": "x"},
    "GET /api/v1/incidents/{incident_id}/timeline": None,
    "GET /api/v1/incidents/{incident_id}/recommendations": None,
    "GET /api/v1/incidents/{incident_id}/dispatches": None,
    "POST /api/v1/incidents/{incident_id}/dispatches": lambda side: {
        "team_id": side["spare"]["id"]},
    "GET /api/v1/incidents/{incident_id}/reports": None,
    "POST /api/v1/incidents/{incident_id}/reports": {
        "kind": "initial", "body": "x", "dead": 0, "missing": 0, "injured": 0},
    "GET /api/v1/incidents/{incident_id}/requisitions": None,
    "POST /api/v1/incidents/{incident_id}/requisitions": {
        "owner_name": "x", "owner_contact": "13812345678", "property": "船", "quantity": 1,
        "starts_at": NOW, "valuation": "10.00", "legal_basis": "应对法第七十六条",
        "authority": "区政府"},
    "GET /api/v1/dispatches/{dispatch_id}": None,
    "POST /api/v1/dispatches/{dispatch_id}/transition": {"to": "en_route"},
    "GET /api/v1/dispatches/{dispatch_id}/compensation/prefill": None,
    "GET /api/v1/dispatches/{dispatch_id}/members": None,
    "POST /api/v1/dispatches/{dispatch_id}/members": WRITERS_ONLY,
    "GET /api/v1/dispatches/{dispatch_id}/checkins": None,
    "POST /api/v1/dispatches/{dispatch_id}/checkins": lambda side: {  # A's: 409 or 422
        "member_id": side["member"]["id"], "kind": "in"},
    "POST /api/v1/dispatches/{dispatch_id}/compensation": {"items": [
        {"kind": "fuel", "quantity": 1, "unit_price": "1.00"}]},  # A's: 409, one is open
    "GET /api/v1/requisitions/{requisition_id}": None,
    "POST /api/v1/requisitions/{requisition_id}/return": {"condition": "intact"},
    "POST /api/v1/requisitions/{requisition_id}/compensation": {"items": [
        {"kind": "property", "quantity": 1, "unit_price": "10.00"}]},
    "GET /api/v1/compensations/{claim_id}": None,
    "POST /api/v1/compensations/{claim_id}/review": ADMIN_ONLY,
    "POST /api/v1/compensations/{claim_id}/pay": ADMIN_ONLY,
    "POST /api/v1/compensations/{claim_id}/appeal": {"reason": "x"},  # A's: 409, not rejected
    "POST /api/v1/incidents/{incident_id}/measures": {
        "kind": "closure", "legal_basis": "应对法第七十三条", "authority": "区政府",
        "starts_at": NOW, "scope": {"type": "Polygon", "coordinates": [
            [[106.5, 29.5], [106.51, 29.5], [106.51, 29.51], [106.5, 29.5]]]}},
    "GET /api/v1/orgs/{org_id}": None,
    "PATCH /api/v1/orgs/{org_id}": WRITERS_ONLY,
    "POST /api/v1/orgs/{org_id}/review": ADMIN_ONLY,
    "POST /api/v1/orgs/{org_id}/resubmit": WRITERS_ONLY,
    "POST /api/v1/orgs/{org_id}/teams": WRITERS_ONLY,
    "GET /api/v1/teams/{team_id}": None,
    "PATCH /api/v1/teams/{team_id}": WRITERS_ONLY,
    "GET /api/v1/teams/{team_id}/members": None,
    "GET /api/v1/pick/teams/{team_id}/members": None,
    "POST /api/v1/teams/{team_id}/members": WRITERS_ONLY,
    "GET /api/v1/teams/{team_id}/members/export": None,
    "POST /api/v1/teams/{team_id}/members/export": None,  # the export as a job
    "POST /api/v1/teams/{team_id}/members/import": WRITERS_ONLY,
    "GET /api/v1/members/{member_id}": None,
    "GET /api/v1/members/{member_id}/service": None,
    "PATCH /api/v1/members/{member_id}": WRITERS_ONLY,
    "DELETE /api/v1/members/{member_id}": WRITERS_ONLY,
    "POST /api/v1/members/{member_id}/certificates": WRITERS_ONLY,
    "POST /api/v1/members/{member_id}/insurance": WRITERS_ONLY,
}
OBJECT_IDS = ("incident_id", "dispatch_id", "requisition_id", "claim_id", "org_id", "team_id",
              "member_id")


def _ids(side):
    """The path parameters naming one district's objects."""
    return {"incident_id": side["incident"]["id"], "dispatch_id": side["dispatch"]["id"],
            "requisition_id": side["requisition"]["id"], "claim_id": side["claim"]["id"],
            "org_id": side["org"]["id"], "team_id": side["team"]["id"],
            "member_id": side["member"]["id"]}


def _operations(client):
    """Every operation of the OpenAPI document on one district-bound object."""
    doc = client.get("/api/v1/openapi.json").get_json()
    return sorted(f"{method.upper()} {path}" for path, ops in doc["paths"].items()
                  for method in ops if method in ("get", "post", "patch", "put", "delete")
                  and any(f"{{{name}}}" in path for name in OBJECT_IDS))


def test_every_operation_on_a_district_object_has_a_row(client):
    missing = [op for op in _operations(client) if op not in DISTRICT_ROWS]
    assert not missing, f"operations without a district-scope row: {missing}"


def test_every_operation_on_a_district_object_is_scoped(client, world):
    import re

    me, wrong = world["dispatcher"], []
    for op, row in DISTRICT_ROWS.items():
        if isinstance(row, str):
            continue
        method, path = op.split(" ", 1)
        for side, expect_refused in ((world["b"], True), (world["a"], False)):
            ids = _ids(side)
            url = re.sub(r"\{(\w+)\}", lambda m, ids=ids: str(ids[m.group(1)]), path)
            kwargs = {"headers": me}
            if method != "GET":
                kwargs["json"] = row(side) if callable(row) else row
            status = client.open(url, method=method, **kwargs).status_code
            if expect_refused and status != 403:
                wrong.append((op, "district B", status))
            if not expect_refused and (status in (401, 403, 404) or status >= 500):
                wrong.append((op, "district A", status))
    assert not wrong, wrong


def test_registry_pages_stay_in_the_district(client, world):
    a, b = world["a"], world["b"]
    html = {"Accept": "text/html", **world["dispatcher"]}
    listed = client.get("/registry/orgs", headers=html)
    assert listed.status_code == 200
    assert "Org-1" in listed.get_data(as_text=True)
    assert "Org-2" not in listed.get_data(as_text=True)
    for path in (f"/registry/orgs/{b['org']['id']}", f"/registry/teams/{b['team']['id']}"):
        assert client.get(path, headers=html).status_code == 403, path
    for path in (f"/registry/orgs/{a['org']['id']}", f"/registry/teams/{a['team']['id']}"):
        assert client.get(path, headers=html).status_code == 200, path
