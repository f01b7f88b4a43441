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
    plan_id = _published_plan(client, place, actors.header("planner"), actors.header("admin"))
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
    _published_plan(client, place, actors.header("planner"), actors.header("admin"))
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
    _published_plan(client, place, actors.header("planner"), actors.header("admin"))
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


# ---------------------------------------------------------------- members on scene


def _members(client, headers, team_id):
    """The ids of a team's members, oldest first."""
    r = client.get(f"/api/v1/teams/{team_id}/members", headers=headers)
    assert r.status_code == 200, r.get_json()
    return sorted(m["id"] for m in r.get_json()["items"])


def _scene(client, forces, dispatcher, members=3):
    """An incident, a team with members and an accepted dispatch of it."""
    org, oh = forces.org()
    team = forces.team(oh, org["id"], 106.56, 29.57, members=members, insured=members)
    inc = _incident(client, dispatcher)
    d = _dispatch(client, dispatcher, inc["id"], team["id"], task="搜救", members_requested=2)
    return {"org": org, "oh": oh, "team": team, "incident": inc, "dispatch": d,
            "members": _members(client, oh, team["id"])}


def test_members_are_named_by_the_team_organisation(client, forces, dispatcher, actors):
    s = _scene(client, forces, dispatcher)
    d, oh, (m1, m2, m3) = s["dispatch"], s["oh"], s["members"]
    url = f"/api/v1/dispatches/{d['id']}/members"
    early = client.post(url, json={"member_ids": [m1]}, headers=oh)
    assert early.status_code == 409 and error_of(early)["code"] == "wrong_state"
    _step(client, oh, d["id"], "accepted")
    r = client.post(url, json={"member_ids": [m1, m2, m1]}, headers=oh)
    assert r.status_code == 200, r.get_json()
    items = r.get_json()["items"]
    assert [m["member_id"] for m in items] == [m1, m2]
    for member in items:
        assert member["name"] and member["checked_in"] is False and member["hours"] == 0.0
        assert "*" in member["phone_masked"] and "phone" not in member
    again = client.post(url, json={"member_ids": [m2, m1]}, headers=oh)
    assert [m["member_id"] for m in again.get_json()["items"]] == [m1, m2]
    got = client.get(f"/api/v1/dispatches/{d['id']}", headers=dispatcher).get_json()
    assert got["members_named"] == 2
    other_team = forces.team(oh, s["org"]["id"], 106.58, 29.58, members=1)
    stranger = _members(client, oh, other_team["id"])[0]
    r = client.post(url, json={"member_ids": [m1, stranger, 99999999]}, headers=oh)
    assert r.status_code == 422
    assert str(stranger) in error_of(r)["message"] and "99999999" in error_of(r)["message"]
    assert "member_ids" in error_of(r)["details"]
    r = client.post(url, json={"member_ids": "x"}, headers=oh)
    assert r.status_code == 422 and "member_ids" in error_of(r)["details"]
    other_org = forces.org()[1]
    assert client.post(url, json={"member_ids": [m1]}, headers=other_org).status_code == 403
    assert client.get(url, headers=other_org).status_code == 403
    assert client.post(url, json={"member_ids": [m1]}, headers=dispatcher).status_code == 403
    admin = client.post(url, json={"member_ids": [m1, m2, m3]}, headers=actors.header("admin"))
    assert admin.status_code == 200 and len(admin.get_json()["items"]) == 3
    assert client.get(url, headers=actors.header("auditor")).get_json()["total"] == 3
    listed = client.get(f"/api/v1/dispatches?incident_id={s['incident']['id']}",
                        headers=dispatcher).get_json()["items"]
    assert listed[0]["members_named"] == 3


