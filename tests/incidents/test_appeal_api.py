"""Compensation appeal (救济, issue 19): only the claimant, only after a rejection, once; the
appeal is decided by an administrator other than the one who rejected the claim; the whole
history is on the claim, in the ledger and in its spreadsheet."""

import io

from openpyxl import load_workbook

from tests.conftest import error_of
from tests.incidents.test_incidents_compensation import _setup

ITEMS = {"items": [{"kind": "personnel", "quantity": 2, "unit_price": "600.00"}]}


def _rejected(client, forces, dispatcher, actors):
    """A dispatch claim by its organisation, rejected by one administrator."""
    org, oh, inc, d = _setup(client, forces, dispatcher)
    client.post(f"/api/v1/dispatches/{d['id']}/transition", json={"to": "accepted"},
                headers=oh)
    claim = client.post(f"/api/v1/dispatches/{d['id']}/compensation", json=ITEMS,
                        headers=oh).get_json()
    first_admin = actors.header("admin")
    return org, oh, claim, first_admin


def test_appeal_decided_by_another_admin(client, forces, dispatcher, actors):
    org, oh, claim, first = _rejected(client, forces, dispatcher, actors)
    appeal = f"/api/v1/compensations/{claim['id']}/appeal"
    review = f"/api/v1/compensations/{claim['id']}/review"
    early = client.post(appeal, json={"reason": "票据齐全"}, headers=oh)
    assert early.status_code == 409 and error_of(early)["code"] == "not_rejected"
    rejected = client.post(review, json={"decision": "reject", "note": "缺少票据"}, headers=first)
    assert rejected.get_json()["status"] == "rejected"

    assert client.post(appeal, json={}, headers=oh).status_code == 422
    blank = client.post(appeal, json={"reason": "  "}, headers=oh)
    assert blank.status_code == 422 and "reason" in error_of(blank)["details"]
    other_org = forces.org()[1]
    assert client.post(appeal, json={"reason": "x"}, headers=other_org).status_code == 403
    not_claimant = client.post(appeal, json={"reason": "x"}, headers=dispatcher)
    assert not_claimant.status_code == 403  # a dispatcher who did not submit it
    assert client.post(appeal, json={"reason": "x"},
                       headers=actors.header("planner")).status_code == 403

    r = client.post(appeal, json={"reason": "票据已补交，见附件"}, headers=oh)
    assert r.status_code == 200, r.get_json()
    appealed = r.get_json()
    assert appealed["status"] == "appealed" and appealed["appeal_reason"] == "票据已补交，见附件"
    assert appealed["rejection_note"] == "缺少票据" and appealed["rejected_by"]
    again = client.post(appeal, json={"reason": "再次申诉"}, headers=oh)
    assert again.status_code == 409

    same = client.post(review, json={"decision": "approve"}, headers=first)
    assert same.status_code == 403 and error_of(same)["code"] == "appeal_same_reviewer"
    second = actors.header("admin")
    decided = client.post(review, json={"decision": "approve", "note": "复核通过"},
                          headers=second)
    assert decided.status_code == 200 and decided.get_json()["status"] == "approved"
    # Decided once: neither a second appeal nor a second decision.
    assert client.post(appeal, json={"reason": "x"}, headers=oh).status_code == 409
    assert client.post(review, json={"decision": "reject", "note": "x"},
                       headers=second).status_code == 409

    got = client.get(f"/api/v1/compensations/{claim['id']}", headers=oh).get_json()
    assert got["rejection_note"] == "缺少票据" and got["review_note"] == "复核通过"
    assert got["appealed_by"] and got["appealed_at"]


def test_appealed_claims_filter_and_ledger_history(client, forces, dispatcher, actors):
    org, oh, claim, first = _rejected(client, forces, dispatcher, actors)
    client.post(f"/api/v1/compensations/{claim['id']}/review",
                json={"decision": "reject", "note": "金额不符"}, headers=first)
    client.post(f"/api/v1/compensations/{claim['id']}/appeal", json={"reason": "按标准计算"},
                headers=oh)
    admin = actors.header("admin")
    listed = client.get("/api/v1/compensations?status=appealed", headers=admin).get_json()
    assert [c["id"] for c in listed["items"]] == [claim["id"]]
    assert listed["items"][0]["appeal_reason"] == "按标准计算"
    xlsx = client.get("/api/v1/compensations?status=appealed&format=xlsx", headers=admin)
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["status"] == "appealed" and row["rejection note"] == "金额不符"
    assert row["appeal reason"] == "按标准计算" and row["rejected_by"]
    timeline = client.get(f"/api/v1/incidents/{claim['incident_id']}/timeline",
                          headers=admin).get_json()["items"]
    steps = [e["detail"]["status"] for e in timeline if e["kind"] == "compensation"
             and e["detail"].get("compensation_id") == claim["id"]]
    assert steps == ["submitted", "rejected", "appealed"]


def test_submitting_dispatcher_may_appeal_a_requisition_claim(client, dispatcher, actors):
    from tests.incidents.conftest import incident_body

    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    req = client.post(f"/api/v1/incidents/{inc['id']}/requisitions", json={
        "owner_name": "某公司", "owner_contact": "13812345678", "property": "挖掘机",
        "quantity": 1, "starts_at": "2026-11-28T09:00:00+08:00", "valuation": "1000.00",
        "legal_basis": "突发事件应对法第七十六条", "authority": "渝中区人民政府"},
        headers=dispatcher).get_json()
    claim = client.post(f"/api/v1/requisitions/{req['id']}/compensation",
                        json={"items": [{"kind": "property", "quantity": 1,
                                         "unit_price": "500.00"}]},
                        headers=dispatcher).get_json()
    admin = actors.header("admin")
    client.post(f"/api/v1/compensations/{claim['id']}/review",
                json={"decision": "reject", "note": "估价过高"}, headers=admin)
    other_dispatcher = actors.header("dispatcher")
    assert client.post(f"/api/v1/compensations/{claim['id']}/appeal", json={"reason": "x"},
                       headers=other_dispatcher).status_code == 403
    r = client.post(f"/api/v1/compensations/{claim['id']}/appeal",
                    json={"reason": "有评估报告"}, headers=dispatcher)
    assert r.status_code == 200 and r.get_json()["status"] == "appealed"
