"""Training pages, server-side: compliance with filters and export, officials and courses
(add, refusals keep the input), recording attendance and importing a sheet through forms;
the plan pages' filing section, badges and filters."""

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

import plans.service
from emergency.vocabulary import LOCAL_ZONE
from plans.models import Plan
from tests.plans.test_plans_api import create, move
from tests.plans.training_helpers import add_course, add_official, attend, sheet


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The plans' clock on a fixed day."""
    monkeypatch.setattr(plans.service, "today", lambda: date(2026, 9, 30))


@pytest.fixture
def sign_in(client):
    """Sign in through the login form; returns the page CSRF token."""

    def login(user):
        client.get("/logout")
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post("/login", data={"username": user.username,
                                               "password": "correct horse battery",
                                               "csrf_token": token})
        assert response.status_code in (302, 303)
        page = client.get("/training/").get_data(as_text=True)
        return page.split('name="csrf-token" content="')[1].split('"')[0]

    return login


def test_compliance_page_names_missing_courses(client, actors, sign_in):
    user, planner = actors.make("planner")
    law = add_course(client, planner, "突发事件应对法", "leaders")
    boss = add_official(client, planner, "局长甲", "甲局", leader=True)
    deputy = add_official(client, planner, "副局长乙", "甲局", leader=True)
    attend(client, planner, law["id"], [boss["id"]], "2026-02-01")
    sign_in(user)
    page = client.get("/training/").get_data(as_text=True)
    assert "干部学法培训：2026 年度完成情况" in page
    row = page.split(f'data-official="{deputy["id"]}"')[1].split("</tr>")[0]
    assert '<span class="badge text-bg-danger me-1">突发事件应对法</span>' in row
    assert f'data-official="{deputy["id"]}" data-compliant="no"' in page
    assert f'data-official="{boss["id"]}" data-compliant="yes"' in page
    only = client.get("/training/?missing_only=1").get_data(as_text=True)
    assert "副局长乙" in only and f'data-official="{boss["id"]}"' not in only
    export = client.get("/training/export.xlsx?year=2026")
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.data))
    assert [c.value for c in book.worksheets[0][1]][:2] == ["姓名", "部门"]
    assert {r[0].value for r in book.worksheets[0].iter_rows(min_row=2)} == {"局长甲", "副局长乙"}


def test_auditor_reads_without_write_controls(client, actors, sign_in):
    user, _headers = actors.make("auditor")
    sign_in(user)
    for path in ("/training/", "/training/officials", "/training/courses"):
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.get_data(as_text=True)
        assert 'id="official-form"' not in text and 'id="course-form"' not in text
    assert client.get("/training/attendance").status_code == 403
    assert client.get("/training/import").status_code == 403
    dispatcher, _h = actors.make("dispatcher")
    sign_in(dispatcher)
    assert client.get("/training/").status_code == 403


def test_officials_and_courses_through_forms(client, actors, place, sign_in):
    user, _headers = actors.make("planner")
    csrf = sign_in(user)
    refused = client.post("/training/officials", data={
        "name": "", "department": "渝中区应急管理局", "csrf_token": csrf})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'value="渝中区应急管理局"' in text and "is-invalid" in text
    added = client.post("/training/officials", data={
        "name": "张伟", "department": "渝中区应急管理局", "position": "局长",
        "area_code": place["district"], "leader": "1", "csrf_token": csrf})
    assert added.status_code == 302
    page = client.get("/training/officials").get_data(as_text=True)
    assert "张伟" in page and "测试区" in page and "领导干部" in page
    bad = client.post("/training/courses", data={"title": "应对法", "topic": "law",
                                                 "hours": "很多", "csrf_token": csrf})
    assert bad.status_code == 422 and 'value="应对法"' in bad.get_data(as_text=True)
    ok = client.post("/training/courses", data={"title": "应对法", "topic": "law",
                                                "hours": "4", "mandatory_for": "leaders",
                                                "csrf_token": csrf})
    assert ok.status_code == 302
    courses = client.get("/training/courses").get_data(as_text=True)
    assert "应对法" in courses and "领导干部必修" in courses


def test_record_attendance_through_the_form(client, actors, sign_in):
    user, planner = actors.make("planner")
    course = add_course(client, planner, "应对法", "all")
    a = add_official(client, planner, "甲", "局")
    b = add_official(client, planner, "乙", "局")
    csrf = sign_in(user)
    form = client.get(f"/training/attendance?course_id={course['id']}").get_data(as_text=True)
    assert f'value="{course["id"]}" selected' in form and 'name="official_ids"' in form
    none = client.post("/training/attendance", data={
        "course_id": course["id"], "held_on": "2026-05-01", "passed": "1",
        "csrf_token": csrf})
    assert none.status_code == 422
    response = client.post("/training/attendance", data={
        "course_id": course["id"], "held_on": "2026-05-01", "passed": "1",
        "official_ids": [a["id"], b["id"]], "csrf_token": csrf})
    assert response.status_code == 302
    result = client.get("/api/v1/training/compliance?year=2026", headers=planner).get_json()
    assert all(r["compliant"] for r in result["items"])


