"""Registry pages in headless Chromium: the forces map, the registration form on a phone, the
review queue's batch decisions through their dialogs, and the lists at 390 px."""

from urllib.parse import parse_qs, urlparse

import pytest
from shapely.geometry import shape

from emergency import create_app
from tests.browser import (
    RequestLog,
    axe_violations,
    chromium,
    horizontal_overflow,
    live_server,
    sign_in,
)
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
        admin = auth.create_user(session, "browseradmin", "admin", PASSWORD)
        auth.create_user(session, "newcomer", "org_admin", PASSWORD)
        load_registry(session)
        # Three registrations waiting in the queue, found by their names' shared word.
        from registry import crypto
        from registry import service as registry

        for n in (1, 2, 3):
            registry.register_org(session, crypto.app_cipher(), admin, f"浏览器复核队{n}",
                                  credit_code(900 + n), "赵六", "13600000000",
                                  shape({"type": "Point", "coordinates": [106.5, 29.5]}))
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
    # The page opens at its fitted view: each layer asked for once (an animated fit used to
    # ask for the default view first, then every layer again).
    layers = [u for u in log.urls if "/api/v1/maps/layers/forces" in u]
    assert layers and len(layers) == len({parse_qs(urlparse(u).query)["category"][0]
                                          for u in layers}), layers
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


@pytest.mark.browser
def test_review_queue_batch_approves_and_rejects_with_a_reason(site):
    base, browser = site
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  reduced_motion="reduce")
    page = context.new_page()
    sign_in(page, base, "browseradmin", PASSWORD)
    page.goto(f"{base}/registry/review")
    page.fill("#review-filters-q", "浏览器复核")
    page.select_option("#review-filters-district", "990101")
    with page.expect_navigation():
        page.click("#review-filters button[type=submit]")
    rows = page.locator("#review-queue tbody tr")
    assert rows.count() == 3
    assert axe_violations(page) == []
    page.check("#review-queue tbody tr:nth-child(1) input[name=ids]")
    page.check("#review-queue tbody tr:nth-child(2) input[name=ids]")
    assert "2" in page.inner_text("#review-chosen")
    # The dialog names how many and which; focus moves in, Escape closes, focus returns.
    page.click("#batch-approve")
    dialog = page.locator("#review-dialog")
    assert dialog.is_visible() and "2" in page.inner_text("#review-dialog-title")
    assert page.locator("#review-dialog-names li").count() == 2
    assert page.evaluate("document.getElementById('review-dialog')"
                         ".contains(document.activeElement)")
    assert axe_violations(page) == []
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate("document.activeElement.id") == "batch-approve"
    page.click("#batch-approve")
    with page.expect_navigation():
        page.click("#review-dialog-confirm")
    assert "2" in page.inner_text(".alert-success")
    assert page.locator("#review-queue tbody tr").count() == 1  # the filters are kept
    last = page.locator("#review-queue tbody tr", has_text="浏览器复核队3")
    last.locator("[data-review=reject]").click()
    assert "浏览器复核队3" in page.inner_text("#review-dialog-names")
    page.click("#review-dialog-confirm")  # no reason yet: refused in the dialog
    assert page.inner_text("#review-dialog-error").strip()
    assert page.evaluate("document.activeElement.id") == "review-dialog-note"
    page.fill("#review-dialog-note", "信用代码与登记名称不符")
    with page.expect_navigation():
        page.click("#review-dialog-confirm")
    assert "1" in page.inner_text(".alert-success")
    assert page.locator("#review-queue tbody tr", has_text="浏览器复核队").count() == 0
    page.goto(f"{base}/registry/orgs?q=浏览器复核队3")
    assert "已驳回" in page.inner_text("#orgs-table")
    context.close()


@pytest.mark.browser
def test_registry_lists_and_pages_on_a_phone(site):
    base, browser = site
    # Reduced motion: axe reads colours without Bootstrap's hover transitions half done
    # (the sign-in tap leaves the pointer where a later page has a button).
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, reduced_motion="reduce")
    page = context.new_page()
    sign_in(page, base, "browseradmin", PASSWORD)
    problems = {}
    page.goto(f"{base}/registry/teams")
    team_url = page.locator("#teams-list tbody a").first.get_attribute("href")
    page.goto(f"{base}/registry/orgs")
    org_url = page.locator("#orgs-table tbody a").first.get_attribute("href")
    for path in ("/registry/orgs", "/registry/teams", "/registry/review", org_url, team_url):
        page.goto(f"{base}{path}")
        found = axe_violations(page)
        overflow = horizontal_overflow(page)
        if found or overflow:
            problems[path] = (found, overflow)
    # The team page's removal dialog is accessible too.
    page.goto(f"{base}{team_url}")
    page.locator("#members-table form[data-confirm-dialog] button").first.click()
    assert page.locator("#remove-dialog").is_visible()
    found = axe_violations(page)
    if found:
        problems["remove-dialog"] = (found, 0)
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())
    context.close()
