"""Incidents, recommendations and dispatch through the HTTP API, on both backends."""

from tests.conftest import error_of
from tests.incidents.conftest import AFTER_ACTION, incident_body


def _incident(client, headers, **extra):
    """Create an incident and return its body."""
    r = client.post("/api/v1/incidents", json=incident_body(**extra), headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_create_and_read_incident(client, dispatcher):
    created = _incident(client, dispatcher)
    assert created["status"] == "open"
    assert "response_level" in created and "plan_id" in created
    got = client.get(f"/api/v1/incidents/{created['id']}", headers=dispatcher).get_json()
    assert got["title"] == "山体滑坡"
    assert got["occurred_at"].endswith("+00:00")
    listed = client.get("/api/v1/incidents?status=open&bbox=106.5,29.5,106.6,29.6",
                        headers=dispatcher)
    assert listed.status_code == 200
    assert [f["id"] for f in listed.get_json()["features"]] == [created["id"]]
    outside = client.get("/api/v1/incidents?bbox=100,20,101,21", headers=dispatcher)
    assert outside.get_json()["features"] == []


def test_gcj02_location_is_converted(client, dispatcher):
    created = _incident(client, dispatcher, crs="gcj02")
    lon, lat = created["location"]["coordinates"]
    assert abs(lon - 106.55) > 1e-4 and abs(lon - 106.55) < 0.01
    assert abs(lat - 29.56) < 0.01


def test_bad_input_names_fields(client, dispatcher):
    r = client.post("/api/v1/incidents", json=incident_body(metrics={"deaths": -1},
                                                            occurred_at="yesterday"),
                    headers=dispatcher)
    assert r.status_code == 422
    assert "occurred_at" in error_of(r)["details"]
    r = client.post("/api/v1/incidents", json=incident_body(metrics={"deaths": "x"}),
                    headers=dispatcher)
    assert r.status_code == 422 and "metrics" in error_of(r)["details"]
    r = client.post("/api/v1/incidents", json=incident_body(incident_type="nonsense"),
                    headers=dispatcher)
    assert r.status_code == 422 and "incident_type" in error_of(r)["details"]
    assert client.get("/api/v1/incidents/999999", headers=dispatcher).status_code == 404


def test_roles(client, actors, dispatcher):
    assert client.post("/api/v1/incidents", json=incident_body()).status_code == 401
    for role in ("planner", "grid_staff", "org_admin", "auditor"):
        r = client.post("/api/v1/incidents", json=incident_body(), headers=actors.header(role))
        assert r.status_code == 403, role
    created = _incident(client, dispatcher)
    assert client.get(f"/api/v1/incidents/{created['id']}",
                      headers=actors.header("auditor")).status_code == 200
    assert client.get(f"/api/v1/incidents/{created['id']}",
                      headers=actors.header("grid_staff")).status_code == 403


def test_recommendations_order_and_reasons(client, forces, dispatcher):
    org, oh = forces.org()
    near = forces.team(oh, org["id"], 106.56, 29.57, name="近队")
    far = forces.team(oh, org["id"], 106.70, 29.70, name="远队")
    uninsured = forces.team(oh, org["id"], 106.555, 29.565, insured=0, name="无保险队")
    partly = forces.team(oh, org["id"], 106.60, 29.60, insured=1, name="部分保险队")
    short = forces.team(oh, org["id"], 106.58, 29.58, radius=1, name="半径小队")
    other_cat = forces.team(oh, org["id"], 106.551, 29.561, category="water", name="水域队")
    pending, ph = forces.org(approve=False)
    unapproved = forces.team(ph, pending["id"], 106.552, 29.562, name="未审核队")
    inc = _incident(client, dispatcher)
    r = client.get(f"/api/v1/incidents/{inc['id']}/recommendations?category=mountain&limit=5",
                   headers=dispatcher)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    ids = [t["team_id"] for t in body["items"]]
    assert ids == [near["id"], partly["id"], far["id"]]
    distances = [t["distance_km"] for t in body["items"]]
    assert distances == sorted(distances)
    first = body["items"][0]
    assert set(first) >= {"team_id", "name", "category", "distance_km", "grade", "members",
                          "insured_members", "status", "why"}
    assert first["members"] == 2 and first["insured_members"] == 2
    assert 1.0 < first["distance_km"] < 2.0
    assert body["items"][1]["warnings"]
    reasons = {t["team_id"]: t["reason"] for t in body["excluded"]}
    assert reasons[uninsured["id"]] == "uninsured"
    assert reasons[short["id"]] == "out_of_radius"
    assert reasons[unapproved["id"]] == "not_approved"
    assert other_cat["id"] not in reasons and other_cat["id"] not in ids
    limited = client.get(f"/api/v1/incidents/{inc['id']}/recommendations?category=mountain"
                         "&limit=1", headers=dispatcher).get_json()
    assert [t["team_id"] for t in limited["items"]] == [near["id"]]
    radius = client.get(f"/api/v1/incidents/{inc['id']}/recommendations?radius_km=8",
                        headers=dispatcher).get_json()
    assert far["id"] not in [t["team_id"] for t in radius["items"]]
    bad = client.get(f"/api/v1/incidents/{inc['id']}/recommendations?limit=0",
                     headers=dispatcher)
    assert bad.status_code == 422 and "limit" in error_of(bad)["details"]


def test_dispatch_workflow_and_team_status(client, forces, dispatcher, actors):
    org, oh = forces.org()
    team = forces.team(oh, org["id"], 106.56, 29.57)
    inc = _incident(client, dispatcher)
    r = client.post(f"/api/v1/incidents/{inc['id']}/dispatches",
                    json={"team_id": team["id"], "task": "搜救", "members_requested": 2},
                    headers=dispatcher)
    assert r.status_code == 201, r.get_json()
    d = r.get_json()
    assert d["status"] == "requested" and d["warnings"] == []
    assert client.get(f"/api/v1/teams/{team['id']}", headers=oh).get_json()["status"] == \
        "dispatched"
    again = client.post(f"/api/v1/incidents/{inc['id']}/dispatches",
                        json={"team_id": team["id"]}, headers=dispatcher)
    assert again.status_code == 409
    busy = client.get(f"/api/v1/incidents/{inc['id']}/recommendations",
                      headers=dispatcher).get_json()
    assert {t["team_id"]: t["reason"] for t in busy["excluded"]}[team["id"]] == "busy"
    assert client.get(f"/api/v1/incidents/{inc['id']}",
                      headers=dispatcher).get_json()["status"] == "responding"
    # Another organisation's admin may not answer; the team's own admin may.
    other_org, other_headers = forces.org()
    step = f"/api/v1/dispatches/{d['id']}/transition"
    assert client.post(step, json={"to": "accepted"}, headers=other_headers).status_code == 403
    assert client.post(step, json={"to": "cancelled"}, headers=oh).status_code == 403
    assert client.post(step, json={"to": "on_scene"}, headers=oh).status_code == 409
    for to in ("accepted", "en_route", "on_scene", "completed"):
        r = client.post(step, json={"to": to}, headers=oh)
        assert r.status_code == 200, (to, r.get_json())
        assert r.get_json()["status"] == to
    assert client.post(step, json={"to": "cancelled"}, headers=dispatcher).status_code == 409
    assert client.get(f"/api/v1/teams/{team['id']}", headers=oh).get_json()["status"] == \
        "available"
    mine = client.get("/api/v1/dispatches", headers=oh).get_json()
    assert [x["id"] for x in mine["items"]] == [d["id"]]
    assert client.get("/api/v1/dispatches", headers=other_headers).get_json()["items"] == []
    timeline = client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                          headers=dispatcher).get_json()["items"]
    assert [e["detail"].get("status") for e in timeline if e["kind"] == "dispatch"] == \
        ["requested", "accepted", "en_route", "on_scene", "completed"]
    closed = client.post(f"/api/v1/incidents/{inc['id']}/close", json=AFTER_ACTION,
                         headers=dispatcher)
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"


