"""Browser walk of an import and an export through jobs: a planner imports a layer from the
risk page as a background job and follows it to its end on /jobs (a phone, Chinese), then
exports a run's cells as a job and downloads the file from /jobs (a desktop, English)."""

import json

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
from tests.jobs.jobs_factories import AREA, hazard_layer, planner, until
from tests.risk.risk_factories import collection, rect, start


@pytest.mark.browser
def test_import_and_export_through_jobs_in_pages(backend, tmp_path):
    with committed_app(backend, tmp_path, "jobfilesbrowser") as app:
        app.config["JOB_POLL_SECONDS"] = 0.2
        headers = planner(app, "planner-fb")
        client = app.test_client()
        run = start(client, headers, AREA, 500,
                    [{"layer_id": hazard_layer(client, headers)}]).get_json()
        fc = collection([(rect(0, 0, 800, 800), {"depth": 2}),
                         (rect(800, 0, 1600, 800), {"depth": 4})])
        worker = run_in_thread(app)
        try:
            with live_server(app) as base, chromium() as browser:
                assert until(lambda: client.get(f"/api/v1/risk/assessments/{run['id']}",
                                                headers=headers).get_json()["status"] == "done")
                phone = browser.new_page(viewport={"width": 390, "height": 844})
                log = RequestLog(phone)
                sign_in(phone, base, "planner-fb", "correct horse battery")
                phone.goto(f"{base}/risk")
                form = phone.locator("#layer-form")
                form.locator("#layer-file").set_input_files(files=[{
                    "name": "积水.geojson", "mimeType": "application/geo+json",
                    "buffer": json.dumps(fc).encode()}])
                form.locator("#layer-name").fill("内涝积水")
                form.locator("#layer-value-field").fill("depth")
                form.get_by_label("作为后台任务导入", exact=False).check()
                with phone.expect_navigation():
                    form.get_by_role("button", name="导入").click()
                assert phone.url.endswith("/jobs")
                expect(phone.locator(".alert")).to_contain_text("已作为任务")
                item = phone.locator("[data-job]").first
                expect(item).to_contain_text("图层导入")
                # The page follows the job by itself and reports what it imported.
                expect(item.locator(".job-status")).to_have_text("已完成", timeout=60_000)
                expect(item.locator(".job-summary")).to_contain_text("内涝积水")
                expect(item.locator(".job-summary")).to_contain_text("2")
                assert horizontal_overflow(phone) == 0
                assert axe_violations(phone) == []
                assert log.foreign() == []

                desk = browser.new_page(viewport={"width": 1280, "height": 900})
                sign_in(desk, base, "planner-fb", "correct horse battery")
                desk.goto(f"{base}/risk?lang=en")
                row = desk.locator("#risk-runs tr", has_text=f"{AREA}").first
                with desk.expect_navigation():
                    row.get_by_role("button", name="GeoPackage as a background job").click()
                expect(desk.locator(".alert")).to_contain_text("queued as job")
                item = desk.locator("[data-job]").first
                expect(item).to_contain_text("Risk cells export")
                expect(item.locator(".job-status")).to_have_text("Done", timeout=60_000)
                link = item.locator(".job-download")
                expect(link).to_contain_text(f"risk-assessment-{run['id']}.gpkg")
                with desk.expect_download() as info:
                    link.click()
                path = info.value.path()
                with open(path, "rb") as fh:
                    assert fh.read(16) == b"SQLite format 3\x00"
                assert axe_violations(desk) == []
                # The run's summary workbook through a job too.
                desk.goto(f"{base}/risk?lang=en")
                row = desk.locator("#risk-runs tr", has_text=f"{AREA}").first
                with desk.expect_navigation():
                    row.get_by_role("button", name="Summary (.xlsx) as a background job").click()
                expect(desk.locator(".alert")).to_contain_text("queued as job")
                item = desk.locator("[data-job]").first
                expect(item).to_contain_text("Risk summary export")
                expect(item.locator(".job-status")).to_have_text("Done", timeout=60_000)
                with desk.expect_download() as info:
                    item.locator(".job-download").click()
                with open(info.value.path(), "rb") as fh:
                    assert fh.read(2) == b"PK"
        finally:
            stop_thread(worker)
