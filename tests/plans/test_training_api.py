"""Officials' training API: officials, courses, attendance (retries never duplicate),
compliance math per official and department, its export, and roles."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook

import plans.service
from tests.conftest import error_of
from tests.plans.training_helpers import add_course, add_official, attend


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The plans' clock on a fixed day (so that 'this year' and 'the future' are fixed)."""
    monkeypatch.setattr(plans.service, "today", lambda: date(2026, 9, 30))


@pytest.fixture
def planner(actors):
    """A planner's header."""
    return actors.header("planner")


def test_officials_add_list_change_and_leave(client, place, planner):
    boss = add_official(client, planner, "张伟", leader=True, area_code=place["district"])
    assert boss["leader"] is True and boss["active"] is True
    assert boss["area_name"] == "测试区"
    add_official(client, planner, "李娜", department="另一局")
    listed = client.get("/api/v1/officials?department=测试区应急管理局",
                        headers=planner).get_json()
    assert [o["name"] for o in listed["items"]] == ["张伟"] and listed["total"] == 1
    found = client.get("/api/v1/officials?q=李", headers=planner).get_json()
    assert [o["name"] for o in found["items"]] == ["李娜"]
    changed = client.patch(f"/api/v1/officials/{boss['id']}",
                           json={"position": "局长", "active": False}, headers=planner)
    assert changed.status_code == 200
    assert changed.get_json()["position"] == "局长" and changed.get_json()["active"] is False
    in_post = client.get("/api/v1/officials", headers=planner).get_json()
    assert "张伟" not in [o["name"] for o in in_post["items"]]
    gone = client.get("/api/v1/officials?active=false", headers=planner).get_json()
    assert [o["name"] for o in gone["items"]] == ["张伟"]


@pytest.mark.parametrize("body,fields", [
    ({}, {"name", "department"}),
    ({"name": " ", "department": "x"}, {"name"}),
    ({"name": "a", "department": "b", "area_code": "123"}, {"area_code"}),
    ({"name": "a", "department": "b", "leader": "maybe"}, {"leader"}),
])
def test_bad_officials_name_the_field(client, place, planner, body, fields):
    response = client.post("/api/v1/officials", json=body, headers=planner)
    assert response.status_code == 422
    assert set(error_of(response)["details"]) == fields


@pytest.mark.parametrize("body,fields", [
    ({}, {"title", "topic", "hours"}),
    ({"title": "t", "topic": "sport", "hours": 2}, {"topic"}),
    ({"title": "t", "topic": "law", "hours": 0}, {"hours"}),
    ({"title": "t", "topic": "law", "hours": 2, "mandatory_for": "everyone"},
     {"mandatory_for"}),
])
def test_bad_courses_name_the_field(client, planner, body, fields):
    response = client.post("/api/v1/courses", json=body, headers=planner)
    assert response.status_code == 422
    assert set(error_of(response)["details"]) == fields


def test_courses_list_mandatory_first_and_retire(client, planner):
    add_course(client, planner, "指挥能力", topic="command", hours=8)
    law = add_course(client, planner, "突发事件应对法", "leaders", hours=2.5)
    assert law["hours"] == 2.5 and law["mandatory_for"] == "leaders"
    listed = client.get("/api/v1/courses", headers=planner).get_json()
    assert [c["title"] for c in listed["items"]][:2] == ["突发事件应对法", "指挥能力"]
    client.patch(f"/api/v1/courses/{law['id']}", json={"active": False}, headers=planner)
    titles = [c["title"] for c in client.get("/api/v1/courses",
                                             headers=planner).get_json()["items"]]
    assert "突发事件应对法" not in titles


def test_attendance_retries_never_duplicate(client, planner):
    course = add_course(client, planner, "应对法", "leaders")
    a = add_official(client, planner, "甲", leader=True)
    b = add_official(client, planner, "乙")
    first = attend(client, planner, course["id"], [a["id"], b["id"]], "2026-03-01")
    assert first.status_code == 201
    assert (first.get_json()["created"], first.get_json()["unchanged"]) == (2, 0)
    again = attend(client, planner, course["id"], [a["id"], b["id"]], "2026-03-01")
    assert again.status_code == 200
    assert (again.get_json()["created"], again.get_json()["unchanged"]) == (0, 2)
    # The same day with another result updates the row instead of adding one.
    failed = attend(client, planner, course["id"], [b["id"]], "2026-03-01", passed=False)
    assert failed.get_json()["updated"] == 1
    rows = client.get(f"/api/v1/courses/{course['id']}/attendance",
                      headers=planner).get_json()
    assert rows["total"] == 2
    assert {r["official_name"]: r["passed"] for r in rows["items"]} == {"甲": True, "乙": False}
    # Another day is another session.
    assert attend(client, planner, course["id"], [a["id"]], "2026-04-01").status_code == 201


def test_bad_attendance_is_refused_naming_the_field(client, planner):
    course = add_course(client, planner, "应对法")
    a = add_official(client, planner, "甲")
    future = attend(client, planner, course["id"], [a["id"]], "2026-10-01")
    assert future.status_code == 422 and set(error_of(future)["details"]) == {"held_on"}
    unknown = attend(client, planner, course["id"], [a["id"], 999999], "2026-03-01")
    assert unknown.status_code == 422
    assert set(error_of(unknown)["details"]) == {"official_ids.1"}
    empty = attend(client, planner, course["id"], [], "2026-03-01")
    assert empty.status_code == 422
    assert attend(client, planner, 999999, [a["id"]], "2026-03-01").status_code == 404
    client.patch(f"/api/v1/officials/{a['id']}", json={"active": False}, headers=planner)
    left = attend(client, planner, course["id"], [a["id"]], "2026-03-01")
    assert left.status_code == 422
    # Nothing of the refused requests was stored.
    rows = client.get(f"/api/v1/courses/{course['id']}/attendance", headers=planner)
    assert rows.get_json()["total"] == 0


