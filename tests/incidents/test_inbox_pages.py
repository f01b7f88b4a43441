"""The organisation's dispatch inbox pages, server-rendered parts: who sees what."""

import json
import re

from maps.assets import external_urls
from tests.factories import id_number
from tests.incidents.conftest import incident_body


def _page(app, url, headers):
    """A page fetched by a fresh client (a token client keeps no page session)."""
    return app.test_client().get(url, headers=headers)


def _json_of(html, element_id):
    """The JSON a page carries in <script type="application/json" id=...>."""
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>',
                      html, re.S)
    return json.loads(found.group(1))


def _arrange(client, forces, dispatcher):
    """An organisation with a team of two, an incident and a dispatch of that team."""
    org, org_headers = forces.org()
    team = forces.team(org_headers, org["id"], 106.56, 29.57, name="山地一队")
    incident = client.post("/api/v1/incidents", json=incident_body(),
                           headers=dispatcher).get_json()
    sent = client.post(f"/api/v1/incidents/{incident['id']}/dispatches", headers=dispatcher,
                       json={"team_id": team["id"], "task": "搜救被困人员",
                             "members_requested": 2})
    assert sent.status_code == 201, sent.get_json()
    return org, org_headers, team, incident, sent.get_json()


def test_org_admin_sees_own_dispatches_in_the_inbox(app, client, forces, dispatcher, actors):
    _org, org_headers, team, _incident, dispatch = _arrange(client, forces, dispatcher)
    page = _page(app, "/dispatches", org_headers)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "调派任务" in html and 'href="/dispatches"' in html
    data = _json_of(html, "inbox-data")
    assert [d["id"] for d in data["items"]] == [dispatch["id"]]
    assert data["items"][0]["team_name"] == "山地一队"
    labels = _json_of(html, "inbox-labels")
    assert labels["new"] == "新" and labels["statuses"]["requested"] == "已请求"
    assert external_urls(html) == []
    # Another organisation's admin sees an empty inbox; grid staff may not open it.
    _other, other_headers = forces.org()
    other = _json_of(_page(app, "/dispatches", other_headers).get_data(as_text=True),
                     "inbox-data")
    assert other["items"] == [] and other["total"] == 0
    assert _page(app, "/dispatches", actors.header("grid_staff")).status_code == 403
    # The bureau reads every dispatch in its scope.
    bureau = _json_of(_page(app, "/dispatches", dispatcher).get_data(as_text=True),
                      "inbox-data")
    assert dispatch["id"] in [d["id"] for d in bureau["items"]]


def test_dispatch_page_shows_the_roster_masked_to_its_org_admin_only(app, client, forces,
                                                                     dispatcher, actors, place):
    _org, org_headers, team, incident, dispatch = _arrange(client, forces, dispatcher)
    page = _page(app, f"/dispatches/{dispatch['id']}", org_headers)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "山体滑坡" in html and "搜救被困人员" in html and 'id="accept-btn"' in html
    roster = client.get(f"/api/v1/teams/{team['id']}/members", headers=org_headers).get_json()
    for member in roster["items"]:
        assert f'value="{member["id"]}"' in html and member["name"] in html
        assert member["phone"] in html and "*" in member["phone"]  # masked
    assert not re.search(r"139\d{8}", html)  # no full phone number anywhere
    assert "leaflet" in html.lower() and external_urls(html) == []
    assert "测试区" in html  # the scene's district outline is the map's base
    assert _json_of(html, "dispatch-data")["status"] == "requested"
    # The bureau reads the page without the organisation's buttons or roster.
    bureau = _page(app, f"/dispatches/{dispatch['id']}", dispatcher).get_data(as_text=True)
    assert "山体滑坡" in bureau and 'id="accept-btn"' not in bureau
    assert f'href="/maps/incidents/{incident["id"]}"' in bureau
    assert 'id="console-link"' not in html
    assert 'class="form-check-input member-choice"' not in bureau
    # Another organisation's admin and grid staff may not; an unknown dispatch is 404.
    _other, other_headers = forces.org()
    assert _page(app, f"/dispatches/{dispatch['id']}", other_headers).status_code == 403
    assert _page(app, f"/dispatches/{dispatch['id']}",
                 actors.header("grid_staff")).status_code == 403
    assert _page(app, "/dispatches/999999", org_headers).status_code == 404


