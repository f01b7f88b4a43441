"""Requisitions and compensation claims: exact money, review, payment, ledger, scopes."""

import io
from datetime import timedelta

from openpyxl import load_workbook

from tests.conftest import error_of
from tests.incidents.conftest import incident_body


def _setup(client, forces, dispatcher):
    """An incident and a team dispatched to it, accepted by its organisation."""
    org, oh = forces.org()
    team = forces.team(oh, org["id"], 106.56, 29.57, members=3, insured=3)
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    d = client.post(f"/api/v1/incidents/{inc['id']}/dispatches",
                    json={"team_id": team["id"], "members_requested": 3},
                    headers=dispatcher).get_json()
    return org, oh, inc, d


def test_claim_total_is_exact_and_workflow(client, forces, dispatcher, actors):
    org, oh, inc, d = _setup(client, forces, dispatcher)
    claim_path = f"/api/v1/dispatches/{d['id']}/compensation"
    items = {"items": [{"kind": "consumables", "quantity": 3, "unit_price": 0.10,
                        "note": "batteries"},
                       {"kind": "personnel", "quantity": 2, "unit_price": "600.00"},
                       {"kind": "fuel", "quantity": "1.5", "unit_price": "53.33"}]}
    early = client.post(claim_path, json=items, headers=oh)
    assert early.status_code == 409  # not accepted yet
    client.post(f"/api/v1/dispatches/{d['id']}/transition", json={"to": "accepted"},
                headers=oh)
    r = client.post(claim_path, json=items, headers=oh)
    assert r.status_code == 201, r.get_json()
    claim = r.get_json()
    assert claim["status"] == "submitted"
    assert claim["items"][0]["amount"] == "0.30"
    assert claim["total"] == "1280.30"  # 0.30 + 1200.00 + 80.00 (1.5 × 53.33 = 79.995 → 80.00)
    assert client.post(claim_path, json=items, headers=oh).status_code == 409
    other = forces.org()[1]
    assert client.get(f"/api/v1/compensations/{claim['id']}", headers=other).status_code == 403
    review = f"/api/v1/compensations/{claim['id']}/review"
    assert client.post(review, json={"decision": "approve"}, headers=dispatcher).status_code \
        == 403
    pay = f"/api/v1/compensations/{claim['id']}/pay"
    admin = actors.header("admin")
    assert client.post(pay, headers=admin).status_code == 409
    r = client.post(review, json={"decision": "approve", "note": "ok"}, headers=admin)
    assert r.status_code == 200 and r.get_json()["status"] == "approved"
    assert client.post(review, json={"decision": "reject"}, headers=admin).status_code == 409
    r = client.post(pay, headers=admin)
    assert r.status_code == 200 and r.get_json()["status"] == "paid"
    ledger = client.get("/api/v1/compensations?status=paid", headers=admin).get_json()
    assert [c["id"] for c in ledger["items"]] == [claim["id"]]
    assert ledger["sum"] == "1280.30"
    assert ledger["by_organisation"][0]["paid"] == "1280.30"
    mine = client.get("/api/v1/compensations", headers=oh).get_json()
    assert [c["id"] for c in mine["items"]] == [claim["id"]]
    assert client.get("/api/v1/compensations", headers=other).get_json()["items"] == []
    assert client.get("/api/v1/compensations", headers=actors.header("grid_staff")) \
        .status_code == 403


def test_bad_claims(client, forces, dispatcher):
    _org, oh, _inc, d = _setup(client, forces, dispatcher)
    client.post(f"/api/v1/dispatches/{d['id']}/transition", json={"to": "accepted"},
                headers=oh)
    path = f"/api/v1/dispatches/{d['id']}/compensation"
    r = client.post(path, json={"items": [{"kind": "bribe", "quantity": 1,
                                           "unit_price": 1}]}, headers=oh)
    assert r.status_code == 422 and "items" in error_of(r)["details"]
    r = client.post(path, json={"items": []}, headers=oh)
    assert r.status_code == 422
    r = client.post(path, json={"items": [{"kind": "meals", "quantity": -1,
                                           "unit_price": 1}]}, headers=oh)
    assert r.status_code == 422
    r = client.post(path, json={"items": [{"kind": "meals", "quantity": 1,
                                           "unit_price": "NaN"}]}, headers=oh)
    assert r.status_code == 422
    assert client.post("/api/v1/dispatches/999999/compensation",
                       json={"items": [{"kind": "meals", "quantity": 1, "unit_price": 1}]},
                       headers=dispatcher).status_code == 404


