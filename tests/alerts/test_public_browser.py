"""The public warnings page in headless Chromium, signed out: Chinese, the warned area on the
map with its level's name, axe-clean, no horizontal overflow on a phone, nothing fetched from
another host, and the print layout without the navigation; then the same page in English."""

import pytest

from emergency.db import new_session
from tests.browser import RequestLog, axe_violations, chromium, horizontal_overflow, live_server
from tests.conftest import committed_app

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _published_warning(app):
    """A red rainstorm warning over two demo districts, drafted, approved and published by
    three different people (the warnings service's own four-eyes path)."""
    from datetime import timedelta

    from alerts import service
    from emergency.auth import service as auth
    from emergency.db import utcnow

    with app.app_context():
        session = new_session()
        author, approver, publisher = (
            auth.create_user(session, name, role, "correct horse battery", [], None, None)
            for name, role in (("pw-author", "planner"), ("pw-admin", "admin"),
                               ("pw-planner", "planner")))
        now = utcnow()
        warning = service.create_warning(
            session, author, title="渝中区、江北区暴雨红色预警", hazard_type="meteorological",
            level="red", area_codes=["500103", "500105"], geometry=None, onset=now,
            expires=now + timedelta(hours=6), description="预计未来6小时降雨量将达100毫米以上。",
            instruction="停止户外活动，远离河道和山体。")
        service.transition(session, approver, warning.id, "approved")
        service.transition(session, publisher, warning.id, "published")
        session.commit()
        warning_id = warning.id
        session.close()
    return warning_id


@pytest.mark.browser
def test_public_page_signed_out_on_phone_and_desktop(backend, tmp_path):
    from emergency.geo import demo as geo_demo

    with committed_app(backend, tmp_path, "publicwarn", (geo_demo.load_areas,)) as app:
        warning_id = _published_warning(app)
        with live_server(app) as base, chromium() as browser:
            for viewport in (PHONE, DESKTOP):
                page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
                log = RequestLog(page)
                page.goto(f"{base}/public/warnings")
                page.wait_for_selector("[data-warning-map][data-ready='1']")
                assert page.locator("html").get_attribute("lang") == "zh-CN"
                assert page.locator("h1").inner_text() == "生效中的预警"
                entry = page.locator(f"#w{warning_id}")
                assert "红色预警" in entry.inner_text() and "渝中区" in entry.inner_text()
                # The warned area is drawn, and its tooltip names the level in words.
                assert page.locator(".leaflet-interactive").count() >= 1
                page.locator(".leaflet-interactive").first.hover()
                page.wait_for_selector(".leaflet-tooltip")
                assert "红色预警" in page.locator(".leaflet-tooltip").inner_text()
                assert axe_violations(page) == []
                assert horizontal_overflow(page) == 0
                assert log.foreign() == []
                page.emulate_media(media="print")
                assert not page.locator("#main-nav, .app-nav").first.is_visible()
                assert not page.locator("#print-page").is_visible()
                assert entry.is_visible()
                page.context.close()
            # The same page in English, as a foreign visitor's phone asks for it.
            page = browser.new_context(viewport=PHONE, locale="en-US").new_page()
            log = RequestLog(page)
            page.goto(f"{base}/public/warnings?lang=en")
            page.wait_for_selector("[data-warning-map][data-ready='1']")
            assert page.locator("html").get_attribute("lang") == "en"
            assert page.locator("h1").inner_text() == "Warnings in force"
            assert "Red warning" in page.locator(f"#w{warning_id}").inner_text()
            page.locator(".leaflet-interactive").first.hover()
            page.wait_for_selector(".leaflet-tooltip")
            assert page.locator(".leaflet-tooltip").inner_text().startswith("Red warning")
            assert axe_violations(page) == []
            assert horizontal_overflow(page) == 0
            assert log.foreign() == []
            page.context.close()
