"""HTML pages of officials' training: compliance (per official and department, with its
export), officials, courses, recording attendance and importing a sign-in sheet."""

from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, AUDITOR, PLANNER
from emergency.db import get_session
from emergency.errors import DomainError, Invalid, describe_error
from emergency.listing import PAGE_SIZES, int_arg, page_links, page_size
from plans import service as plan_service
from plans.training import compliance, service, sheets
from plans.training.api import export_names
from plans.training.models import MANDATORY_FOR, TOPICS

bp = Blueprint("training_pages", __name__, url_prefix="/training",
               template_folder="templates", static_folder="static",
               static_url_path="/static")

READERS = frozenset({ADMIN, PLANNER, AUDITOR})
WRITERS = frozenset({ADMIN, PLANNER})
NAV = [("training_pages.compliance_page", lazy_pgettext("nav", "Officials' training"),
        READERS)]
TOPIC_NAMES = {"law": _l("Law"), "skills": _l("Skills"), "command": _l("Command"),
               "other": lazy_pgettext("course topic", "Other")}
MANDATORY_NAMES = {"leaders": _l("Mandatory for leaders"), "all": _l("Mandatory for all"),
                   None: _l("Optional")}


def _labels():
    """Label tables of the templates."""
    return {"topic_names": {k: str(v) for k, v in TOPIC_NAMES.items()},
            "mandatory_names": {k: str(v) for k, v in MANDATORY_NAMES.items()},
            "can_write": actor().role in WRITERS}


def _bool_arg(text):
    """'1'/'true' → True, '0'/'false' → False, else None."""
    return {"1": True, "true": True, "0": False, "false": False}.get((text or "").lower())


def _day(text):
    """A YYYY-MM-DD form value as a date, or None."""
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _refused(exc):
    """Flash a refusal; {field: message} for the form."""
    flash(describe_error(exc), "danger")
    return {key: describe_error(Invalid("", {key: value}))
            for key, value in (exc.details or {}).items() if key not in ("rows", "bad_rows")}


# ---------------------------------------------------------------- compliance

def _compliance_filters(args):
    """The compliance page's filters; unknown values dropped."""
    this_year = plan_service.today().year
    return {"year": int_arg(args.get("year"), this_year, 2000, this_year + 1),
            "department": (args.get("department") or "").strip()[:200] or None,
            "leader": _bool_arg(args.get("leader")),
            "q": (args.get("q") or "").strip()[:100] or None,
            "missing_only": args.get("missing_only") == "1"}


@bp.route("/")
@allow(READERS)
def compliance_page():
    """Compliance in a year: per department, then per official with the mandatory courses
    they still miss named; filters and an .xlsx export."""
    session = get_session()
    filters = _compliance_filters(request.args)
    result = compliance.compliance(session, **filters)
    limit = page_size(request.args.get("limit"))
    offset = int_arg(request.args.get("offset"), 0, 0, 10_000_000)
    args = {k: v for k, v in request.args.items() if k != "offset" and v}
    this_year = plan_service.today().year
    return render_template(
        "training/compliance.html", result=result, rows=result["items"][offset:offset + limit],
        filters=filters, departments=service.departments(session),
        years=list(range(this_year, this_year - 6, -1)), page_sizes=PAGE_SIZES, limit=limit,
        page_links=page_links(result["total"], limit, offset),
        page_url=lambda o: url_for("training_pages.compliance_page", **args, offset=o),
        export_url=url_for("training_pages.export", **args), **_labels())


@bp.route("/export.xlsx")
@allow(READERS)
def export():
    """The compliance of the page's filters as an .xlsx workbook (audited)."""
    filters = _compliance_filters(request.args)
    year = filters.pop("year")
    data = compliance.export(get_session(), year, filters, export_names())
    return send_file(data, mimetype=compliance.XLSX, as_attachment=True,
                     download_name=f"training-compliance-{year}.xlsx")


# ---------------------------------------------------------------- officials

def _official_form(form):
    """Official fields from a form."""
    return {"name": form.get("name", ""), "department": form.get("department", ""),
            "position": form.get("position", ""),
            "area_code": (form.get("area_code") or "").strip() or None,
            "leader": form.get("leader") == "1"}


