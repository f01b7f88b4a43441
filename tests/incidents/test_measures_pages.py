"""Measure pages and the appeal in pages (server side, issue 19): the register with its
filters and expired measures flagged, the form (fields named on refusal, input kept), the
printable decision, lifting from the dialog's form; a claimant's appeal on the claim page,
the decision by another administrator and the ledger's filter."""

import json
import re
from datetime import UTC, datetime, timedelta

from tests.conftest import square
from tests.incidents.conftest import incident_body
from tests.incidents.test_claims_pages import _completed_dispatch, _csrf, _signed_in
from tests.incidents.test_measures_api import measure_body


def test_measure_form_register_decision_and_lift(app, client, actors, dispatcher):
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    user, _h = actors.make("dispatcher")
    page = _signed_in(app, user.username)
    url = f"/incidents/{inc['id']}/measures/new"
    html = page.get(url).get_data(as_text=True)
    assert "发布应急措施" in html and 'id="m-bases"' in html and "第七十三条" in html
    assert 'id="measure-map-data"' in html
    form = {"csrf_token": _csrf(page, url), "kind": "evacuation", "legal_basis": "",
            "authority": "", "starts_at": "2026-11-28T09:00", "ends_at": "2026-11-28T08:00",
            "scope": "", "note": "转移危险区群众"}
    bad = page.post(url, data=form)
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    for field in ("m-basis", "m-authority", "m-ends"):
        assert re.search(rf'is-invalid" id="{field}"', text), field
    assert 'id="e-scope"' in text and "转移危险区群众" in text  # input kept
    form.update(legal_basis="《中华人民共和国突发事件应对法》第七十三条",
                authority="渝中区人民政府", ends_at="", scope=json.dumps(square(106.54, 29.55)))
    done = page.post(url, data=form)
    assert done.status_code == 302 and re.search(r"/measures/\d+$", done.headers["Location"])
    decision = page.get(done.headers["Location"]).get_data(as_text=True)
    number = re.search(r'id="decision-number">([^<]+)<', decision).group(1)
    assert re.fullmatch(r"渝应急决〔\d{4}〕\d+号", number)
    assert "关于实施疏散转移的决定" in decision and "至解除时止" in decision
    assert 'id="decision-scope"' in decision and "<path d=\"M" in decision

    register = page.get(f"/measures?incident_id={inc['id']}").get_data(as_text=True)
    assert "应急处置措施" in register and number in register and "data-lift=" in register
    lift_url = re.search(r'data-lift="([^"]+)"', register).group(1)
    lifted = page.post(lift_url, data={"csrf_token": _csrf(page, "/measures"),
                                       "note": "险情解除", "next": "/measures?status=lifted"})
    assert lifted.status_code == 302 and lifted.headers["Location"].endswith("status=lifted")
    after = page.get("/measures?status=lifted").get_data(as_text=True)
    assert number in after and "已解除" in after
    decision = page.get(done.headers["Location"]).get_data(as_text=True)
    assert "险情解除" in decision
    # An outside "next" is not followed.
    away = page.post(lift_url, data={"csrf_token": _csrf(page, "/measures"), "note": "x",
                                     "next": "//evil.example/"})
    assert away.headers["Location"].endswith("/measures")


def test_expired_flagged_and_readers_without_lift(app, client, actors, dispatcher):
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    past = datetime.now(UTC) - timedelta(days=2)
    m = client.post(f"/api/v1/incidents/{inc['id']}/measures", json=measure_body(
        starts_at=past.isoformat(), ends_at=(past + timedelta(hours=6)).isoformat()),
        headers=dispatcher).get_json()
    planner, _h = actors.make("planner")
    page = _signed_in(app, planner.username)
    html = page.get("/measures?status=expired").get_data(as_text=True)
    row = re.search(rf'<tr data-measure="measure-{m["id"]}"[^>]*>', html).group(0)
    assert 'data-status="expired"' in row and "table-warning" in row
    assert "已到期未解除" in html and "data-lift=" not in html
    org_user, _oh = actors.make("org_admin")
    assert _signed_in(app, org_user.username).get("/measures").status_code == 403
    english = page.get("/measures?lang=en").get_data(as_text=True)
    assert "Expired, not lifted" in english


