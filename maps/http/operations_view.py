"""The operations map on the home page: labels in the user's language, the latest risk run."""

import importlib

from flask import current_app, request
from flask_babel import gettext as _

from maps.operations import operations_map
from maps.pages import page_parts


def labels():
    """Every text the operations map shows, translated."""
    return {
        "areas": _("Areas"), "grids": _("Management grids"), "risk": _("Risk"),
        "teams": _("Teams"), "hazards": _("Open hazards"), "incidents": _("Live incidents"),
        "code": _("Code"), "level": _("Level"), "cells": _("Cells"), "counts": _("Cells by level"),
        "grid": _("Grid"), "organisation": _("Organisation"), "status": _("Status"),
        "category": _("Category"), "severity": _("Severity"), "overdue": _("Overdue"),
        "type": _("Type"), "response_level": _("Response level"),
        "search": _("Place or lon,lat"), "not_found": _("Nothing found"),
        "risk_levels": {1: _("Major risk"), 2: _("High risk"), 3: _("Moderate risk"),
                        4: _("Low risk")},
        "categories": {"building_collapse": _("Building collapse"), "mountain": _("Mountain"),
                       "water": _("Water"), "diving": _("Diving"), "medical": _("Medical"),
                       "other": _("Other")},
    }


def latest_assessment_id(session):
    """The newest finished risk run, or None (also when the risk package is absent)."""
    try:
        risk = importlib.import_module("risk.service")
    except ImportError:
        return None
    records, _total = risk.list_assessments(session, status="done", limit=1)
    return records[0]["id"] if records else None


def operations_parts(session):
    """Header, body and script of the operations map, for the home page template."""
    chosen = request.args.get("assessment", type=int)  # ?assessment=ID shows that run
    fmap = operations_map(labels(), chosen or latest_assessment_id(session),
                          current_app.config["BASEMAP_TILE_URL"],
                          current_app.config["BASEMAP_ATTRIBUTION"])
    return page_parts(fmap)
