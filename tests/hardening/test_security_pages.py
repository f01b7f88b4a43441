"""Stored script in pages (issue 15, class 2): hostile names of organisations, teams, layers,
areas, incidents and hazards never reach an executable script, every page carries a
Content-Security-Policy whose script-src has no 'unsafe-inline', and in Chromium the map pages
draw with those names shown as text and nothing of them running."""

import ast
import json
import re
import tempfile
import time
import types
from html.parser import HTMLParser
from pathlib import Path

import pytest
from shapely.geometry import shape

from tests.browser import chromium, live_server, sign_in
from tests.conftest import committed_app, square
from tests.factories import member_body, org_body, team_body
from tests.hazards.hazard_helpers import INSIDE_1
from tests.hazards.hazard_helpers import body as hazard_body

PASSWORD = "correct horse battery"
# One name carrying every payload family: a template-string hole, a script break-out, a lone
# backtick (a syntax error inside a template string), markup with a handler, and template
# syntax (server-side template injection would show 49).
HOSTILE = ("甲`${alert(1)}</script><script>window.__pwned=1</script>"
           "<img src=x onerror=window.__pwned=2>{{7*7}}")
# Fragments of HOSTILE that must never be inside a script the browser runs, in any escaping.
MARKS = ("alert(1)", "__pwned", "甲`", "{{7*7}}", "onerror")
JS_TYPES = ("", "text/javascript", "application/javascript", "module")


class _Scripts(HTMLParser):
    """Collects every script element: its type, whether it has a src, nonce, and its text."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.scripts, self.handlers, self._open = [], [], None

    def handle_starttag(self, tag, attrs):
        """Open a script; note inline event-handler attributes on any element."""
        a = dict(attrs)
        self.handlers += [(tag, k) for k in a if k.startswith("on")]
        if tag == "script":
            self._open = {"type": (a.get("type") or "").lower(), "src": a.get("src"),
                          "nonce": a.get("nonce"), "id": a.get("id"), "text": ""}
            self.scripts.append(self._open)

    def handle_data(self, data):
        """Script text (the parser hands a script's raw text through here)."""
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        """Close the open script."""
        if tag == "script":
            self._open = None


def scripts_of(html):
    """The script elements of a page, and its inline event-handler attributes."""
    parser = _Scripts()
    parser.feed(html)
    return parser.scripts, parser.handlers


def executable(script):
    """Whether the browser runs this script element."""
    return script["type"] in JS_TYPES


def script_src(csp):
    """The script-src directive of a Content-Security-Policy."""
    for directive in csp.split(";"):
        parts = directive.split()
        if parts and parts[0] == "script-src":
            return parts[1:]
    raise AssertionError(f"no script-src in {csp!r}")


def _login(client, username):
    """Sign in through the form (with its CSRF token)."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def _hostile_layer(session, area_code):
    """A hazard layer named HOSTILE and a queued risk assessment using it."""
    from risk import service
    from risk.layers import import_layer

    features = [{"type": "Feature", "properties": {"value": v},
                 "geometry": {"type": "Point", "coordinates": [106.45 + v / 100, 29.45]}}
                for v in range(1, 6)]
    path = Path(tempfile.mkdtemp()) / "hostile.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    layer, _repaired = import_layer(session, str(path), HOSTILE, "hazard", value_field="value")
    run = service.create_assessment(session, area_code, 2000, [{"layer_id": layer.id}])
    session.flush()
    return run.id


def hostile_actors(actors, place):
    """An admin, an organisation admin and a grid staff member of the place's first grid."""
    admin_user, admin = actors.make("admin")
    _org_user, org_admin = actors.make("org_admin")
    _grid_user, grid_staff = actors.make("grid_staff", grids=place["grids"][:1])
    return types.SimpleNamespace(admin=admin_user.username, admin_headers=admin,
                                 org_admin=org_admin, grid_staff=grid_staff)


def hostile_records(client, users):
    """Through the API: an approved organisation, its team and member, an incident and a
    hazard report, each named (or described) HOSTILE; returns their ids."""
    org = client.post("/api/v1/orgs", json=org_body(951, name=HOSTILE),
                      headers=users.org_admin).get_json()
    client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"},
                headers=users.admin_headers)
    team = client.post(f"/api/v1/orgs/{org['id']}/teams", json=team_body(name=HOSTILE),
                       headers=users.org_admin).get_json()
    assert "id" in team, team
    client.post(f"/api/v1/teams/{team['id']}/members", json=member_body(951, name=HOSTILE),
                headers=users.org_admin)
    incident = client.post("/api/v1/incidents", json={
        "title": HOSTILE, "incident_type": "flood", "occurred_at": "2026-06-01T08:00:00+08:00",
        "location": {"type": "Point", "coordinates": [106.56, 29.56]}, "metrics": {}},
        headers=users.admin_headers).get_json()
    assert "id" in incident, incident
    hazard = client.post("/api/v1/hazards", json=hazard_body(INSIDE_1, description=HOSTILE),
                         headers=users.grid_staff).get_json()
    assert "id" in hazard, hazard
    return {"org": org["id"], "team": team["id"], "incident": incident["id"],
            "hazard": hazard["id"]}