def test_prefill_from_rate_table(client, forces, dispatcher, db):
    from incidents.models import Dispatch

    _org, oh, _inc, d = _setup(client, forces, dispatcher)
    for to in ("accepted", "en_route", "on_scene", "completed"):
        client.post(f"/api/v1/dispatches/{d['id']}/transition", json={"to": to}, headers=oh)
    row = db.get(Dispatch, d["id"])
    row.ended_at = row.accepted_at + timedelta(hours=40)  # two days, one night
    db.flush()
    r = client.get(f"/api/v1/dispatches/{d['id']}/compensation/prefill", headers=oh)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["days"] == 2 and body["members"] == 3
    # No check-ins: personnel days are the dispatch's days times the members requested.
    assert body["person_days"] == "6" and body["from_checkins"] is False
    kinds = {i["kind"]: i for i in body["items"]}
    assert kinds["personnel"]["unit_price"] == "600.00"
    assert kinds["personnel"]["amount"] == "3600.00"
    assert kinds["meals"]["amount"] == "600.00"
    assert kinds["lodging"]["amount"] == "900.00"
    assert body["total"] == "5100.00"


def test_requisition_return_and_claim_and_xlsx(client, dispatcher, actors):
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    r = client.post(f"/api/v1/incidents/{inc['id']}/requisitions", json={
        "owner_name": "重庆某机械公司", "owner_contact": "13812345678", "property": "挖掘机",
        "quantity": 2, "starts_at": "2026-11-28T09:00:00+08:00", "valuation": "800000.00",
        "legal_basis": "《中华人民共和国突发事件应对法》第七十六条", "authority": "渝中区人民政府"},
        headers=dispatcher)
    assert r.status_code == 201, r.get_json()
    req = r.get_json()
    assert req["owner_contact"] == "138****5678"
    assert req["order_number"].startswith("ZY-")
    assert req["valuation"] == "800000.00"
    bad = client.post(f"/api/v1/incidents/{inc['id']}/requisitions", json={
        "owner_name": "x", "owner_contact": "1", "property": "y", "quantity": 1,
        "starts_at": "2026-11-28T09:00:00+08:00", "ends_at": "2026-11-27T09:00:00+08:00",
        "valuation": "1", "legal_basis": "第七十六条", "authority": "区政府"},
        headers=dispatcher)
    assert bad.status_code == 422 and "ends_at" in error_of(bad)["details"]
    ret = client.post(f"/api/v1/requisitions/{req['id']}/return",
                      json={"condition": "damaged", "note": "铲斗变形"}, headers=dispatcher)
    assert ret.status_code == 200 and ret.get_json()["return_condition"] == "damaged"
    assert client.post(f"/api/v1/requisitions/{req['id']}/return",
                       json={"condition": "intact"}, headers=dispatcher).status_code == 409
    claim = client.post(f"/api/v1/requisitions/{req['id']}/compensation", json={"items": [
        {"kind": "property", "quantity": 2, "unit_price": "1500.00", "note": "rent 1 day"},
        {"kind": "equipment_damage", "quantity": 1, "unit_price": "12000.50"}]},
        headers=dispatcher)
    assert claim.status_code == 201, claim.get_json()
    assert claim.get_json()["total"] == "15000.50"
    register = client.get(f"/api/v1/incidents/{inc['id']}/requisitions",
                          headers=dispatcher).get_json()
    assert register["total"] == 1
    admin = actors.header("admin")
    x = client.get("/api/v1/compensations?format=xlsx&from=2020-01-01&to=2099-12-31",
                   headers=admin)
    assert x.status_code == 200
    wb = load_workbook(io.BytesIO(x.data))
    assert {"claims", "items", "by_organisation", "by_incident"} <= set(wb.sheetnames)
    rows = list(wb["claims"].iter_rows(min_row=2, values_only=True))
    assert [r[2] for r in rows] == ["重庆某机械公司"]
    assert float(rows[0][7]) == 15000.50
    audit = client.get("/api/v1/audit?action=compensation.export", headers=admin).get_json()
    assert audit["total"] >= 1
    none = client.get("/api/v1/compensations?from=2020-01-01&to=2020-01-31",
                      headers=admin).get_json()
    assert none["items"] == []


