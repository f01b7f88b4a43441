"""Registry fixtures: a ready-made approved organisation with a team and a member."""

import pytest

from tests.registry.registry_factories import member_body, org_body, team_body


@pytest.fixture
def forces(client, actors):
    """An approved organisation with its org_admin, one team and one member."""
    org_admin, org_headers = actors.make("org_admin")
    admin_headers = actors.header("admin")
    org = client.post("/api/v1/orgs", json=org_body(), headers=org_headers).get_json()
    client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"},
                headers=admin_headers)
    team = client.post(f"/api/v1/orgs/{org['id']}/teams", json=team_body(),
                       headers=org_headers).get_json()
    member = client.post(f"/api/v1/teams/{team['id']}/members", json=member_body(),
                         headers=org_headers).get_json()
    return {"org": org, "team": team, "member": member, "org_admin": org_admin,
            "org_headers": org_headers, "admin_headers": admin_headers}