def hostile_spatial(session, place, with_run=False):
    """A district and a hazard layer named HOSTILE, and a risk assessment using the layer
    (run to the end when ``with_run``); returns the assessment's id."""
    from emergency.geo import service as geo
    from risk import service

    geo.create_area(session, "990102", HOSTILE, "district", shape(square(106.0, 29.0, 0.3)),
                    place["city"])
    risk_id = _hostile_layer(session, place["district"])
    if with_run:
        service.run_assessment(session, risk_id)
    session.flush()
    return risk_id


def make_hostile_world(client, session, actors, place):
    """Every hostile record, in the test's rolled-back session."""
    users = hostile_actors(actors, place)
    records = hostile_records(client, users)
    return types.SimpleNamespace(admin=users.admin, risk=hostile_spatial(session, place),
                                 **records)


def page_paths(world):
    """The map pages and the list and detail pages that show the hostile names."""
    return {
        "forces": "/maps/forces", "console": f"/maps/incidents/{world.incident}",
        "risk": f"/maps/risk/{world.risk}", "hazards": "/maps/hazards",
        "districts": "/maps/districts", "home": "/", "orgs": "/registry/orgs",
        "org": f"/registry/orgs/{world.org}", "team": f"/registry/teams/{world.team}",
        "review": "/registry/review", "incidents": "/incidents",
        "hazard": f"/hazards/{world.hazard}", "risk-index": "/risk",
    }


def test_hostile_names_never_reach_an_executable_script(client, db, actors, place):
    world = make_hostile_world(client, db, actors, place)
    _login(client, world.admin)
    problems = []
    for name, path in {**page_paths(world), "api-docs": "/api/v1/docs"}.items():
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        html = response.get_data(as_text=True)
        sources = script_src(response.headers["Content-Security-Policy"])
        if "'unsafe-inline'" in sources or "'unsafe-eval'" in sources:
            problems.append(f"{name}: script-src {sources}")
        nonces = {s[len("'nonce-"):-1] for s in sources if s.startswith("'nonce-")}
        scripts, handlers = scripts_of(html)
        if handlers:
            problems.append(f"{name}: inline event handlers {handlers}")
        for script in filter(executable, scripts):
            if script["src"] is None and script["nonce"] not in nonces:
                problems.append(f"{name}: inline script without the page's nonce "
                                f"{script['text'][:60]!r}")
            found = [m for m in MARKS if m in script["text"]]
            if found:
                problems.append(f"{name}: {found} inside a script {script['text'][:80]!r}")
        # Data for scripts travels as JSON that cannot end its element early.
        for script in scripts:
            if script["type"] == "application/json":
                json.loads(script["text"])
                if "</" in script["text"]:
                    problems.append(f"{name}: '</' inside JSON data")
    assert problems == []


