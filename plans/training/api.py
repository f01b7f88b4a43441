"""JSON API for officials' training: officials, courses, attendance (and sign-in sheets) and
yearly compliance (and its .xlsx export)."""

from datetime import date

from flask import request, send_file
from flask_babel import gettext as _
from flask_babel import pgettext

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, AUDITOR, PLANNER
from emergency.db import get_session
from emergency.errors import Invalid
from emergency.jsonbody import Blueprint
from emergency.schemas import items_schema
from plans import service as plan_service
from plans.training import compliance, schemas, service, sheets

blp = Blueprint("training", __name__, url_prefix="/api/v1",
                description="Officials' legal training: officials, courses, attendance, "
                            "compliance")

READERS = (ADMIN, PLANNER, AUDITOR)
WRITERS = (ADMIN, PLANNER)


def _username():
    """The signed-in user's name, kept on attendance rows."""
    user = actor()
    return user.username if user else ""


def _official_out(session, official):
    """An official with its area's name."""
    return service.official_dict(official, service.area_names(session, [official.area_code]))


@blp.route("/officials", methods=["POST"])
@allow(*WRITERS)
@blp.arguments(schemas.OfficialIn)
@blp.response(201, schemas.OfficialOut)
def create_official(body):
    """Add an official (name, department, position, area, leader or not)."""
    session = get_session()
    return _official_out(session, service.create_official(session, **body))


@blp.route("/officials", methods=["GET"])
@allow(*READERS)
@blp.arguments(schemas.OfficialQuery, location="query")
@blp.response(200, items_schema(schemas.OfficialOut, "OfficialList"))
def list_officials(query):
    """Officials by department, leaders first (filters department, area_code, leader,
    active, q)."""
    session = get_session()
    rows, total = service.list_officials(session, **query)
    names = service.area_names(session, [o.area_code for o in rows])
    return {"items": [service.official_dict(o, names) for o in rows], "total": total}


@blp.route("/officials/<int:official_id>", methods=["GET"])
@allow(*READERS)
@blp.response(200, schemas.OfficialOut)
def get_official(official_id):
    """One official."""
    session = get_session()
    return _official_out(session, service.get_official(session, official_id))


@blp.route("/officials/<int:official_id>", methods=["PATCH"])
@allow(*WRITERS)
@blp.arguments(schemas.OfficialPatch)
@blp.response(200, schemas.OfficialOut)
def update_official(body, official_id):
    """Change an official; ``active: false`` when they leave the post (history is kept)."""
    session = get_session()
    return _official_out(session, service.update_official(session, official_id, body))


@blp.route("/courses", methods=["POST"])
@allow(*WRITERS)
@blp.arguments(schemas.CourseIn)
@blp.response(201, schemas.CourseOut)
def create_course(body):
    """Add a course (topic, hours, mandatory for leaders, all or none)."""
    return service.course_dict(service.create_course(get_session(), **body))


@blp.route("/courses", methods=["GET"])
@allow(*READERS)
@blp.arguments(schemas.CourseQuery, location="query")
@blp.response(200, items_schema(schemas.CourseOut, "CourseList"))
def list_courses(query):
    """Courses, mandatory ones first (filters topic, mandatory_for, active)."""
    rows, total = service.list_courses(get_session(), **query)
    return {"items": [service.course_dict(c) for c in rows], "total": total}


@blp.route("/courses/<int:course_id>", methods=["GET"])
@allow(*READERS)
@blp.response(200, schemas.CourseOut)
def get_course(course_id):
    """One course."""
    return service.course_dict(service.get_course(get_session(), course_id))


@blp.route("/courses/<int:course_id>", methods=["PATCH"])
@allow(*WRITERS)
@blp.arguments(schemas.CoursePatch)
@blp.response(200, schemas.CourseOut)
def update_course(body, course_id):
    """Change a course; ``active: false`` retires it."""
    return service.course_dict(service.update_course(get_session(), course_id, body))


@blp.route("/courses/<int:course_id>/attendance", methods=["POST"])
@allow(*WRITERS)
@blp.arguments(schemas.AttendanceIn)
@blp.response(201, schemas.AttendanceResult)
@blp.alt_response(200, schema=schemas.AttendanceResult,
                  description="nothing new: every official was already recorded that day")
def record_attendance(body, course_id):
    """Record who attended a session of the course and whether they passed; one record per
    official, course and day, so a retry adds nothing."""
    entries = [(oid, body["held_on"], body["passed"]) for oid in body["official_ids"]]
    result = service.record_attendance(get_session(), course_id, entries,
                                       plan_service.today(), actor=_username())
    return result, 201 if result["created"] else 200


@blp.route("/courses/<int:course_id>/attendance", methods=["GET"])
@allow(*READERS)
@blp.arguments(schemas.AttendanceQuery, location="query")
@blp.response(200, items_schema(schemas.AttendanceOut, "AttendanceList"))
def list_attendance(query, course_id):
    """Attendance of the course, latest day first (filters year, official_id)."""
    session = get_session()
    rows, total = service.list_attendance(session, course_id=course_id, **query)
    return {"items": service.attendance_dicts(session, rows), "total": total}


def _form_day(text):
    """The optional ``held_on`` form field as a date, or Invalid."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Invalid("invalid day", {"held_on": ["a date YYYY-MM-DD"]}) from None


@blp.route("/courses/<int:course_id>/attendance/import", methods=["POST"])
@allow(*WRITERS)
@blp.response(201, schemas.ImportResult)
def import_attendance(course_id):
    """Import a sign-in sheet (.xlsx, multipart field ``file``; optional fields ``held_on``
    and ``passed`` as defaults for the rows): every row or none (422 lists each bad row)."""
    upload = request.files.get("file")
    stream = upload.stream if upload is not None and upload.filename else None
    passed = (request.form.get("passed") or "true").strip().lower() not in ("false", "0", "no")
    result = sheets.import_sheet(get_session(), course_id, stream,
                                 _form_day(request.form.get("held_on")), passed,
                                 plan_service.today(), actor=_username())
    return result, 201 if result["created"] else 200


def export_names():
    """Sheet names and headers of the compliance workbook, in the user's language."""
    return {"sheets": (_("Officials"), _("Departments")), "yes": _("Yes"), "no": _("No"),
            "total": _("All departments"),
            "official_headers": [pgettext("official", "Name"), _("Department"), _("Position"),
                                 _("Leader"), _("Hours"), _("Sessions"),
                                 _("Missing mandatory courses"), _("Compliant")],
            "department_headers": [_("Department"), _("Officials"), _("Compliant"),
                                   _("Not compliant"), _("Leaders"),
                                   _("Leaders missing the leaders' course"), _("Hours"),
                                   _("Average hours")]}


@blp.route("/training/compliance", methods=["GET"])
@allow(*READERS)
@blp.arguments(schemas.ComplianceQuery, location="query")
@blp.response(200, schemas.ComplianceOut, description="with format=xlsx a workbook of the "
              "officials and departments (the export is audited)")
def get_compliance(query):
    """Per official: hours in the year and missing mandatory courses; per department: the
    summary (filters year, department, area_code, leader, q, missing_only)."""
    session = get_session()
    year = query.pop("year", None) or plan_service.today().year
    fmt, limit, offset = query.pop("format"), query.pop("limit"), query.pop("offset")
    if fmt == "xlsx":
        data = compliance.export(session, year, query, export_names())
        return send_file(data, mimetype=compliance.XLSX, as_attachment=True,
                         download_name=f"training-compliance-{year}.xlsx")
    result = compliance.compliance(session, year, **query)
    result["items"] = result["items"][offset:offset + limit]
    return result
