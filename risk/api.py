"""JSON API for risk layers and assessments (contract §4 "Risk assessment")."""

import io
import os
import tempfile

from flask import current_app, request, send_file

from emergency.audit import service as audit
from emergency.auth.permissions import actor, allow, require_area_scope
from emergency.auth.roles import ADMIN, EVERYONE, PLANNER
from emergency.db import get_session
from emergency.errors import Invalid
from emergency.geojson import feature_collection, geojson_response
from emergency.jobs import api as jobs_api
from emergency.jsonbody import Blueprint
from emergency.schemas import FeatureCollectionSchema, FeatureSchema
from risk import filejobs, jobs, layers, reports, schemas, service

blp = Blueprint("risk", __name__, url_prefix="/api/v1",
                description="Risk layers, grid risk assessments, summaries and gaps")

WRITERS = (ADMIN, PLANNER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@blp.before_request
def _allow_large_layers():
    """Layer files may be larger than other request bodies (they stream to disk)."""
    if request.endpoint == "risk.upload_layer":
        request.max_content_length = current_app.config["RISK_LAYER_MAX_BYTES"]


@blp.route("/layers", methods=["POST"])
@allow(*WRITERS)
@blp.arguments(schemas.LayerForm, location="form")
@blp.arguments(schemas.LayerFile, location="files")
@blp.arguments(schemas.LayerJobQuery, location="query")
@blp.response(201, schemas.LayerOut)
@blp.alt_response(202, description="with async=1: the queued import job (see GET /jobs/{id})")
def upload_layer(form, files, query):
    """Import a hazard, exposure or vulnerability layer; all features or none (422).
    With ``async=1`` a background job imports it (202 with the job)."""
    upload = files["file"]
    name = os.path.basename(upload.filename or "")
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in layers.SUPPORTED:
        raise Invalid("unsupported file type", {"file": [
            "expected .geojson, .json, .gpkg or .zip (zipped Shapefile)"]})
    if query["run_async"]:
        record = filejobs.queue_import(get_session(), upload.stream, name, form,
                                       actor().username)
        return jobs_api.accepted(record)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "upload" + suffix)
        upload.save(path)
        record, repaired = layers.import_layer(get_session(), path, actor=actor().username,
                                               source_name=name, **form)
        return {**service.layer_dict(record), "repaired": repaired}


@blp.route("/layers", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.LayerQuery, location="query")
@blp.response(200, schemas.LayerList)
def list_layers(query):
    """Layers, newest first (filter role)."""
    items, total = service.list_layers(get_session(), **query)
    return {"items": items, "total": total}


@blp.route("/layers/<int:layer_id>", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, schemas.LayerOut)
def get_layer(layer_id):
    """One layer."""
    return service.layer_dict(service.get_layer(get_session(), layer_id))