def test_check_in_and_out_on_scene(client, forces, dispatcher, actors, db):
    s = _scene(client, forces, dispatcher)
    d, oh, (m1, m2, m3) = s["dispatch"], s["oh"], s["members"]
    url = f"/api/v1/dispatches/{d['id']}/checkins"
    r = client.post(url, json={"member_id": m1, "kind": "in"}, headers=oh)
    assert r.status_code == 409 and error_of(r)["code"] == "wrong_state"  # requested
    _step(client, oh, d["id"], "accepted")
    client.post(f"/api/v1/dispatches/{d['id']}/members", json={"member_ids": [m1, m2]},
                headers=oh)
    here = {"type": "Point", "coordinates": [106.551, 29.561]}
    r = client.post(url, json={"member_id": m1, "kind": "in", "location": here}, headers=oh)
    assert r.status_code == 409 and error_of(r)["code"] == "wrong_state"  # accepted only
    _step(client, oh, d["id"], "en_route")
    r = client.post(url, json={"member_id": m1, "kind": "in", "location": here}, headers=oh)
    assert r.status_code == 201, r.get_json()
    first = r.get_json()
    assert first["kind"] == "in" and first["location"]["coordinates"] == [106.551, 29.561]
    assert first["at"] and first["name"]
    # The first arrival puts the dispatch on scene.
    assert client.get(f"/api/v1/dispatches/{d['id']}", headers=oh).get_json()["status"] == \
        "on_scene"
    again = client.post(url, json={"member_id": m1, "kind": "in"}, headers=oh)
    assert again.status_code == 409 and error_of(again)["code"] == "already_in"
    out = client.post(url, json={"member_id": m2, "kind": "out"}, headers=oh)
    assert out.status_code == 409 and error_of(out)["code"] == "not_in"
    unnamed = client.post(url, json={"member_id": m3, "kind": "in"}, headers=oh)
    assert unnamed.status_code == 422 and "member_id" in error_of(unnamed)["details"]
    other_team = forces.team(oh, s["org"]["id"], 106.58, 29.58, members=1)
    stranger = _members(client, oh, other_team["id"])[0]
    r = client.post(url, json={"member_id": stranger, "kind": "in"}, headers=oh)
    assert r.status_code == 422 and "member_id" in error_of(r)["details"]
    r = client.post(url, json={"member_id": m1, "kind": "maybe"}, headers=oh)
    assert r.status_code == 422 and "kind" in error_of(r)["details"]
    r = client.post(url, json={"member_id": m2, "kind": "in", "location": here, "crs": "gcj02"},
                    headers=dispatcher)
    assert r.status_code == 201  # dispatchers record too; GCJ-02 converted
    assert r.get_json()["location"]["coordinates"] != [106.551, 29.561]
    assert client.post(url, json={"member_id": m1, "kind": "out"},
                       headers=forces.org()[1]).status_code == 403
    assert client.post(url, json={"member_id": m1, "kind": "out"},
                       headers=actors.header("auditor")).status_code == 403
    members = client.get(f"/api/v1/dispatches/{d['id']}/members", headers=oh).get_json()
    assert {m["member_id"]: m["checked_in"] for m in members["items"]} == {m1: True, m2: True}
    # Someone who came cannot be taken off the list.
    r = client.post(f"/api/v1/dispatches/{d['id']}/members", json={"member_ids": [m2]},
                    headers=oh)
    assert r.status_code == 409 and error_of(r)["code"] == "checked_in"
    assert client.post(url, json={"member_id": m1, "kind": "out"}, headers=oh).status_code \
        == 201
    listed = client.get(url, headers=dispatcher).get_json()
    assert [(c["member_id"], c["kind"]) for c in listed["items"]] == \
        [(m1, "in"), (m2, "in"), (m1, "out")]
    # Completing checks out whoever is still in, at that time.
    done = _step(client, oh, d["id"], "completed")
    listed = client.get(url, headers=dispatcher).get_json()["items"]
    assert [(c["member_id"], c["kind"]) for c in listed] == \
        [(m1, "in"), (m2, "in"), (m1, "out"), (m2, "out")]
    assert listed[-1]["at"] == done["ended_at"]
    r = client.post(url, json={"member_id": m1, "kind": "in"}, headers=oh)
    assert r.status_code == 409
    members = client.get(f"/api/v1/dispatches/{d['id']}/members", headers=oh).get_json()
    assert not any(m["checked_in"] for m in members["items"])


