"""Yearly training compliance: hours per official and the mandatory courses they still miss,
per official and per department, and its .xlsx workbook. No Flask here.

A course ``mandatory_for: all`` must be passed by every active official once in each calendar
year, one ``mandatory_for: leaders`` (the emergency-law course of 领导干部学法) by every
leader. Hours are the class hours of every course attended in the year, passed or not.
"""

import io
from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from emergency.audit import service as audit
from emergency.exports import append_row
from plans.training.models import Attendance, Course, Official
from plans.training.service import area_names, official_filters

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year_span(year):
    """The first and last day of a calendar year."""
    return date(year, 1, 1), date(year, 12, 31)


def mandatory_courses(session):
    """The active courses mandatory for leaders or for all, by title."""
    return list(session.scalars(select(Course).where(Course.active.is_(True),
                                                     Course.mandatory_for.is_not(None))
                                .order_by(Course.mandatory_for, Course.title, Course.id)))


def required_of(official, courses):
    """The mandatory courses that apply to an official."""
    return [c for c in courses
            if c.mandatory_for == "all" or (c.mandatory_for == "leaders" and official.leader)]


def _hours(session, first, last):
    """{official_id: (hours, sessions attended)} in the period."""
    rows = session.execute(
        select(Attendance.official_id, func.sum(Course.hours), func.count())
        .join(Course, Course.id == Attendance.course_id)
        .where(Attendance.held_on.between(first, last))
        .group_by(Attendance.official_id))
    return {r[0]: (Decimal(r[1] or 0), r[2]) for r in rows}


def _passed(session, first, last, course_ids):
    """{(official_id, course_id)} passed in the period among ``course_ids``."""
    if not course_ids:
        return set()
    rows = session.execute(
        select(Attendance.official_id, Attendance.course_id).distinct()
        .where(Attendance.held_on.between(first, last), Attendance.passed.is_(True),
               Attendance.course_id.in_(course_ids)))
    return {(r[0], r[1]) for r in rows}


def _course_ref(course):
    """A course as named in a compliance row."""
    return {"id": course.id, "title": course.title, "mandatory_for": course.mandatory_for,
            "hours": float(course.hours)}


def compliance(session, year, department=None, area_code=None, leader=None, q=None,
               missing_only=False):
    """Compliance of the active officials matching the filters in ``year``:
    {year, mandatory, items, total, departments, summary}."""
    first, last = _year_span(year)
    officials = session.scalars(
        select(Official).where(*official_filters(department=department, area_code=area_code,
                                                 leader=leader, active=True, q=q))
        .order_by(Official.department, Official.leader.desc(), Official.name, Official.id)
    ).all()
    courses = mandatory_courses(session)
    hours = _hours(session, first, last)
    passed = _passed(session, first, last, [c.id for c in courses])
    names = area_names(session, [o.area_code for o in officials])
    items = []
    for official in officials:
        required = required_of(official, courses)
        missing = [c for c in required if (official.id, c.id) not in passed]
        spent, sessions = hours.get(official.id, (Decimal(0), 0))
        items.append({
            "official_id": official.id, "name": official.name,
            "department": official.department, "position": official.position,
            "area_code": official.area_code, "area_name": names.get(official.area_code),
            "leader": official.leader, "hours": float(spent), "sessions": sessions,
            "required": [_course_ref(c) for c in required],
            "missing": [_course_ref(c) for c in missing], "compliant": not missing})
    departments = _departments(items)
    summary = _sum_rows("", items)
    if missing_only:
        items = [i for i in items if not i["compliant"]]
    return {"year": year, "mandatory": [_course_ref(c) for c in courses], "items": items,
            "total": len(items), "departments": departments, "summary": summary}


def _sum_rows(name, rows):
    """The summary of some compliance rows (a department's, or all)."""
    leaders = [r for r in rows if r["leader"]]
    hours = sum((Decimal(str(r["hours"])) for r in rows), Decimal(0))
    compliant = sum(1 for r in rows if r["compliant"])
    return {"department": name, "officials": len(rows), "compliant": compliant,
            "non_compliant": len(rows) - compliant, "leaders": len(leaders),
            "leaders_missing": sum(1 for r in leaders
                                   if any(c["mandatory_for"] == "leaders" for c in r["missing"])),
            "hours": float(hours),
            "average_hours": float(round(hours / len(rows), 1)) if rows else 0.0,
            "rate": round(compliant / len(rows), 3) if rows else None}


def _departments(items):
    """Per-department summaries, the least compliant first."""
    grouped = defaultdict(list)
    for item in items:
        grouped[item["department"]].append(item)
    rows = [_sum_rows(name, members) for name, members in grouped.items()]
    return sorted(rows, key=lambda r: (r["rate"] if r["rate"] is not None else 1,
                                       r["department"]))


def workbook(result, names):
    """.xlsx bytes of a compliance result: officials, then departments; every text cell
    formula-safe. ``names``: {official_headers, department_headers, sheets, yes, no}."""
    from openpyxl import Workbook  # loaded by the spreadsheet exports only

    book = Workbook(write_only=True)
    sheet = book.create_sheet(names["sheets"][0])
    append_row(sheet, names["official_headers"])
    for r in result["items"]:
        append_row(sheet, [r["name"], r["department"], r["position"],
                           names["yes"] if r["leader"] else names["no"],
                           Decimal(str(r["hours"])), r["sessions"],
                           "、".join(c["title"] for c in r["missing"]),
                           names["yes"] if r["compliant"] else names["no"]])
    sheet = book.create_sheet(names["sheets"][1])
    append_row(sheet, names["department_headers"])
    for d in [*result["departments"], {**result["summary"], "department": names["total"]}]:
        append_row(sheet, [d["department"], d["officials"], d["compliant"], d["non_compliant"],
                           d["leaders"], d["leaders_missing"], Decimal(str(d["hours"])),
                           Decimal(str(d["average_hours"]))])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(session, year, filters, names):
    """The compliance workbook of ``filters`` as a file object (the export is audited)."""
    result = compliance(session, year, **filters)
    audit.record(session, "training.export", "official", None,
                 {"year": year, **{k: str(v) for k, v in filters.items() if v}})
    return io.BytesIO(workbook(result, names))
