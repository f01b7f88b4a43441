"""Browser test: a planner writes a plan picking the area by pinyin initials and a trigger's
metric by its Chinese name, submits it; an administrator publishes it (four eyes); the
planner records a drill and withdraws (废止) the plan with a reason through the dialog."""

import pytest
from playwright.sync_api import expect

from tests.browser import (
    RequestLog,
    axe_violations,
    chromium,
    horizontal_overflow,
    live_server,
    sign_in,
)
from tests.conftest import DEMO_SHELL, committed_app


@pytest.fixture
def plans_app(backend, tmp_path):
    """An app on a fresh database with the demo areas and users."""
    with committed_app(backend, tmp_path, "plansbrowser", DEMO_SHELL) as app:
        yield app


def confirm_step(page, step, reason=None):
    """Click a lifecycle button, answer its dialog and wait for the page to reload."""
    page.click(f'[data-transition="{step}"]')
    page.wait_for_selector("#transition-dialog[open]")
    if reason is not None:
        page.fill("#transition-note", reason)
    with page.expect_navigation():
        page.click("#transition-confirm")


@pytest.mark.browser
def test_planner_picks_names_and_archives_with_a_reason(plans_app):
    with live_server(plans_app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log = RequestLog(page)
        sign_in(page, base, "planner", "demo-planner-2026")
        page.goto(f"{base}/plans/new")
        page.fill("#f-title", "渝中区防汛应急预案")
        page.fill("#f-owner", "渝中区应急管理局")
        # The area by its pinyin initials, chosen with the keyboard.
        page.fill("#f-area-name", "yzq")
        expect(page.locator("#f-area-name-list [role=option]").first).to_contain_text("渝中区")
        assert page.get_attribute("#f-area-name", "aria-expanded") == "true"
        page.press("#f-area-name", "ArrowDown")
        assert page.get_attribute("#f-area-name", "aria-activedescendant")
        page.press("#f-area-name", "Enter")
        assert page.input_value("#f-area") == "500103"
        assert page.input_value("#f-area-name") == "渝中区"
        page.click("#add-section")
        page.fill(".section-row [data-part=title]", "总则")
        # A trigger's metric by its Chinese name, picked from the list.
        level1 = page.locator('[data-level="1"]')
        level1.locator('[data-list="criteria"] button').first.click()
        metric = level1.locator("input[data-part=metric]")
        metric.fill("死亡人数")
        option = level1.locator("[role=option]", has_text="死亡人数（人）")
        option.first.click()
        assert level1.locator("[data-part=metric-key]").input_value() == "deaths"
        level1.locator("[data-part=value]").fill("30")
        level1.locator('[data-list="required_forces"] button').first.click()
        level1.locator("[data-part=category]").select_option("water")
        assert axe_violations(page) == []
        page.click("#save-plan")
        page.wait_for_url(f"{base}/plans/*")
        assert page.inner_text("#plan-title") == "渝中区防汛应急预案"
        assert "死亡人数达到 30 人及以上" in page.inner_text(".response-levels")
        plan_url = page.url
        confirm_step(page, "in_review")
        # Who submitted may not publish: the button is disabled and says why.
        assert page.is_disabled("#lifecycle button:has-text('发布')")
        assert "双人审核" in page.inner_text("#four-eyes")

        admin = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(admin, base, "admin", "demo-admin-2026")
        admin.goto(plan_url)
        confirm_step(admin, "published")
        assert admin.inner_text("#plan-status") == "已发布"
        admin.close()

        page.reload()
        page.fill("#drill-held-on", "2026-05-01")
        page.select_option("#drill-kind", "double_blind")
        page.fill("#drill-findings", "转移路线不清")
        page.click("#drill-form button[type=submit]")
        page.wait_for_selector(".drill")
        assert "转移路线不清" in page.inner_text(".drill")
        # 废止: the dialog will not go on without a reason.
        page.click('[data-transition="archived"]')
        page.wait_for_selector("#transition-dialog[open]")
        assert page.evaluate("document.activeElement.id") == "transition-note"
        assert page.inner_text("#transition-note-label") == "理由（必填）"
        assert axe_violations(page) == []
        page.click("#transition-confirm")
        assert page.inner_text("#transition-dialog-error") == "请填写理由。"
        assert page.is_visible("#transition-dialog[open]")
        page.fill("#transition-note", "上位预案修订，本预案废止")
        with page.expect_navigation():
            page.click("#transition-confirm")
        assert page.inner_text("#plan-status") == "已废止"
        # The same pages on a phone: nothing wider than the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        assert horizontal_overflow(page) == 0
        page.goto(f"{plan_url}/diff")
        assert "死亡人数达到 30 人及以上" in page.inner_text("#diff-table")
        assert horizontal_overflow(page) == 0
        page.goto(f"{base}/plans/new")
        page.locator('[data-level="1"] [data-list="criteria"] button').first.click()
        page.fill('[data-level="1"] input[data-part=metric]', "swrs")
        expect(page.locator('[data-level="1"] [role=option]').first).to_contain_text("死亡人数")
        assert horizontal_overflow(page) == 0 and axe_violations(page) == []
        # Once in English: the editor's metric picker names the metric in English, and
        # archiving asks for the reason in English.
        page.goto(f"{base}/plans/new?lang=en")
        page.locator('[data-level="1"] [data-list="criteria"] button').first.click()
        page.fill('[data-level="1"] input[data-part=metric]', "dea")
        expect(page.locator('[data-level="1"] [role=option]').first).to_contain_text("Deaths")
        assert horizontal_overflow(page) == 0 and axe_violations(page) == []
        page.goto(f"{base}/plans/?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        expect(page.locator("#plan-table")).to_contain_text("Archived")
        assert log.foreign() == []
