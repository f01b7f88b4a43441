"""HTML pages for hazard reports: the phone reporting page, tasks, detail, bulletins, map."""


import io
import json

from flask import (
    Blueprint,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from emergency.audit import service as audit
from emergency.auth.permissions import actor, allow, public
from emergency.auth.roles import ADMIN, BUREAU, GRID_STAFF, PLANNER
from emergency.db import get_session, replica_session
from emergency.errors import Invalid
from emergency.geo import service as geo
from emergency.listing import PAGE_SIZES, page_links, xlsx_bytes
from emergency.vocabulary import local_minute
from hazards import bulletins, listing, service
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
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    """Phone-first reporting: a map pin in the user's grids (checked before sending), camera
    photos, and an offline queue."""
    user = actor()
    return render_template("hazards/report.html", user=user, outbox_texts=outbox_texts(),
                           grid_map=grid_map_data(get_session(), user), **_labels())


def outbox_texts():
    """The texts of the phone report pages' outbox and pin (hazards/static/hazards/outbox.js),
    which each page completes with its own."""
    return {
        "online": _("Online: reports are sent at once."),
        "offline": _("Offline: reports are kept on this phone and sent when the network "
                     "returns."),
        "waiting": _("waiting for the network"),
        "failed": _("not accepted"),
        "need_location": _("Set the location first: tap the map, use my location, or type "
                           "longitude and latitude."),
        "outside": _("The pin is not in any of your grids (%(grids)s). Move it into one of "
                     "them.", grids="{grids}"),
        "locating": _("Finding your location…"),
        "located": _("Location found (accuracy %(m)s m).", m="{m}"),
        "no_location": _("The phone could not give a location; tap the map or type it in."),
        "queued": _("Saved on this phone; it will be sent automatically."),
        "signin": _("Sign in again to send the waiting reports."),
        "refused": _("Not accepted; your input is kept, correct it and send again:"),
        "sent": _("Reported: number %(id)s.", id="{id}"),
        "edit": _("Correct and resend"),
        "in_grid": _("In grid %(grid)s.", grid="{grid}"),
        "pin": _("Report location"),
    }


def report_worker(scope):
    """The phone report pages' service worker (one script: its address says which page it
    keeps), allowed to control every page under ``scope``."""
    response = bp.send_static_file("hazards/sw.js")
    response.headers["Service-Worker-Allowed"] = scope
    response.headers["Cache-Control"] = "no-cache"
    response.mimetype = "text/javascript"
    return response


@bp.route("/hazards/sw.js")
@public
def service_worker():
    """The reporting page's service worker, allowed to control every page under /hazards/."""
    return report_worker("/hazards/")


def _task_rows(items, grid_names=None):
    """The task list's rows as the page shows them; ``?format=json`` gives the same rows to
    hazards/static/hazards/tasks.js, which rebuilds the list on live events."""
    labels = _labels()
    grid_names = grid_names or {}
    return [{"id": r["id"], "url": url_for("hazards.detail_page", report_id=r["id"]),
             "heading": f"#{r['id']} {labels['categories'][r['category']]} · "
                        f"{labels['severities'][r['severity']]}",
             "status": r["status"], "status_label": labels["statuses"][r["status"]],
             "grid_code": r["grid_code"],
             "grid": grid_names.get(r["grid_code"]) or r["grid_code"],
             "due": local_minute(r["due_at"]), "reported": local_minute(r["created_at"]),
             "overdue": r["overdue"], "escalated": r["escalated"],
             "summary": _summary(r["description"] or "")} for r in items]


def _summary(text, length=120):
    """The start of a description, cut with an ellipsis."""
    return text if len(text) <= length else text[:length - 1].rstrip() + "…"


@bp.route("/hazards/tasks")
@allow(READERS)
def tasks_page():
    """Reports to work through: the user's next steps (or every report they may see), with
    search, filters, paging and an xlsx export (``?format=json``: the rows and total).
    Read from the replica when there is one (emergency.db.replica_session)."""
    session, user = replica_session(), actor()
    filters = listing.parse_filters(request.args, user)
    items, total = listing.list_page(session, user, filters)
    grid_names, _areas = listing.names(session, [r["grid_code"] for r in items], [])
    rows = _task_rows(items, grid_names)
    if request.args.get("format") == "json":
        return jsonify({"items": rows, "total": total})
    args = {k: v for k, v in request.args.items() if k not in ("offset", "format") and v}
    return render_template(
        "hazards/tasks.html", rows=rows, total=total, filters=filters,
        can_wait=listing.default_view(user) == "waiting",
        grids=listing.grid_choices(session, user),
        districts=listing.district_choices(session, user),
        page_links=page_links(total, filters["limit"], filters["offset"]),
        page_url=lambda offset: url_for("hazards.tasks_page", **args, offset=offset),
        json_url=url_for("hazards.tasks_page", **args, offset=filters["offset"] or None,
                         format="json"),
        export_url=url_for("hazards.export_tasks", **args), page_sizes=PAGE_SIZES,
        **_labels())


@bp.route("/hazards/tasks/export.xlsx")
@allow(READERS)
def export_tasks():
    """The filtered list as an .xlsx workbook (the export is audited)."""
    session, user = get_session(), actor()
    filters = listing.parse_filters(request.args, user)
    records = listing.export_records(session, user, filters)
    grid_names, area_names = listing.names(session, [r["grid_code"] for r in records],
                                           [r["area_code"] for r in records])
    labels = _labels()
    headers = ["#", _("Category"), _("Severity"), _("Status"), _("Grid"), _("Area"),
               _("Reported by"), _("Reported at (Beijing time)"), _("Due (Beijing time)"),
               _("Overdue"), _("Description")]
    rows = ([r["id"], labels["categories"][r["category"]], labels["severities"][r["severity"]],
             labels["statuses"][r["status"]], grid_names.get(r["grid_code"], r["grid_code"]),
             area_names.get(r["area_code"], r["area_code"]), r["reporter"],
             local_minute(r["created_at"]), local_minute(r["due_at"]) if r["due_at"] else "",
             _("yes") if r["overdue"] else "", r["description"] or ""] for r in records)
    audit.record(session, "hazard.export", "hazard", None,
                 {k: str(v) for k, v in filters.items() if v is not None})
    return send_file(io.BytesIO(xlsx_bytes(headers, rows, "hazards")), mimetype=XLSX,
                     as_attachment=True, download_name="hazards.xlsx")


@bp.route("/hazards/mine")
@allow(GRID_STAFF, ADMIN)
def my_reports_page():
    """The reports the user made, newest first, as JSON rows for the grid staff's home
    (emergency/templates/home_staff.html), which refreshes them on live events."""
    return jsonify(my_reports_rows(get_session(), actor()))


def grid_map_data(session, user):
    """The JSON of hazards/static/hazards/gridmap.js: the user's own grids (code, name,
    outline) and the configured base map, if any."""
    records, _total = geo.list_grids(session, codes=user.grid_codes or [],
                                     limit=max(len(user.grid_codes or []), 1))
    tiles = current_app.config["BASEMAP_TILE_URL"]
    return {"grids": {"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": r["code"], "geometry": json.loads(r["geometry"]),
                 "properties": {"code": r["code"], "name": r["name"]}} for r in records]},
            "tiles": {"url": tiles, "attribution": current_app.config["BASEMAP_ATTRIBUTION"]}
            if tiles else None}


def staff_home(session, user):
    """What the grid staff's home page shows: their grids on a small map and their own
    reports (emergency/templates/home_staff.html)."""
    grid_map = grid_map_data(session, user)
    return {"grid_map": grid_map, "mine": my_reports_rows(session, user),
            "grid_names": [f["properties"]["name"] for f in grid_map["grids"]["features"]]}


def my_reports_rows(session, user, limit=20):
    """{items: [{id, url, heading, status, status_label, reported, grid}], total}: the
    user's own reports for their home page."""
    records, total = service.my_reports(session, user, limit)
    grid_names, _areas = listing.names(session, [r["grid_code"] for r in records], [])
    return {"items": _task_rows(records, grid_names), "total": total}


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
