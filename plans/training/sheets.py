"""Attendance from a sign-in sheet (.xlsx): every row recorded or none. No Flask here.

The first row names the columns, in Chinese or English (docs/training.md):
编号/official_id (optional), 姓名/name, 部门/department, 日期/held_on (optional: the day
given with the upload), 是否合格/passed (optional: the default given with the upload).
A row names its official by id, or by name and department among the active officials.
"""

from sqlalchemy import select

from emergency import sheets
from emergency.errors import Invalid
from plans.training.models import Official
from plans.training.service import check_day, get_course, record_attendance

HEADERS = {"编号": "official_id", "干部编号": "official_id", "official_id": "official_id",
           "id": "official_id", "姓名": "name", "name": "name", "部门": "department",
           "单位": "department", "工作单位": "department", "department": "department",
           "日期": "held_on", "培训日期": "held_on", "held_on": "held_on", "date": "held_on",
           "是否合格": "passed", "考核结果": "passed", "考核": "passed", "合格": "passed",
           "passed": "passed"}
YES = {"是", "合格", "通过", "已通过", "yes", "y", "true", "1", "√", "✓", "pass", "passed"}
NO = {"否", "不合格", "未通过", "no", "n", "false", "0", "×", "✗", "fail", "failed"}
MAX_ROWS = 5000
_text, _day = sheets.text, sheets.day


def _needed(found):
    """The columns a sheet lacks: an id column, or else name and department."""
    return [] if "official_id" in found else [f for f in ("name", "department")
                                              if f not in found]


def read_rows(fileobj):
    """[(spreadsheet row number, {column: value})] of the first sheet, or Invalid."""
    with sheets.xlsx_rows(fileobj.read()) as rows:
        return sheets.records(rows, HEADERS, MAX_ROWS, required=_needed)


def _officials(session, records):
    """Active officials by id and by (name, department) for the sheet's rows."""
    names = {_text(c.get("name")) for _n, c in records if _text(c.get("name"))}
    ids = {int(_text(c["official_id"])) for _n, c in records
           if _text(c.get("official_id")).isdigit()}
    rows = session.scalars(select(Official).where(
        Official.name.in_(names) | Official.id.in_(ids))).all() if names or ids else []
    by_id = {o.id: o for o in rows}
    by_name = {}
    for official in rows:
        if official.active:
            by_name.setdefault((official.name, official.department), []).append(official)
    return by_id, by_name


def _official(cells, by_id, by_name, problems):
    """The official a row names, or None with its problem recorded."""
    name, department = _text(cells.get("name")), _text(cells.get("department"))
    given = _text(cells.get("official_id"))
    if given:
        official = by_id.get(int(given)) if given.isdigit() else None
        if official is None:
            problems["official_id"] = ["no such official"]
        elif not official.active:
            problems["official_id"] = ["the official has left the post"]
        elif name and name != official.name:
            problems["name"] = ["does not match the official of this id"]
        else:
            return official
        return None
    if not name:
        problems["name"] = ["required"]
    if not department:
        problems["department"] = ["required"]
    if problems:
        return None
    found = by_name.get((name, department), [])
    if not found:
        problems["name"] = ["no official of this name in this department"]
        return None
    if len(found) > 1:
        problems["official_id"] = ["several officials of this name in this department: "
                                   "give the id"]
        return None
    return found[0]


def import_sheet(session, course_id, fileobj, held_on, passed, today, actor=None):
    """Record the attendance of every row of a sign-in sheet, or none: a bad row makes a 422
    listing every bad row (by its spreadsheet row number) and field."""
    get_course(session, course_id)
    if fileobj is None:
        raise Invalid("upload an .xlsx file in the field 'file'", {"file": ["required"]})
    records = read_rows(fileobj)
    if not records:
        raise Invalid("the sheet has no rows", {"file": ["no attendance rows"]})
    by_id, by_name = _officials(session, records)
    bad, seen, entries = [], {}, []
    for number, cells in records:
        problems = {}
        official = _official(cells, by_id, by_name, problems)
        day = held_on
        if _text(cells.get("held_on")):
            day = _day(cells["held_on"])
            if day is None:
                problems["held_on"] = ["a date YYYY-MM-DD"]
        if day is None and "held_on" not in problems:
            problems["held_on"] = ["required: a column or the day of the session"]
        elif day is not None:
            problems.update(check_day(day, today))
        result = passed
        mark = _text(cells.get("passed")).lower()
        if mark:
            if mark in YES:
                result = True
            elif mark in NO:
                result = False
            else:
                problems["passed"] = ["yes or no (是/否, 合格/不合格)"]
        if official is not None and day is not None and not problems:
            key = (official.id, day)
            if key in seen:
                problems["name"] = [f"same official and day as row {seen[key]}"]
            else:
                seen[key] = number
        if problems:
            bad.append({"row": number, "fields": problems})
        else:
            entries.append((official.id, day, result))
    if bad:
        raise Invalid(f"{len(bad)} bad row(s); nothing was imported",
                      {"rows": bad[:1000], "bad_rows": [b["row"] for b in bad]})
    return record_attendance(session, course_id, entries, today, actor=actor, source="import")