def test_the_map_pages_carry_the_hostile_names_as_data(client, db, actors, place):
    # Guards the test above against passing because a name never reached the page at all.
    world = make_hostile_world(client, db, actors, place)
    _login(client, world.admin)
    for path in (f"/maps/incidents/{world.incident}", f"/maps/risk/{world.risk}",
                 "/maps/districts"):
        html = client.get(path).get_data(as_text=True)
        data = [s["text"] for s in scripts_of(html)[0] if s["type"] == "application/json"]
        assert any(HOSTILE in json.dumps(json.loads(text), ensure_ascii=False)
                   for text in data), path
    # The forces map embeds no team: its layer brings the names, as JSON (forces.js writes
    # them with textContent).
    forces = client.get("/api/v1/maps/layers/forces?bbox=73,18,135,54&zoom=5").get_json()
    assert HOSTILE in {f["properties"]["name"] for f in forces["features"]}


def test_nonce_differs_per_response(client, db, actors, place):
    admin_user, _admin = actors.make("admin")
    _login(client, admin_user.username)
    first = script_src(client.get("/maps/districts").headers["Content-Security-Policy"])
    second = script_src(client.get("/maps/districts").headers["Content-Security-Policy"])
    assert [s for s in first if s.startswith("'nonce-")] != \
        [s for s in second if s.startswith("'nonce-")]
    assert "'self'" in first


MAPS = Path(__file__).resolve().parents[2] / "maps"
# folium and branca elements that carry text into folium's generated script (and through its
# second Jinja pass); page builders hand such text to maps.data.MapData instead, which with
# maps.assets (constant links only) is the one module allowed to build elements.
TEXT_ELEMENTS = {"Tooltip", "Popup", "GeoJson", "GeoJsonTooltip", "GeoJsonPopup", "Marker",
                 "Element", "Html", "IFrame", "DivIcon", "Choropleth", "TopoJson"}