def test_appeal_in_pages(app, client, actors, dispatcher):
    org_user, oh, inc, d = _completed_dispatch(client, actors, dispatcher)
    claim = client.post(f"/api/v1/dispatches/{d['id']}/compensation", json={"items": [
        {"kind": "personnel", "quantity": 2, "unit_price": "600.00"}]}, headers=oh).get_json()
    first, _h = actors.make("admin")
    admin_page = _signed_in(app, first.username)
    url = f"/compensations/{claim['id']}"
    admin_page.post(f"{url}/review", data={"csrf_token": _csrf(admin_page, url),
                                          "decision": "reject", "note": "缺少签到表"})
    claimant = _signed_in(app, org_user.username)
    html = claimant.get(url).get_data(as_text=True)
    assert 'id="appeal-open"' in html and 'id="appeal-dialog"' in html
    empty = claimant.post(f"{url}/appeal", data={"csrf_token": _csrf(claimant, url),
                                                "reason": " "})
    assert empty.status_code == 302
    assert "请填写申诉理由" in claimant.get(url).get_data(as_text=True)
    sent = claimant.post(f"{url}/appeal", data={"csrf_token": _csrf(claimant, url),
                                               "reason": "签到表已补交"})
    assert sent.status_code == 302
    html = claimant.get(url).get_data(as_text=True)
    assert 'data-status="appealed"' in html and "签到表已补交" in html
    assert 'id="appeal-open"' not in html and "缺少签到表" in html
    assert re.search(r'<li data-status="appealed">[^<]*签到表已补交', html)

    html = admin_page.get(url).get_data(as_text=True)
    assert 'id="same-reviewer"' in html and 'id="approve"' not in html
    second, _h = actors.make("admin")
    other = _signed_in(app, second.username)
    assert 'id="approve"' in other.get(url).get_data(as_text=True)
    ledger = other.get("/compensations?status=appealed").get_data(as_text=True)
    assert f'data-claim-id="{claim["id"]}"' in ledger and "申诉中" in ledger
    assert "驳回：缺少签到表" in ledger and "申诉：签到表已补交" in ledger
    other.post(f"{url}/review", data={"csrf_token": _csrf(other, url),
                                      "decision": "approve", "note": "复核同意"})
    html = other.get(url).get_data(as_text=True)
    assert 'data-status="approved"' in html
    statuses = re.findall(r'<li data-status="(\w+)"', html)
    assert statuses == ["submitted", "rejected", "appealed", "approved"]


def test_console_panel_and_maps_show_measures(app, client, actors, dispatcher):
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    m = client.post(f"/api/v1/incidents/{inc['id']}/measures", json=measure_body(),
                    headers=dispatcher).get_json()
    user, _h = actors.make("dispatcher")
    page = _signed_in(app, user.username)
    console = page.get(f"/maps/incidents/{inc['id']}").get_data(as_text=True)
    panel = console[console.index('id="measures-panel"'):]
    assert m["order_number"] in panel and 'id="new-measure"' in panel
    assert "data-lift=" in panel and 'id="lift-dialog"' in console
    # The scope is map data (JSON), drawn in its own group with a legend entry.
    assert '"tooltip_fields": ["measure"]' in console
    layer = client.get("/api/v1/maps/layers/measures", headers=dispatcher, query_string={
        "bbox": "106.4,29.4,106.7,29.7", "zoom": 12})
    assert layer.status_code == 200
    features = layer.get_json()["features"]
    assert [f["properties"]["number"] for f in features] == [m["order_number"]]
    assert features[0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert client.get("/api/v1/maps/layers/measures", query_string={
        "bbox": "106.4,29.4,106.7,29.7", "zoom": 12},
        headers=actors.header("org_admin")).status_code == 403
    client.post(f"/api/v1/measures/{m['id']}/lift", json={}, headers=dispatcher)
    lifted = client.get("/api/v1/maps/layers/measures", headers=dispatcher, query_string={
        "bbox": "106.4,29.4,106.7,29.7", "zoom": 12}).get_json()
    assert lifted["features"] == []
    home = page.get("/").get_data(as_text=True)
    assert '"measures"' in home
