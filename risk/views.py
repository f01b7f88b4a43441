"""Risk pages: assessments and layers, the forms to add them, and the four-colour map."""

import os
import tempfile

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from shapely.geometry import mapping

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, EVERYONE, PLANNER
from emergency.db import get_session
from emergency.errors import DomainError, describe_error
from emergency.vocabulary import RISK_COLOURS, RISK_LEVEL_LABELS
from maps.pages import page_parts
from maps.risk import risk_map as build_risk_map
from risk import filejobs, jobs, layers, service

bp = Blueprint("risk_pages", __name__, template_folder="templates")

NAV = [("risk_pages.index", _l("Risk assessment"), None)]
WRITERS = {ADMIN, PLANNER}


def _level_names():
    """The four risk levels' names in the page's language (重大风险 ... / Major risk ...)."""
    return {lv: str(RISK_LEVEL_LABELS[lv]) for lv in RISK_LEVEL_LABELS}


def _map_labels():
    """Labels of the map page (translated)."""
    return {"cells": _("Risk cells"), "legend": _("Risk level"), "gap": _("No team reaches"),
            "risk": pgettext("risk score", "Risk"), "hazard": _("Hazard"),
            "exposure": _("Exposure"),
            "vulnerability": _("Vulnerability"), "capacity": _("Capacity"),
            "teams": _("Teams reaching"), "likelihood": _("Likelihood"),
            "consequence": _("Consequence"), "area": _("Area"), "grid": _("Grid"),
            "value": _("Value"), "boundary": _("Boundary"), "teams_layer": _("Rescue teams"),
            "category": _("Category"), "radius": _("Service radius (km)"),
            "grade": _("Grade"), "status": _("Status"),
            "binned": _("%(total)s cells in %(bins)s squares; zoom in for cells",
                        total="%(total)s", bins="%(bins)s"),
            "bins_note": _("Zoomed out, squares of cells: filled in the most severe level "
                           "of a tenth of their cells, outlined in that of their worst cell."),
            "count": _("%(total)s cells", total="%(total)s")}


@bp.route("/risk")
@allow(EVERYONE)
def index():
    """Assessments (newest first) and layers, with forms for planners."""
    session = get_session()
    runs, total = service.list_assessments(session, area_code=request.args.get("area_code")
                                           or None, limit=100)
    layer_items, _total = service.list_layers(session, limit=500)
    return render_template("risk/index.html", runs=runs, total=total, layers=layer_items,
                           can_write=actor().role in WRITERS, colours=RISK_COLOURS,
                           job_mb=current_app.config["IMPORT_JOB_MIN_BYTES"] // 1048576,
                           level_names=_level_names())


def _fail(exc):
    """Flash a domain error with its details, by field label, in the user's language."""
    flash(describe_error(exc), "danger")


@bp.route("/risk/layers", methods=["POST"])
@allow(ADMIN, PLANNER)
def upload_layer():
    """Import a layer from the page's form (same rules as POST /api/v1/layers)."""
    session = get_session()
    upload = request.files.get("file")
    form = request.form
    name = os.path.basename((upload.filename if upload else "") or "")
    suffix = os.path.splitext(name)[1].lower()
    try:
        if not upload or suffix not in layers.SUPPORTED:
            raise DomainError(_("Choose a GeoJSON, GeoPackage or zipped Shapefile."))
        if form.get("background") == "1" or (
                request.content_length or 0) > current_app.config["IMPORT_JOB_MIN_BYTES"]:
            fields = {**form, "repair": form.get("repair") == "1"}
            record = filejobs.queue_import(session, upload.stream, name, fields,
                                           actor().username)
            flash(_("Import of %(name)s queued as job %(id)s: follow it on this page.",
                    name=name, id=record.id), "success")
            return redirect(url_for("jobs_pages.index"))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "upload" + suffix)
            upload.save(path)
            record, _repaired = layers.import_layer(
                session, path, form.get("name", ""), form.get("role", ""),
                form.get("value_field") or None, crs=form.get("crs") or None,
                encoding=form.get("encoding") or None,
                likelihood_field=form.get("likelihood_field") or None,
                consequence_field=form.get("consequence_field") or None,
                repair=form.get("repair") == "1", actor=actor().username, source_name=name)
        flash(_("Layer %(name)s imported: %(n)s features.", name=record.name,
                n=record.feature_count), "success")
    except DomainError as exc:
        # The import ran in a savepoint that is already rolled back: nothing to undo.
        _fail(exc)
    return redirect(url_for("risk_pages.index"))


