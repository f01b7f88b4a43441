"""Permission matrix: every operation of the OpenAPI document × every role, from CONTRACT.md §3.

The table below is written by hand from the contract, not read from the code, so that a route
whose decorator drifts from the contract fails here. A new operation in the OpenAPI document
that the table does not cover fails ``test_matrix_covers_every_operation``: add its row.
"""

import re

import pytest

from tests.factories import add_member, add_team, member_body, register_org, team_body
from tests.hazards.hazard_helpers import INSIDE_1, INSIDE_2
from tests.hazards.hazard_helpers import body as hazard_body

ADMIN, PLANNER, DISPATCHER, GRID, ORG, AUDITOR = (
    "admin", "planner", "dispatcher", "grid_staff", "org_admin", "auditor")
ROLES = (ADMIN, PLANNER, DISPATCHER, GRID, ORG, AUDITOR)
ALL = frozenset(ROLES)
BUREAU = frozenset({ADMIN, PLANNER, DISPATCHER, AUDITOR})
PUBLIC = None  # no sign-in needed

# operation → roles allowed past the role gate (§3; scope is tested separately below).
MATRIX = {
    # core
    "GET /api/v1/health": PUBLIC,
    "GET /api/v1/health/ready": PUBLIC,
    # areas, grids: read everyone signed in, write admin
    "GET /api/v1/areas": ALL, "POST /api/v1/areas": {ADMIN},
    "GET /api/v1/areas/{code}": ALL,
    "GET /api/v1/grids": ALL, "POST /api/v1/grids": {ADMIN},
    "GET /api/v1/grids/{code}": ALL,
    # audit log: admin, auditor
    "GET /api/v1/audit": {ADMIN, AUDITOR},
    # live events: everyone signed in (each sees only what they may read)
    "GET /api/v1/events": ALL,
    # users: admin only
    "GET /api/v1/users": {ADMIN}, "POST /api/v1/users": {ADMIN},
    "GET /api/v1/users/{user_id}": {ADMIN}, "PATCH /api/v1/users/{user_id}": {ADMIN},
    # hazard reports: read bureau + grid staff (own grids); create grid staff, admin;
    # workflow admin, planner (+ grid staff for rectifying/rectified)
    "POST /api/v1/hazards": {ADMIN, GRID},
    "GET /api/v1/hazards": BUREAU | {GRID},
    "GET /api/v1/hazards/{report_id}": BUREAU | {GRID},
    "POST /api/v1/hazards/{report_id}/transition": {ADMIN, PLANNER, GRID},
    "POST /api/v1/hazards/{report_id}/photos": {ADMIN, PLANNER, GRID},
    "GET /api/v1/hazards/{report_id}/photos/{photo_id}": BUREAU | {GRID},
    "GET /api/v1/hazards/tasks": BUREAU | {GRID},
    "POST /api/v1/hazards/escalate": {ADMIN},
    "GET /api/v1/hazards/bulletin": BUREAU,
    "POST /api/v1/hazards/bulletins": {ADMIN, PLANNER},
    # published bulletins are public on purpose: aggregate counts, no personal data
    "GET /api/v1/hazards/bulletins": PUBLIC,
    "GET /api/v1/hazards/bulletins/{bulletin_id}": PUBLIC,
    # direct disaster reports (灾情直报): read bureau + grid staff (own grids); create grid
    # staff (own grids), admin
    "POST /api/v1/disaster-reports": {ADMIN, GRID},
    "GET /api/v1/disaster-reports": BUREAU | {GRID},
    "GET /api/v1/disaster-reports/summary": BUREAU | {GRID},
    "GET /api/v1/disaster-reports/{report_id}": BUREAU | {GRID},
    # plans, drills: read everyone, write admin, planner; evaluate is a read
    "GET /api/v1/plans/incident-types": ALL,
    "POST /api/v1/plans": {ADMIN, PLANNER}, "GET /api/v1/plans": ALL,
    "GET /api/v1/plans/{plan_id}": ALL, "PATCH /api/v1/plans/{plan_id}": {ADMIN, PLANNER},
    "GET /api/v1/plans/{plan_id}/versions": ALL,
    "GET /api/v1/plans/{plan_id}/versions/{version}": ALL,
    "GET /api/v1/plans/{plan_id}/diff": ALL,
    "POST /api/v1/plans/{plan_id}/transition": {ADMIN, PLANNER},
    "POST /api/v1/plans/{plan_id}/evaluate": ALL,
    "POST /api/v1/plans/{plan_id}/drills": {ADMIN, PLANNER},
    "GET /api/v1/plans/{plan_id}/drills": ALL,
    "GET /api/v1/drills/{drill_id}": ALL,
    "POST /api/v1/drills/{drill_id}/findings": {ADMIN, PLANNER},
    "PATCH /api/v1/drills/{drill_id}/findings/{finding_id}": {ADMIN, PLANNER},
    "GET /api/v1/plans/metrics": ALL,
    # plan filing (备案): a write of plans (admin, planner); filings read by everyone
    "POST /api/v1/plans/{plan_id}/filing": {ADMIN, PLANNER},
    "GET /api/v1/plans/{plan_id}/filings": ALL,
    # officials' training: read admin, planner, auditor; write admin, planner
    "POST /api/v1/officials": {ADMIN, PLANNER},
    "GET /api/v1/officials": {ADMIN, PLANNER, AUDITOR},
    "GET /api/v1/officials/{official_id}": {ADMIN, PLANNER, AUDITOR},
    "PATCH /api/v1/officials/{official_id}": {ADMIN, PLANNER},
    "POST /api/v1/courses": {ADMIN, PLANNER},
    "GET /api/v1/courses": {ADMIN, PLANNER, AUDITOR},
    "GET /api/v1/courses/{course_id}": {ADMIN, PLANNER, AUDITOR},
    "PATCH /api/v1/courses/{course_id}": {ADMIN, PLANNER},
    "POST /api/v1/courses/{course_id}/attendance": {ADMIN, PLANNER},
    "GET /api/v1/courses/{course_id}/attendance": {ADMIN, PLANNER, AUDITOR},
    "POST /api/v1/courses/{course_id}/attendance/import": {ADMIN, PLANNER},
    "GET /api/v1/training/compliance": {ADMIN, PLANNER, AUDITOR},
    # pickers (names, not codes): areas, grids, metrics for everyone signed in; teams and
    # members as the registry's lists (bureau, org_admin own organisation)
    "GET /api/v1/pick/areas": ALL, "GET /api/v1/pick/grids": ALL,
    "GET /api/v1/pick/metrics": ALL, "GET /api/v1/pick/teams": BUREAU | {ORG},
    "GET /api/v1/pick/teams/{team_id}/members": BUREAU | {ORG},
    # organisations, teams, members: read bureau + org_admin (own), write org_admin (own), admin
    "POST /api/v1/orgs": {ADMIN, ORG}, "GET /api/v1/orgs": BUREAU | {ORG},
    "GET /api/v1/orgs/{org_id}": BUREAU | {ORG}, "PATCH /api/v1/orgs/{org_id}": {ADMIN, ORG},
    "POST /api/v1/orgs/{org_id}/review": {ADMIN}, "POST /api/v1/orgs/review": {ADMIN},
    "GET /api/v1/pick/orgs": BUREAU | {ORG},
    "POST /api/v1/orgs/{org_id}/resubmit": {ADMIN, ORG},
    "POST /api/v1/orgs/{org_id}/teams": {ADMIN, ORG},
    "GET /api/v1/teams": BUREAU | {ORG},
    "GET /api/v1/teams/{team_id}": BUREAU | {ORG},
    "PATCH /api/v1/teams/{team_id}": {ADMIN, ORG},
    "POST /api/v1/teams/{team_id}/members": {ADMIN, ORG},
    "GET /api/v1/teams/{team_id}/members": BUREAU | {ORG},
    "POST /api/v1/teams/{team_id}/members/import": {ADMIN, ORG},
    "GET /api/v1/teams/{team_id}/members/export": BUREAU | {ORG},
    "POST /api/v1/teams/{team_id}/members/export": BUREAU | {ORG},  # as a job, like the GET
    "GET /api/v1/members/{member_id}": BUREAU | {ORG},
    "PATCH /api/v1/members/{member_id}": {ADMIN, ORG},
    "DELETE /api/v1/members/{member_id}": {ADMIN, ORG},
    "POST /api/v1/members/{member_id}/insurance": {ADMIN, ORG},
    "POST /api/v1/members/{member_id}/certificates": {ADMIN, ORG},
    "GET /api/v1/registry/expiring": BUREAU | {ORG},
    "POST /api/v1/registry/person-lookup": BUREAU,
    "POST /api/v1/trainings": {ADMIN, ORG}, "GET /api/v1/trainings": BUREAU | {ORG},
    # background jobs: everyone signed in, each their own (administrators everyone's)
    "GET /api/v1/jobs": ALL, "GET /api/v1/jobs/{job_id}": ALL,
    "POST /api/v1/jobs/{job_id}/cancel": ALL, "GET /api/v1/jobs/{job_id}/result": ALL,
    # layers, risk assessments: read everyone, write admin, planner
    "POST /api/v1/layers": {ADMIN, PLANNER}, "GET /api/v1/layers": ALL,
    "GET /api/v1/layers/{layer_id}": ALL, "GET /api/v1/layers/{layer_id}/features": ALL,
    "POST /api/v1/risk/assessments": {ADMIN, PLANNER}, "GET /api/v1/risk/assessments": ALL,
    "GET /api/v1/risk/assessments/{assessment_id}": ALL,
    "GET /api/v1/risk/assessments/{assessment_id}/cells": ALL,
    "GET /api/v1/risk/assessments/{assessment_id}/cells/{cell_id}": ALL,
    "GET /api/v1/risk/assessments/{assessment_id}/summary": ALL,
    "GET /api/v1/risk/assessments/{assessment_id}/export": ALL,
    "POST /api/v1/risk/assessments/{assessment_id}/export": ALL,  # as a job, like the GET
    "POST /api/v1/risk/assessments/{assessment_id}/summary": ALL,  # as a job, like the GET
    "GET /api/v1/risk/assessments/{assessment_id}/compare": ALL,
    # incidents, dispatches: read bureau (org_admin: own teams' dispatches); write admin,
    # dispatcher; org_admin answers own teams' dispatches
    "POST /api/v1/incidents": {ADMIN, DISPATCHER}, "GET /api/v1/incidents": BUREAU,
    "GET /api/v1/incidents/{incident_id}": BUREAU,
    "PATCH /api/v1/incidents/{incident_id}": {ADMIN, DISPATCHER},
    "POST /api/v1/incidents/{incident_id}/transition": {ADMIN, DISPATCHER},
    "POST /api/v1/incidents/evaluate": {ADMIN, DISPATCHER},
    "POST /api/v1/incidents/{incident_id}/close": {ADMIN, DISPATCHER},
    "GET /api/v1/incidents/{incident_id}/timeline": BUREAU,
    "GET /api/v1/incidents/{incident_id}/recommendations": BUREAU,
    "POST /api/v1/incidents/{incident_id}/dispatches": {ADMIN, DISPATCHER},
    "GET /api/v1/incidents/{incident_id}/dispatches": BUREAU,
    # incident information reports (首报/续报/终报): read bureau, write admin, dispatcher
    "POST /api/v1/incidents/{incident_id}/reports": {ADMIN, DISPATCHER},
    "GET /api/v1/incidents/{incident_id}/reports": BUREAU,
    "GET /api/v1/dispatches": BUREAU | {ORG},
    "GET /api/v1/dispatches/{dispatch_id}": BUREAU | {ORG},
    "POST /api/v1/dispatches/{dispatch_id}/transition": {ADMIN, DISPATCHER, ORG},
    # members on scene: the team's org_admin (or an admin) names them; check-ins also by
    # dispatchers; service hours read by the bureau and the member's organisation
    "POST /api/v1/dispatches/{dispatch_id}/members": {ADMIN, ORG},
    "GET /api/v1/dispatches/{dispatch_id}/members": BUREAU | {ORG},
    "POST /api/v1/dispatches/{dispatch_id}/checkins": {ADMIN, DISPATCHER, ORG},
    "GET /api/v1/dispatches/{dispatch_id}/checkins": BUREAU | {ORG},
    "GET /api/v1/members/{member_id}/service": BUREAU | {ORG},
    "POST /api/v1/incidents/{incident_id}/requisitions": {ADMIN, DISPATCHER},
    "GET /api/v1/incidents/{incident_id}/requisitions": BUREAU,
    "GET /api/v1/requisitions/{requisition_id}": BUREAU,
    "POST /api/v1/requisitions/{requisition_id}/return": {ADMIN, DISPATCHER},
    # compensation: read bureau, org_admin own; submit dispatcher, org_admin (own);
    # approve/reject/pay admin (admin may also submit)
    "GET /api/v1/dispatches/{dispatch_id}/compensation/prefill": {ADMIN, DISPATCHER, ORG},
    "POST /api/v1/dispatches/{dispatch_id}/compensation": {ADMIN, DISPATCHER, ORG},
    "POST /api/v1/requisitions/{requisition_id}/compensation": {ADMIN, DISPATCHER},
    "GET /api/v1/compensations": BUREAU | {ORG},
    "GET /api/v1/compensations/{claim_id}": BUREAU | {ORG},
    "POST /api/v1/compensations/{claim_id}/review": {ADMIN},
    "POST /api/v1/compensations/{claim_id}/pay": {ADMIN},
    # appeal (救济): the claimant (submitter, or the claiming organisation's admin; checked
    # per claim)
    "POST /api/v1/compensations/{claim_id}/appeal": {ADMIN, DISPATCHER, ORG},
    # emergency measures and their legal basis: read bureau roles; issue and lift admin,
    # dispatcher
    "POST /api/v1/incidents/{incident_id}/measures": {ADMIN, DISPATCHER},
    "POST /api/v1/measures/{measure_id}/lift": {ADMIN, DISPATCHER},
    "GET /api/v1/measures": BUREAU, "GET /api/v1/measures/{measure_id}": BUREAU,
    "GET /api/v1/measures/legal-bases": BUREAU,
    # map layers and search: everyone signed in (each layer applies its resource's rule)
    "GET /api/v1/maps/layers": ALL, "GET /api/v1/maps/layers/{name}": ALL,
    "GET /api/v1/maps/search": ALL, "GET /api/v1/maps/tiles/{layer}/{z}/{x}/{y}.mvt": ALL,
    # warnings (预警): read everyone signed in (others than bureau roles: released ones only);
    # draft and change admin, planner, dispatcher; approve, publish and lift admin, planner
    # (checked per step, with four eyes); the expiry job's endpoint admin
    "POST /api/v1/warnings": {ADMIN, PLANNER, DISPATCHER}, "GET /api/v1/warnings": ALL,
    "GET /api/v1/warnings/{warning_id}": ALL,
    "PATCH /api/v1/warnings/{warning_id}": {ADMIN, PLANNER, DISPATCHER},
    "POST /api/v1/warnings/{warning_id}/transition": {ADMIN, PLANNER, DISPATCHER},
    "POST /api/v1/warnings/expire": {ADMIN},
    # CAP import publishes: admin, planner (not dispatchers, who draft but never release);
    # the public feeds and each released warning's CAP document: no sign-in
    "POST /api/v1/warnings/import": {ADMIN, PLANNER},
    "GET /api/v1/public/warnings": PUBLIC, "GET /api/v1/public/warnings.atom": PUBLIC,
    "GET /api/v1/public/warnings/{warning_id}.cap": PUBLIC,
    # prices (价格异常预警): read bureau; observations (and their import) admin, planner;
    # alert steps admin, dispatcher; the catalogue's thresholds admin; complaints recorded
    # by admin, planner, dispatcher (docs/prices.md)
    "GET /api/v1/prices/commodities": BUREAU, "PUT /api/v1/prices/commodities/{code}": {ADMIN},
    "GET /api/v1/prices/observations": BUREAU,
    "POST /api/v1/prices/observations": {ADMIN, PLANNER},
    "POST /api/v1/prices/observations/import": {ADMIN, PLANNER},
    "GET /api/v1/prices/alerts": BUREAU, "GET /api/v1/prices/alerts/{alert_id}": BUREAU,
    "POST /api/v1/prices/alerts/{alert_id}/transition": {ADMIN, DISPATCHER},
    "GET /api/v1/prices/series": BUREAU,
    "GET /api/v1/prices/complaints": BUREAU,
    "POST /api/v1/prices/complaints": {ADMIN, PLANNER, DISPATCHER},
}

