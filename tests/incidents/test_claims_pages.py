"""Requisition and compensation pages (server side): record and print a requisition, claim
from a prefilled form, review with a required reason and four eyes, pay, the ledger."""

import re

from maps.assets import external_urls
from tests.factories import register_org
from tests.incidents.conftest import incident_body

PASSWORD = "correct horse battery"


def _csrf(client, url):
    """The CSRF token of a page (kept in the client's session cookie)."""
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _signed_in(app, username):
    """A fresh client signed in through the login form."""
    client = app.test_client()
    token = _csrf(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "username": username,
                                           "password": PASSWORD})
    assert response.status_code == 302
    return client


def _completed_dispatch(client, actors, dispatcher):
    """An incident and an organisation's team whose dispatch completed: (org_admin user,
    org headers, incident, dispatch)."""
    admin = actors.header("admin")
    org, org_user, oh = register_org(client, actors, 41, admin_headers=admin)
    team = client.post(f"/api/v1/orgs/{org['id']}/teams", headers=oh, json={
        "name": "山地二队", "category": "mountain", "service_radius_km": 30,
        "location": {"type": "Point", "coordinates": [106.56, 29.57]}}).get_json()
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    d = client.post(f"/api/v1/incidents/{inc['id']}/dispatches",
                    json={"team_id": team["id"], "members_requested": 2},
                    headers=dispatcher).get_json()
    for to in ("accepted", "en_route", "on_scene", "completed"):
        r = client.post(f"/api/v1/dispatches/{d['id']}/transition", json={"to": to},
                        headers=oh)
        assert r.status_code == 200, r.get_json()
    return org_user, oh, inc, d


def test_requisition_form_order_return_and_claim(app, client, actors, dispatcher):
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    user, _h = actors.make("dispatcher")
    page = _signed_in(app, user.username)
    url = f"/incidents/{inc['id']}/requisitions/new"
    html = page.get(url).get_data(as_text=True)
    assert 'name="owner_contact"' in html and 'name="viewport"' in html
    form = {"csrf_token": _csrf(page, url), "owner_name": "重庆某机械公司",
            "legal_basis": "《中华人民共和国突发事件应对法》第七十六条",
            "authority": "重庆市渝中区人民政府",
            "owner_contact": "13812345678", "property": "挖掘机", "quantity": "2",
            "starts_at": "2026-11-28T09:00", "ends_at": "2026-11-27T09:00",
            "valuation": "abc"}
    bad = page.post(url, data=form)
    assert bad.status_code == 422
    assert bad.get_data(as_text=True).count("is-invalid") == 1  # valuation; then the period
    form["valuation"] = "800000"
    bad = page.post(url, data=form)
    assert bad.status_code == 422 and "is-invalid" in bad.get_data(as_text=True)
    form["ends_at"] = ""
    done = page.post(url, data=form)
    assert done.status_code == 302 and "/order" in done.headers["Location"]
    order = page.get(done.headers["Location"])
    html = order.get_data(as_text=True)
    number = re.search(r'id="order-number">([^<]+)<', html).group(1)
    assert number.startswith("ZY-") and "138****5678" in html and "13812345678" not in html
    assert "征用凭证" in html and "800,000.00" in html and "@media print" not in html
    assert "claims.css" in html and external_urls(html) == []
    req_id = int(re.search(r"/requisitions/(\d+)/order", done.headers["Location"]).group(1))
    returned = page.post(f"/requisitions/{req_id}/return", data={
        "csrf_token": _csrf(page, done.headers["Location"]), "condition": "lost",
        "note": "被洪水冲走"})
    assert returned.status_code == 302
    api = client.get(f"/api/v1/requisitions/{req_id}", headers=dispatcher).get_json()
    assert api["status"] == "returned" and api["return_condition"] == "lost"
    claim_url = f"/requisitions/{req_id}/claim"
    html = page.get(claim_url).get_data(as_text=True)
    assert 'value="800000.00"' in html  # lost: its valuation is prefilled
    ledger = page.get("/compensations").get_data(as_text=True)
    assert f'data-requisition-id="{req_id}"' in ledger  # awaiting a claim
    lines = {"csrf_token": _csrf(page, claim_url), "kind": ["property", "property", "other"],
             "quantity": ["2", "1", ""], "unit_price": ["1500", "800000.00", ""],
             "note": ["租金", "灭失", ""]}
    sent = page.post(claim_url, data=lines)
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    claim_id = int(sent.headers["Location"].rsplit("/", 1)[1])
    claim = client.get(f"/api/v1/compensations/{claim_id}", headers=dispatcher).get_json()
    assert claim["total"] == "803000.00" and len(claim["items"]) == 2
    # The same form sent again (a retry) shows the open claim instead of a second one.
    again = page.post(claim_url, data=lines)
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/{claim_id}")
    assert page.get(claim_url).headers["Location"].endswith(f"/{claim_id}")
    assert f'data-requisition-id="{req_id}"' not in page.get("/compensations") \
        .get_data(as_text=True)


