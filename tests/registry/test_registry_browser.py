"""Registry pages in headless Chromium: the forces map and the registration form on a phone."""

import pytest
from shapely.geometry import shape

from emergency import create_app
from tests.browser import RequestLog, chromium, live_server, sign_in
from tests.conftest import app_config, drop_database, make_database, square
from tests.factories import credit_code

PASSWORD = "correct horse battery"
# Screen position of the first team once the cluster group has zoomed to show it.
SHOW_FIRST_TEAM = """() => new Promise(resolve => {
  const map = Object.keys(window).map(k => window[k]).find(v => v instanceof L.Map);
  let group = null;
  map.eachLayer(l => { if (l instanceof L.MarkerClusterGroup) { group = l; } });
  const team = group.getLayers()[0];
  group.zoomToShowLayer(team, () => setTimeout(() => {
    const p = map.latLngToContainerPoint(team.getLatLng());
    const box = map.getContainer().getBoundingClientRect();
    resolve([box.left + p.x, box.top + p.y]);
  }, 500));
})"""


@pytest.fixture(scope="module")
def site(backend, tmp_path_factory):
    """A live app with a small area tree, the registry demo step, an admin and an org admin."""
    from emergency.auth import service as auth
    from emergency.db import new_session
    from emergency.geo import service as geo
    from registry.demo import load_registry

    tmp = tmp_path_factory.mktemp("registry-browser")
    url, engine = make_database(backend, tmp, "registrybrowser")
    engine.dispose()
    app = create_app(app_config(url, tmp))
    with app.app_context():
        session = new_session()
        geo.create_area(session, "990000", "测试市", "city", shape(square(106.0, 29.0, 1.0)))
        geo.create_area(session, "990101", "测试区", "district",
                        shape(square(106.4, 29.4, 0.4)), "990000")
        auth.create_user(session, "browseradmin", "admin", PASSWORD)
        auth.create_user(session, "newcomer", "org_admin", PASSWORD)
        load_registry(session)
        session.commit()
        session.close()
    with live_server(app) as base, chromium() as browser:
        yield base, browser
    app.extensions["emergency.db"]["engine"].dispose()
    drop_database(url)


@pytest.mark.browser
def test_forces_map_draws_offline_and_a_popup_opens(site):
    base, browser = site
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    sign_in(page, base, "browseradmin", PASSWORD)
    log = RequestLog(page)
    page.goto(f"{base}/maps/forces")
    page.wait_for_selector(".leaflet-marker-icon", timeout=20000)
    page.wait_for_load_state("networkidle")
    assert log.foreign() == []
    assert page.locator("#forces-legend").is_visible()
    # Zoom until the first team leaves its cluster, then click it where it is drawn.
    target = page.evaluate(SHOW_FIRST_TEAM)
    assert target, "a team marker is drawn"
    page.mouse.click(*target)
    page.wait_for_selector(".team-popup", timeout=5000)
    assert "救援队" in page.inner_text(".team-popup")
    context.close()


@pytest.mark.browser
def test_registration_form_works_on_a_phone(site):
    base, browser = site
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    sign_in(page, base, "newcomer", PASSWORD)
    page.goto(f"{base}/registry/register")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    page.fill("#f-name", "手机备案救援队")
    page.fill("#f-credit_code", credit_code(77))
    page.fill("#f-contact_name", "周七")
    page.fill("#f-contact_phone", "13512345678")
    page.fill("#f-lon", "106.6")
    page.fill("#f-lat", "29.6")
    page.click("#register-form button[type=submit]")
    page.wait_for_selector("#org-status")
    assert "手机备案救援队" in page.content()
    assert "135****5678" in page.content() and "13512345678" not in page.content()
    context.close()