def test_compliance_per_official_and_department(client, planner):
    law = add_course(client, planner, "突发事件应对法", "leaders", hours=4)
    rules = add_course(client, planner, "应对条例", "all", hours=3)
    skills = add_course(client, planner, "防汛技能", None, hours=6, topic="skills")
    add_course(client, planner, "已停用必修", "all", hours=1)
    retired = client.get("/api/v1/courses", headers=planner).get_json()["items"]
    client.patch(f"/api/v1/courses/{[c for c in retired if c['title'] == '已停用必修'][0]['id']}",
                 json={"active": False}, headers=planner)
    boss = add_official(client, planner, "局长甲", "甲局", leader=True)
    deputy = add_official(client, planner, "副局长乙", "甲局", leader=True)
    clerk = add_official(client, planner, "科员丙", "甲局")
    other = add_official(client, planner, "科员丁", "乙局")
    attend(client, planner, law["id"], [boss["id"]], "2026-02-01")
    attend(client, planner, law["id"], [deputy["id"]], "2026-02-01", passed=False)
    attend(client, planner, law["id"], [deputy["id"]], "2025-12-20")  # last year: not this
    attend(client, planner, rules["id"], [boss["id"], deputy["id"], clerk["id"]], "2026-03-01")
    attend(client, planner, skills["id"], [clerk["id"], other["id"]], "2026-05-01")
    result = client.get("/api/v1/training/compliance?year=2026", headers=planner).get_json()
    rows = {r["name"]: r for r in result["items"]}
    assert [c["title"] for c in result["mandatory"]] == ["应对条例", "突发事件应对法"]
    assert rows["局长甲"]["hours"] == 7.0 and rows["局长甲"]["missing"] == []
    assert rows["局长甲"]["compliant"] is True
    # Attended but failed: the hours count, the course is still missing.
    assert rows["副局长乙"]["hours"] == 7.0
    assert [c["title"] for c in rows["副局长乙"]["missing"]] == ["突发事件应对法"]
    assert rows["科员丙"]["hours"] == 9.0 and rows["科员丙"]["missing"] == []
    assert [c["title"] for c in rows["科员丁"]["missing"]] == ["应对条例"]
    departments = {d["department"]: d for d in result["departments"]}
    assert departments["甲局"] == {"department": "甲局", "officials": 3, "compliant": 2,
                                   "non_compliant": 1, "leaders": 2, "leaders_missing": 1,
                                   "hours": 23.0, "average_hours": 7.7, "rate": 0.667}
    assert departments["乙局"]["non_compliant"] == 1 and departments["乙局"]["hours"] == 6.0
    assert result["summary"]["officials"] == 4 and result["summary"]["compliant"] == 2
    # Last year the deputy passed, nobody else had anything.
    last = client.get("/api/v1/training/compliance?year=2025", headers=planner).get_json()
    last_rows = {r["name"]: r for r in last["items"]}
    assert [c["title"] for c in last_rows["副局长乙"]["missing"]] == ["应对条例"]
    assert last_rows["副局长乙"]["hours"] == 4.0
    # Filters: a department, only those missing something.
    one = client.get("/api/v1/training/compliance?year=2026&department=甲局&missing_only=true",
                     headers=planner).get_json()
    assert [r["name"] for r in one["items"]] == ["副局长乙"]
    assert [d["department"] for d in one["departments"]] == ["甲局"]
    # The default year is the current one.
    default = client.get("/api/v1/training/compliance", headers=planner).get_json()
    assert default["year"] == 2026


def test_compliance_export_is_formula_safe(client, planner, actors):
    add_course(client, planner, "=HYPERLINK(\"x\")", "all", hours=2)
    add_official(client, planner, "=cmd|' /C calc'!A0", "@局")
    response = client.get("/api/v1/training/compliance?year=2026&format=xlsx",
                          headers=actors.header("auditor"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    officials, departments = book.worksheets
    assert officials.cell(1, 1).value == "姓名"
    row = [c for c in officials[2]]
    assert row[0].value == "=cmd|' /C calc'!A0" and row[0].data_type == "s"
    assert row[6].value == "=HYPERLINK(\"x\")" and row[6].data_type == "s"
    assert departments.cell(2, 1).value == "@局" and departments.cell(2, 1).data_type == "s"
    audit = client.get("/api/v1/audit?action=training.export",
                       headers=actors.header("auditor")).get_json()
    assert audit["total"] == 1


@pytest.mark.parametrize("role,read,write", [
    ("admin", 200, 201), ("planner", 200, 201), ("auditor", 200, 403),
    ("dispatcher", 403, 403), ("grid_staff", 403, 403), ("org_admin", 403, 403)])
def test_roles(client, actors, role, read, write):
    headers = actors.header(role)
    for path in ("/api/v1/officials", "/api/v1/courses", "/api/v1/training/compliance"):
        assert client.get(path, headers=headers).status_code == read, path
    assert client.post("/api/v1/officials", json={"name": "甲", "department": "局"},
                       headers=headers).status_code == write
    assert client.get("/api/v1/officials").status_code == 401