def test_claim_form_refuses_bad_lines_and_keeps_them(app, client, actors, dispatcher):
    org_user, _oh, _inc, d = _completed_dispatch(client, actors, dispatcher)
    page = _signed_in(app, org_user.username)
    url = f"/dispatches/{d['id']}/claim"
    html = page.get(url).get_data(as_text=True)
    assert "claim-line-template" in html and "人员补助" in html
    assert 'value="600.00"' in html  # personnel: twice the daily wage
    bad = page.post(url, data={"csrf_token": _csrf(page, url), "kind": ["meals", "fuel"],
                               "quantity": ["2", "-1"], "unit_price": ["100", "7.5"],
                               "note": ["", "柴油"]})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'value="柴油"' in html and html.count("is-invalid") == 1
    empty = page.post(url, data={"csrf_token": _csrf(page, url), "kind": ["meals"],
                                 "quantity": [""], "unit_price": [""], "note": [""]})
    assert empty.status_code == 422 and 'id="claim-problems"' in empty.get_data(as_text=True)
    huge = page.post(url, data={"csrf_token": _csrf(page, url), "kind": ["meals"],
                                "quantity": ["9999999"], "unit_price": ["999999999"],
                                "note": [""]})
    assert huge.status_code == 422


def test_review_needs_a_reason_and_other_eyes_then_pay(app, client, actors, dispatcher):
    org_user, oh, _inc, d = _completed_dispatch(client, actors, dispatcher)
    boss, boss_headers = actors.make("admin")
    # An admin's own claim: another admin must review it (page and API).
    own = client.post(f"/api/v1/dispatches/{d['id']}/compensation", headers=boss_headers,
                      json={"items": [{"kind": "meals", "quantity": 2, "unit_price": 100}]})
    assert own.status_code == 201
    own = own.get_json()
    refused = client.post(f"/api/v1/compensations/{own['id']}/review", headers=boss_headers,
                          json={"decision": "approve"})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "four_eyes"
    page = _signed_in(app, boss.username)
    html = page.get(f"/compensations/{own['id']}").get_data(as_text=True)
    assert 'id="four-eyes"' in html and 'id="approve-form"' not in html
    other, _h = actors.make("admin")
    reviewer = _signed_in(app, other.username)
    url = f"/compensations/{own['id']}"
    html = reviewer.get(url).get_data(as_text=True)
    assert 'id="reject-form"' in html and "data-confirm=" in html
    no_reason = reviewer.post(f"{url}/review", data={"csrf_token": _csrf(reviewer, url),
                                                     "decision": "reject", "note": "  "})
    assert no_reason.status_code == 422 and "请填写驳回理由" in no_reason.get_data(as_text=True)
    api = client.post(f"/api/v1/compensations/{own['id']}/review",
                      headers=actors.header("admin"), json={"decision": "reject"})
    assert api.status_code == 422 and api.get_json()["error"]["code"] == "reason_required"
    assert client.get(f"/api/v1/compensations/{own['id']}",
                      headers=boss_headers).get_json()["status"] == "submitted"
    rejected = reviewer.post(f"{url}/review", data={"csrf_token": _csrf(reviewer, url),
                                                    "decision": "reject", "note": "重复申报"})
    assert rejected.status_code == 302
    html = reviewer.get(url).get_data(as_text=True)
    assert 'data-status="rejected"' in html and "重复申报" in html
    # After a rejection the organisation claims again from the page; approved, then paid.
    org_page = _signed_in(app, org_user.username)
    form = f"/dispatches/{d['id']}/claim"
    sent = org_page.post(form, data={"csrf_token": _csrf(org_page, form), "kind": "meals",
                                     "quantity": "4", "unit_price": "100", "note": ""})
    assert sent.status_code == 302
    claim_url = sent.headers["Location"]
    approved = reviewer.post(f"{claim_url}/review", data={
        "csrf_token": _csrf(reviewer, claim_url), "decision": "approve", "note": ""})
    assert approved.status_code == 302
    assert 'id="pay-form"' in reviewer.get(claim_url).get_data(as_text=True)
    paid = reviewer.post(f"{claim_url}/pay", data={"csrf_token": _csrf(reviewer, claim_url)})
    assert paid.status_code == 302
    html = org_page.get(claim_url).get_data(as_text=True)
    assert 'data-status="paid"' in html and 'id="pay-form"' not in html
    assert [li for li in re.findall(r'<li data-status="(\w+)"', html)] == \
        ["submitted", "approved", "paid"]
    assert org_page.post(f"{claim_url}/pay", data={
        "csrf_token": _csrf(org_page, claim_url)}).status_code == 403
    assert client.get("/api/v1/compensations?status=paid", headers=oh).get_json()["sum"] \
        == "400.00"


