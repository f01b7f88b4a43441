"""The phone-first shell: the collapsing navigation, the grid staff's home (report button,
their grids on a small map, their own reports), and in headless Chromium at 390x844 the grid
staff's whole journey (Chinese, then once in English) plus every other role's home."""

import json
import re

import pytest

from tests.hazards.hazard_helpers import body


def _login(app, user):
    """A client signed in with a session cookie, as a browser would be."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": user.username, "csrf_token": token,
                                           "password": "correct horse battery"})
    assert response.status_code == 302
    return client


def _between(html, start, end):
    """The part of a page between two markers."""
    return html[html.index(start):html.index(end, html.index(start))]


def test_navigation_collapses_behind_a_labelled_menu_button(app, actors):
    user, _headers = actors.make("planner")
    html = _login(app, user).get("/").get_data(as_text=True)
    button = re.search(r'<button class="navbar-toggler"[^>]*>', html).group(0)
    assert 'aria-controls="main-collapse"' in button and 'aria-expanded="false"' in button
    assert 'aria-label="菜单"' in button and 'data-nav-toggle="main-collapse"' in button
    folded = _between(html, 'id="main-collapse"', "</nav>")
    for part in ('id="main-nav"', 'id="lang-switch"', 'id="whoami"', "退出"):
        assert part in folded
    # The live indicator stays outside the fold (live.js reads its id and data attributes).
    bar = _between(html, '<nav class="navbar', 'id="main-collapse"')
    assert 'id="live-indicator"' in bar and "data-label-live=" in bar
    assert "data-last-event-id=" in bar
    assert "onclick" not in html
    english = _login(app, user).get("/?lang=en").get_data(as_text=True)
    assert 'aria-label="Menu"' in english


def test_pages_js_toggles_the_menu(client):
    script = client.get("/static/pages.js")
    text = script.get_data(as_text=True)
    script.close()
    assert "data-nav-toggle" in text and "aria-expanded" in text and "'show'" in text


def test_grid_staff_home_has_report_button_grids_and_own_reports(app, client, actors, place):
    staff, headers = actors.make("grid_staff", grids=[place["grids"][0]])
    _admin, admin = actors.make("admin")
    first = client.post("/api/v1/hazards", headers=headers, json=body()).get_json()
    second = client.post("/api/v1/hazards", headers=headers,
                         json=body(description="<b>x</b>")).get_json()
    client.post("/api/v1/hazards", headers=admin, json=body())  # not theirs
    client.post(f"/api/v1/hazards/{first['id']}/transition", headers=admin,
                json={"to": "verified"})
    html = _login(app, staff).get("/").get_data(as_text=True)
    assert re.search(r'<a class="btn btn-danger btn-lg[^"]*"[^>]*\s+'
                     r'href="/hazards/report">上报</a>', html)
    assert "我的网格" in html and "第1网格" in html and "我的上报" in html
    data = json.loads(re.search(r'<script type="application/json" id="grid-map-data">(.*?)'
                                r"</script>", html, re.S).group(1))
    assert [f["properties"] for f in data["grids"]["features"]] == [
        {"code": place["grids"][0], "name": "第1网格"}]
    assert data["grids"]["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    reports = _between(html, 'id="my-reports"', "</ul>")
    ids = [int(i) for i in re.findall(r'data-id="(\d+)"', reports)]
    assert ids == [second["id"], first["id"]]  # newest first, only their own
    assert "已核实" in reports and "已上报" in reports
    assert f'href="/hazards/{first["id"]}"' in reports
    assert "<b>x</b>" not in html
    assert "operations-map" not in html  # the bureau's map is not loaded on a phone home
    assert "/hazards/static/hazards/home.js" in html and "vendor/leaflet" in html
    english = _login(app, staff).get("/?lang=en").get_data(as_text=True)
    assert ">Report</a>" in english and "My grids" in english and "Verified" in english


def test_other_roles_keep_their_home(app, actors):
    user, _headers = actors.make("dispatcher")
    html = _login(app, user).get("/").get_data(as_text=True)
    assert 'id="operations-map"' in html and 'id="report-button"' not in html


# ---------------------------------------------------------------- in the browser

PHONE = {"width": 390, "height": 844}
NAV_MAX = 844 // 5  # the navigation takes at most a fifth of the phone's height


@pytest.fixture(scope="module")
def demo_app(backend, tmp_path_factory):
    """An app on a fresh database with the demo areas, grids and one user per role (one per
    module: loading the demo districts is most of a browser test's time)."""
    from tests.conftest import DEMO_SHELL, committed_app

    with committed_app(backend, tmp_path_factory.mktemp("phone"), "phone", DEMO_SHELL) as app:
        yield app


def _wait(page, condition, timeout_s=15):
    """Poll a JS condition (the pages' CSP forbids the eval behind wait_for_function)."""
    for _ in range(int(timeout_s * 20)):
        if page.evaluate(f"() => Boolean({condition})"):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"never true: {condition}")