def _folium_calls(path):
    """(line, element name, keyword names) of every folium/branca call in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {alias.asname or alias.name for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    ("folium", "branca")) for alias in node.names}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                func.value.id in ("folium", "plugins", "branca"):
            name = func.attr
        elif isinstance(func, ast.Name) and func.id in imported:
            name = func.id
        else:
            continue
        yield node.lineno, name, {k.arg for k in node.keywords}


def test_map_builders_give_folium_no_text():
    offenders = [f"{p.name}:{line} {name}" for p in sorted(MAPS.rglob("*.py"))
                 if p.name not in ("data.py", "assets.py")
                 for line, name, keywords in _folium_calls(p)
                 if name in TEXT_ELEMENTS or keywords & {"tooltip", "popup"}]
    assert offenders == []


def _place(session):
    """The conftest ``place`` tree (city, district, street, community, two grids), committed
    apps having no such fixture."""
    from emergency.geo import service

    for code, name, level, geometry, parent in (
            ("990000", "测试市", "city", square(106.0, 29.0, 1.0), None),
            ("990101", "测试区", "district", square(106.4, 29.4, 0.4), "990000"),
            ("990101001", "测试街道", "street", square(106.45, 29.45, 0.2), "990101"),
            ("990101001001", "测试社区", "community", square(106.5, 29.5, 0.1), "990101001")):
        service.create_area(session, code, name, level, shape(geometry), parent)
    grids = ["990101001001-01", "990101001001-02"]
    for code, lon in zip(grids, (106.5, 106.55), strict=True):
        service.create_grid(session, code, code, "990101001001", shape(square(lon, 29.5, 0.05)))
    session.flush()
    return {"city": "990000", "district": "990101", "grids": grids}


@pytest.fixture(scope="module")
def hostile_site(backend, tmp_path_factory):
    """A live app on a scratch database holding the hostile records, with a finished risk run."""
    from emergency.db import new_session
    from tests.conftest import Actors

    tmp = tmp_path_factory.mktemp("security-pages")
    with committed_app(backend, tmp, "secpages") as app:
        # Each step commits before the next: the HTTP requests work in sessions of their own.
        with app.app_context():
            session = new_session()
            place = _place(session)
            users = hostile_actors(Actors(session), place)
            session.commit()
            session.close()
        records = hostile_records(app.test_client(), users)
        with app.app_context():
            session = new_session()
            risk = hostile_spatial(session, place, with_run=True)
            session.commit()
            session.close()
        world = types.SimpleNamespace(admin=users.admin, risk=risk, **records)
        with live_server(app) as base:
            yield types.SimpleNamespace(base=base, world=world)


# Leaflet layers drawn on the page's map (0 when the page has no map).
COUNT_DRAWN = """() => {
  if (typeof L === 'undefined') { return 0; }
  const map = Object.keys(window).map(k => window[k]).find(v => v instanceof L.Map);
  let n = 0;
  if (map) {
    map.eachLayer(l => { if (l instanceof L.Path || l instanceof L.Marker) { n += 1; } });
  }
  return n;
}"""
# Opens every tooltip bound on the map (for a group, over each of its layers, as hovering
# would) and returns the texts they show.
TOOLTIP_TEXTS = """() => {
  if (typeof L === 'undefined') { return []; }
  const map = Object.keys(window).map(k => window[k]).find(v => v instanceof L.Map);
  const texts = [];
  if (!map) { return texts; }
  map.eachLayer(l => {
    const tip = l.getTooltip && l.getTooltip();
    if (!tip || (L.MarkerCluster && l instanceof L.MarkerCluster)) { return; }
    const group = l instanceof L.FeatureGroup;
    (group ? l.getLayers() : [l]).forEach(t => {
      const at = t.getLatLng ? t.getLatLng() : t.getBounds().getCenter();
      if (group) { l.fire('mouseover', {latlng: at, layer: t}); } else { l.openTooltip(); }
      if (tip.getElement()) { texts.push(tip.getElement().textContent); }
      l.closeTooltip();
    });
  });
  return texts;
}"""
MAP_PAGES = ("forces", "console", "risk", "hazards", "districts", "home")


def _wait(page, js, timeout=20.0):
    """Poll a JS function until it returns something truthy (Playwright's wait_for_function
    uses eval, which the CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not (value := page.evaluate(js)):
        if time.monotonic() > deadline:
            return value
        page.wait_for_timeout(200)
    return value


@pytest.mark.browser
def test_pages_show_hostile_names_as_text_and_run_none_of_them(hostile_site):
    base, world = hostile_site.base, hostile_site.world
    problems = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        sign_in(context.new_page(), base, world.admin, PASSWORD)
        for name, path in {**page_paths(world), "api-docs": "/api/v1/docs"}.items():
            page = context.new_page()
            dialogs, errors, violations = [], [], []
            page.on("dialog", lambda d, seen=dialogs: (seen.append(d.message), d.dismiss()))
            page.on("pageerror", lambda exc, seen=errors: seen.append(str(exc)))
            page.on("console", lambda m, seen=violations: seen.append(m.text) if (
                m.type == "error" and "Content Security Policy" in m.text) else None)
            response = page.goto(base + path)
            if response.status != 200:
                problems.append(f"{name}: HTTP {response.status}")
                continue
            if name in MAP_PAGES and not _wait(page, COUNT_DRAWN):
                problems.append(f"{name}: the map drew nothing")
            shown = page.evaluate("document.body.innerText") + "\n".join(
                page.evaluate(TOOLTIP_TEXTS))
            if name == "api-docs" and not _wait(page, "() => document.querySelector("
                                                      "'.swagger-ui .opblock') !== null"):
                problems.append(f"{name}: Swagger UI did not start")
            # The hazards map names nothing of its own (its popups hold category, status and
            # grid; the district's name comes from the offline base at district zooms, which
            # the districts page checks); home, review and the API docs show no hostile record.
            if HOSTILE not in shown and name not in ("home", "review", "api-docs", "hazards"):
                problems.append(f"{name}: the hostile name is not shown as text")
            page.wait_for_timeout(300)  # a handler injected as markup would fire by now
            if page.evaluate("typeof window.__pwned") != "undefined":
                problems.append(f"{name}: window.__pwned was set")
            for kind, seen in (("dialogs", dialogs), ("script errors", errors),
                               ("CSP violations", violations)):
                if seen:
                    problems.append(f"{name}: {kind} {seen[:3]}")
            page.close()
        context.close()
    assert problems == []