def test_ledger_filters_pages_and_scopes(app, client, actors, dispatcher):
    org_user, oh, inc, d = _completed_dispatch(client, actors, dispatcher)
    claim = client.post(f"/api/v1/dispatches/{d['id']}/compensation", headers=oh, json={
        "items": [{"kind": "fuel", "quantity": "1.5", "unit_price": "53.33"}]}).get_json()
    admin, _h = actors.make("admin")
    page = _signed_in(app, admin.username)
    html = page.get("/compensations").get_data(as_text=True)
    assert f'data-claim-id="{claim["id"]}"' in html and "80.00" in html
    assert 'href="/api/v1/compensations?format=xlsx"' in html
    assert '<a class="nav-link" href="/compensations">补偿</a>' in html
    html = page.get(f"/compensations?status=paid&incident_id={inc['id']}").get_data(
        as_text=True)
    assert f'data-claim-id="{claim["id"]}"' not in html
    assert f"status=paid&amp;incident_id={inc['id']}&amp;format=xlsx" in html
    html = page.get("/compensations?from=2020-01-01&to=2020-01-02&page=x&status=bad") \
        .get_data(as_text=True)
    assert f'data-claim-id="{claim["id"]}"' not in html
    # The console links here with its incident: shown as the chosen filter even before a claim.
    quiet = client.post("/api/v1/incidents", json=incident_body(title="未申报事件"),
                        headers=dispatcher).get_json()
    html = page.get(f"/compensations?incident_id={quiet['id']}").get_data(as_text=True)
    assert f'<option value="{quiet["id"]}" selected>未申报事件</option>' in html
    assert "Claimed (not rejected)" in page.get("/compensations?lang=en").get_data(as_text=True)
    mine = _signed_in(app, org_user.username)
    assert f'data-claim-id="{claim["id"]}"' in mine.get("/compensations").get_data(
        as_text=True)
    other, _oh = register_org(client, actors, 42)[1:]
    theirs = _signed_in(app, other.username)
    assert f'data-claim-id="{claim["id"]}"' not in theirs.get("/compensations").get_data(
        as_text=True)
    assert theirs.get(f"/compensations/{claim['id']}").status_code == 403
    assert theirs.get(f"/dispatches/{d['id']}/claim").status_code == 403
    grid = actors.make("grid_staff")[0]
    assert _signed_in(app, grid.username).get("/compensations").status_code == 403
    planner = _signed_in(app, actors.make("planner")[0].username)
    assert planner.get("/compensations").status_code == 200
    assert planner.get(f"/incidents/{inc['id']}/requisitions/new").status_code == 403


def test_awaiting_claim_follows_each_claims_own_reference(app, client, actors, dispatcher):
    """A claim hides the requisition it refers to, and only that one (the list once matched
    a claim's own id against requisition ids, so which one hid depended on the sequences)."""
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    made = []
    for owner in ("甲公司", "乙公司"):
        r = client.post(f"/api/v1/incidents/{inc['id']}/requisitions", json={
            "owner_name": owner, "owner_contact": "13812345678", "property": "挖掘机",
            "quantity": 1, "starts_at": "2026-11-28T09:00:00+08:00", "valuation": "1000.00",
            "legal_basis": "突发事件应对法第七十六条", "authority": "渝中区人民政府"},
            headers=dispatcher)
        assert r.status_code == 201, r.get_json()
        made.append(r.get_json()["id"])
    first, second = made
    claim = client.post(f"/api/v1/requisitions/{second}/compensation", json={"items": [
        {"kind": "property", "quantity": 1, "unit_price": "100.00"}]}, headers=dispatcher)
    assert claim.status_code == 201, claim.get_json()
    user, _h = actors.make("dispatcher")
    ledger = _signed_in(app, user.username).get("/compensations").get_data(as_text=True)
    assert f'data-requisition-id="{first}"' in ledger
    assert f'data-requisition-id="{second}"' not in ledger
