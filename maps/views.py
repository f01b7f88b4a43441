"""HTML map pages: each gets its data from services and its map from maps.pages; and the
operations map of the home page (emergency/web.py shows it)."""

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import BUREAU, EVERYONE, GRID_STAFF
from emergency.db import get_session
from emergency.geo import service as geo
from emergency.vocabulary import CATEGORY_LABELS, RISK_LEVEL_LABELS
from maps import pages
from maps.operations import operations_map
from risk import service as risk_service

# static/maps/*.js draw every map page's data (maps/data.py), at /maps/static/maps/.
bp = Blueprint("maps", __name__, url_prefix="/maps", template_folder="templates",
               static_folder="static")

NAV = [("maps.districts", _l("Districts map"), None)]


def render_map(fmap, title):
    """Render a folium map inside the shell."""
    return render_template("maps/map.html", title=title, **pages.page_parts(fmap))


@bp.route("/districts")
@allow(EVERYONE)
def districts():
    """The districts of the bureau's city on a map."""
    collection = geo.district_outlines(get_session())
    fmap = pages.districts_map(collection, current_app.config["BASEMAP_TILE_URL"],
                               current_app.config["BASEMAP_ATTRIBUTION"], _("Districts"))
    return render_map(fmap, _l("Districts map"))


def operations_labels():
    """Every text the operations map shows, translated."""
    return {
        "areas": _("Areas"), "grids": _("Management grids"), "risk": _("Risk"),
        "teams": _("Teams"), "hazards": _("Open hazards"), "incidents": _("Live incidents"),
        "code": _("Code"), "level": _("Level"), "cells": _("Cells"), "counts": _("Cells by level"),
        "grid": _("Grid"), "organisation": _("Organisation"), "status": _("Status"),
        "category": _("Category"), "severity": _("Severity"), "overdue": _("Overdue"),
        "type": _("Type"), "response_level": _("Response level"),
        "search": _("Place or lon,lat"), "not_found": _("Nothing found"),
        "in_view": _("In view"), "updated": _("Updated"), "legend": _("Legend"),
        "square": _("%(count)s teams here, %(available)s available"), "zoom_in": _("Zoom in"),
        "team_statuses": {"available": _("Available"), "dispatched": _("Dispatched"),
                          "unavailable": _("Unavailable")},
        "hazard_statuses": {"reported": _("Reported"), "verified": _("Verified"),
                            "rectifying": _("Rectifying"), "rectified": _("Rectified")},
        "risk_levels": {lv: str(label) for lv, label in RISK_LEVEL_LABELS.items()},
        "categories": {k: str(label) for k, label in CATEGORY_LABELS.items()},
        "disasters": _("Disaster reports (last 30 days)"),
        "disaster_casualties": _("Dead or missing"),
        "disaster_other": _("No one dead or missing"), "kind": _("Kind"), "dead": _("Dead"),
        "missing": pgettext("people", "Missing"), "injured": _("Injured"),
        "affected": _("Affected people"), "houses_collapsed": _("Houses collapsed"),
        "losses_yuan": _("Direct losses (yuan)"),
        "measures": _("Emergency measures"), "measure_number": _("Number"),
        "measure_authority": _("Issuing authority"),
        "measure_statuses": {"in_force": _("In force"), "expired": _("Expired, not lifted")},
    }


def latest_assessment_id(session):
    """The newest finished risk run, or None."""
    records, _total = risk_service.list_assessments(session, status="done", limit=1)
    return records[0]["id"] if records else None


def unreadable_layers(role):
    """Operations map layers a role may not read (CONTRACT.md §3; their layer requests would
    be refused with 403): incidents are the bureau's, hazard reports also grid staff's."""
    omit = set()
    if role not in BUREAU:
        omit.update(("incidents", "measures"))
    if role not in BUREAU | {GRID_STAFF}:
        omit.update(("hazards", "disasters"))
    return omit


def operations_parts(session):
    """Header, body and script of the operations map, for the home page template."""
    chosen = request.args.get("assessment", type=int)  # ?assessment=ID shows that run
    fmap = operations_map(operations_labels(), chosen or latest_assessment_id(session),
                          current_app.config["BASEMAP_TILE_URL"],
                          current_app.config["BASEMAP_ATTRIBUTION"],
                          omit=unreadable_layers(actor().role))
    return pages.page_parts(fmap)