def _dated(db, dispatch_id, spans):
    """Rewrite a dispatch's check-ins to the given (member, kind, at) rows (test time)."""
    from incidents.models import DispatchCheckin

    rows = db.scalars(select(DispatchCheckin).where(DispatchCheckin.dispatch_id == dispatch_id)
                      .order_by(DispatchCheckin.id)).all()
    assert len(rows) == len(spans)
    for row, (member_id, kind, at) in zip(rows, spans, strict=True):
        assert (row.member_id, row.kind) == (member_id, kind)
        row.at = at
    db.flush()


def test_service_hours_and_person_days_from_check_ins(client, forces, dispatcher, actors, db):
    from datetime import datetime, timedelta

    from emergency.vocabulary import LOCAL_ZONE
    from incidents import onscene
    from incidents.models import Dispatch

    s = _scene(client, forces, dispatcher)
    d, oh, (m1, m2, _m3) = s["dispatch"], s["oh"], s["members"]
    url = f"/api/v1/dispatches/{d['id']}/checkins"
    assert onscene.person_days(db, db.get(Dispatch, d["id"])) is None
    _step(client, oh, d["id"], "accepted")
    client.post(f"/api/v1/dispatches/{d['id']}/members", json={"member_ids": [m1, m2]},
                headers=oh)
    _step(client, oh, d["id"], "en_route", "on_scene")
    for member_id, kind in ((m1, "in"), (m2, "in"), (m1, "out")):
        assert client.post(url, json={"member_id": member_id, "kind": kind},
                           headers=oh).status_code == 201
    _step(client, oh, d["id"], "completed")
    # m1 on scene 20:00–06:30 Beijing time (two calendar days, 10.5 h); m2 09:00–11:15.
    t0 = datetime(2026, 11, 28, 20, 0, tzinfo=LOCAL_ZONE)
    _dated(db, d["id"], [(m1, "in", t0), (m2, "in", t0 + timedelta(hours=13)),
                         (m1, "out", t0 + timedelta(hours=10, minutes=30)),
                         (m2, "out", t0 + timedelta(hours=15, minutes=15))])
    assert onscene.person_days(db, db.get(Dispatch, d["id"])) == 3
    hours = client.get(f"/api/v1/members/{m1}/service", headers=oh)
    assert hours.status_code == 200, hours.get_json()
    body = hours.get_json()
    assert body["hours"] == 10.5
    assert body["dispatches"] == [{"dispatch_id": d["id"], "incident_id": s["incident"]["id"],
                                   "incident_title": "山体滑坡", "status": "completed",
                                   "hours": 10.5}]
    assert client.get(f"/api/v1/members/{m2}/service",
                      headers=dispatcher).get_json()["hours"] == 2.2  # 2.25 h, one decimal
    members = client.get(f"/api/v1/dispatches/{d['id']}/members", headers=oh).get_json()
    assert {m["member_id"]: m["hours"] for m in members["items"]} == {m1: 10.5, m2: 2.2}
    assert client.get(f"/api/v1/members/{m1}/service",
                      headers=actors.header("auditor")).status_code == 200
    assert client.get(f"/api/v1/members/{m1}/service",
                      headers=forces.org()[1]).status_code == 403
    assert client.get(f"/api/v1/members/{m1}/service",
                      headers=actors.header("grid_staff")).status_code == 403
    assert client.get("/api/v1/members/99999999/service", headers=oh).status_code == 404
    idle = client.get(f"/api/v1/members/{_m3}/service", headers=oh).get_json()
    assert idle["hours"] == 0 and idle["dispatches"] == []


# ---------------------------------------------------------------- dispatch answers and lists


