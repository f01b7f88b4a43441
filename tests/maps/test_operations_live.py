"""The operations map, live: its page data names the layers each event refreshes, and in
headless Chromium an incident opened through the API appears on the open map without reload."""

import json
import re
import time

import pytest

from emergency import create_app
from maps.operations import LIVE_LAYERS, operations_map
from maps.pages import page_parts
from tests.browser import RequestLog, chromium, live_server
from tests.conftest import DATA_KEY, app_config, drop_database, make_database
from tests.incidents.conftest import arrange_committed
from tests.maps.test_maps_operations import LABELS


def _config(parts):
    """The ViewportLayers configuration of a page (maps.data)."""
    found = re.findall(r'<script type="application/json" class="map-data" id="[^"]+">(.*?)'
                       r"</script>", parts["html"], re.S)
    return next(c for c in map(json.loads, found) if c["kind"] == "viewport")


def _wait(page, condition, timeout_s=20):
    """Poll a JS condition (the page's CSP forbids the eval behind wait_for_function)."""
    for _ in range(int(timeout_s * 10)):
        if page.evaluate(f"() => Boolean({condition})"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {condition}")


def _sign_in(page, base, username, password):
    """Sign in through the login form (tests/browser.py's sign_in waits for the network to
    fall idle, which a page holding the live events stream never does)."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)


def quiesce_live_events(app, timeout_s=10):
    """Wait until the app's live event streams have ended and stop its hub's thread, before
    the test drops the database that thread follows (it would retry and log tracebacks into
    the next tests). Streams notice their client has gone at their next heartbeat."""
    hub = app.extensions.get("emergency.events", {}).get("hub")
    if hub is None:
        return
    deadline = time.monotonic() + timeout_s
    while hub.streams and time.monotonic() < deadline:
        time.sleep(0.1)
    hub.stop(timeout_s)


def test_the_map_refreshes_the_layers_each_event_makes_stale():
    parts = page_parts(operations_map({**LABELS, "in_view": "视野内", "updated": "已更新"}))
    config = _config(parts)
    assert config["hooks"] == "operations"
    assert "/maps/static/maps/operations-live.js" in parts["header"]
    live = config["page"]["live"]
    assert live == LIVE_LAYERS
    names = {d["name"] for d in config["layers"]}
    assert {n for layers in live.values() for n in layers} <= names
    assert live["incident.created"] == ["incidents"] and live["hazard.updated"] == ["hazards"]
    assert set(live["dispatch.updated"]) == {"teams", "incidents"}
    assert [k for k, _label in config["page"]["counts"]] == ["incidents", "hazards", "teams"]
    assert config["page"]["updated"] == "已更新"


def test_home_page_counts_are_labelled_in_chinese(client, actors, place):
    page = client.get("/", headers=actors.header("dispatcher")).get_data(as_text=True)
    config = _config({"html": page})
    assert config["page"]["in_view"] == "视野内"
    assert ["incidents", "进行中的事件"] in config["page"]["counts"]


# Grid staff have their own home (上报, my grids, my reports) without the operations map.
@pytest.mark.parametrize("role, missing", [("dispatcher", set()), ("auditor", set()),
                                            ("org_admin", {"incidents", "hazards"})])
def test_the_map_leaves_out_layers_the_role_may_not_read(client, actors, place, role, missing):
    _user, headers = actors.make(role, grids=place["grids"][:1] if role == "grid_staff" else ())
    config = _config({"html": client.get("/", headers=headers).get_data(as_text=True)})
    names = {d["name"] for d in config["layers"]}
    assert names & {"incidents", "hazards"} == {"incidents", "hazards"} - missing
    assert not missing & {k for k, _label in config["page"]["counts"]}
    for name in {"incidents", "hazards"} - missing:  # and what it draws, it may read
        layer = client.get(f"/api/v1/maps/layers/{name}?bbox=106,29,107,30&zoom=10",
                           headers=headers)
        assert layer.status_code == 200, (name, layer.get_json())


COUNT = "() => Object.values(window.viewportLayers)[0].counts.incidents"
TEAMS = "Object.values(window.viewportLayers)[0].defs.filter(d => d.name === 'teams')" \
        ".flatMap(d => d.drawn)"
TEAM = f"() => ({TEAMS}).map(l => l.feature.properties.status).join()"
TEAM_RING = f"() => ({TEAMS}).map(l => l.options.color).join()"


@pytest.mark.browser
@pytest.mark.both_backends
def test_an_incident_opened_elsewhere_appears_on_the_open_map(backend, tmp_path):
    from registry.crypto import cipher_for

    url, engine = make_database(backend, tmp_path, "opslive")
    try:
        team_id, token = arrange_committed(engine, cipher_for(DATA_KEY))
        app = create_app(app_config(url, tmp_path, EVENTS_HEARTBEAT_SECONDS=1))
        api = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        with live_server(app) as base, chromium() as browser:
            page = browser.new_page(locale="zh-CN")
            log = RequestLog(page)
            _sign_in(page, base, "disp", "correct horse battery")
            page.goto(f"{base}/")
            _wait(page, f"({COUNT})() === 0")
            _wait(page, "document.getElementById('live-indicator').dataset.state === 'live'")
            assert page.inner_text(".ops-counts [data-layer=incidents]") == "0"
            page.evaluate("() => { window.notReloaded = true; }")

            created = api.post("/api/v1/incidents", headers=headers, json={
                "title": "山体滑坡", "incident_type": "geological",
                "occurred_at": "2026-11-28T08:00:00+08:00",
                "location": {"type": "Point", "coordinates": [106.55, 29.56]}})
            assert created.status_code == 201, created.get_json()
            _wait(page, f"({COUNT})() === 1")
            assert page.evaluate("() => window.notReloaded === true")
            assert page.inner_text(".ops-counts [data-layer=incidents]") == "1"
            assert page.inner_text(".ops-counts .ops-updated").startswith("已更新")
            # The new marker is ringed as changed.
            ringed = page.evaluate("""() => {
                const layers = Object.values(window.viewportLayers)[0].defs
                    .find(d => d.name === 'incidents').drawn;
                return layers.map(l => [l.feature.id, l.options.color]); }""")
            assert ringed == [[created.get_json()["id"], "#ffd600"]]

            # A dispatch refreshes the teams: the team turns 'dispatched', ringed.
            dispatched = api.post(f"/api/v1/incidents/{created.get_json()['id']}/dispatches",
                                  headers=headers, json={"team_id": team_id, "task": "搜救",
                                                         "members_requested": 1})
            assert dispatched.status_code == 201, dispatched.get_json()
            _wait(page, f"({TEAM})() === 'dispatched'")
            assert page.evaluate(f"() => ({TEAM_RING})()") == "#ffd600"
            assert page.evaluate("() => window.notReloaded === true")
            assert log.foreign() == []
        quiesce_live_events(app)
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        engine.dispose()
        drop_database(url)