def _sign_in(page, base, username, password):
    """Sign in through the form (pages holding the live stream never fall network-idle)."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)
    page.wait_for_load_state("load")


def _nav_height(page):
    """The navbar's height in CSS pixels."""
    return page.evaluate("document.querySelector('nav.navbar').getBoundingClientRect().height")


def _check_phone_page(page, what):
    """No horizontal overflow and no serious or critical WCAG 2.1 AA violation."""
    from tests.browser import axe_violations, horizontal_overflow

    assert horizontal_overflow(page) == 0, what
    assert axe_violations(page) == [], what


def _inside_point(page):
    """A point well inside the first of the user's grids (from the page's own data)."""
    return page.evaluate("""() => {
      const f = window.HazardGrids.features[0], b = L.geoJSON(f).getBounds();
      const c = b.getCenter();
      return window.HazardGrids.contains(c.lng, c.lat) ? [c.lng, c.lat] : null;
    }""")


@pytest.mark.browser
def test_grid_staff_journey_on_a_phone(demo_app):
    from emergency.auth.demo import demo_password
    from tests.browser import RequestLog, chromium, live_server

    with live_server(demo_app) as base, chromium() as browser:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True,
                                      is_mobile=True)
        context.grant_permissions(["geolocation"])
        page = context.new_page()
        log = RequestLog(page)
        _sign_in(page, base, "gridstaff", demo_password("gridstaff"))

        # The collapsed navigation: one row, at most a fifth of the screen; the menu opens.
        assert _nav_height(page) <= NAV_MAX
        assert not page.locator("#main-nav").is_visible()
        assert page.locator("#live-indicator").is_visible()
        toggle = page.locator("#nav-toggle")
        toggle.click()
        assert toggle.get_attribute("aria-expanded") == "true"
        assert page.locator("#main-nav a[href='/hazards/report']").is_visible()
        assert page.locator("#whoami").is_visible()
        toggle.click()
        assert not page.locator("#main-nav").is_visible()
        assert _nav_height(page) <= NAV_MAX

        # Home: the report button, the grids drawn, no reports yet.
        assert page.locator("#report-button").inner_text() == "上报"
        _wait(page, "document.querySelectorAll('#grid-map path.leaflet-interactive').length > 0")
        assert page.locator("#no-reports").is_visible()
        _check_phone_page(page, "home")

        # Report: a point outside the grids is refused before anything is sent.
        page.click("#report-button")
        page.wait_for_url(f"{base}/hazards/report")
        _wait(page, "window.HazardGrids && window.HazardGrids.map")
        inside = _inside_point(page)
        assert inside is not None
        sent = []
        page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
        page.select_option("#category", "flood")
        page.fill("#description", "河堤渗水")
        page.evaluate("([lon, lat]) => window.HazardReportPin.place(lon, lat)", [106.0, 20.0])
        page.click("#submit-report")
        assert "不在您负责的网格内" in page.inner_text("#form-error")
        assert not [u for u in sent if "/api/v1/hazards" in u]
        assert page.input_value("#description") == "河堤渗水"

        # The server refuses a description too long to keep: the input stays for a fix.
        page.evaluate("([lon, lat]) => window.HazardReportPin.place(lon, lat)", inside)
        page.evaluate("() => { document.getElementById('description').removeAttribute("
                      "'maxlength'); document.getElementById('description').value = "
                      "'长'.repeat(4100); }")
        page.click("#submit-report")
        _wait(page, "!document.getElementById('form-error').classList.contains('d-none') && "
                    "document.getElementById('form-error').textContent.length > 0")
        assert len(page.input_value("#description")) == 4100
        assert page.input_value("#category") == "flood"
        assert page.inner_text("#queue-count") == "0"
        _check_phone_page(page, "report refused")

        # Fixed and sent: a success message linking to the new report.
        page.fill("#description", "河堤渗水")
        page.click("#submit-report")
        _wait(page, "document.querySelector('#report-success a')")
        link = page.locator("#report-success a")
        href = link.get_attribute("href")
        assert re.match(r"^/hazards/\d+$", href)
        assert page.input_value("#description") == ""
        _check_phone_page(page, "report sent")

        # My reports on the home page shows it, with its status in Chinese.
        page.goto(f"{base}/")
        row = page.locator(f"#my-reports a[href='{href}']")
        assert row.count() == 1 and "洪涝" in row.inner_text()
        assert "已上报" in page.inner_text("#my-reports")

        # The bureau verifies it: the status changes on the open home page, no reload.
        _wait(page, "document.getElementById('live-indicator').dataset.state === 'live'")
        page.evaluate("() => { window.notReloaded = true; }")
        verified = demo_app.test_client().post(
            f"/api/v1{href}/transition", json={"to": "verified", "note": "现场核实"},
            headers={"Authorization": f"Bearer {_token(demo_app, 'admin')}"})
        assert verified.status_code == 200
        report_id = href.rsplit("/", 1)[1]
        _wait(page, f"document.querySelector('#my-reports li[data-id=\"{report_id}\"]')"
                    ".dataset.status === 'verified'")
        changed = page.locator(f"#my-reports li[data-id='{report_id}']")
        assert "已核实" in changed.inner_text() and changed.get_attribute("data-changed") == "1"
        assert page.evaluate("() => window.notReloaded === true")
        assert log.foreign() == []
        context.close()