MISSING_ID = "999999"


def operations(client):
    """Every operation of the OpenAPI document as 'METHOD /path'."""
    doc = client.get("/api/v1/openapi.json").get_json()
    return sorted(f"{method.upper()} {path}" for path, ops in doc["paths"].items()
                  for method in ops if method in ("get", "post", "put", "patch", "delete"))


def test_matrix_covers_every_operation(client):
    missing = [op for op in operations(client) if op not in MATRIX]
    assert not missing, f"operations without a row in the permission matrix: {missing}"


def _call(client, op, headers, ids=None, body=None):
    """Call an operation with path parameters filled in (known ids, else a missing one)."""
    method, path = op.split(" ", 1)
    ids = ids or {}
    url = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), MISSING_ID)), path)
    kwargs = {"headers": headers}
    if method in ("POST", "PATCH", "PUT"):
        kwargs["json"] = body if body is not None else {}
    return client.open(url, method=method, **kwargs)


@pytest.mark.parametrize("role", (*ROLES, "anonymous"))
def test_role_gate_of_every_operation(client, actors, place, role):
    headers = {} if role == "anonymous" else actors.header(role)
    wrong = []
    for op in operations(client):
        allowed = MATRIX.get(op, ALL)
        response = _call(client, op, headers)
        status = response.status_code
        if status >= 500:
            wrong.append((op, status, "5xx"))
        elif allowed is PUBLIC:
            if status in (401, 403):
                wrong.append((op, status, "public operation refused"))
        elif role == "anonymous":
            if status != 401:
                wrong.append((op, status, "expected 401"))
        elif role in allowed:
            if status in (401, 403):
                wrong.append((op, status, "allowed role refused"))
        elif status != 403:
            wrong.append((op, status, "expected 403"))
    assert not wrong, wrong


