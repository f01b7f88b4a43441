"""Emergency measures through the API (issue 19): validation naming the fields, roles, the
decision's number, lifting once, expired computed at read time, requisitions in the register,
the timeline and the live events."""

import re
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select

from emergency.events.models import LiveEvent
from tests.conftest import error_of, square
from tests.incidents.conftest import incident_body

BASIS = "《中华人民共和国突发事件应对法》第七十三条"


def measure_body(**extra):
    """A POST /incidents/{id}/measures body (in force for a day from now)."""
    start = datetime.now(UTC).replace(microsecond=0)
    body = {"kind": "traffic_control", "legal_basis": BASIS, "authority": "重庆市渝中区人民政府",
            "scope": square(106.54, 29.55), "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(days=1)).isoformat(), "note": "封闭滑坡路段"}
    body.update(extra)
    return {k: v for k, v in body.items() if v is not None}


def _incident(client, headers):
    r = client.post("/api/v1/incidents", json=incident_body(), headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_issue_get_list_and_lift(client, dispatcher, actors, db):
    inc = _incident(client, dispatcher)
    r = client.post(f"/api/v1/incidents/{inc['id']}/measures", json=measure_body(),
                    headers=dispatcher)
    assert r.status_code == 201, r.get_json()
    m = r.get_json()
    assert m["status"] == "in_force" and m["kind"] == "traffic_control"
    year = datetime.now(timezone(timedelta(hours=8))).year
    assert re.fullmatch(rf"渝应急决〔{year}〕\d+号", m["order_number"])
    assert m["scope"]["type"] == "MultiPolygon" and m["legal_basis"] == BASIS

    second = client.post(f"/api/v1/incidents/{inc['id']}/measures",
                         json=measure_body(kind="evacuation"), headers=dispatcher).get_json()
    seq = int(re.search(r"〕(\d+)号", m["order_number"]).group(1))
    assert second["order_number"] == f"渝应急决〔{year}〕{seq + 1}号"

    got = client.get(f"/api/v1/measures/{m['id']}", headers=dispatcher)
    assert got.status_code == 200 and got.get_json()["order_number"] == m["order_number"]

    listed = client.get(f"/api/v1/measures?incident_id={inc['id']}&status=in_force",
                        headers=dispatcher)
    assert listed.status_code == 200
    assert listed.headers["Content-Type"].startswith("application/geo+json")
    fc = listed.get_json()
    assert fc["type"] == "FeatureCollection" and fc["total"] == 2
    assert {f["id"] for f in fc["features"]} == {m["id"], second["id"]}
    kinds = client.get(f"/api/v1/measures?incident_id={inc['id']}&kind=evacuation",
                       headers=dispatcher).get_json()
    assert [f["id"] for f in kinds["features"]] == [second["id"]]

    lifted = client.post(f"/api/v1/measures/{m['id']}/lift", json={"note": "道路抢通"},
                         headers=dispatcher)
    assert lifted.status_code == 200
    assert lifted.get_json()["status"] == "lifted" and lifted.get_json()["lifted_at"]
    again = client.post(f"/api/v1/measures/{m['id']}/lift", json={}, headers=dispatcher)
    assert again.status_code == 409 and error_of(again)["code"] == "already_lifted"
    only_lifted = client.get(f"/api/v1/measures?incident_id={inc['id']}&status=lifted",
                             headers=dispatcher).get_json()
    assert [f["id"] for f in only_lifted["features"]] == [m["id"]]

    timeline = client.get(f"/api/v1/incidents/{inc['id']}/timeline",
                          headers=dispatcher).get_json()["items"]
    steps = [(e["detail"].get("measure_id"), e["detail"].get("status")) for e in timeline
             if e["kind"] == "measure"]
    assert (m["id"], "in_force") in steps and (m["id"], "lifted") in steps
    types = set(db.scalars(select(LiveEvent.type).where(LiveEvent.resource_id == m["id"])))
    assert {"measure.created", "measure.lifted"} <= types


def test_required_fields_are_named(client, dispatcher):
    inc = _incident(client, dispatcher)
    url = f"/api/v1/incidents/{inc['id']}/measures"
    r = client.post(url, json=measure_body(legal_basis=None, authority=None),
                    headers=dispatcher)
    assert r.status_code == 422
    assert {"legal_basis", "authority"} <= set(error_of(r)["details"])
    blank = client.post(url, json=measure_body(legal_basis="  ", authority=" "),
                        headers=dispatcher)
    assert blank.status_code == 422
    assert {"legal_basis", "authority"} <= set(error_of(blank)["details"])
    point = client.post(url, json=measure_body(scope={"type": "Point",
                                                      "coordinates": [106.5, 29.5]}),
                        headers=dispatcher)
    assert point.status_code == 422 and "scope" in error_of(point)["details"]
    start = datetime(2026, 11, 28, 8, tzinfo=UTC)
    backwards = client.post(url, json=measure_body(starts_at=start.isoformat(),
                                                   ends_at=start.isoformat()),
                            headers=dispatcher)
    assert backwards.status_code == 422 and "ends_at" in error_of(backwards)["details"]
    kind = client.post(url, json=measure_body(kind="curfew"), headers=dispatcher)
    assert kind.status_code == 422 and "kind" in error_of(kind)["details"]
    assert client.post("/api/v1/incidents/999999/measures", json=measure_body(),
                       headers=dispatcher).status_code == 404


def test_gcj02_scope_is_stored_in_wgs84(client, dispatcher):
    inc = _incident(client, dispatcher)
    r = client.post(f"/api/v1/incidents/{inc['id']}/measures",
                    json=measure_body(crs="gcj02"), headers=dispatcher)
    assert r.status_code == 201
    lon = r.get_json()["scope"]["coordinates"][0][0][0][0]
    assert abs(lon - 106.54) > 1e-4  # moved by the GCJ-02 offset (a few hundred metres)


def test_roles(client, dispatcher, actors):
    inc = _incident(client, dispatcher)
    url = f"/api/v1/incidents/{inc['id']}/measures"
    made = client.post(url, json=measure_body(), headers=actors.header("admin"))
    assert made.status_code == 201
    for role in ("planner", "auditor", "org_admin", "grid_staff"):
        assert client.post(url, json=measure_body(), headers=actors.header(role)).status_code \
            == 403
    lift = f"/api/v1/measures/{made.get_json()['id']}/lift"
    assert client.post(lift, json={}, headers=actors.header("planner")).status_code == 403
    for role in ("planner", "auditor"):
        assert client.get("/api/v1/measures", headers=actors.header(role)).status_code == 200
    for role in ("org_admin", "grid_staff"):
        assert client.get("/api/v1/measures", headers=actors.header(role)).status_code == 403
    assert client.get("/api/v1/measures").status_code == 401


def test_expired_is_computed_when_read(client, dispatcher):
    inc = _incident(client, dispatcher)
    past = datetime.now(UTC) - timedelta(days=3)
    r = client.post(f"/api/v1/incidents/{inc['id']}/measures", json=measure_body(
        kind="closure", starts_at=past.isoformat(),
        ends_at=(past + timedelta(days=1)).isoformat()), headers=dispatcher)
    assert r.status_code == 201 and r.get_json()["status"] == "expired"
    open_ended = client.post(f"/api/v1/incidents/{inc['id']}/measures", json=measure_body(
        starts_at=past.isoformat(), ends_at=None), headers=dispatcher).get_json()
    assert open_ended["status"] == "in_force" and open_ended["ends_at"] is None
    expired = client.get(f"/api/v1/measures?status=expired&incident_id={inc['id']}",
                         headers=dispatcher).get_json()
    assert [f["id"] for f in expired["features"]] == [r.get_json()["id"]]
    in_force = client.get(f"/api/v1/measures?status=in_force&incident_id={inc['id']}",
                          headers=dispatcher).get_json()
    assert [f["id"] for f in in_force["features"]] == [open_ended["id"]]
    # An expired measure is still lifted formally.
    assert client.post(f"/api/v1/measures/{r.get_json()['id']}/lift", json={"note": "补解除"},
                       headers=dispatcher).get_json()["status"] == "lifted"


def test_requisitions_need_basis_and_are_listed_as_measures(client, dispatcher):
    inc = _incident(client, dispatcher)
    url = f"/api/v1/incidents/{inc['id']}/requisitions"
    body = {"owner_name": "某公司", "owner_contact": "13812345678", "property": "挖掘机",
            "quantity": 1, "starts_at": "2026-11-28T09:00:00+08:00", "valuation": "1000.00"}
    bad = client.post(url, json=body, headers=dispatcher)
    assert bad.status_code == 422
    assert {"legal_basis", "authority"} <= set(error_of(bad)["details"])
    blank = client.post(url, json={**body, "legal_basis": " ", "authority": " "},
                        headers=dispatcher)
    assert blank.status_code == 422
    made = client.post(url, json={**body, "authority": "渝中区人民政府",
                                  "legal_basis": "《中华人民共和国突发事件应对法》第七十六条"},
                       headers=dispatcher)
    assert made.status_code == 201
    req = made.get_json()
    assert req["legal_basis"].endswith("第七十六条") and req["authority"] == "渝中区人民政府"
    listed = client.get(f"/api/v1/measures?kind=requisition&incident_id={inc['id']}",
                        headers=dispatcher).get_json()
    assert listed["total"] == 1
    feature = listed["features"][0]
    assert feature["id"] == f"requisition-{req['id']}" and feature["geometry"] is None
    props = feature["properties"]
    assert props["order_number"] == req["order_number"] and props["source"] == "requisition"
    assert props["status"] == "in_force" and props["kind"] == "requisition"
    client.post(f"/api/v1/requisitions/{req['id']}/return", json={"condition": "intact"},
                headers=dispatcher)
    lifted = client.get(f"/api/v1/measures?status=lifted&incident_id={inc['id']}",
                        headers=dispatcher).get_json()
    assert [f["id"] for f in lifted["features"]] == [f"requisition-{req['id']}"]


def test_decision_page_and_legal_bases(client, dispatcher):
    inc = _incident(client, dispatcher)
    m = client.post(f"/api/v1/incidents/{inc['id']}/measures",
                    json=measure_body(authority="<script>alert(1)</script>"),
                    headers=dispatcher).get_json()
    html = client.get(f"/api/v1/measures/{m['id']}?format=html", headers=dispatcher)
    assert html.status_code == 200 and html.mimetype == "text/html"
    text = html.get_data(as_text=True)
    assert m["order_number"] in text and BASIS in text and 'id="decision-scope"' in text
    assert "<script>alert(1)" not in text and "&lt;script&gt;" in text
    bases = client.get("/api/v1/measures/legal-bases", headers=dispatcher).get_json()
    assert bases["total"] >= 3 and any("第七十六条" in b["text"] for b in bases["items"])
    assert "2024" in bases["source"]


def test_closed_incident_takes_no_measures(client, dispatcher):
    from tests.incidents.conftest import AFTER_ACTION

    inc = _incident(client, dispatcher)
    assert client.post(f"/api/v1/incidents/{inc['id']}/close", json=AFTER_ACTION,
                       headers=dispatcher).status_code == 200
    r = client.post(f"/api/v1/incidents/{inc['id']}/measures", json=measure_body(),
                    headers=dispatcher)
    assert r.status_code == 409 and error_of(r)["code"] == "incident_closed"


def test_retried_issue_with_idempotency_key_makes_one_measure(client, dispatcher):
    inc = _incident(client, dispatcher)
    url = f"/api/v1/incidents/{inc['id']}/measures"
    retry = {**dispatcher, "Idempotency-Key": "measure-retry-1"}
    body = measure_body()
    first = client.post(url, json=body, headers=retry)
    second = client.post(url, json=body, headers=retry)
    assert first.status_code == 201 and second.status_code == 201
    assert second.get_json()["order_number"] == first.get_json()["order_number"]
    listed = client.get(f"/api/v1/measures?incident_id={inc['id']}",
                        headers=dispatcher).get_json()
    assert listed["total"] == 1