def _officials_page(form=None, errors=None, status=200):
    """The officials list with the add form."""
    session = get_session()
    args = request.args
    filters = {"department": (args.get("department") or "").strip()[:200] or None,
               "q": (args.get("q") or "").strip()[:100] or None,
               "active": args.get("active") != "0"}
    limit = page_size(args.get("limit"))
    offset = int_arg(args.get("offset"), 0, 0, 10_000_000)
    rows, total = service.list_officials(session, limit=limit, offset=offset, **filters)
    names = service.area_names(session, [o.area_code for o in rows])
    query = {k: v for k, v in args.items() if k != "offset" and v}
    return render_template(
        "training/officials.html", officials=[service.official_dict(o, names) for o in rows],
        total=total, filters=filters, departments=service.departments(session),
        form=form or {}, errors=errors or {}, page_sizes=PAGE_SIZES, limit=limit,
        page_links=page_links(total, limit, offset),
        page_url=lambda o: url_for("training_pages.officials_page", **query, offset=o),
        picker_texts={"data-text-none": _("No matches"), "data-text-count": _("{n} results"),
                      "data-text-remove": _("Remove")}, **_labels()), status


@bp.route("/officials")
@allow(READERS)
def officials_page():
    """Officials by department (search, department, in post or left) and the add form."""
    return _officials_page()


@bp.route("/officials", methods=["POST"])
@allow(WRITERS)
def add_official():
    """Add an official from the form; a refusal keeps the input and names the fields."""
    try:
        official = service.create_official(get_session(), **_official_form(request.form))
    except DomainError as exc:
        return _officials_page(request.form, _refused(exc), exc.status)
    flash(_("Official added: %(name)s", name=official.name), "success")
    return redirect(url_for("training_pages.officials_page"))


@bp.route("/officials/<int:official_id>", methods=["GET", "POST"])
@allow(WRITERS)
def edit_official(official_id):
    """Change an official, or record that they left the post (or came back)."""
    session, errors, status = get_session(), {}, 200
    official = service.get_official(session, official_id)
    if request.method == "POST":
        changes = _official_form(request.form)
        if request.form.get("active") in ("0", "1"):
            changes = {"active": request.form["active"] == "1"}
        try:
            service.update_official(session, official_id, changes)
        except DomainError as exc:
            errors, status = _refused(exc), exc.status
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("training_pages.officials_page"))
    record = service.official_dict(official, service.area_names(session,
                                                                [official.area_code]))
    chosen = ([{"value": record["area_code"], "label": record["area_name"] or
                record["area_code"]}] if record["area_code"] else [])
    return render_template(
        "training/official_edit.html", official=record, form=request.form if errors else record,
        chosen=chosen, errors=errors, departments=service.departments(session),
        picker_texts={"data-text-none": _("No matches"), "data-text-count": _("{n} results"),
                      "data-text-remove": _("Remove")}, **_labels()), status


# ---------------------------------------------------------------- courses

def _course_form(form):
    """Course fields from a form (hours as a Decimal; a bad number is refused)."""
    try:
        hours = Decimal((form.get("hours") or "").strip())
    except InvalidOperation:
        raise Invalid("invalid course", {"hours": ["a number"]}) from None
    mandatory = form.get("mandatory_for") or None
    return {"title": form.get("title", ""), "topic": form.get("topic", ""), "hours": hours,
            "mandatory_for": mandatory, "description": form.get("description", "")}


def _courses_page(form=None, errors=None, status=200):
    """The courses list with the add form."""
    session = get_session()
    show_retired = request.args.get("active") == "0"
    rows, total = service.list_courses(session, active=not show_retired, limit=500)
    return render_template("training/courses.html", courses=[service.course_dict(c)
                                                             for c in rows],
                           total=total, show_retired=show_retired, topics=TOPICS,
                           mandatory=MANDATORY_FOR, form=form or {}, errors=errors or {},
                           **_labels()), status


@bp.route("/courses")
@allow(READERS)
def courses_page():
    """Courses (mandatory first) and the add form."""
    return _courses_page()


@bp.route("/courses", methods=["POST"])
@allow(WRITERS)
def add_course():
    """Add a course from the form."""
    try:
        course = service.create_course(get_session(), **_course_form(request.form))
    except DomainError as exc:
        return _courses_page(request.form, _refused(exc), exc.status)
    flash(_("Course added: %(title)s", title=course.title), "success")
    return redirect(url_for("training_pages.courses_page"))