@pytest.fixture
def two_orgs(client, actors):
    """Two approved organisations, each with its org_admin, a team and a member."""
    admin = actors.header(ADMIN)
    made = []
    for n in (1, 2):
        org, _user, headers = register_org(client, actors, 700 + n, admin_headers=admin)
        team = add_team(client, org["id"], headers)
        member = add_member(client, team["id"], headers, 700 + n)
        made.append({"headers": headers, "org_id": org["id"], "team_id": team["id"],
                     "member_id": member["id"]})
    return made


# District scope (--area) has its own rows, one per operation on an incident, dispatch,
# requisition, claim, organisation, team or member: DISTRICT_ROWS in test_security_scope.py.

# org-scoped operations with a valid body, so that only the scope can refuse them
ORG_SCOPED = {
    "GET /api/v1/orgs/{org_id}": None, "PATCH /api/v1/orgs/{org_id}": {"address": "新地址"},
    "POST /api/v1/orgs/{org_id}/teams": team_body(name="另一队"),
    "PATCH /api/v1/teams/{team_id}": {"name": "改名队"},
    "POST /api/v1/teams/{team_id}/members": member_body(777),
    "GET /api/v1/teams/{team_id}/members": None,
    "GET /api/v1/teams/{team_id}/members/export": None, "GET /api/v1/members/{member_id}": None,
    "POST /api/v1/teams/{team_id}/members/export": None,
    "GET /api/v1/pick/teams/{team_id}/members": None,
    "POST /api/v1/members/{member_id}/insurance": {
        "insurer": "中国人寿", "policy_number": "P-1", "starts_on": "2026-01-01",
        "ends_on": "2026-12-31", "coverage_amount": "500000.00"},
    "POST /api/v1/members/{member_id}/certificates": {
        "name": "红十字救护员证", "number": "C-1", "expires_on": "2027-06-30"},
    "PATCH /api/v1/members/{member_id}": {"name": "改名"},
    "GET /api/v1/members/{member_id}/service": None,
    "DELETE /api/v1/members/{member_id}": None,  # last: it erases the member
}


