"""HTML pages of incident information reports: an incident's reports, the form that writes
the next one (prefilled with the incident's figures, input kept on refusal), the printable
report in the official layout, and the console's panel."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER
from emergency.db import get_session
from emergency.errors import Conflict, Invalid
from emergency.i18n import translate_message
from emergency.vocabulary import local_minute
from incidents import listing
from incidents import service as incidents
from incidents.reports import service as reports
from plans.incident_types import label as incident_type_label

bp = Blueprint("report_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/reports/static")

WRITERS = (ADMIN, DISPATCHER)
KIND_LABELS = {"initial": _l("Initial report"), "follow_up": _l("Follow-up report"),
               "final": _l("Final report")}
WRITE_LABELS = {"initial": _l("Write the initial report"),
                "follow_up": _l("Write a follow-up report"),
                "final": _l("Write the final report")}
COUNT_FIELDS = ("dead", "missing", "injured")
# Refusals of the series' rules, in the page's language (the service's text is English).
CONFLICT_TEXTS = {
    "reports_closed": _l("The final report has closed this incident's reports."),
    "initial_exists": _l("This incident already has its initial report: write a follow-up."),
    "initial_missing": _l("The initial report comes first."),
    "incident_not_closed": _l("The final report is written once the incident is closed: "
                              "close it first, or write a follow-up."),
}


def _minutes():
    """INCIDENT_REPORT_MINUTES of the app."""
    return current_app.config["INCIDENT_REPORT_MINUTES"]


def kind_name(report):
    """A report's kind as people say it: 首报, 第2次续报, 终报."""
    if report["kind"] == "follow_up":
        return _("Follow-up report %(n)s", n=report["follow_up_number"])
    return str(KIND_LABELS[report["kind"]])


def report_title(report, incident_title):
    """The official title: 关于……的首报/续报/终报."""
    if report["kind"] == "initial":
        return _("Initial report on %(title)s", title=incident_title)
    if report["kind"] == "final":
        return _("Final report on %(title)s", title=incident_title)
    return _("Follow-up report %(n)s on %(title)s", n=report["follow_up_number"],
             title=incident_title)


def _texts():
    """Texts of the panel's script, in the page's language."""
    return {"kinds": {k: str(v) for k, v in KIND_LABELS.items()},
            "follow_up_n": _("Follow-up report %(n)s"), "print": _("Print"),
            "overdue": _("Initial report overdue (due %(time)s)"),
            "pending": _("Initial report due by %(time)s"),
            "reported": _("Initial report made %(time)s"),
            "late": _("Initial report made late, %(time)s"),
            "closed": _("Final report made"), "none": _("No report yet.")}


def report_state(listed):
    """The initial report's state as a badge: (key, css class, text)."""
    texts = _texts()
    if "final" in {item["kind"] for item in listed["items"]}:
        return "closed", "text-bg-secondary", texts["closed"]
    if listed["report_overdue"]:
        return "overdue", "text-bg-danger", texts["overdue"] % {
            "time": local_minute(listed["report_due_at"])}
    if listed["initial_report_at"] is None:
        return "pending", "text-bg-warning", texts["pending"] % {
            "time": local_minute(listed["report_due_at"])}
    key = "late" if listed["initial_report_late"] else "reported"
    return key, ("text-bg-warning" if key == "late" else "text-bg-success"), texts[key] % {
        "time": local_minute(listed["initial_report_at"])}


def console_panel(session, user, incident_id):
    """What the console's information report panel shows (reports, state, links)."""
    listed = reports.list_reports(session, user, incident_id, _minutes())
    for item in listed["items"]:
        item["kind_name"] = kind_name(item)
        item["url"] = url_for("report_pages.report_page", incident_id=incident_id,
                              report_id=item["id"])
    return {**listed, "state": report_state(listed), "can_write": user.role in WRITERS,
            "texts": _texts(),
            "write_labels": {k: str(v) for k, v in WRITE_LABELS.items()},
            "write_urls": {k: url_for("report_pages.new_report", incident_id=incident_id,
                                      kind=k) for k in KIND_LABELS},
            "list_url": url_for("report_pages.list_page", incident_id=incident_id),
            "api_url": url_for("incidents.list_reports", incident_id=incident_id)}


