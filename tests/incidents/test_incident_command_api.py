"""Incident command through the API (issue 16): evaluation before saving, teams that fill a
gap, metrics with a reason, closing with the after-action record, members on scene,
check-ins, service hours, live events and the complete timeline — on both backends."""

from sqlalchemy import select

from emergency.events.models import LiveEvent
from tests.conftest import error_of
from tests.incidents.conftest import AFTER_ACTION, incident_body
from tests.incidents.test_incidents_plans import _published_plan

FLOOD_SITE = {"type": "Point", "coordinates": [106.52, 29.52]}


def _incident(client, headers, **extra):
    """Create an incident and return its body."""
    r = client.post("/api/v1/incidents", json=incident_body(**extra), headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _flood(client, headers, deaths=2):
    """A flood incident in the test district, under its published plan."""
    return _incident(client, headers, incident_type="flood", location=FLOOD_SITE,
                     metrics={"deaths": deaths, "injured": 2})


def _dispatch(client, headers, incident_id, team_id, **body):
    """Request a team; returns the dispatch."""
    r = client.post(f"/api/v1/incidents/{incident_id}/dispatches",
                    json={"team_id": team_id, **body}, headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def _step(client, headers, dispatch_id, *steps, note=""):
    """Advance a dispatch through ``steps`` (each must succeed)."""
    for to in steps:
        r = client.post(f"/api/v1/dispatches/{dispatch_id}/transition",
                        json={"to": to, "note": note}, headers=headers)
        assert r.status_code == 200, (to, r.get_json())
    return r.get_json()


# ---------------------------------------------------------------- evaluate


def test_evaluate_shows_plan_and_level_and_stores_nothing(client, place, actors, dispatcher,
                                                          db):
    plan_id = _published_plan(client, place, actors.header("planner"))
    before = client.get("/api/v1/incidents", headers=dispatcher).get_json()["total"]
    body = {"incident_type": "flood", "location": FLOOD_SITE, "metrics": {"deaths": 31}}
    r = client.post("/api/v1/incidents/evaluate", json=body, headers=dispatcher)
    assert r.status_code == 200, r.get_json()
    got = r.get_json()
    assert got["plan_id"] == plan_id and got["response_level"] == 1
    assert got["plan_title"] == "测试区防汛应急预案" and got["plan_version"] >= 1
    assert got["required_forces"] == [{"category": "water", "count": 6}]
    assert got["area_code"] == place["community"] and got["area_name"] == "测试社区"
    assert got["matched"]
    low = client.post("/api/v1/incidents/evaluate", json={**body, "metrics": {"deaths": 1}},
                      headers=dispatcher).get_json()
    assert low["response_level"] == 4
    assert client.get("/api/v1/incidents", headers=dispatcher).get_json()["total"] == before
    assert db.scalar(select(LiveEvent.id).where(LiveEvent.type == "incident.created")) is None
    nowhere = client.post("/api/v1/incidents/evaluate", json={
        **body, "location": {"type": "Point", "coordinates": [110.0, 25.0]}},
        headers=dispatcher).get_json()
    assert nowhere["plan_id"] is None and nowhere["response_level"] is None
    assert nowhere["area_code"] is None and nowhere["area_name"] is None


def test_evaluate_refuses_what_creating_refuses(client, actors, dispatcher):
    url = "/api/v1/incidents/evaluate"
    point = {"type": "Point", "coordinates": [106.55, 29.56]}
    r = client.post(url, json={"incident_type": "nonsense", "location": point},
                    headers=dispatcher)
    assert r.status_code == 422 and "incident_type" in error_of(r)["details"]
    r = client.post(url, json={"incident_type": "flood", "location": point,
                               "metrics": {"deaths": -1}}, headers=dispatcher)
    assert r.status_code == 422 and "metrics" in error_of(r)["details"]
    r = client.post(url, json={"incident_type": "flood"}, headers=dispatcher)
    assert r.status_code == 422 and "location" in error_of(r)["details"]
    r = client.post(url, json={"incident_type": "flood", "location": point, "crs": "gcj02"},
                    headers=dispatcher)
    assert r.status_code == 200
    assert client.post(url, json={"incident_type": "flood", "location": point}) \
        .status_code == 401
    for role in ("planner", "org_admin", "auditor", "grid_staff"):
        assert client.post(url, json={"incident_type": "flood", "location": point},
                           headers=actors.header(role)).status_code == 403, role


# ---------------------------------------------------------------- fills_gap


def test_recommendations_rank_teams_that_fill_a_gap_first(client, place, actors, forces,
                                                          dispatcher):
    _published_plan(client, place, actors.header("planner"))
    inc = _flood(client, dispatcher)  # level 4: one water team, one mountain team
    org, oh = forces.org()
    near_mountain = forces.team(oh, org["id"], 106.521, 29.521, category="mountain")
    near_medical = forces.team(oh, org["id"], 106.522, 29.522, category="medical")
    far_water = forces.team(oh, org["id"], 106.60, 29.60, category="water")
    url = f"/api/v1/incidents/{inc['id']}/recommendations"
    body = client.get(url, headers=dispatcher).get_json()
    assert body["missing_categories"] == ["mountain", "water"]
    ranked = [(t["team_id"], t["fills_gap"]) for t in body["items"]]
    assert ranked == [(near_mountain["id"], True), (far_water["id"], True),
                      (near_medical["id"], False)]
    for team in body["items"]:
        assert team["why"] and "reason" not in team
    # A gap team far away still comes first when the limit is short.
    two = client.get(url + "?limit=2", headers=dispatcher).get_json()
    assert [t["team_id"] for t in two["items"]] == [near_mountain["id"], far_water["id"]]
    _dispatch(client, dispatcher, inc["id"], near_mountain["id"])
    after = client.get(url, headers=dispatcher).get_json()
    assert after["missing_categories"] == ["water"]
    assert [(t["team_id"], t["fills_gap"]) for t in after["items"]] == \
        [(far_water["id"], True), (near_medical["id"], False)]
    only = client.get(url + "?category=medical", headers=dispatcher).get_json()
    assert [(t["team_id"], t["fills_gap"]) for t in only["items"]] == \
        [(near_medical["id"], False)]


def test_without_a_plan_no_team_fills_a_gap(client, forces, dispatcher):
    inc = _incident(client, dispatcher)
    org, oh = forces.org()
    team = forces.team(oh, org["id"], 106.56, 29.57)
    body = client.get(f"/api/v1/incidents/{inc['id']}/recommendations",
                      headers=dispatcher).get_json()
    assert body["missing_categories"] == []
    assert [(t["team_id"], t["fills_gap"]) for t in body["items"]] == [(team["id"], False)]


# ---------------------------------------------------------------- metrics with a reason


def test_metrics_change_needs_a_reason_and_logs_the_level_change(client, place, actors,
                                                                 dispatcher):
    _published_plan(client, place, actors.header("planner"))
    inc = _flood(client, dispatcher)
    url = f"/api/v1/incidents/{inc['id']}"
    r = client.patch(url, json={"metrics": {"deaths": 31}}, headers=dispatcher)
    assert r.status_code == 422 and "note" in error_of(r)["details"]
    r = client.patch(url, json={"metrics": {"deaths": 31}, "note": "   "}, headers=dispatcher)
    assert r.status_code == 422 and "note" in error_of(r)["details"]
    r = client.patch(url, json={"metrics": {"deaths": 31}, "note": "续报：死亡 31 人"},
                     headers=dispatcher)
    assert r.status_code == 200 and r.get_json()["response_level"] == 1
    timeline = client.get(url + "/timeline", headers=dispatcher).get_json()["items"]
    level = [e for e in timeline if e["kind"] == "level"]
    assert len(level) == 1
    assert level[0]["detail"]["before"] == 4 and level[0]["detail"]["after"] == 1
    assert level[0]["detail"]["reason"] == "续报：死亡 31 人"
    assert level[0]["actor"].startswith("dispatcher") and level[0]["at"]
    # Title alone needs no reason.
    r = client.patch(url, json={"title": "城区内涝"}, headers=dispatcher)
    assert r.status_code == 200 and r.get_json()["title"] == "城区内涝"


# ---------------------------------------------------------------- closing


def test_close_needs_the_full_after_action_record(client, dispatcher):
    inc = _incident(client, dispatcher)
    url = f"/api/v1/incidents/{inc['id']}/close"
    r = client.post(url, json={}, headers=dispatcher)
    assert r.status_code == 422
    assert set(error_of(r)["details"]) == set(AFTER_ACTION)
    bad = {"summary": "  ", "dead": -1, "missing": 1.5, "injured": "2",
           "losses_yuan": "lots", "lessons": ""}
    r = client.post(url, json=bad, headers=dispatcher)
    assert r.status_code == 422
    assert set(error_of(r)["details"]) >= {"dead", "missing", "injured", "lessons"}
    for losses in ("-1", "NaN", True, None, "1e30"):
        r = client.post(url, json={**AFTER_ACTION, "losses_yuan": losses}, headers=dispatcher)
        assert r.status_code == 422 and "losses_yuan" in error_of(r)["details"], losses
    r = client.post(url, json={**AFTER_ACTION, "summary": "   "}, headers=dispatcher)
    assert r.status_code == 422 and "summary" in error_of(r)["details"]
    r = client.post(url, json={**AFTER_ACTION, "losses_yuan": 12000.5}, headers=dispatcher)
    assert r.status_code == 200, r.get_json()
    closed = r.get_json()
    assert closed["status"] == "closed" and closed["closed_at"]
    record = closed["after_action"]
    assert record["losses_yuan"] == "12000.50" and record["injured"] == 2
    assert record["summary"] == "处置完毕" and record["recorded_by"].startswith("dispatcher")
    got = client.get(f"/api/v1/incidents/{inc['id']}", headers=dispatcher).get_json()
    assert got["after_action"] == record and got["status"] == "closed"
    again = client.post(url, json=AFTER_ACTION, headers=dispatcher)
    assert again.status_code == 409
    r = client.patch(f"/api/v1/incidents/{inc['id']}",
                     json={"metrics": {"deaths": 1}, "note": "补报"}, headers=dispatcher)
    assert r.status_code == 409
    last = client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                      headers=dispatcher).get_json()["items"][-1]
    assert last["kind"] == "closed" and last["detail"]["after_action"]["dead"] == 0


def test_close_refused_while_a_dispatch_is_active(client, forces, dispatcher, actors):
    org, oh = forces.org()
    team = forces.team(oh, org["id"], 106.56, 29.57, name="山地一队")
    inc = _incident(client, dispatcher)
    d = _dispatch(client, dispatcher, inc["id"], team["id"])
    url = f"/api/v1/incidents/{inc['id']}/close"
    for steps in ((), ("accepted",), ("en_route",), ("on_scene",)):
        if steps:
            _step(client, oh, d["id"], *steps)
        r = client.post(url, json=AFTER_ACTION, headers=dispatcher)
        assert r.status_code == 409, steps
        error = error_of(r)
        assert error["code"] == "active_dispatch"
        assert f"dispatch {d['id']}" in error["message"] and "山地一队" in error["message"]
        assert error["details"]["dispatches"] == [d["id"]]
    _step(client, oh, d["id"], "completed")
    assert client.post(url, json=AFTER_ACTION, headers=dispatcher).status_code == 200
    for role in ("planner", "org_admin", "auditor"):
        assert client.post(url, json=AFTER_ACTION,
                           headers=actors.header(role)).status_code == 403


def test_closing_without_the_record_is_refused(client, dispatcher):
    inc = _incident(client, dispatcher)
    r = client.post(f"/api/v1/incidents/{inc['id']}/transition", json={"to": "closed"},
                    headers=dispatcher)
    assert r.status_code == 422
    assert error_of(r)["code"] == "use_close" and "to" in error_of(r)["details"]
    assert "/close" in error_of(r)["message"]
    r = client.patch(f"/api/v1/incidents/{inc['id']}", json={"status": "closed"},
                     headers=dispatcher)
    assert r.status_code == 422 and "status" in error_of(r)["details"]
    r = client.post(f"/api/v1/incidents/{inc['id']}/transition", json={"to": "responding"},
                    headers=dispatcher)
    assert r.status_code == 200 and r.get_json()["status"] == "responding"
    got = client.get(f"/api/v1/incidents/{inc['id']}", headers=dispatcher).get_json()
    assert got["status"] == "responding" and got["after_action"] is None