def test_service_hours_pages(app, client, forces, dispatcher, actors):
    _org, org_headers, team, _incident, dispatch = _arrange(client, forces, dispatcher)
    base = f"/api/v1/dispatches/{dispatch['id']}"
    roster = client.get(f"/api/v1/teams/{team['id']}/members", headers=org_headers).get_json()
    member = roster["items"][0]
    for step in ("accepted", "en_route"):
        assert client.post(f"{base}/transition", json={"to": step},
                           headers=org_headers).status_code == 200
    assert client.post(f"{base}/members", json={"member_ids": [member["id"]]},
                       headers=org_headers).status_code == 200
    for kind in ("in", "out"):
        checked = client.post(f"{base}/checkins", headers=org_headers, json={
            "member_id": member["id"], "kind": kind,
            "location": {"type": "Point", "coordinates": [106.55, 29.56]}})
        assert checked.status_code == 201, checked.get_json()

    page = _page(app, "/dispatches/service", org_headers)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "服务时长" in html and team["name"] in html
    for m in roster["items"]:
        assert f'data-member-id="{m["id"]}"' in html and m["name"] in html
    assert not re.search(r"139\d{8}", html)
    assert re.search(rf'data-member-id="{member["id"]}".*?class="text-end hours">0\.0<', html,
                     re.S)

    detail = _page(app, f"/dispatches/members/{member['id']}/service", org_headers)
    assert detail.status_code == 200
    text = detail.get_data(as_text=True)
    assert "山体滑坡" in text and f"/dispatches/{dispatch['id']}" in text
    assert _page(app, f"/dispatches/members/{member['id']}/service",
                 dispatcher).status_code == 200
    _other, other_headers = forces.org()
    assert _page(app, f"/dispatches/members/{member['id']}/service",
                 other_headers).status_code == 403
    assert _page(app, "/dispatches/service", dispatcher).status_code == 403
    assert _page(app, "/dispatches/service", actors.header("grid_staff")).status_code == 403


HOSTILE = "<img src=x onerror=alert(1)></script><script>alert(2)</script>{{7*7}}"


def test_hostile_names_reach_the_inbox_pages_only_as_text(app, client, forces, dispatcher):
    org, org_headers = forces.org()
    team = forces.team(org_headers, org["id"], 106.56, 29.57, name="队" + HOSTILE[:60])
    client.post(f"/api/v1/teams/{team['id']}/members", headers=org_headers, json={
        "name": "张" + HOSTILE[:40], "id_number": id_number(77), "phone": "13900000077"})
    incident = client.post("/api/v1/incidents", headers=dispatcher,
                           json=incident_body(title=HOSTILE)).get_json()
    dispatch = client.post(f"/api/v1/incidents/{incident['id']}/dispatches",
                           headers=dispatcher, json={"team_id": team["id"],
                                                     "task": HOSTILE}).get_json()
    for url in ("/dispatches", f"/dispatches/{dispatch['id']}"):
        html = _page(app, url, org_headers).get_data(as_text=True)
        assert "<img src=x" not in html and "<script>alert" not in html, url
        assert "{{7*7}}" in html, url  # shown as written: no template ran on it
    # The data keeps the names exactly, for the scripts to write as text.
    listed = _json_of(_page(app, "/dispatches", org_headers).get_data(as_text=True),
                      "inbox-data")
    assert listed["items"][0]["incident_title"] == HOSTILE
    assert listed["items"][0]["task"] == HOSTILE


def test_inbox_pages_in_english(app, client, forces, dispatcher):
    _org, org_headers, _team, _incident, dispatch = _arrange(client, forces, dispatcher)
    html = _page(app, "/dispatches?lang=en", org_headers).get_data(as_text=True)
    assert "Dispatch tasks" in html
    assert _json_of(html, "inbox-labels")["statuses"]["requested"] == "Requested"
    page = _page(app, f"/dispatches/{dispatch['id']}?lang=en", org_headers)
    assert page.status_code == 200 and "Accept the dispatch" in page.get_data(as_text=True)
