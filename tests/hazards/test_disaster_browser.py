"""The direct disaster report journey in headless Chromium on a phone (390x844, Chinese): from
the home button to the pin, a refusal that keeps the input, success with its link, and the
list; then once more in English; every page axe-clean and without horizontal overflow."""

import pytest
from sqlalchemy import select

from emergency import create_app
from emergency.db import new_session
from tests.browser import (
    RequestLog,
    axe_violations,
    chromium,
    horizontal_overflow,
    live_server,
    sign_in,
)
from tests.conftest import app_config, drop_database, make_database
from tests.hazards.hazard_helpers import one_grid_and_staff

PASSWORD = "correct horse battery"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def served(backend, tmp_path):
    """The app on a migrated file database with one grid and its grid staff member."""
    url, engine = make_database(backend, tmp_path, label="disbrowser")
    app = create_app(app_config(url, tmp_path))
    with app.app_context():
        session = new_session()
        one_grid_and_staff(session, "disaster-staff", PASSWORD)
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
    """(kind, dead, losses in fen, grid) of every stored report."""
    from hazards.disasters.models import DisasterReport as D

    with app.app_context():
        session = new_session(readonly=True)
        try:
            return [tuple(r) for r in session.execute(
                select(D.kind, D.dead, D.losses_fen, D.grid_code).order_by(D.id))]
        finally:
            session.close()


def _clean(page, what):
    """No serious or critical axe violation and no horizontal overflow."""
    assert axe_violations(page) == [], what
    assert not horizontal_overflow(page), what


@pytest.mark.browser
def test_grid_staff_report_a_disaster_by_the_pin_on_a_phone(served):
    app, base = served
    with chromium() as browser:
        # No geolocation permission: the pin is placed by tapping the map.
        context = browser.new_context(viewport=PHONE, locale="zh-CN")
        page = context.new_page()
        log = RequestLog(page)
        sign_in(page, base, "disaster-staff", PASSWORD)
        button = page.locator("#disaster-button")
        assert button.inner_text() == "灾情直报"
        _clean(page, "home")
        button.click()
        page.wait_for_url(f"{base}/disasters/report")
        _wait(page, "window.HazardGrids && window.HazardGrids.map && "
                    "document.getElementById('report-map').dataset.grids === '1'")
        assert page.locator("h1").inner_text() == "灾情直报"
        _clean(page, "report page")

        page.select_option("#kind", "geological")
        box = page.locator("#report-map").bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        _wait(page, "document.getElementById('lon').value !== ''")
        assert "网格" in page.inner_text("#location-note")
        page.fill("#affected", "30")
        page.fill("#dead", "1.5")
        page.fill("#losses_yuan", "2000.5")
        page.click("#submit-report")
        _wait(page, "!document.getElementById('form-error').classList.contains('d-none')")
        assert "死亡人数" in page.inner_text("#form-error")
        assert page.input_value("#affected") == "30"  # the input is kept
        assert _stored(app) == []

        page.fill("#dead", "1")
        page.click("#submit-report")
        _wait(page, "!document.getElementById('report-success').classList.contains('d-none')")
        success = page.inner_text("#report-success")
        assert "已上报" in success
        assert _stored(app) == [("geological", 1, 200050, "990101-01")]
        assert page.locator("#sent-list .sent-item").count() == 1
        assert page.input_value("#dead") == "0"  # the form is ready for the next one
        _clean(page, "report page after success")

        page.click("#report-success a")
        page.wait_for_url(lambda u: "/disasters#disaster-" in u)
        assert "地质灾害" in page.inner_text("#disaster-list")
        assert page.locator("#disaster-summary tfoot td[data-key=dead]").inner_text() == "1"
        _clean(page, "list page")

        # The same report in English: the page, its refusal (the field by its English
        # label) and its success message all follow the language chosen.
        page.goto(f"{base}/disasters/report?lang=en")
        _wait(page, "document.getElementById('report-map').dataset.grids === '1'")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text() == "Report a disaster"
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        _wait(page, "document.getElementById('lon').value !== ''")
        page.fill("#dead", "1.5")
        page.click("#submit-report")
        _wait(page, "!document.getElementById('form-error').classList.contains('d-none')")
        assert "Dead" in page.inner_text("#form-error")
        assert "死亡" not in page.inner_text("#form-error")
        page.fill("#dead", "0")
        page.click("#submit-report")
        _wait(page, "!document.getElementById('report-success').classList.contains('d-none')")
        assert "Reported: number" in page.inner_text("#report-success")
        assert len(_stored(app)) == 2
        _clean(page, "report page in English")
        assert log.foreign() == []
        context.close()
