"""Sign-in sheet import: matching by name and department or by id, every row or none, bad
rows listed by row number and field."""

import io
from datetime import date, datetime

import pytest

import plans.service
from tests.conftest import error_of
from tests.plans.training_helpers import add_course, add_official, sheet


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """The plans' clock on a fixed day."""
    monkeypatch.setattr(plans.service, "today", lambda: date(2026, 9, 30))


@pytest.fixture
def planner(actors):
    """A planner's header."""
    return actors.header("planner")


def upload(client, headers, course_id, data, **form):
    """POST a sign-in sheet."""
    return client.post(f"/api/v1/courses/{course_id}/attendance/import",
                       data={"file": (io.BytesIO(data), "签到表.xlsx"), **form},
                       headers=headers, content_type="multipart/form-data")


def attendance(client, headers, course_id):
    """{official name: passed} of a course."""
    rows = client.get(f"/api/v1/courses/{course_id}/attendance", headers=headers).get_json()
    return {(r["official_name"], r["held_on"]): r["passed"] for r in rows["items"]}


def test_a_good_sheet_is_recorded(client, planner):
    course = add_course(client, planner, "应对法", "leaders")
    add_official(client, planner, "张伟", "渝中区应急管理局", leader=True)
    add_official(client, planner, "李娜", "渝中区应急管理局")
    third = add_official(client, planner, "王强", "万州区应急管理局")
    data = sheet([("张伟", "渝中区应急管理局", "合格", None, None),
                  ("李娜", "渝中区应急管理局", "不合格", datetime(2026, 3, 2), None),
                  (None, None, None, "2026/3/3", third["id"])],
                 header=("姓名", "部门", "是否合格", "日期", "编号"))
    response = upload(client, planner, course["id"], data, held_on="2026-03-01")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["created"] == 3
    assert attendance(client, planner, course["id"]) == {
        ("张伟", "2026-03-01"): True, ("李娜", "2026-03-02"): False,
        ("王强", "2026-03-03"): True}
    # The same sheet again adds nothing.
    again = upload(client, planner, course["id"], data, held_on="2026-03-01")
    assert again.status_code == 200 and again.get_json()["unchanged"] == 3


def test_english_headers_and_the_default_result(client, planner):
    course = add_course(client, planner, "技能", None, topic="skills")
    add_official(client, planner, "Zhang Wei", "Bureau")
    data = sheet([("Zhang Wei", "Bureau")], header=("name", "department"))
    response = upload(client, planner, course["id"], data, held_on="2026-04-01",
                      passed="false")
    assert response.status_code == 201
    assert attendance(client, planner, course["id"]) == {("Zhang Wei", "2026-04-01"): False}


def test_any_bad_row_stores_nothing_and_every_bad_row_is_listed(client, planner):
    course = add_course(client, planner, "应对法", "leaders")
    add_official(client, planner, "张伟", "渝中区应急管理局")
    add_official(client, planner, "刘洋", "渝中区应急管理局")
    add_official(client, planner, "刘洋", "渝中区应急管理局")  # two of the same name
    gone = add_official(client, planner, "赵六", "渝中区应急管理局")
    client.patch(f"/api/v1/officials/{gone['id']}", json={"active": False}, headers=planner)
    data = sheet([
        ("张伟", "渝中区应急管理局", "是", "2026-03-01"),    # row 2: fine
        ("无此人", "渝中区应急管理局", "是", "2026-03-01"),  # row 3: unknown
        ("刘洋", "渝中区应急管理局", "是", "2026-03-01"),    # row 4: ambiguous
        ("张伟", "渝中区应急管理局", "也许", "2026-03-01"),  # row 5: bad result
        ("张伟", "渝中区应急管理局", "是", "2026-13-01"),    # row 6: bad day
        ("张伟", "渝中区应急管理局", "是", "2026-12-01"),    # row 7: in the future
        ("张伟", "渝中区应急管理局", "否", "2026-03-01"),    # row 8: same as row 2
        ("赵六", "渝中区应急管理局", "是", "2026-03-01"),    # row 9: left the post
        ("张伟", "", "是", "2026-03-01"),                    # row 10: no department
    ], header=("姓名", "部门", "是否合格", "日期"))
    response = upload(client, planner, course["id"], data)
    assert response.status_code == 422
    details = error_of(response)["details"]
    assert details["bad_rows"] == [3, 4, 5, 6, 7, 8, 9, 10]
    fields = {r["row"]: set(r["fields"]) for r in details["rows"]}
    assert fields == {3: {"name"}, 4: {"official_id"}, 5: {"passed"}, 6: {"held_on"},
                      7: {"held_on"}, 8: {"name"}, 9: {"name"}, 10: {"department"}}
    assert attendance(client, planner, course["id"]) == {}


def test_a_row_without_a_day_needs_the_upload_day(client, planner):
    course = add_course(client, planner, "应对法")
    add_official(client, planner, "张伟", "局")
    response = upload(client, planner, course["id"], sheet([("张伟", "局", "是")]))
    assert response.status_code == 422
    assert error_of(response)["details"]["rows"][0]["fields"].keys() == {"held_on"}


# Explicit ids: the workbooks carry their creation time, and pytest-xdist's workers must
# collect the same test names.
@pytest.mark.parametrize("data,field", [
    (b"not a workbook", "file"),
    (sheet([("x",)], header=("签名",)), "file"),
    (sheet([], header=("姓名", "部门")), "file"),
], ids=["not-a-workbook", "no-known-column", "no-rows"])
def test_unreadable_or_empty_sheets(client, planner, data, field):
    course = add_course(client, planner, "应对法")
    response = upload(client, planner, course["id"], data, held_on="2026-03-01")
    assert response.status_code == 422
    assert field in error_of(response)["details"]


def test_no_file_and_no_course(client, planner):
    course = add_course(client, planner, "应对法")
    response = client.post(f"/api/v1/courses/{course['id']}/attendance/import",
                           data={"held_on": "2026-03-01"}, headers=planner,
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "file" in error_of(response)["details"]
    assert upload(client, planner, 999999, sheet([("a", "b", "是")])).status_code == 404
    bad_day = upload(client, planner, course["id"], sheet([("a", "b", "是")]),
                     held_on="3/1/2026")
    assert bad_day.status_code == 422 and "held_on" in error_of(bad_day)["details"]