@bp.route("/incidents/<int:incident_id>/reports")
@allow(BUREAU)
def list_page(incident_id):
    """An incident's information reports, its report state, and the next one to write."""
    session, user = get_session(), actor()
    incident = incidents.get_incident(session, user, incident_id)
    panel = console_panel(session, user, incident_id)
    return render_template("reports/list.html", incident=incident, panel=panel)


def _count(text, problems, field):
    """A whole number >= 0 from a form field, recording problems."""
    text = (text or "").strip()
    if not text:
        problems[field] = [_("Required.")]
    elif not text.isdigit() or len(text) > 9:
        problems[field] = [_("A whole number, 0 or more.")]
    else:
        return int(text)
    return None


def _form_values(form):
    """The form's values for the service, and the problems found in reading them."""
    problems = {}
    values = {"kind": form.get("kind") or "", "body": form.get("body") or "",
              "losses_yuan": form.get("losses_yuan") or None,
              "unit": form.get("unit") or "", "signer": form.get("signer") or ""}
    for field in COUNT_FIELDS:
        values[field] = _count(form.get(field), problems, field)
    return values, problems


def _form(incident, panel, form, kind, errors=None, status=200):
    """The report form, prefilled or as submitted."""
    return render_template("reports/form.html", incident=incident, panel=panel, form=form,
                           kind=kind, errors=errors or {}, kind_labels=KIND_LABELS), status


@bp.route("/incidents/<int:incident_id>/reports/new", methods=["GET", "POST"])
@allow(WRITERS)
def new_report(incident_id):
    """Write the incident's next report; then its printable page."""
    session, user = get_session(), actor()
    incident = incidents.get_incident(session, user, incident_id)
    panel = console_panel(session, user, incident_id)
    if request.method == "GET":
        if not panel["next_kinds"]:
            flash(str(CONFLICT_TEXTS["reports_closed"]), "info")
            return redirect(url_for("report_pages.list_page", incident_id=incident_id))
        kind = request.args.get("kind")
        kind = kind if kind in panel["next_kinds"] else panel["next_kinds"][0]
        form = {k: "" if v is None else str(v)
                for k, v in reports.prefill(session, user, incident_id, kind).items()}
        form["signer"] = user.display_name or user.username
        return _form(incident, panel, form, kind)
    values, problems = _form_values(request.form)
    kind = values["kind"] if values["kind"] in KIND_LABELS else None
    try:
        if problems:  # the service's own checks name the other fields' problems too
            try:
                reports.check_report(**{k: 0 if v is None and k in COUNT_FIELDS else v
                                        for k, v in values.items()})
            except Invalid as exc:
                problems = {**exc.details, **problems}
            raise Invalid("some fields of the report are not valid", problems)
        report = reports.create_report(session, user, incident_id, minutes=_minutes(),
                                       **values)
    except Invalid as exc:
        flash(_("Please correct the marked fields."), "danger")
        errors = {k: [translate_message(m) for m in v] for k, v in exc.details.items()}
        return _form(incident, panel, request.form, kind, errors, 422)
    except Conflict as exc:
        flash(str(CONFLICT_TEXTS.get(exc.code, translate_message(exc.message))), "danger")
        return _form(incident, panel, request.form, kind, {}, 409)
    kind_text = kind_name(reports.report_dict(report))
    flash(_("%(kind)s sent.", kind=kind_text), "success")
    return redirect(url_for("report_pages.report_page", incident_id=incident_id,
                            report_id=report.id))


@bp.route("/incidents/<int:incident_id>/reports/<int:report_id>")
@allow(BUREAU)
def report_page(incident_id, report_id):
    """The printable report: title 关于……的首报/续报/终报, reporting unit, signer, time,
    text, casualties and losses."""
    session, user = get_session(), actor()
    incident = incidents.get_incident(session, user, incident_id)
    report = reports.report_dict(reports.get_report(session, user, incident_id, report_id))
    place = listing.area_names(session, [incident["area_code"]]).get(incident["area_code"])
    lang = "en" if str(get_locale() or "zh").startswith("en") else "zh"
    return render_template("reports/report.html", incident=incident, report=report,
                           title=report_title(report, incident["title"]),
                           kind_text=kind_name(report), place=place,
                           type_label=incident_type_label(incident["incident_type"], lang),
                           local_minute=local_minute)
