"""Browser walk of /jobs: on a phone a planner cancels a queued risk run (Chinese); on a
desktop, in English, a run advances and ends done with a link to its map, refreshed by the
page itself while a worker runs it."""

import pytest
from playwright.sync_api import expect

from emergency.jobs.worker import run_in_thread, stop_thread
from tests.browser import (
    RequestLog,
    axe_violations,
    chromium,
    horizontal_overflow,
    live_server,
    sign_in,
)
from tests.conftest import committed_app
from tests.jobs.jobs_factories import AREA, hazard_layer, planner
from tests.risk.risk_factories import start


@pytest.mark.browser
def test_jobs_page_on_a_phone_and_a_desktop(backend, tmp_path):
    with committed_app(backend, tmp_path, "jobsbrowser") as app:
        app.config["JOB_POLL_SECONDS"] = 0.2
        headers = planner(app, "planner-b")
        client = app.test_client()
        layer = [{"layer_id": hazard_layer(client, headers)}]
        queued = start(client, headers, AREA, 500, layer).get_json()
        job = client.get("/api/v1/jobs", headers=headers).get_json()["items"][0]["id"]
        with live_server(app) as base, chromium() as browser:
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            log = RequestLog(phone)
            sign_in(phone, base, "planner-b", "correct horse battery")
            phone.goto(f"{base}/jobs")
            card = phone.locator(f"#job-{job}")
            expect(card.locator(".job-status")).to_have_text("排队中")
            expect(card).to_contain_text(f"风险评估 #{queued['id']}")
            assert horizontal_overflow(phone) == 0
            assert axe_violations(phone) == []
            with phone.expect_navigation():
                card.locator(".job-cancel button").click()
            expect(phone.locator(".alert")).to_contain_text(f"任务 {job} 已取消")
            expect(card.locator(".job-status")).to_have_text("已取消")
            assert card.locator(".job-cancel").count() == 0
            assert log.foreign() == []

            worker = run_in_thread(app)
            try:
                desk = browser.new_page(viewport={"width": 1280, "height": 900})
                sign_in(desk, base, "planner-b", "correct horse battery")
                run = start(client, headers, AREA, 500, layer).get_json()
                desk.goto(f"{base}/jobs?lang=en")
                item = desk.locator("[data-job]").first
                expect(item).to_contain_text(f"Risk assessment #{run['id']}")
                # The page follows the run by itself and shows its end.
                expect(item.locator(".job-status")).to_have_text("Done", timeout=60_000)
                expect(item.get_by_role("link", name="Open the result")).to_have_attribute(
                    "href", f"/maps/risk/{run['id']}")
                assert axe_violations(desk) == []
            finally:
                stop_thread(worker)
