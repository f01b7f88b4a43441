"""Drills API: recording drills with registry teams and findings; overdue lists."""

from datetime import timedelta

import pytest

from plans.service import today
from tests.conftest import error_of
from tests.factories import add_team, register_org
from tests.plans.test_plans_api import create, move


@pytest.fixture
def planner(actors):
    """A planner's Authorization header."""
    return actors.header("planner")


@pytest.fixture
def team_id(client, actors):
    """A registry team's id (created through the registry API)."""
    org, _user, org_headers = register_org(client, actors, 7, approve=False)
    return add_team(client, org["id"], org_headers, category="water")["id"]


def test_record_a_drill_with_teams_and_findings(client, place, planner, team_id):
    plan = create(client, place, planner)
    move(client, plan["id"], "in_review", planner)
    move(client, plan["id"], "published", planner)
    response = client.post(f"/api/v1/plans/{plan['id']}/drills", json={
        "held_on": "2026-06-01", "kind": "double_blind", "team_ids": [team_id],
        "findings": [{"description": "预警信息传递慢", "corrective_action": "建立直报群",
                      "owner": "区应急管理局", "due_on": "2026-08-01"}]}, headers=planner)
    assert response.status_code == 201, response.get_json()
    drill = response.get_json()
    assert drill["team_ids"] == [team_id] and drill["teams"][0]["category"] == "water"
    assert drill["plan_version"] == 1
    finding = drill["findings"][0]
    assert (finding["status"], finding["owner"]) == ("open", "区应急管理局")
    patched = client.patch(f"/api/v1/drills/{drill['id']}/findings/{finding['id']}",
                           json={"status": "done"}, headers=planner)
    assert patched.status_code == 200 and patched.get_json()["status"] == "done"
    listed = client.get(f"/api/v1/plans/{plan['id']}/drills", headers=planner).get_json()
    assert listed["total"] == 1 and listed["items"][0]["findings"][0]["status"] == "done"
    after = client.get(f"/api/v1/plans/{plan['id']}", headers=planner).get_json()
    assert after["last_drill_on"] == "2026-06-01"


def test_findings_may_be_plain_text(client, place, planner):
    plan = create(client, place, planner)
    response = client.post(f"/api/v1/plans/{plan['id']}/drills", json={
        "held_on": "2026-03-01", "kind": "tabletop", "team_ids": [],
        "findings": "指挥部成员到位慢"}, headers=planner)
    assert response.status_code == 201
    assert response.get_json()["findings"][0]["description"] == "指挥部成员到位慢"


def test_unknown_team_and_bad_fields_are_422(client, place, planner, team_id):
    plan = create(client, place, planner)
    response = client.post(f"/api/v1/plans/{plan['id']}/drills", json={
        "held_on": "2026-03-01", "kind": "tabletop", "team_ids": [team_id, team_id + 1000]},
        headers=planner)
    assert response.status_code == 422
    assert "team_ids.1" in error_of(response)["details"]
    response = client.post(f"/api/v1/plans/{plan['id']}/drills", json={
        "held_on": "yesterday", "kind": "exercise", "findings": [{"owner": "x"}]},
        headers=planner)
    assert response.status_code == 422
    details = error_of(response)["details"]
    assert {"held_on", "kind", "findings.0.description"} <= set(details)
    assert client.get(f"/api/v1/plans/{plan['id']}/drills",
                      headers=planner).get_json()["total"] == 0


def test_an_old_drill_makes_the_plan_drill_overdue(client, place, planner, actors):
    plan = create(client, place, planner, drill_interval_months=12)
    fresh = create(client, place, planner, title="另一个预案", drill_interval_months=12)
    client.post(f"/api/v1/plans/{plan['id']}/drills",
                json={"held_on": "2020-05-01", "kind": "functional"}, headers=planner)
    client.post(f"/api/v1/plans/{fresh['id']}/drills",
                json={"held_on": "2020-05-01", "kind": "functional"}, headers=planner)
    client.post(f"/api/v1/plans/{fresh['id']}/drills",
                json={"held_on": (today() - timedelta(days=10)).isoformat(),
                      "kind": "full_scale"}, headers=planner)
    reader = actors.header("auditor")
    overdue = client.get("/api/v1/plans?drill_overdue=true", headers=reader).get_json()
    assert [p["id"] for p in overdue["items"]] == [plan["id"]]
    assert overdue["items"][0]["drill_overdue"] is True
    assert overdue["items"][0]["drill_due_on"] == "2021-05-01"


def test_a_retried_drill_is_not_recorded_twice(client, place, planner):
    plan = create(client, place, planner)
    body = {"held_on": "2026-03-01", "kind": "tabletop", "title": "桌面推演"}
    first = client.post(f"/api/v1/plans/{plan['id']}/drills", json=body, headers=planner)
    again = client.post(f"/api/v1/plans/{plan['id']}/drills", json=body, headers=planner)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["id"] == again.get_json()["id"]
    other = client.post(f"/api/v1/plans/{plan['id']}/drills", headers=planner,
                        json={**body, "held_on": "2026-04-01"})
    assert other.status_code == 201
    listed = client.get(f"/api/v1/plans/{plan['id']}/drills", headers=planner).get_json()
    assert listed["total"] == 2