def test_org_admin_scope_own_org_only(client, two_orgs):
    mine, other = two_orgs
    wrong = []
    for op, body in ORG_SCOPED.items():
        outside = _call(client, op, mine["headers"], other, body).status_code
        inside = _call(client, op, mine["headers"], mine, body).status_code
        if inside in (401, 403, 404) or inside >= 500:
            wrong.append((op, "own", inside))
        if outside not in (403, 404):
            wrong.append((op, "other org", outside))
    assert not wrong, wrong
    listed = client.get("/api/v1/orgs", headers=mine["headers"]).get_json()
    assert {o["id"] for o in listed["items"]} == {mine["org_id"]}


def test_grid_staff_scope_own_grids_only(client, actors, place):
    grid1, grid2 = place["grids"]
    _user, mine = actors.make(GRID, grids=[grid1])
    admin = actors.header(ADMIN)
    own = client.post("/api/v1/hazards", json=hazard_body(INSIDE_1), headers=mine)
    assert own.status_code == 201, own.get_json()
    other = client.post("/api/v1/hazards", json=hazard_body(INSIDE_2), headers=admin)
    assert other.status_code == 201
    assert client.post("/api/v1/hazards", json=hazard_body(INSIDE_2),
                       headers=mine).status_code == 403
    own_id, other_id = own.get_json()["id"], other.get_json()["id"]
    assert client.get(f"/api/v1/hazards/{own_id}", headers=mine).status_code == 200
    assert client.get(f"/api/v1/hazards/{other_id}", headers=mine).status_code in (403, 404)
    listed = client.get("/api/v1/hazards", headers=mine).get_json()
    assert {f["id"] for f in listed["features"]} == {own_id}
    step = client.post(f"/api/v1/hazards/{other_id}/transition",
                       json={"to": "rectifying", "note": "x"}, headers=mine)
    assert step.status_code in (403, 404)


@pytest.mark.parametrize("role,unmasked", [(ADMIN, True), (DISPATCHER, True),
                                           (PLANNER, False), (AUDITOR, False)])
def test_reveal_only_for_admin_dispatcher_and_own_org(client, actors, two_orgs, role,
                                                      unmasked):
    mine, _other = two_orgs
    number = member_body(701)["id_number"]
    headers = actors.header(role)
    response = client.get(f"/api/v1/members/{mine['member_id']}?reveal=1", headers=headers)
    shown = response.get_data(as_text=True)
    assert (number in shown) == unmasked, (response.status_code, shown)
    own = client.get(f"/api/v1/members/{mine['member_id']}?reveal=1",
                     headers=mine["headers"]).get_data(as_text=True)
    assert number in own