def _token(app, username):
    """A new API token of a committed user."""
    from emergency.auth import service as auth
    from emergency.db import new_session

    with app.app_context():
        session = new_session()
        try:
            token = auth.create_token(session, username, 1)
            session.commit()
        finally:
            session.close()
    return token


@pytest.mark.browser
def test_every_roles_home_on_a_phone_and_the_staff_home_in_english(demo_app, backend):
    from emergency.auth.demo import DEMO_USERS, demo_password
    from tests.browser import chromium, live_server

    with live_server(demo_app) as base, chromium() as browser:
        for username, role, _display in DEMO_USERS:
            context = browser.new_context(viewport=PHONE, locale="zh-CN")
            page = context.new_page()
            _sign_in(page, base, username, demo_password(username))
            assert _nav_height(page) <= NAV_MAX, role
            assert page.locator("#nav-toggle").is_visible(), role
            _check_phone_page(page, role)
            if role == "grid_staff":
                page.goto(f"{base}/hazards/tasks?view=all")
                _check_phone_page(page, "task list")
                page.goto(f"{base}/?lang=en")
                assert page.locator("#report-button").inner_text() == "Report"
                assert page.locator("#nav-toggle").get_attribute("aria-label") == "Menu"
                assert _nav_height(page) <= NAV_MAX
                _check_phone_page(page, "grid staff in English")
                page.goto(f"{base}/hazards/report")
                _wait(page, "window.HazardGrids && window.HazardGrids.map")
                _check_phone_page(page, "report page in English")
            context.close()
        # The desktop keeps its bar: no menu button, the links beside the brand.
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        _sign_in(page, base, "gridstaff", demo_password("gridstaff"))
        assert page.locator("#main-nav").is_visible() and page.locator("#whoami").is_visible()
        assert not page.locator("#nav-toggle").is_visible()
        assert page.evaluate("""() => {
          const brand = document.querySelector('.navbar-brand').getBoundingClientRect();
          const nav = document.getElementById('main-nav').getBoundingClientRect();
          return nav.left >= brand.right && nav.top < brand.bottom;
        }""")
        context.close()
