"""Browser journeys: a planner records the filing (备案) of an overdue plan on its page; a
planner records a course's attendance by ticking officials found by search, and the
compliance page changes."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from emergency.db import unit_of_work, utcnow
from plans import service as plan_service
from plans.training import service as training
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
def world(backend, tmp_path):
    """An app with the demo areas and users, a plan published 30 days ago and not filed,
    the leaders' law course and two leaders who have not taken it."""
    with committed_app(backend, tmp_path, "trainingbrowser", DEMO_SHELL) as app:
        with app.app_context(), unit_of_work("test") as session:
            plan = plan_service.create_plan(session, "渝中区防汛应急预案", "special", "flood",
                                            "500103", owner="渝中区应急管理局")
            plan_service.transition(session, plan.id, "in_review", "送审", "planner")
            plan_service.transition(session, plan.id, "published", "印发", "admin")
            plan.published_at = plan.first_published_at = utcnow() - timedelta(days=30)
            course = training.create_course(session, "突发事件应对法专题学习", "law", 4,
                                            "leaders")
            for name in ("张伟", "李娜"):
                training.create_official(session, name, "渝中区应急管理局", "局长", "500103",
                                         True)
            training.create_official(session, "王强", "万州区应急管理局", "科员", "500101")
            ids = {"plan": plan.id, "course": course.id}
        app.config["TEST_IDS"] = ids
        yield app


@pytest.mark.browser
def test_record_a_filing_on_the_plan_page(world):
    plan_id = world.config["TEST_IDS"]["plan"]
    with live_server(world) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        log = RequestLog(page)
        sign_in(page, base, "planner", "demo-planner-2026")
        page.goto(f"{base}/plans/?filing_overdue=true")
        expect(page.locator(f'tr[data-plan-id="{plan_id}"] .badge-filing-overdue')).to_be_visible()
        page.goto(f"{base}/plans/{plan_id}")
        expect(page.locator("#filing-overdue-badge")).to_have_text("备案逾期")
        assert axe_violations(page) == []
        today = plan_service.today().isoformat()
        page.fill("#filing-authority", "重庆市应急管理局")
        page.fill("#filing-on", today)
        page.fill("#filing-number", "渝应急预备〔2026〕9号")
        with page.expect_navigation():
            page.click("#filing-save")
        expect(page.locator("#filing-record")).to_contain_text("渝应急预备〔2026〕9号")
        expect(page.locator("#filed-badge")).to_be_visible()
        assert page.locator("#filing-overdue-badge").count() == 0
        assert log.foreign() == []


@pytest.mark.browser
def test_record_attendance_and_see_compliance_change(world):
    course_id = world.config["TEST_IDS"]["course"]
    with live_server(world) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, base, "planner", "demo-planner-2026")
        page.goto(f"{base}/training/")
        expect(page.locator("#summary-non-compliant")).to_have_text("2")
        expect(page.locator("#official-table")).to_contain_text("突发事件应对法专题学习")
        page.goto(f"{base}/training/attendance?course_id={course_id}")
        assert page.input_value("#a-course") == str(course_id)
        # Search narrows the list; "tick all shown" ticks only what is shown.
        page.fill("#a-search", "张")
        expect(page.locator("#a-officials li:visible")).to_have_count(1)
        page.click("#a-tick-shown")
        expect(page.locator("#a-count")).to_have_text("1")
        page.fill("#a-search", "")
        page.select_option("#a-department", "渝中区应急管理局")
        expect(page.locator("#a-officials li:visible")).to_have_count(2)
        page.check("#a-officials li:visible >> text=李娜")
        expect(page.locator("#a-count")).to_have_text("2")
        assert axe_violations(page) == []
        with page.expect_navigation():
            page.click("#a-save")
        expect(page.locator(".alert-success")).to_contain_text("新增 2 条")
        expect(page.locator("#summary-non-compliant")).to_have_text("0")
        expect(page.locator("#summary-compliant")).to_have_text("3")
        assert axe_violations(page) == []
        # The other pages of the section pass the same checks, on a phone too.
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        sign_in(phone, base, "planner", "demo-planner-2026")
        for path in ("/training/", "/training/officials", "/training/courses",
                     "/training/import"):
            phone.goto(f"{base}{path}")
            assert axe_violations(phone) == [], path
            assert horizontal_overflow(phone) == 0, path