def test_import_page_lists_bad_rows(client, actors, sign_in):
    user, planner = actors.make("planner")
    course = add_course(client, planner, "应对法", "all")
    add_official(client, planner, "张伟", "局")
    csrf = sign_in(user)
    data = sheet([("张伟", "局", "是"), ("无此人", "局", "是")])
    response = client.post("/training/import", data={
        "course_id": course["id"], "held_on": "2026-05-01", "passed": "1",
        "file": (io.BytesIO(data), "sheet.xlsx"), "csrf_token": csrf},
        content_type="multipart/form-data")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="bad-rows"' in text and "该部门没有此姓名的干部" in text
    good = client.post("/training/import", data={
        "course_id": course["id"], "held_on": "2026-05-01", "passed": "1",
        "file": (io.BytesIO(sheet([("张伟", "局", "是")])), "sheet.xlsx"),
        "csrf_token": csrf}, content_type="multipart/form-data")
    assert good.status_code == 302


def test_plan_pages_show_filing(client, db, place, actors, sign_in):
    user, planner = actors.make("planner")
    plan = create(client, place, planner)
    move(client, plan["id"], "in_review", planner)
    move(client, plan["id"], "published", planner)
    row = db.get(Plan, plan["id"])
    row.published_at = row.first_published_at = datetime(2026, 6, 1, 9, tzinfo=LOCAL_ZONE)
    db.flush()
    sign_in(user)
    page = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    assert 'id="filing-overdue-badge"' in page and 'id="filing-form"' in page
    assert 'min="2026-06-01"' in page and 'max="2026-09-30"' in page
    listed = client.get("/plans/?filing_overdue=true").get_data(as_text=True)
    assert f'data-plan-id="{plan["id"]}"' in listed and "badge-filing-overdue" in listed
    client.post(f"/api/v1/plans/{plan['id']}/filing", headers=planner, json={
        "authority": "重庆市应急管理局", "filed_on": "2026-06-05", "number": "备-1"})
    page = client.get(f"/plans/{plan['id']}").get_data(as_text=True)
    assert 'id="filed-badge"' in page and "备-1" in page and 'id="filing-form"' not in page
    assert f'data-plan-id="{plan["id"]}"' not in client.get(
        "/plans/?filing_overdue=true").get_data(as_text=True)
    assert f'data-plan-id="{plan["id"]}"' in client.get("/plans/?filed=true").get_data(
        as_text=True)


def test_edit_an_official_and_record_leaving(client, actors, place, sign_in):
    user, planner = actors.make("planner")
    official = add_official(client, planner, "张伟", "渝中区应急管理局",
                            area_code=place["district"])
    csrf = sign_in(user)
    form = client.get(f"/training/officials/{official['id']}").get_data(as_text=True)
    assert 'value="张伟"' in form and '&#34;value&#34;: &#34;990101&#34;' in form
    refused = client.post(f"/training/officials/{official['id']}", data={
        "name": "张伟", "department": "", "csrf_token": csrf})
    assert refused.status_code == 422
    changed = client.post(f"/training/officials/{official['id']}", data={
        "name": "张伟", "department": "渝中区应急管理局", "position": "局长", "leader": "1",
        "area_code": place["district"], "csrf_token": csrf})
    assert changed.status_code == 302
    record = client.get(f"/api/v1/officials/{official['id']}", headers=planner).get_json()
    assert record["position"] == "局长" and record["leader"] is True
    left = client.post(f"/training/officials/{official['id']}", data={
        "active": "0", "csrf_token": csrf})
    assert left.status_code == 302
    assert client.get(f"/api/v1/officials/{official['id']}",
                      headers=planner).get_json()["active"] is False
    assert "张伟" not in client.get("/training/officials").get_data(as_text=True)
    assert "张伟" in client.get("/training/officials?active=0").get_data(as_text=True)
    assert client.get("/training/officials/999999").status_code == 404


def test_pages_in_english(client, actors, sign_in):
    user, _headers = actors.make("admin")
    sign_in(user)
    page = client.get("/training/?lang=en").get_data(as_text=True)
    assert "Officials' training: compliance in 2026" in page
    assert "Record attendance" in client.get("/training/attendance?lang=en").get_data(
        as_text=True)