@blp.route("/layers/<int:layer_id>/features", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.LayerFeaturesQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def layer_features(query, layer_id):
    """A layer's features as a FeatureCollection (bbox, limit, offset)."""
    feats, total = service.layer_features(get_session(), layer_id, **query)
    return geojson_response(feature_collection(feats, total))


@blp.route("/risk/assessments", methods=["POST"])
@allow(*WRITERS)
@blp.arguments(schemas.AssessmentIn)
@blp.response(202, schemas.AssessmentOut)
def create_assessment(body):
    """Queue an assessment and start it off the request thread; poll it for progress."""
    session = get_session()
    # A district-scoped planner assesses their district or an area below it (as for plans).
    require_area_scope(actor(), [body["area_code"]], session)
    run = service.create_assessment(
        session, actor=actor().username, max_active=current_app.config["RISK_MAX_ACTIVE_RUNS"],
        stale_after=current_app.config["RISK_RUN_MAX_SECONDS"], **body)
    jobs.start(current_app._get_current_object(), session, run.id, actor().username)
    session.refresh(run)
    return service.assessment_dict(run)


@blp.route("/risk/assessments", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.AssessmentQuery, location="query")
@blp.response(200, schemas.AssessmentList)
def list_assessments(query):
    """Assessments, newest first (filters area_code, status)."""
    items, total = service.list_assessments(get_session(), **query)
    return {"items": items, "total": total}


@blp.route("/risk/assessments/<int:assessment_id>", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, schemas.AssessmentOut)
def get_assessment(assessment_id):
    """One assessment with its status and progress."""
    return service.assessment_dict(service.get_assessment(get_session(), assessment_id))


@blp.route("/risk/assessments/<int:assessment_id>/cells", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.RiskCellsQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def cells(query, assessment_id):
    """Cells of a done run, highest risk first (bbox, max_level, gap, limit, offset)."""
    feats, total = reports.cells(get_session(), assessment_id, **query)
    return geojson_response(feature_collection(feats, total))


@blp.route("/risk/assessments/<int:assessment_id>/cells/<int:cell_id>", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, FeatureSchema, content_type="application/geo+json")
def cell(assessment_id, cell_id):
    """One cell of a done run with every field (what a map's popup shows of a clicked cell);
    404 when the run holds no such cell."""
    response = geojson_response(reports.cell(get_session(), assessment_id, cell_id))
    # A finished run never changes: the browser may keep a cell it has shown.
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@blp.route("/risk/assessments/<int:assessment_id>/summary", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.RiskSummaryQuery, location="query")
@blp.response(200)
def summary(query, assessment_id):
    """Counts per level overall, per area and per grid, and the gaps (format=json|xlsx)."""
    session = get_session()
    if query["format"] == "xlsx":
        data, filename = reports.summary_xlsx(session, assessment_id)
        audit.record(session, "risk_assessment.export", "risk_assessment", assessment_id,
                     {"format": "xlsx", "what": "summary"})
        return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                         download_name=filename)
    return reports.summary(session, assessment_id)


@blp.route("/risk/assessments/<int:assessment_id>/summary", methods=["POST"])
@allow(EVERYONE)
@blp.response(202, description="the queued job making the summary's .xlsx; its file is "
              "downloaded from the job's result_url once it is done")
def queue_summary(assessment_id):
    """The summary as .xlsx (as GET ?format=xlsx gives it), made by a background job."""
    record = filejobs.queue_summary_export(get_session(), assessment_id, actor().username)
    return jobs_api.accepted(record)


@blp.route("/risk/assessments/<int:assessment_id>/export", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.RiskExportQuery, location="query")
@blp.response(200)
def export(query, assessment_id):
    """Every cell of a done run as a GeoPackage or GeoJSON file."""
    session = get_session()
    data, filename = reports.export_cells(session, assessment_id, query["format"])
    audit.record(session, "risk_assessment.export", "risk_assessment", assessment_id,
                 {"format": query["format"], "what": "cells"})
    mimetype = ("application/geopackage+sqlite3" if query["format"] == "gpkg"
                else "application/geo+json")
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=filename)


@blp.route("/risk/assessments/<int:assessment_id>/export", methods=["POST"])
@allow(EVERYONE)
@blp.arguments(schemas.RiskExportQuery, location="query")
@blp.response(202, description="the queued export job; its result_url serves the file")
def export_job(query, assessment_id):
    """Export every cell of a done run in a background job (large runs): 202 with the job."""
    record = filejobs.queue_export(get_session(), assessment_id, query["format"],
                                   actor().username)
    return jobs_api.accepted(record)


@blp.route("/risk/assessments/<int:assessment_id>/compare", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.RiskCompareQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def compare(query, assessment_id):
    """Cells whose level differs from the same cell in run ``other``."""
    feats, total, transitions = reports.compare(get_session(), assessment_id, **query)
    return geojson_response(feature_collection(feats, total, transitions=transitions,
                                               other=query["other"]))
