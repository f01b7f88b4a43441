"""JSON API for direct disaster reports (灾情直报): report, list, sums per area (and their
.xlsx export)."""

from flask import send_file

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, GRID_STAFF
from emergency.db import get_session, read_session
from emergency.geojson import feature, feature_collection, geojson_response
from emergency.jsonbody import Blueprint
from emergency.schemas import FeatureCollectionSchema
from hazards import service as hazard_service
from hazards.disasters import exports, labels, schemas, service

blp = Blueprint("disasters_api", __name__, url_prefix="/api/v1",
                description="Direct disaster reports by community grid staff (灾情直报)")

READERS = BUREAU | {GRID_STAFF}


def to_feature(record):
    """A report as a GeoJSON Feature (the list shape)."""
    props = {k: v for k, v in record.items() if k != "location"}
    props["created_at"] = props["created_at"].isoformat()
    return feature(record["id"], record["location"], props)


@blp.route("/disaster-reports", methods=["POST"])
@allow(GRID_STAFF, ADMIN)
@blp.arguments(schemas.DisasterIn)
@blp.response(201, schemas.DisasterOut)
@blp.alt_response(200, schema=schemas.DisasterOut, description="the same client_id again: "
                  "the stored report")
def create_report(body):
    """Report disaster losses at a point in one of your grids; resending the same client_id
    returns the stored report (200)."""
    session, reader, user = get_session(), read_session(), actor()
    reporter = hazard_service.reporter(user)
    # As POST /hazards: signing in and the look-ups read on the lock-free reader, so the
    # write lock (SpatiaLite) is taken only for the insert.
    record, created = service.create_report(session, reporter, reader=reader, **body)
    return record, 201 if created else 200


@blp.route("/disaster-reports", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.DisasterQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def list_reports(query):
    """Reports as a FeatureCollection, newest first (filters area_code with the areas below
    it, since, kind, grid_code, bbox; limit and offset)."""
    records, total = service.list_reports(get_session(), actor(), **query)
    return geojson_response(feature_collection([to_feature(r) for r in records], total))


@blp.route("/disaster-reports/<int:report_id>", methods=["GET"])
@allow(READERS)
@blp.response(200, schemas.DisasterOut)
def get_report(report_id):
    """One report (grid staff: of their own grids; others' are 404)."""
    return service.get_report(get_session(), actor(), report_id)


@blp.route("/disaster-reports/summary", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.SummaryQuery, location="query")
@blp.response(200, schemas.SummaryOut, description="sums per area; with format=xlsx a "
              "workbook of the sums and the reports behind them (the export is audited)")
def summary(query):
    """Sums per area (district level by default) of the reports of a period."""
    session, user = get_session(), actor()
    level, fmt = query.pop("level"), query.pop("format")
    since, before = service.period(query.pop("since", None), query.pop("from_", None),
                                   query.pop("to", None))
    filters = {**query, "since": since, "before": before}
    if fmt == "xlsx":
        data = exports.export(session, user, level, filters, labels.export_names(level))
        return send_file(data, mimetype=exports.XLSX, as_attachment=True,
                         download_name="disaster-reports.xlsx")
    return service.summary(session, user, level, **filters)