def test_declining_and_cancelling_need_a_reason(client, forces, dispatcher):
    s = _scene(client, forces, dispatcher)
    d, oh = s["dispatch"], s["oh"]
    step = f"/api/v1/dispatches/{d['id']}/transition"
    r = client.post(step, json={"to": "declined"}, headers=oh)
    assert r.status_code == 422 and "note" in error_of(r)["details"]
    r = client.post(step, json={"to": "declined", "note": "  "}, headers=oh)
    assert r.status_code == 422
    r = client.post(step, json={"to": "declined", "note": "队员不足"}, headers=oh)
    assert r.status_code == 200 and r.get_json()["status"] == "declined"
    d2 = _dispatch(client, dispatcher, s["incident"]["id"], s["team"]["id"])
    step2 = f"/api/v1/dispatches/{d2['id']}/transition"
    _step(client, oh, d2["id"], "accepted")
    r = client.post(step2, json={"to": "cancelled"}, headers=dispatcher)
    assert r.status_code == 422 and "note" in error_of(r)["details"]
    assert client.post(step2, json={"to": "cancelled", "note": "险情解除"},
                       headers=dispatcher).status_code == 200
    timeline = client.get(f"/api/v1/incidents/{s['incident']['id']}/timeline",
                          headers=dispatcher).get_json()["items"]
    notes = {e["detail"]["status"]: e["detail"].get("note") for e in timeline
             if e["kind"] == "dispatch"}
    assert notes["declined"] == "队员不足" and notes["cancelled"] == "险情解除"


def test_dispatch_lists_carry_what_an_inbox_needs(client, forces, dispatcher):
    s = _scene(client, forces, dispatcher)
    d, oh, inc = s["dispatch"], s["oh"], s["incident"]
    mine = client.get("/api/v1/dispatches", headers=oh).get_json()
    item = mine["items"][0]
    assert item["id"] == d["id"] and item["team_name"] == s["team"]["name"]
    assert item["incident_id"] == inc["id"] and item["incident_title"] == "山体滑坡"
    assert item["incident_type"] == "geological" and "response_level" in item
    assert item["incident_location"] == {"type": "Point", "coordinates": [106.55, 29.56]}
    assert item["task"] == "搜救" and item["members_requested"] == 2
    assert item["members_named"] == 0 and item["status"] == "requested"
    assert item["requested_at"] and item["next"] == ["accepted", "declined", "cancelled"]
    one = client.get(f"/api/v1/dispatches/{d['id']}", headers=oh).get_json()
    assert {k: one[k] for k in item} == item
    active = client.get("/api/v1/dispatches?active=1", headers=oh).get_json()
    assert [x["id"] for x in active["items"]] == [d["id"]]
    client.post(f"/api/v1/dispatches/{d['id']}/transition",
                json={"to": "declined", "note": "不在本地"}, headers=oh)
    assert client.get("/api/v1/dispatches?active=1", headers=oh).get_json()["items"] == []
    ended = client.get("/api/v1/dispatches?active=0", headers=oh).get_json()
    assert [x["id"] for x in ended["items"]] == [d["id"]]
    by_team = client.get(f"/api/v1/dispatches?team_id={s['team']['id']}&status=declined",
                         headers=dispatcher).get_json()
    assert by_team["total"] == 1


# ---------------------------------------------------------------- live events and timeline


def _events(db, type):
    """The live events of a type, oldest first, as (resource id, payload, row)."""
    rows = db.scalars(select(LiveEvent).where(LiveEvent.type == type)
                      .order_by(LiveEvent.id)).all()
    return [(e.resource_id, e.data, e) for e in rows]


def test_changes_publish_live_events_in_their_transaction(client, forces, dispatcher, db):
    s = _scene(client, forces, dispatcher, members=1)
    d, oh, inc = s["dispatch"], s["oh"], s["incident"]
    created = _events(db, "incident.created")
    assert [(i, p["status"]) for i, p, _e in created] == [(inc["id"], "open")]
    _i, payload, row = created[0]
    assert row.audience == "bureau" and row.area_code == inc["area_code"]
    assert payload["type"] == "incident.created" and payload["at"] and \
        "response_level" in payload
    assert [p["status"] for i, p, _e in _events(db, "incident.updated") if i == inc["id"]] \
        == ["responding"]
    [(did, payload, row)] = _events(db, "dispatch.created")
    assert did == d["id"] and row.org_id == s["org"]["id"] and row.audience == "bureau"
    assert payload["incident_id"] == inc["id"] and payload["team_id"] == s["team"]["id"]
    assert payload["status"] == "requested"
    _step(client, oh, d["id"], "accepted")
    client.post(f"/api/v1/dispatches/{d['id']}/members",
                json={"member_ids": s["members"]}, headers=oh)
    _step(client, oh, d["id"], "en_route")
    client.post(f"/api/v1/dispatches/{d['id']}/checkins",
                json={"member_id": s["members"][0], "kind": "in"}, headers=oh)
    updates = [(p["status"], e.org_id) for i, p, e in _events(db, "dispatch.updated")
               if i == d["id"]]
    # accepted, members named, en route, on scene (first arrival), the check-in itself
    assert [status for status, _org in updates] == \
        ["accepted", "accepted", "en_route", "on_scene", "on_scene"]
    assert {org for _status, org in updates} == {s["org"]["id"]}
    client.patch(f"/api/v1/incidents/{inc['id']}", json={"title": "新标题"}, headers=dispatcher)
    assert len([1 for i, _p, _e in _events(db, "incident.updated") if i == inc["id"]]) == 2


