"""Permission matrix: every registry endpoint for every role of contract §3."""

import pytest

from tests.factories import member_body, org_body, team_body

BUREAU = ("admin", "planner", "dispatcher", "auditor")
ROLES = BUREAU + ("grid_staff", "own_org_admin", "other_org_admin")
REVEALERS = ("admin", "dispatcher", "own_org_admin")
WRITERS = ("admin", "own_org_admin")
READERS = BUREAU + ("own_org_admin",)


def _expected(allowed, ok, role):
    """The status a role gets: ``ok`` when allowed, else 403."""
    return ok if role in allowed else 403


def _cases(f, role, n):
    """(method, url, json, expected status) for every registry endpoint."""
    org, team, member = f["org"]["id"], f["team"]["id"], f["member"]["id"]
    everyone_reads = READERS + ("other_org_admin",)
    return [
        ("GET", "/api/v1/orgs", None, _expected(everyone_reads, 200, role)),
        ("GET", f"/api/v1/orgs/{org}", None, _expected(READERS, 200, role)),
        ("PATCH", f"/api/v1/orgs/{org}", {"address": "新地址"}, _expected(WRITERS, 200, role)),
        ("POST", f"/api/v1/orgs/{org}/review", {"decision": "approve"},
         _expected(("admin",), 409, role)),
        ("POST", f"/api/v1/orgs/{org}/resubmit", {}, _expected(WRITERS, 409, role)),
        ("POST", f"/api/v1/orgs/{org}/teams", team_body(), _expected(WRITERS, 201, role)),
        ("GET", "/api/v1/teams", None, _expected(everyone_reads, 200, role)),
        ("GET", f"/api/v1/teams/{team}", None, _expected(READERS, 200, role)),
        ("PATCH", f"/api/v1/teams/{team}", {"service_radius_km": 40},
         _expected(WRITERS, 200, role)),
        ("POST", f"/api/v1/teams/{team}/members", member_body(100 + n),
         _expected(WRITERS, 201, role)),
        ("GET", f"/api/v1/teams/{team}/members", None, _expected(READERS, 200, role)),
        ("GET", f"/api/v1/teams/{team}/members?reveal=1", None,
         _expected(REVEALERS, 200, role)),
        ("POST", f"/api/v1/teams/{team}/members/import", None, _expected(WRITERS, 422, role)),
        ("GET", f"/api/v1/teams/{team}/members/export", None, _expected(READERS, 200, role)),
        ("GET", f"/api/v1/teams/{team}/members/export?reveal=1", None,
         _expected(REVEALERS, 200, role)),
        ("GET", f"/api/v1/members/{member}", None, _expected(READERS, 200, role)),
        ("GET", f"/api/v1/members/{member}?reveal=1", None, _expected(REVEALERS, 200, role)),
        ("POST", f"/api/v1/members/{member}/insurance",
         {"insurer": "人保", "policy_number": f"P{n}", "starts_on": "2026-01-01",
          "ends_on": "2026-12-31", "coverage_amount": "100000"}, _expected(WRITERS, 201, role)),
        ("POST", f"/api/v1/members/{member}/certificates", {"name": "救生员证"},
         _expected(WRITERS, 201, role)),
        ("GET", "/api/v1/registry/expiring", None, _expected(everyone_reads, 200, role)),
        ("POST", "/api/v1/registry/person-lookup", {"id_number": member_body()["id_number"]},
         _expected(BUREAU, 200, role)),
        ("POST", "/api/v1/trainings", {"held_on": "2026-05-01", "hours": "2", "topic": "演练",
                                        "team_ids": [team]}, _expected(WRITERS, 201, role)),
        ("GET", "/api/v1/trainings", None, _expected(everyone_reads, 200, role)),
        ("POST", "/api/v1/orgs", org_body(50 + n),
         {"admin": 201, "own_org_admin": 409, "other_org_admin": 409}.get(role, 403)),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, actors, forces, role):
    other_org = client.post("/api/v1/orgs", json=org_body(40),
                            headers=forces["admin_headers"]).get_json()
    if role == "own_org_admin":
        headers = forces["org_headers"]
    elif role == "other_org_admin":
        headers = actors.header("org_admin", org_id=other_org["id"])
    else:
        headers = actors.header(role)
    wrong = []
    for n, (method, url, body, expected) in enumerate(_cases(forces, role, ROLES.index(role))):
        got = client.open(url, method=method, json=body, headers=headers).status_code
        if got != expected:
            wrong.append(f"{method} {url}: {got} != {expected}")
        anonymous = client.open(url, method=method, json=body).status_code
        if anonymous != 401:
            wrong.append(f"anonymous {method} {url}: {anonymous}")
        assert n < 100
    assert wrong == []


def test_org_admin_lists_only_their_own(client, actors, forces):
    client.post("/api/v1/orgs", json=org_body(41), headers=forces["admin_headers"])
    orgs = client.get("/api/v1/orgs", headers=forces["org_headers"]).get_json()
    assert [o["id"] for o in orgs["items"]] == [forces["org"]["id"]]
    lonely = client.get("/api/v1/teams", headers=actors.header("org_admin")).get_json()
    assert lonely["features"] == []