@bp.route("/courses/<int:course_id>/active", methods=["POST"])
@allow(WRITERS)
def course_active(course_id):
    """Retire a course (no longer offered nor required) or bring it back."""
    active = request.form.get("active") == "1"
    service.update_course(get_session(), course_id, {"active": active})
    flash(_("Saved."), "success")
    return redirect(url_for("training_pages.courses_page"))


# ---------------------------------------------------------------- attendance

def _attendance_page(form, errors=None, status=200, result=None):
    """The attendance form: course, day, passed, and the officials to tick."""
    session = get_session()
    courses, _total = service.list_courses(session, limit=500)
    officials, _total = service.list_officials(session, limit=5000)
    chosen = {int(i) for i in form.getlist("official_ids") if str(i).isdigit()} \
        if hasattr(form, "getlist") else set()
    return render_template(
        "training/attendance.html", courses=[service.course_dict(c) for c in courses],
        officials=[service.official_dict(o) for o in officials], chosen=chosen,
        departments=service.departments(session), form=form, errors=errors or {},
        result=result, today=plan_service.today().isoformat(), **_labels()), status


@bp.route("/attendance")
@allow(WRITERS)
def attendance_page():
    """Record attendance: pick the course and day, tick the officials (search by name or
    department), say whether they passed."""
    return _attendance_page({"course_id": request.args.get("course_id", ""),
                             "held_on": plan_service.today().isoformat(), "passed": "1"})


@bp.route("/attendance", methods=["POST"])
@allow(WRITERS)
def record_attendance():
    """Record the ticked officials' attendance (a resubmission adds nothing)."""
    form = request.form
    course_id = int_arg(form.get("course_id"), 0, 0, 2**31 - 1)
    held_on = _day(form.get("held_on"))
    ids = [int(i) for i in form.getlist("official_ids") if i.isdigit()]
    try:
        problems = {}
        if not course_id:
            problems["course_id"] = ["required"]
        if held_on is None:
            problems["held_on"] = ["a date YYYY-MM-DD"]
        if not ids:
            problems["official_ids"] = ["required"]
        if problems:
            raise Invalid("invalid attendance", problems)
        result = service.record_attendance(
            get_session(), course_id, [(i, held_on, form.get("passed") == "1") for i in ids],
            plan_service.today(), actor=actor().username)
    except DomainError as exc:
        return _attendance_page(form, _refused(exc), exc.status)
    flash(_("Attendance recorded: %(created)s new, %(updated)s changed, %(unchanged)s "
            "already recorded.", created=result["created"], updated=result["updated"],
            unchanged=result["unchanged"]), "success")
    return redirect(url_for("training_pages.compliance_page", year=held_on.year))


@bp.route("/import")
@allow(WRITERS)
def import_page():
    """Upload a sign-in sheet for a course and day; refused rows are listed."""
    session = get_session()
    courses, _total = service.list_courses(session, limit=500)
    return render_template("training/import.html",
                           courses=[service.course_dict(c) for c in courses],
                           form={"course_id": request.args.get("course_id", ""),
                                 "held_on": plan_service.today().isoformat(), "passed": "1"},
                           errors={}, bad_rows=[], **_labels())


@bp.route("/import", methods=["POST"])
@allow(WRITERS)
def import_sheet():
    """Record every row of the uploaded sheet, or none (the bad rows are shown)."""
    session, form = get_session(), request.form
    course_id = int_arg(form.get("course_id"), 0, 0, 2**31 - 1)
    upload = request.files.get("file")
    stream = upload.stream if upload is not None and upload.filename else None
    try:
        if not course_id:
            raise Invalid("invalid attendance", {"course_id": ["required"]})
        result = sheets.import_sheet(session, course_id, stream, _day(form.get("held_on")),
                                     form.get("passed") == "1", plan_service.today(),
                                     actor=actor().username)
    except DomainError as exc:
        courses, _total = service.list_courses(session, limit=500)
        bad_rows = [{"row": b["row"],
                     "problems": describe_error(Invalid("", b["fields"])).lstrip(" —")}
                    for b in (exc.details or {}).get("rows", [])]
        return render_template("training/import.html",
                               courses=[service.course_dict(c) for c in courses], form=form,
                               errors=_refused(exc), bad_rows=bad_rows,
                               **_labels()), exc.status
    flash(_("Sheet imported: %(created)s new, %(updated)s changed, %(unchanged)s already "
            "recorded.", created=result["created"], updated=result["updated"],
            unchanged=result["unchanged"]), "success")
    return redirect(url_for("training_pages.compliance_page"))
