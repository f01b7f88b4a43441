"""Browser journey (desktop, Chinese): a planner drafts a warning choosing its area with the
picker; the planner may not approve it (four eyes, said beside the disabled button); an
administrator approves and publishes it through the dialogs; the list shows it published.
Every page is axe-clean and the list does not overflow a phone's width."""

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
def warnings_app(backend, tmp_path):
    """An app on a fresh database with the demo areas and users."""
    with committed_app(backend, tmp_path, "warningsbrowser", DEMO_SHELL) as app:
        yield app


def confirm(page, step, note=None):
    """Click a step's button, answer its dialog and wait for the page to reload."""
    page.click(f'[data-step="{step}"]')
    page.wait_for_selector("#step-dialog[open]")
    if note is not None:
        page.fill("#step-note", note)
    with page.expect_navigation():
        page.click("#step-confirm")


@pytest.mark.browser
def test_draft_approve_publish_journey(warnings_app):
    with live_server(warnings_app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        log = RequestLog(page)
        sign_in(page, base, "planner", "demo-planner-2026")
        page.goto(f"{base}/warnings")
        page.click("#new-warning")
        page.wait_for_selector("#warning-form")
        assert axe_violations(page) == []
        page.fill("#w-title", "渝中区暴雨红色预警")
        page.select_option("#w-type", "meteorological")
        page.check("#w-level-red")
        page.fill("#w-areas", "yzq")
        expect(page.locator("#w-areas-list [role=option]").first).to_contain_text("渝中区")
        page.press("#w-areas", "ArrowDown")
        page.press("#w-areas", "Enter")
        assert page.input_value("#w-area-codes") == "500103"
        page.fill("#w-description", "预计未来3小时降雨量将达100毫米以上。")
        with page.expect_navigation():
            page.click("#warning-save")
        assert "渝中区暴雨红色预警" in page.inner_text("#warning-title")
        assert page.inner_text("#warning-status") == "草稿"
        warning_url = page.url
        # The author changes the draft in the same form, filled with what was saved.
        page.click("#warning-edit")
        page.wait_for_selector("#warning-form")
        assert page.input_value("#w-title") == "渝中区暴雨红色预警"
        expect(page.locator("#w-areas").locator("xpath=..").locator(".picker-chip")
               ).to_contain_text("渝中区")
        page.fill("#w-instruction", "停止户外活动，远离河道。")
        with page.expect_navigation():
            page.click("#warning-save")
        assert page.url == warning_url and "远离河道" in page.inner_text("main")
        # Who drafted may not approve: disabled, with the reason beside it.
        assert page.is_disabled('[data-step="approved"]')
        assert "另一位管理员" in page.inner_text("#four-eyes-reason")
        assert axe_violations(page) == []

        admin = browser.new_page(viewport={"width": 1280, "height": 800})
        admin_log = RequestLog(admin)
        sign_in(admin, base, "admin", "demo-admin-2026")
        admin.goto(warning_url)
        admin.click('[data-step="approved"]')
        admin.wait_for_selector("#step-dialog[open]")
        assert axe_violations(admin) == []
        admin.click("#step-cancel")  # changing one's mind closes the dialog, nothing sent
        assert admin.inner_text("#warning-status") == "草稿"
        confirm(admin, "approved")
        assert admin.inner_text("#warning-status") == "已审核"
        confirm(admin, "published")
        assert admin.inner_text("#warning-status") == "已发布"
        admin.goto(f"{base}/warnings?active=1")
        row = admin.locator("#warning-list tr", has_text="渝中区暴雨红色预警")
        expect(row).to_contain_text("已发布")
        expect(row).to_contain_text("红色")
        assert axe_violations(admin) == []
        admin.set_viewport_size({"width": 390, "height": 844})
        admin.reload()
        assert horizontal_overflow(admin) == 0
        assert log.foreign() == [] and admin_log.foreign() == []
