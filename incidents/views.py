"""HTML pages: the incident list (filters, paging, xlsx), opening an incident on a map, and
the dispatch console (forces, recommended teams, dispatch, metrics, timeline, closing)."""

import io
from datetime import datetime

from flask import Blueprint, current_app, render_template, request, send_file, url_for
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from emergency.audit import service as audit
from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER
from emergency.db import get_session, replica_session
from emergency.geo import service as geo
from emergency.vocabulary import CATEGORY_LABELS, LOCAL_ZONE, local_minute
from incidents import dispatch as dispatches
from incidents import listing
from incidents import service as incidents
from incidents.measures import views as measure_pages
from incidents.reports import views as report_pages
from maps import incidents as incident_maps
from maps import pages
from plans.content import COMMON_METRICS
from plans.incident_types import CATEGORIES, SUBTYPES
from plans.incident_types import label as incident_type_label

bp = Blueprint("incident_pages", __name__, template_folder="templates")

NAV = [("incident_pages.list_page", _l("Incidents"), BUREAU)]
WRITERS = (ADMIN, DISPATCHER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

STATUS_NAMES = {
    "open": lazy_pgettext("incident status", "Open"), "responding": _l("Responding"),
    "closed": lazy_pgettext("incident status", "Closed"),
    "requested": _l("Requested"), "accepted": _l("Accepted"), "declined": _l("Declined"),
    "en_route": _l("En route"), "on_scene": _l("On scene"), "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
}
REASON_NAMES = {
    "busy": _l("busy on another dispatch"), "not_approved": _l("organisation not approved"),
    "uninsured": _l("members uninsured"), "out_of_radius": _l("beyond its service radius"),
    "unavailable": _l("unavailable"),
}
LEVEL_NAMES = {1: _l("Level I"), 2: _l("Level II"), 3: _l("Level III"), 4: _l("Level IV")}
# Sentences of the console: the script fills the %(name)s holes with text (textContent).
SENTENCES = {
    "why_distance": _l("%(km)s km, within its service radius of %(radius)s km"),
    "why_insured": _l("%(insured)s of %(members)s members insured"),
    "why_grade": _l("official grade %(grade)s"),
    "uninsured": _l("%(n)s members uninsured"),
    "fills_gap": _l("Fills a gap"),
    "fills_gap_title": _l("Its category is still missing at this response level"),
    "km": _l("km"),
    "no_teams": _l("No qualifying team nearby."),
    "no_forces": _l("The plan names no forces for this level."),
    "no_level": _l("no response level"),
    "no_plan": _l("No published plan applies here."),
    "dispatch": _l("Dispatch"),
    "confirm_title": _l("Dispatch %(team)s?"),
    "saved": _l("Saved."),
    "network": _l("Network error: nothing was saved. Try again."),
    "active_refusal": _l("The incident cannot be closed while a dispatch is active: %(message)s"),
    "members_named": _l("%(n)s named"),
    "t_opened": _l("%(actor)s opened the incident (%(level)s)"),
    "t_metrics": _l("%(actor)s updated the metrics: %(metrics)s"),
    "t_level": _l("Response level changed from %(before)s to %(after)s"),
    "t_status": _l("Incident status changed from %(before)s to %(after)s"),
    "t_dispatch_new": _l("%(actor)s dispatched %(team)s"),
    "t_dispatch": _l("%(team)s: %(before)s → %(after)s"),
    "t_members": _l("%(team)s named %(n)s members to go"),
    "t_checkin": _l("%(member)s checked in at the scene"),
    "t_checkout": _l("%(member)s checked out of the scene"),
    "t_requisition": _l("Requisition %(order)s: %(property)s"),
    "t_requisition_return": _l("Requisitioned property returned (%(condition)s)"),
    "t_compensation": _l("Compensation claim #%(id)s: %(status)s"),
    "t_closed": _l("%(actor)s closed the incident"),
    "t_title": _l("%(actor)s renamed the incident: %(title)s"),
    "t_checkout_auto": _l("%(n)s members still on scene were checked out"),
    "t_report": _l("%(actor)s sent the %(kind)s"),
    "t_other": _l("%(actor)s: %(kind)s"),
    "t_measure": _l("%(actor)s issued measure %(order)s (%(kind)s)"),
    "t_measure_lifted": _l("%(actor)s lifted measure %(order)s"),
    "reason": _l("Reason: %(note)s"),
    "warnings": _l("Warnings: %(text)s"),
}
CLAIM_STATUSES = {"submitted": lazy_pgettext("timeline", "submitted"),
                  "approved": lazy_pgettext("timeline", "approved"),
                  "rejected": lazy_pgettext("timeline", "rejected"),
                  "appealed": lazy_pgettext("timeline", "appealed"),
                  "paid": lazy_pgettext("timeline", "paid")}
RETURN_CONDITIONS = {"intact": lazy_pgettext("timeline", "intact"),
                     "damaged": lazy_pgettext("timeline", "damaged"),
                     "lost": lazy_pgettext("timeline", "lost")}


def _lang():
    """The page language, zh or en."""
    return "en" if str(get_locale() or "zh").startswith("en") else "zh"


def _type_label(key):
    """The incident type's label in the page's language (plans' catalogue)."""
    return incident_type_label(key, _lang())


def _metric_labels():
    """[key, label] of the metrics the plans use, Chinese labels in Chinese pages."""
    return [[key, zh if _lang() == "zh" else key] for key, zh in COMMON_METRICS.items()]


def _type_groups():
    """Incident types for a select: [(category label, [(key, label)])]; each category's own
    key first (an unclassified incident of that category)."""
    groups = []
    for category in CATEGORIES:
        keys = [category, *(k for k, v in SUBTYPES.items() if v[0] == category)]
        groups.append((_type_label(category), [(k, _type_label(k)) for k in keys]))
    return groups


def _labels():
    """Translated labels for templates and page scripts."""
    return {"statuses": {k: str(v) for k, v in STATUS_NAMES.items()},
            "reasons": {k: str(v) for k, v in REASON_NAMES.items()},
            "categories": {k: str(v) for k, v in CATEGORY_LABELS.items()},
            "levels": {k: str(v) for k, v in LEVEL_NAMES.items()}}


# ---------------------------------------------------------------- the list


@bp.route("/incidents")
@allow(BUREAU)
def list_page():
    """Incidents, newest first, filtered and paged, each linking to its dispatch console
    (read from the replica when there is one)."""
    session, user = replica_session(), actor()
    filters = listing.parse_filters(request.args)
    filters["report_minutes"] = current_app.config["INCIDENT_REPORT_MINUTES"]
    records, total = listing.list_page(session, user, filters)
    places = listing.area_names(session, [r["area_code"] for r in records])
    args = {k: v for k, v in request.args.items() if k != "offset" and v}
    return render_template(
        "incidents/list.html", items=records, total=total, filters=filters, places=places,
        districts=listing.districts(session, user), type_groups=_type_groups(),
        type_label=_type_label, page_links=listing.page_links(total, filters["limit"],
                                                               filters["offset"]),
        page_url=lambda offset: url_for("incident_pages.list_page", **args, offset=offset),
        export_url=url_for("incident_pages.export_list", **args),
        page_sizes=listing.PAGE_SIZES, can_create=user.role in WRITERS, **_labels())


@bp.route("/incidents/export.xlsx")
@allow(BUREAU)
def export_list():
    """The filtered list as an .xlsx workbook (the export is audited)."""
    session, user = get_session(), actor()
    filters = listing.parse_filters(request.args)
    filters["report_minutes"] = current_app.config["INCIDENT_REPORT_MINUTES"]
    records = listing.export_records(session, user, filters)
    labels = _labels()
    places = listing.area_names(session, [r["area_code"] for r in records])
    headers = ["#", _("Title"), _("Type"), _("Status"), _("Response level"),
               _("Occurred at (Beijing time)"), _("Place"), _("Plan")]
    rows = ([r["id"], r["title"], _type_label(r["incident_type"]),
             labels["statuses"].get(r["status"], r["status"]),
             labels["levels"].get(r["response_level"], ""), local_minute(r["occurred_at"]),
             places.get(r["area_code"], r["area_code"] or ""), r["plan_title"] or ""]
            for r in records)
    audit.record(session, "incident.export", "incident", None,
                 {k: str(v) for k, v in filters.items() if v is not None})
    return send_file(io.BytesIO(listing.xlsx_bytes(headers, rows)), mimetype=XLSX,
                     as_attachment=True, download_name="incidents.xlsx")


# ---------------------------------------------------------------- opening an incident


@bp.route("/incidents/new")
@allow(WRITERS)
def new_page():
    """Open an incident: a point on the map, its type, time, title and metrics; the level
    and plan that will apply are shown before saving."""
    session = get_session()
    outlines = geo.district_outlines(session)
    fmap = incident_maps.picker_map(outlines, current_app.config["BASEMAP_TILE_URL"],
                                    current_app.config["BASEMAP_ATTRIBUTION"])
    now = datetime.now(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M")
    page_data = {"levels": _labels()["levels"], "categories": _labels()["categories"],
                 "console_url": url_for("incident_pages.console_page", incident_id=0),
                 "texts": {"no_level": _("no response level"),
                           "no_plan": _("No published plan applies here."),
                           "pick_point": _("Click the map to place the incident."),
                           "network": _("Network error: nothing was saved. Try again."),
                           "not_found": _("No place found."),
                           "metric_key": _("Metric name: lower-case letters, digits and _")}}
    return render_template("incidents/new.html", type_groups=_type_groups(), now=now,
                           metrics=_metric_labels(), page_data=page_data,
                           **pages.page_parts(fmap))


# ---------------------------------------------------------------- the console


def _claim_links(incident_id):
    """Links to the requisition and claim pages, when those pages exist."""
    links = {}
    if "claim_pages.new_requisition" in current_app.view_functions:
        links["requisition"] = url_for("claim_pages.new_requisition", incident_id=incident_id)
    if "claim_pages.list_page" in current_app.view_functions:
        links["claims"] = url_for("claim_pages.list_page", incident_id=incident_id)
    return links


def _console_texts():
    """The console script's texts in the page's language."""
    texts = {k: str(v) for k, v in SENTENCES.items()}
    texts["claim_statuses"] = {k: str(v) for k, v in CLAIM_STATUSES.items()}
    texts["conditions"] = {k: str(v) for k, v in RETURN_CONDITIONS.items()}
    texts["report_kinds"] = {k: str(v) for k, v in report_pages.KIND_LABELS.items()}
    texts["measure_kinds"] = {k: str(v) for k, v in measure_pages.KIND_LABELS.items()}
    texts["report_follow_up_n"] = _("Follow-up report %(n)s")
    texts["after_action"] = {"summary": _("Summary"), "dead": _("Dead"),
                             "missing": _("Missing persons"), "injured": _("Injured"),
                             "losses_yuan": _("Direct economic losses (yuan)"),
                             "lessons": _("Lessons learnt")}
    return texts


@bp.route("/maps/incidents/<int:incident_id>")
@allow(BUREAU)
def console_page(incident_id):
    """The dispatch console: incident, level, forces, recommended teams, dispatch buttons,
    metrics, timeline and closing; refreshed live from /api/v1/events."""
    session, user = get_session(), actor()
    incident = incidents.get_incident(session, user, incident_id)
    category = request.args.get("category") or None
    if category not in CATEGORY_LABELS:
        category = None
    recs = incidents.incident_recommendations(
        session, user, incident_id, category=category, limit=10,
        require_insured=current_app.config["REQUIRE_INSURED_DISPATCH"])
    sent, _total = dispatches.list_dispatches(session, user, incident_id=incident_id,
                                              limit=200)
    where = dispatches.team_locations(session, {d["team_id"] for d in sent})
    labels = _labels()
    for item in sent:
        item["location"] = where.get(item["team_id"])
        item["status_label"] = labels["statuses"].get(item["status"], item["status"])
    level = incident["response_level"]
    measure_panel = measure_pages.console_panel(session, user, incident_id)
    fmap = incident_maps.console_map(
        incident, recs["items"], recs["excluded"], sent,
        {"level": labels["levels"].get(level, _("no response level")),
         "recommended": _("Recommended teams"), "excluded": _("Teams left out"),
         "dispatched": _("Dispatched teams"), "reasons": labels["reasons"],
         "statuses": labels["statuses"], "legend": _("Legend"), "incident": _("Incident"),
         "measures": _("Emergency measures")},
        current_app.config["BASEMAP_TILE_URL"], current_app.config["BASEMAP_ATTRIBUTION"],
        measures=measure_panel["scopes"])
    can_write = user.role in WRITERS
    console = {"incident": incident, "recommendations": recs, "dispatches": sent,
               "timeline": incidents.timeline(session, user, incident_id),
               "category": category, "can_dispatch": can_write, "texts": _console_texts(),
               "metric_labels": dict(_metric_labels()), **labels}
    return render_template("incidents/console.html", incident=incident, category=category,
                           can_write=can_write, console=console,
                           links=_claim_links(incident_id),
                           report_panel=report_pages.console_panel(session, user, incident_id),
                           measure_panel=measure_panel,
                           type_label=_type_label(incident["incident_type"]),
                           metrics=_metric_labels(), **labels, **pages.page_parts(fmap))
