"""Incidents find their published plan and response level; metric changes re-evaluate."""

from tests.incidents.conftest import incident_body

LEVELS = [
    {"level": 1, "criteria": [{"metric": "deaths", "op": ">=", "value": 30}],
     "actions": [{"unit": "市防汛抗旱指挥部", "duty": "启动一级响应"}],
     "required_forces": [{"category": "water", "count": 6}]},
    {"level": 4, "criteria": [{"metric": "deaths", "op": ">=", "value": 1}],
     "actions": [{"unit": "区应急管理局", "duty": "组织抢险"}],
     "required_forces": [{"category": "water", "count": 1},
                         {"category": "mountain", "count": 1}]},
]


def _published_plan(client, place, headers, approver):
    """A published flood plan of the test district (submitted by ``headers``, published by
    ``approver``: four eyes)."""
    body = {"title": "测试区防汛应急预案", "kind": "special", "incident_type": "flood",
            "area_code": place["district"], "owner": "测试区应急管理局",
            "sections": [{"title": "总则", "body": "适用范围"}], "response_levels": LEVELS,
            "drill_interval_months": 12}
    plan = client.post("/api/v1/plans", json=body, headers=headers)
    assert plan.status_code == 201, plan.get_json()
    plan_id = plan.get_json()["id"]
    for to in ("in_review", "published"):
        r = client.post(f"/api/v1/plans/{plan_id}/transition", json={"to": to, "note": ""},
                        headers=approver if to == "published" else headers)
        assert r.status_code == 200, r.get_json()
    return plan_id


def test_level_found_and_reevaluated(client, place, actors, forces, dispatcher):
    plan_id = _published_plan(client, place, actors.header("planner"), actors.header("admin"))
    r = client.post("/api/v1/incidents", json=incident_body(
        incident_type="flood", metrics={"deaths": 2, "injured": 2},
        location={"type": "Point", "coordinates": [106.52, 29.52]}), headers=dispatcher)
    assert r.status_code == 201, r.get_json()
    inc = r.get_json()
    assert inc["plan_id"] == plan_id and inc["response_level"] == 4
    assert [f["missing"] for f in inc["forces"]] == [1, 1]
    org, oh = forces.org()
    water = forces.team(oh, org["id"], 106.53, 29.53, category="water")
    client.post(f"/api/v1/incidents/{inc['id']}/dispatches", json={"team_id": water["id"]},
                headers=dispatcher)
    got = client.get(f"/api/v1/incidents/{inc['id']}", headers=dispatcher).get_json()
    assert {f["category"]: f["missing"] for f in got["forces"]} == {"water": 0, "mountain": 1}
    r = client.patch(f"/api/v1/incidents/{inc['id']}",
                     json={"metrics": {"deaths": 31}, "note": "续报"}, headers=dispatcher)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["response_level"] == 1
    assert r.get_json()["metrics"] == {"deaths": 31, "injured": 2}
    assert {f["category"]: f["missing"] for f in r.get_json()["forces"]} == {"water": 5}
    kinds = [e["kind"] for e in client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                                           headers=dispatcher).get_json()["items"]]
    assert kinds[0] == "opened" and "metrics" in kinds and "level" in kinds


def test_outside_any_plan_area_has_no_plan(client, place, actors, dispatcher):
    _published_plan(client, place, actors.header("planner"), actors.header("admin"))
    r = client.post("/api/v1/incidents", json=incident_body(
        incident_type="flood", metrics={"deaths": 50},
        location={"type": "Point", "coordinates": [110.0, 25.0]}), headers=dispatcher)
    assert r.status_code == 201
    assert r.get_json()["plan_id"] is None and r.get_json()["response_level"] is None
