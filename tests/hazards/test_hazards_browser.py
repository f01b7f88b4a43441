"""The phone reporting page in headless Chromium: a report made offline is sent on reconnect."""

import pytest
from sqlalchemy import func, select

from emergency import create_app
from emergency.db import new_session
from tests.browser import RequestLog, chromium, live_server, sign_in
from tests.conftest import app_config, drop_database, make_database
from tests.hazards.hazard_helpers import INSIDE_1, jpeg_with_gps, one_grid_and_staff

PASSWORD = "correct horse battery"


@pytest.fixture
def served(backend, tmp_path):
    """The app on a migrated file database with one grid and its grid staff member."""
    url, engine = make_database(backend, tmp_path, label="hazbrowser")
    app = create_app(app_config(url, tmp_path))
    with app.app_context():
        session = new_session()
        one_grid_and_staff(session, "phone-staff", PASSWORD)
        session.commit()
        session.close()
    with live_server(app) as base:
        yield app, base
    app.extensions["emergency.db"]["engine"].dispose()
    engine.dispose()
    drop_database(url)


def _wait(page, condition, timeout_s=30):
    """Poll a JS condition (the page's CSP forbids the eval behind wait_for_function)."""
    for _ in range(int(timeout_s * 10)):
        if page.evaluate(f"() => Boolean({condition})"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {condition}")


def _stored(app):
    """(reports, photos, categories) stored so far."""
    from hazards.models import HazardPhoto, HazardReport

    with app.app_context():
        session = new_session(readonly=True)
        try:
            reports = session.scalar(select(func.count(HazardReport.id)))
            photos = session.scalar(select(func.count(HazardPhoto.id)))
            categories = sorted(session.scalars(select(HazardReport.category)))
        finally:
            session.close()
    return reports, photos, categories


@pytest.mark.browser
def test_report_made_offline_is_sent_when_the_network_returns(served):
    app, base = served
    with chromium() as browser:
        context = browser.new_context(
            geolocation={"longitude": INSIDE_1[0], "latitude": INSIDE_1[1]},
            permissions=["geolocation"], locale="zh-CN")
        page = context.new_page()
        log = RequestLog(page)
        sign_in(page, base, "phone-staff", PASSWORD)
        page.goto(f"{base}/hazards/report")
        _wait(page, "document.getElementById('lon').value !== ''")
        assert float(page.input_value("#lon")) == pytest.approx(INSIDE_1[0])

        context.set_offline(True)
        page.select_option("#category", "flood")
        page.click("label[for=severity-major]")
        page.fill("#description", "桥下积水")
        page.set_input_files("#photo-input", files=[
            {"name": "site.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()}])
        page.click("#submit-report")
        _wait(page, "document.getElementById('queue-count').textContent === '1'")
        assert "alert-warning" in page.get_attribute("#net-status", "class")
        assert _stored(app) == (0, 0, [])

        context.set_offline(False)
        _wait(page,
            "document.getElementById('queue-count').textContent === '0' && "
            "document.querySelectorAll('#sent-list .sent-item').length === 1")
        assert _stored(app) == (1, 1, ["flood"])

        # A second report while online goes straight through; nothing is duplicated.
        page.select_option("#category", "fire")
        page.click("#submit-report")
        _wait(page,
            "document.querySelectorAll('#sent-list .sent-item').length === 2")
        assert _stored(app) == (2, 1, ["fire", "flood"])
        assert log.foreign() == []

        # The service worker keeps the page: it opens again with the network cut.
        page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
        page.reload()
        _wait(page, "navigator.serviceWorker.controller !== null")
        context.set_offline(True)
        page.reload()
        assert page.locator("#hazard-form").is_visible()
        _wait(page, "document.getElementById('queue-count').textContent === '0'")
        context.set_offline(False)
        context.close()


@pytest.mark.browser
def test_resending_a_queued_report_does_not_duplicate_it(served):
    app, base = served
    with chromium() as browser:
        context = browser.new_context(
            geolocation={"longitude": INSIDE_1[0], "latitude": INSIDE_1[1]},
            permissions=["geolocation"])
        page = context.new_page()
        sign_in(page, base, "phone-staff", PASSWORD)
        # The server stores the report but the phone never hears back (lost response):
        # the queue keeps it, and the resend returns the stored report instead of a copy.
        state = {"dropped": False}

        def lose_first_response(route):
            response = route.fetch()
            if not state["dropped"]:
                state["dropped"] = True
                route.abort("connectionreset")
                return
            route.fulfill(response=response)

        page.route("**/api/v1/hazards", lose_first_response)
        page.goto(f"{base}/hazards/report")
        _wait(page, "document.getElementById('lon').value !== ''")
        page.click("#submit-report")
        for _ in range(300):
            if state["dropped"]:
                break
            page.wait_for_timeout(100)
        _wait(page, "document.getElementById('queue-count').textContent === '1'")
        assert _stored(app)[0] == 1
        page.evaluate("window.dispatchEvent(new Event('online'))")
        _wait(page,
            "document.querySelectorAll('#sent-list .sent-item').length === 1")
        assert _stored(app)[0] == 1
        context.close()


@pytest.mark.browser
def test_map_popup_shows_the_photo(served):
    from shapely.geometry import Point

    from emergency.auth.models import User
    from emergency.files import app_store
    from hazards import photos, service

    app, base = served
    with app.app_context():
        session = new_session()
        user = session.scalar(select(User).where(User.username == "phone-staff"))
        report, _ = service.create_report(session, user, "map-popup-0001", "fire", "major",
                                          Point(*INSIDE_1), "楼道堆物")
        photos.add_photo(session, user, report["id"], jpeg_with_gps(), app_store(),
                         app.config["PHOTO_MAX_BYTES"])
        session.commit()
        session.close()
    with chromium() as browser:
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        log = RequestLog(page)
        sign_in(page, base, "phone-staff", PASSWORD)
        page.goto(f"{base}/maps/hazards")
        _wait(page, "Object.keys(window).some(k => k.startsWith('fast_marker_cluster_'))")
        # Take the marker out of its cluster and put it on the map before opening its popup:
        # zoomToShowLayer can spin forever when several markers share one spot, which hung the
        # whole suite once (evaluate has no timeout).
        page.evaluate("""() => {
            const name = Object.keys(window).find(k => k.startsWith('fast_marker_cluster_'));
            const cluster = window[name];
            const map = cluster._map;
            const marker = cluster.getLayers()[0];
            cluster.removeLayer(marker);
            marker.addTo(map);
            map.setView(marker.getLatLng(), map.getZoom(), {animate: false});
            marker.openPopup();
        }""")
        _wait(page, "document.querySelector('.hazard-popup img') !== null && "
                    "document.querySelector('.hazard-popup img').naturalWidth > 0")
        assert f"#{report['id']}" in page.inner_text(".hazard-popup")
        assert errors == []
        assert log.foreign() == []
