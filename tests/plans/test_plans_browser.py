"""Browser test: a planner writes a plan in the editor, publishes it and records a drill."""

import pytest

from tests.browser import RequestLog, chromium, live_server, sign_in
from tests.conftest import DEMO_SHELL, committed_app


@pytest.fixture
def plans_app(backend, tmp_path):
    """An app on a fresh database with the demo areas and users."""
    with committed_app(backend, tmp_path, "plansbrowser", DEMO_SHELL) as app:
        yield app


@pytest.mark.browser
def test_planner_writes_publishes_and_drills_a_plan(plans_app):
    with live_server(plans_app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log = RequestLog(page)
        sign_in(page, base, "planner", "demo-planner-2026")
        page.goto(f"{base}/plans/new")
        page.fill("#f-owner", "渝中区应急管理局")
        page.select_option("#f-area", "500103")
        page.click("#save-plan")
        page.wait_for_selector("#f-title.is-invalid")
        assert "title" in page.inner_text("#editor-error")
        page.fill("#f-title", "渝中区防汛应急预案")
        page.click("#add-section")
        page.fill(".section-row [data-part=title]", "总则")
        level1 = page.locator('[data-level="1"]')
        level1.locator('[data-list="criteria"] button').first.click()
        level1.locator("[data-part=metric]").fill("deaths")
        level1.locator("[data-part=value]").fill("30")
        level1.locator('[data-list="required_forces"] button').first.click()
        level1.locator("[data-part=category]").select_option("water")
        page.click("#save-plan")
        page.wait_for_url(f"{base}/plans/*")
        assert page.inner_text("#plan-title") == "渝中区防汛应急预案"
        assert "deaths >= 30" in page.inner_text(".response-levels").replace("死亡人数", "deaths")
        for step in ("in_review", "published"):
            with page.expect_navigation():
                page.click(f'[data-transition="{step}"]')
        assert page.inner_text("#plan-status") == "已发布"
        page.fill("#drill-held-on", "2026-05-01")
        page.select_option("#drill-kind", "double_blind")
        page.fill("#drill-findings", "转移路线不清")
        page.click("#drill-form button[type=submit]")
        page.wait_for_selector(".drill")
        assert "转移路线不清" in page.inner_text(".drill")
        assert log.foreign() == []
