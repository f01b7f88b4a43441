"""HTML pages: the incident list and the dispatch console map."""

from flask import Blueprint, current_app, render_template, request
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER
from emergency.db import get_session
from emergency.vocabulary import CATEGORY_LABELS, local_minute
from incidents import dispatch as dispatches
from incidents import service as incidents
from maps import incidents as incident_maps
from maps import pages
from plans.incident_types import label as incident_type_label

bp = Blueprint("incident_pages", __name__, template_folder="templates")

NAV = [("incident_pages.list_page", _l("Incidents"), BUREAU)]

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


bp.add_app_template_filter(local_minute, "incident_time")


def _type_label(key):
    """The incident type's label in the page's language (plans' catalogue)."""
    return incident_type_label(key, "en" if str(get_locale()).startswith("en") else "zh")


def _labels():
    """Translated labels for templates and the console script."""
    return {"statuses": {k: str(v) for k, v in STATUS_NAMES.items()},
            "reasons": {k: str(v) for k, v in REASON_NAMES.items()},
            "categories": {k: str(v) for k, v in CATEGORY_LABELS.items()},
            "levels": {k: str(v) for k, v in LEVEL_NAMES.items()}}


@bp.route("/incidents")
@allow(BUREAU)
def list_page():
    """Incidents, newest first, each linking to its dispatch console."""
    status = request.args.get("status") or None
    if status not in (None, "open", "responding", "closed"):
        status = None
    records, total = incidents.list_incidents(get_session(), actor(), status=status,
                                              limit=200)
    return render_template("incidents/list.html", items=records, total=total, status=status,
                           type_label=_type_label, **_labels())


@bp.route("/maps/incidents/<int:incident_id>")
@allow(BUREAU)
def console_page(incident_id):
    """The dispatch console: incident, level, forces, recommended teams, dispatch buttons."""
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
    fmap = incident_maps.console_map(
        incident, recs["items"], recs["excluded"], sent,
        {"level": labels["levels"].get(level, _("no response level")),
         "recommended": _("Recommended teams"), "excluded": _("Teams left out"),
         "dispatched": _("Dispatched teams"), "reasons": labels["reasons"]},
        current_app.config["BASEMAP_TILE_URL"], current_app.config["BASEMAP_ATTRIBUTION"])
    return render_template("incidents/console.html", incident=incident, recs=recs,
                           dispatches=sent, category=category,
                           can_dispatch=user.role in (ADMIN, DISPATCHER),
                           type_label=_type_label(incident["incident_type"]),
                           **labels, **pages.page_parts(fmap))