def test_cancel_frees_team_and_closing_needs_no_active(client, forces, dispatcher):
    org, oh = forces.org()
    team = forces.team(oh, org["id"], 106.56, 29.57)
    inc = _incident(client, dispatcher)
    d = client.post(f"/api/v1/incidents/{inc['id']}/dispatches", json={"team_id": team["id"]},
                    headers=dispatcher).get_json()
    r = client.post(f"/api/v1/incidents/{inc['id']}/close", json=AFTER_ACTION,
                    headers=dispatcher)
    assert r.status_code == 409
    r = client.post(f"/api/v1/dispatches/{d['id']}/transition",
                    json={"to": "cancelled", "note": "不再需要"}, headers=dispatcher)
    assert r.status_code == 200
    r2 = client.post(f"/api/v1/incidents/{inc['id']}/dispatches",
                     json={"team_id": team["id"]}, headers=dispatcher)
    assert r2.status_code == 201


def test_uninsured_dispatch_warns_or_refuses(app, client, forces, dispatcher):
    org, oh = forces.org()
    team = forces.team(oh, org["id"], 106.56, 29.57, members=3, insured=1)
    inc = _incident(client, dispatcher)
    app.config["REQUIRE_INSURED_DISPATCH"] = True
    r = client.post(f"/api/v1/incidents/{inc['id']}/dispatches", json={"team_id": team["id"]},
                    headers=dispatcher)
    assert r.status_code == 409 and error_of(r)["code"] == "uninsured"
    app.config["REQUIRE_INSURED_DISPATCH"] = False
    r = client.post(f"/api/v1/incidents/{inc['id']}/dispatches", json={"team_id": team["id"]},
                    headers=dispatcher)
    assert r.status_code == 201
    assert "2 of 3 members are not insured" in r.get_json()["warnings"]


def test_dispatch_errors(client, forces, dispatcher):
    inc = _incident(client, dispatcher)
    r = client.post(f"/api/v1/incidents/{inc['id']}/dispatches", json={"team_id": 999999},
                    headers=dispatcher)
    assert r.status_code == 422 and "team_id" in error_of(r)["details"]
    r = client.post(f"/api/v1/incidents/{inc['id']}/dispatches", json={"team_id": "x"},
                    headers=dispatcher)
    assert r.status_code == 422
    pending, ph = forces.org(approve=False)
    team = forces.team(ph, pending["id"], 106.56, 29.57)
    r = client.post(f"/api/v1/incidents/{inc['id']}/dispatches", json={"team_id": team["id"]},
                    headers=dispatcher)
    assert r.status_code == 409
    assert client.post("/api/v1/incidents/999999/dispatches", json={"team_id": team["id"]},
                       headers=dispatcher).status_code == 404