@bp.route("/risk/assessments", methods=["POST"])
@allow(ADMIN, PLANNER)
def start_assessment():
    """Start an assessment from the page's form."""
    session = get_session()
    chosen = [{"layer_id": int(v), "weight": float(request.form.get(f"weight_{v}") or 1)}
              for v in request.form.getlist("layer_id") if v.isdigit()]
    try:
        params = {"method": request.form.get("method") or "composite"}
        size = request.form.get("cell_size_m", "")
        run = service.create_assessment(session, request.form.get("area_code", "").strip(),
                                        int(size) if size.isdigit() else 0, chosen, params,
                                        actor=actor().username,
                                        max_active=current_app.config["RISK_MAX_ACTIVE_RUNS"],
                                        stale_after=current_app.config["RISK_RUN_MAX_SECONDS"])
        jobs.start(current_app._get_current_object(), session, run.id, actor().username)
        flash(_("Assessment %(id)s queued: the jobs page follows its progress.", id=run.id),
              "success")
    except (DomainError, ValueError) as exc:
        # Validation fails before anything is added; the redirect commits nothing new.
        if isinstance(exc, DomainError):
            _fail(exc)
        else:
            flash(str(exc), "danger")
    return redirect(url_for("risk_pages.index"))


def _queued_export(assessment_id, queue):
    """Queue an export job of a run (``queue(session, actor)``) and send the user to the jobs
    page, or back to the risk page with the reason."""
    try:
        record = queue(get_session(), actor().username)
    except DomainError as exc:
        _fail(exc)
        return redirect(url_for("risk_pages.index"))
    flash(_("Export of assessment %(aid)s queued as job %(id)s: follow it on this page.",
            aid=assessment_id, id=record.id), "success")
    return redirect(url_for("jobs_pages.index"))


@bp.route("/risk/assessments/<int:assessment_id>/export", methods=["POST"])
@allow(EVERYONE)
def export_cells(assessment_id):
    """Queue an export of a run's cells from the page; the jobs page offers the file."""
    fmt = request.form.get("format") if request.form.get("format") in (
        filejobs.EXPORT_TYPES) else "gpkg"
    return _queued_export(assessment_id, lambda session, who: filejobs.queue_export(
        session, assessment_id, fmt, who))


@bp.route("/risk/assessments/<int:assessment_id>/summary", methods=["POST"])
@allow(EVERYONE)
def export_summary(assessment_id):
    """Queue the summary workbook (.xlsx) of a run from the page; the jobs page offers it."""
    return _queued_export(assessment_id, lambda session, who: filejobs.queue_summary_export(
        session, assessment_id, who))


@bp.route("/maps/risk/<int:assessment_id>")
@allow(EVERYONE)
def risk_map(assessment_id):
    """The four-colour risk map of a run: cells by viewport, gaps, hazard layers, teams."""
    session = get_session()
    run = service.get_assessment(session, assessment_id)
    area = service.area_geometry(session, run.area_code)
    hazard = [{"label": service.get_layer(session, c["layer_id"]).name,
               "url": url_for("risk.layer_features", layer_id=c["layer_id"])}
              for c in run.layers]
    teams_url = "/api/v1/teams" if "registry.list_teams" in current_app.view_functions else None
    fmap = build_risk_map({"id": run.id, "status": run.status, "area_code": run.area_code},
                 url_for("maplayers.layer", name="risk"), _map_labels(),
                 bounds=area.bounds if area is not None else None,
                 area_geojson=mapping(area.simplify(0.0005)) if area is not None else None,
                 hazard_layers=hazard, teams_url=teams_url,
                 tile_url=current_app.config["BASEMAP_TILE_URL"],
                 attribution=current_app.config["BASEMAP_ATTRIBUTION"],
                 level_names=_level_names())
    title = _("Risk map: assessment %(id)s (%(status)s)", id=run.id, status=run.status)
    return render_template("maps/map.html", title=title, **page_parts(fmap))