def test_timeline_holds_every_step_with_time_and_actor(client, forces, dispatcher, actors):
    s = _scene(client, forces, dispatcher, members=1)
    d, oh, inc = s["dispatch"], s["oh"], s["incident"]
    (m1,) = s["members"]
    admin = actors.header("admin")
    client.patch(f"/api/v1/incidents/{inc['id']}", json={"metrics": {"deaths": 1},
                                                        "note": "续报"}, headers=dispatcher)
    _step(client, oh, d["id"], "accepted", note="出发准备")
    client.post(f"/api/v1/dispatches/{d['id']}/members", json={"member_ids": [m1]},
                headers=oh)
    _step(client, oh, d["id"], "en_route")
    checkins = f"/api/v1/dispatches/{d['id']}/checkins"
    client.post(checkins, json={"member_id": m1, "kind": "in"}, headers=oh)
    client.post(checkins, json={"member_id": m1, "kind": "out"}, headers=oh)
    _step(client, oh, d["id"], "completed")
    req = client.post(f"/api/v1/incidents/{inc['id']}/requisitions", json={
        "owner_name": "某公司", "owner_contact": "13812345678", "property": "挖掘机",
        "quantity": 1, "starts_at": "2026-11-28T09:00:00+08:00", "valuation": "1000.00",
        "legal_basis": "《中华人民共和国突发事件应对法》第七十六条", "authority": "渝中区人民政府"},
        headers=dispatcher).get_json()
    client.post(f"/api/v1/requisitions/{req['id']}/return", json={"condition": "intact"},
                headers=dispatcher)
    claim = client.post(f"/api/v1/dispatches/{d['id']}/compensation", json={"items": [
        {"kind": "fuel", "quantity": 1, "unit_price": "10.00"}]}, headers=oh).get_json()
    client.post(f"/api/v1/compensations/{claim['id']}/review",
                json={"decision": "approve", "note": "ok"}, headers=admin)
    client.post(f"/api/v1/compensations/{claim['id']}/pay", headers=admin)
    assert client.post(f"/api/v1/incidents/{inc['id']}/close", json=AFTER_ACTION,
                       headers=dispatcher).status_code == 200
    items = client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                       headers=dispatcher).get_json()["items"]
    kinds = [e["kind"] for e in items]
    for kind in ("opened", "status", "metrics", "dispatch", "members", "checkin",
                 "requisition", "requisition_return", "compensation", "closed"):
        assert kind in kinds, kind
    assert kinds[0] == "opened" and kinds[-1] == "closed"
    assert all(e["at"] and e["actor"] for e in items)
    assert [e["at"] for e in items] == sorted(e["at"] for e in items)
    steps = [(e["detail"]["status"], e["detail"].get("note")) for e in items
             if e["kind"] == "dispatch"]
    assert steps[:2] == [("requested", None), ("accepted", "出发准备")]
    assert [e["detail"]["direction"] for e in items if e["kind"] == "checkin"] == ["in", "out"]
    named = next(e for e in items if e["kind"] == "members")["detail"]
    assert named["added"][0]["member_id"] == m1 and named["dispatch_id"] == d["id"]
    assert len([e for e in items if e["kind"] == "compensation"]) == 3
