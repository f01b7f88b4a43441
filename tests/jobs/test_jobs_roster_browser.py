"""Browser walk of a roster import through a job: an organisation's admin, on a phone, in
Chinese, imports a roster from the team page as a background job, is sent to the jobs page,
sees it end with the count of members, follows its link back to the team, then exports the
roster as a job and downloads the (masked) file from the jobs page."""

import io

import pytest
from openpyxl import Workbook, load_workbook
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
from tests.factories import id_number, org_body, team_body
from tests.jobs.jobs_factories import planner
from tests.jobs.test_jobs_registry_prices import _link


def _roster(count):
    """An .xlsx roster of ``count`` members."""
    book = Workbook()
    book.active.append(["姓名", "身份证号", "手机号", "技能"])
    for i in range(count):
        book.active.append([f"队员{i}", id_number(300 + i), f"137{i:08d}", "绳索"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.browser
def test_roster_import_through_a_job_on_a_phone(backend, tmp_path):
    with committed_app(backend, tmp_path, "rosterjobbrowser") as app:
        app.config["JOB_POLL_SECONDS"] = 0.2
        client = app.test_client()
        admin = planner(app, "admin-rb", role="admin", area=False)
        org_admin = planner(app, "orgadmin-rb", role="org_admin", area=False)
        org = client.post("/api/v1/orgs", json=org_body(1), headers=org_admin).get_json()
        client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"},
                    headers=admin)
        _link(app, "orgadmin-rb", org["id"])
        team = client.post(f"/api/v1/orgs/{org['id']}/teams", json=team_body(name="山地队"),
                           headers=org_admin).get_json()
        worker = run_in_thread(app)
        try:
            with live_server(app) as base, chromium() as browser:
                phone = browser.new_page(viewport={"width": 390, "height": 844})
                log = RequestLog(phone)
                sign_in(phone, base, "orgadmin-rb", "correct horse battery")
                phone.goto(f"{base}/registry/teams/{team['id']}")
                form = phone.locator("#import-form")
                form.locator("#f-roster").set_input_files(files=[{
                    "name": "名册.xlsx", "buffer": _roster(12), "mimeType":
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
                form.get_by_label("作为后台任务导入", exact=False).check()
                with phone.expect_navigation():
                    form.get_by_role("button", name="导入").click()
                assert phone.url.endswith("/jobs")
                expect(phone.locator(".alert")).to_contain_text("名册导入已作为任务")
                expect(phone.locator(".alert")).to_contain_text("任务页面")
                item = phone.locator("[data-job]").first
                expect(item).to_contain_text("名册导入")
                # The page follows the job by itself and reports what it imported.
                expect(item.locator(".job-status")).to_have_text("已完成", timeout=60_000)
                expect(item.locator(".job-summary")).to_contain_text("12")
                assert horizontal_overflow(phone) == 0
                assert axe_violations(phone) == []
                assert log.foreign() == []
                # Its link leads back to the team, whose roster now holds the twelve.
                with phone.expect_navigation():
                    item.get_by_role("link", name="查看结果").click()
                assert phone.url.endswith(f"/registry/teams/{team['id']}")
                expect(phone.locator("#members-table tbody tr")).to_have_count(12)
                # The roster's export as a job, downloaded from the jobs page, masked.
                with phone.expect_navigation():
                    phone.get_by_role("button", name="作为后台任务导出").click()
                expect(phone.locator(".alert")).to_contain_text("名册导出已作为任务")
                item = phone.locator("[data-job]").first
                expect(item).to_contain_text("名册导出")
                expect(item.locator(".job-status")).to_have_text("已完成", timeout=60_000)
                link = item.locator(".job-download")
                expect(link).to_contain_text(f"team-{team['id']}-roster.xlsx")
                with phone.expect_download() as info:
                    link.click()
                with open(info.value.path(), "rb") as fh:
                    sheet = load_workbook(io.BytesIO(fh.read())).active
                ids = [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]
                assert len(ids) == 12 and all("*" in i for i in ids)
        finally:
            stop_thread(worker)
