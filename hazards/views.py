"""HTML pages for hazard reports: the phone reporting page, tasks, detail, bulletins, map."""


from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from emergency.auth.permissions import actor, allow, public
from emergency.auth.roles import ADMIN, BUREAU, GRID_STAFF, PLANNER
from emergency.db import get_session
from emergency.errors import Invalid
from emergency.geo import service as geo
from emergency.vocabulary import local_minute
from hazards import bulletins, service
from hazards.models import CATEGORIES, SEVERITIES, STATUSES
from hazards.schemas import HazardQuery
from hazards.workflow import TRANSITIONS, may_step
from maps import hazards as hazard_maps
from maps import pages

bp = Blueprint("hazards", __name__, template_folder="templates", static_folder="static",
               static_url_path="/hazards/static")
READERS = BUREAU | {GRID_STAFF}
NAV = [
    ("hazards.report_page", _l("Report a hazard"), {GRID_STAFF, ADMIN}),
    ("hazards.tasks_page", _l("My hazard tasks"), {GRID_STAFF, ADMIN, PLANNER}),
    ("hazards.map_page", _l("Hazards map"), READERS),
]
MAP_LIMIT = 10_000


bp.add_app_template_filter(local_minute, "hazard_time")


CATEGORY_NAMES = {
    "geological": _l("Geological"), "flood": _l("Flood"), "fire": _l("Fire"), "gas": _l("Gas"),
    "hazardous_chemicals": _l("Hazardous chemicals"), "building": _l("Building"),
    "traffic": _l("Traffic"), "other": _l("Other"),
}
SEVERITY_NAMES = {"major": _l("Major hazard"), "general": _l("General hazard")}
STATUS_NAMES = {
    "reported": _l("Reported"), "verified": _l("Verified"), "rectifying": _l("Rectifying"),
    "rectified": _l("Rectified"), "closed": lazy_pgettext("hazard status", "Closed"),
    "rejected": _l("Rejected"),
}


def _labels():
    """Translated labels of categories, severities and statuses for templates."""
    return {
        "categories": {c: str(CATEGORY_NAMES[c]) for c in CATEGORIES},
        "severities": {s: str(SEVERITY_NAMES[s]) for s in SEVERITIES},
        "statuses": {s: str(STATUS_NAMES[s]) for s in STATUSES},
    }


@bp.route("/hazards/report")
@allow(GRID_STAFF, ADMIN)
def report_page():
    """Phone-first reporting: location, camera photos, and an offline queue."""
    return render_template("hazards/report.html", user=actor(), **_labels())


@bp.route("/hazards/sw.js")
@public
def service_worker():
    """The reporting page's service worker, allowed to control every page under /hazards/."""
    response = bp.send_static_file("hazards/sw.js")
    response.headers["Service-Worker-Allowed"] = "/hazards/"
    response.headers["Cache-Control"] = "no-cache"
    response.mimetype = "text/javascript"
    return response


def _task_rows(items):
    """The task list's rows as the page shows them; ``?format=json`` gives the same rows to
    hazards/static/hazards/tasks.js, which rebuilds the list on live events."""
    labels = _labels()
    return [{"id": r["id"], "url": url_for("hazards.detail_page", report_id=r["id"]),
             "heading": f"#{r['id']} {labels['categories'][r['category']]} · "
                        f"{labels['severities'][r['severity']]}",
             "status": r["status"], "status_label": labels["statuses"][r["status"]],
             "grid_code": r["grid_code"], "due": local_minute(r["due_at"]),
             "overdue": r["overdue"], "escalated": r["escalated"],
             "summary": _summary(r["description"] or "")} for r in items]


def _summary(text, length=120):
    """The start of a description, cut with an ellipsis."""
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


@bp.route("/hazards/tasks")
@allow(READERS)
def tasks_page():
    """What the signed-in user must act on next (``?format=json``: the rows and total)."""
    items, total = service.my_tasks(get_session(), actor())
    rows = _task_rows(items)
    if request.args.get("format") == "json":
        return jsonify({"items": rows, "total": total})
    return render_template("hazards/tasks.html", rows=rows, total=total)


@bp.route("/hazards/<int:report_id>")
@allow(READERS)
def detail_page(report_id):
    """One report: photos, recorded steps, and the steps the user may take."""
    user = actor()
    record = service.get_report(get_session(), user, report_id)
    steps = [s for s in TRANSITIONS[record["status"]] if may_step(user.role, s)]
    return render_template("hazards/detail.html", r=record, steps=steps, **_labels())


@bp.route("/hazards/bulletins/<int:bulletin_id>")
@public
def public_bulletin_page(bulletin_id):
    """A published bulletin, for anyone (it carries no personal data)."""
    published = bulletins.get_published(get_session(), bulletin_id)
    return render_template("hazards/bulletin.html", bulletin=published["content"],
                           title=published["title"], published=published)


@bp.route("/maps/hazards")
@allow(READERS)
def map_page():
    """Clustered hazard markers coloured by status, with filters and photo popups."""
    try:
        query = HazardQuery().load({k: v for k, v in request.args.items() if v})
    except Exception as exc:  # marshmallow.ValidationError: show the page with a message
        raise Invalid("invalid filter", getattr(exc, "messages", {})) from None
    query.pop("limit", None)
    query.pop("offset", None)
    records, total = service.list_reports(get_session(), actor(), limit=MAP_LIMIT, **query)
    fmap = hazard_maps.hazards_map(records, _labels()["statuses"], _("overdue"),
                                   current_app.config["BASEMAP_TILE_URL"],
                                   current_app.config["BASEMAP_ATTRIBUTION"],
                                   boundaries=geo.district_outlines(get_session()))
    return render_template("hazards/map.html", shown=len(records), total=total,
                           filters=request.args, **_labels(), **pages.page_parts(fmap))