def _claim(client, d, headers, price="100.00"):
    """A submitted claim of one meals line."""
    r = client.post(f"/api/v1/dispatches/{d['id']}/compensation", headers=headers,
                    json={"items": [{"kind": "meals", "quantity": 1, "unit_price": price}]})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_rejection_needs_a_reason_and_the_submitter_never_reviews(client, forces, dispatcher,
                                                                   actors):
    _org, _oh, _inc, d = _setup(client, forces, dispatcher)
    admin_user, admin = actors.make("admin")
    client.post(f"/api/v1/dispatches/{d['id']}/transition", json={"to": "accepted"},
                headers=admin)
    claim = _claim(client, d, admin)
    review = f"/api/v1/compensations/{claim['id']}/review"
    own = client.post(review, json={"decision": "approve"}, headers=admin)
    assert own.status_code == 403 and error_of(own)["code"] == "four_eyes"
    other = actors.header("admin")
    for note in ("", "   "):
        r = client.post(review, json={"decision": "reject", "note": note}, headers=other)
        assert r.status_code == 422 and "note" in error_of(r)["details"]
    r = client.post(review, json={"decision": "reject", "note": "发票缺失"}, headers=other)
    assert r.status_code == 200 and r.get_json()["review_note"] == "发票缺失"
    assert r.get_json()["reviewed_by"] != admin_user.username


def test_ledger_sums_every_claim_the_filters_keep(client, forces, dispatcher, actors):
    admin = actors.header("admin")
    ids = []
    for price in ("100.00", "250.50", "0.25"):
        _org, oh, _inc, d = _setup(client, forces, dispatcher)
        client.post(f"/api/v1/dispatches/{d['id']}/transition", json={"to": "accepted"},
                    headers=oh)
        ids.append(_claim(client, d, oh, price)["id"])
    client.post(f"/api/v1/compensations/{ids[2]}/review",
                json={"decision": "reject", "note": "重复"}, headers=admin)
    client.post(f"/api/v1/compensations/{ids[0]}/review", json={"decision": "approve"},
                headers=admin)
    client.post(f"/api/v1/compensations/{ids[0]}/pay", headers=admin)
    page = client.get("/api/v1/compensations?limit=1", headers=admin).get_json()
    assert page["total"] == 3 and len(page["items"]) == 1
    assert page["sum"] == "350.50"  # every claim kept, rejected ones left out


def test_prefill_takes_person_days_from_check_ins(client, forces, dispatcher, db):
    from sqlalchemy import select

    from incidents.models import DispatchCheckin
    from registry.models import TeamMember

    org, oh = forces.org()
    team = forces.team(oh, org["id"], 106.56, 29.57, members=3, insured=3)
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    d = client.post(f"/api/v1/incidents/{inc['id']}/dispatches",
                    json={"team_id": team["id"], "members_requested": 3},
                    headers=dispatcher).get_json()
    path = f"/api/v1/dispatches/{d['id']}"
    for to in ("accepted", "en_route", "on_scene"):
        client.post(f"{path}/transition", json={"to": to}, headers=oh)
    first, second = db.scalars(select(TeamMember.id).where(
        TeamMember.team_id == team["id"]).order_by(TeamMember.id).limit(2)).all()
    assert client.post(f"{path}/members", json={"member_ids": [first, second]},
                       headers=oh).status_code in (200, 201)
    for member in (first, second):
        for kind in ("in", "out"):
            r = client.post(f"{path}/checkins", json={"member_id": member, "kind": kind},
                            headers=oh)
            assert r.status_code == 201, r.get_json()
    row = db.scalars(select(DispatchCheckin).where(DispatchCheckin.member_id == first,
                                                   DispatchCheckin.kind == "in")).one()
    row.at = row.at - timedelta(hours=48)  # three calendar days on scene
    db.flush()
    client.post(f"{path}/transition", json={"to": "completed"}, headers=oh)
    body = client.get(f"{path}/compensation/prefill", headers=oh).get_json()
    kinds = {i["kind"]: i for i in body["items"]}
    assert kinds["personnel"]["quantity"] == "4"  # 3 days + 1 day, not 3 members × 3 days
    assert kinds["personnel"]["amount"] == "2400.00"
    assert kinds["meals"]["amount"] == "400.00"
    assert kinds["lodging"]["amount"] == "600.00"  # two nights, of the first member
    assert body["total"] == "3400.00"
