"""JSON API for hazard reports: report, photos, workflow, lists, tasks, bulletins."""

from flask import Response, current_app, render_template

from emergency.auth.permissions import actor, allow, public
from emergency.auth.roles import ADMIN, BUREAU, GRID_STAFF, PLANNER
from emergency.db import get_session, read_session, replica_session
from emergency.files import app_store, stored_file_response
from emergency.geojson import feature, feature_collection, geojson_response
from emergency.jsonbody import Blueprint
from emergency.schemas import FeatureCollectionSchema, PageQuery, items_schema
from hazards import bulletins, photos, schemas, service
from hazards.workflow import DuePolicy

blp = Blueprint("hazards_api", __name__, url_prefix="/api/v1",
                description="Hazard reports by community grid staff (隐患上报)")

READERS = BUREAU | {GRID_STAFF}
TaskList = items_schema(schemas.HazardOut, "HazardTaskList")


def policy():
    """The due-time policy from the app's configuration."""
    return DuePolicy.from_config(current_app.config)


def to_feature(record):
    """A report as a GeoJSON Feature (the list shape)."""
    props = {k: v for k, v in record.items() if k not in ("location", "history")}
    for key in ("created_at", "updated_at", "due_at", "closed_at", "escalated_at"):
        if props.get(key) is not None:
            props[key] = props[key].isoformat()
    return feature(record["id"], record["location"], props)


@blp.route("/hazards", methods=["POST"])
@allow(GRID_STAFF, ADMIN)
@blp.arguments(schemas.HazardIn)
@blp.response(201, schemas.HazardOut)
@blp.alt_response(200, schema=schemas.HazardOut, description="the same client_id again: "
                  "the stored report")
def create_hazard(body):
    """Report a hazard; resending the same client_id returns the stored report (200)."""
    session, reader, user = get_session(), read_session(), actor()
    # Phones post many reports at once: signing in and the look-ups read on the lock-free
    # reader, so the write lock (SpatiaLite) is taken only for the insert.
    reporter = service.reporter(user)
    record, created = service.create_report(session, reporter, policy=policy(), reader=reader,
                                             **body)
    return record, 201 if created else 200


@blp.route("/hazards", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.HazardQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def list_hazards(query):
    """Reports as a FeatureCollection, newest first (filters as in the contract)."""
    records, total = service.list_reports(replica_session(), actor(), **query)
    return geojson_response(feature_collection([to_feature(r) for r in records], total))


@blp.route("/hazards/<int:report_id>", methods=["GET"])
@allow(READERS)
@blp.response(200, schemas.HazardOut)
def get_hazard(report_id):
    """One report with its photos and recorded steps."""
    return service.get_report(get_session(), actor(), report_id)


@blp.route("/hazards/<int:report_id>/transition", methods=["POST"])
@allow(ADMIN, PLANNER, GRID_STAFF)
@blp.arguments(schemas.HazardTransitionIn)
@blp.response(200, schemas.HazardOut)
def transition_hazard(body, report_id):
    """Take one workflow step (reported → verified → rectifying → rectified → closed)."""
    return service.transition(get_session(), actor(), report_id, body["to"], body["note"],
                              body["photo_ids"], policy=policy())


@blp.route("/hazards/<int:report_id>/photos", methods=["POST"])
@allow(ADMIN, PLANNER, GRID_STAFF)
@blp.arguments(schemas.HazardPhotoIn, location="files")
@blp.response(201, schemas.HazardPhotoOut)
@blp.alt_response(200, schema=schemas.HazardPhotoOut, description="the same photo again")
def add_photo(files, report_id):
    """Attach a JPEG or PNG photo (metadata stripped); the same bytes again give 200."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    data = files["photo"].stream.read(limit + 1)
    record, created = photos.add_photo(get_session(), actor(), report_id, data, app_store(),
                                       limit)
    return record, 201 if created else 200


@blp.route("/hazards/<int:report_id>/photos/<int:photo_id>", methods=["GET"])
@allow(READERS)
@blp.arguments(schemas.HazardPhotoQuery, location="query")
@blp.response(200, content_type="image/jpeg", description="the photo (or its thumbnail)")
def get_photo(query, report_id, photo_id):
    """A photo of a report, only for those who may see the report."""
    stored = photos.photo_file(get_session(), actor(), report_id, photo_id, app_store(),
                               query["thumb"])
    return stored_file_response(stored)


@blp.route("/hazards/tasks", methods=["GET"])
@allow(READERS)
@blp.arguments(PageQuery, location="query")
@blp.response(200, TaskList)
def my_tasks(query):
    """Reports the signed-in user must act on next, most urgent first."""
    items, total = service.my_tasks(get_session(), actor(), limit=query["limit"])
    return {"items": items, "total": total}


@blp.route("/hazards/escalate", methods=["POST"])
@allow(ADMIN)
@blp.response(200, schemas.HazardEscalationOut)
def escalate():
    """Escalate (督办) every report past its deadline to its district."""
    return {"escalated": service.escalate_overdue(get_session(), actor=actor().username)}


@blp.route("/hazards/bulletin", methods=["GET"])
@allow(BUREAU)
@blp.arguments(schemas.HazardBulletinQuery, location="query")
@blp.response(200, description="bulletin JSON, or a printable page with format=html")
def bulletin(query):
    """Counts by category, status and area; new, closed and overdue reports of a period."""
    session = get_session()
    content = bulletins.build(session, query["from_"], query["to"],
                              service.scope_filters(session, actor()), policy=policy())
    if query["format"] == "html":
        page = render_template("hazards/bulletin.html", bulletin=content, title="",
                               published=None)
        return Response(page, mimetype="text/html")
    return content


@blp.route("/hazards/bulletins", methods=["POST"])
@allow(ADMIN, PLANNER)
@blp.arguments(schemas.HazardBulletinIn)
@blp.response(201, description="the published bulletin")
def publish_bulletin(body):
    """Publish the bulletin of a period; it can then be shown publicly."""
    return bulletins.publish(get_session(), actor(), body["from_"], body["to"], body["title"],
                             policy=policy())


@blp.route("/hazards/bulletins", methods=["GET"])
@public
@blp.arguments(PageQuery, location="query")
@blp.response(200, description="published bulletins, newest first")
def list_bulletins(query):
    """Published bulletins (public: they carry no personal data)."""
    items, total = bulletins.list_published(get_session(), **query)
    return {"items": items, "total": total}


@blp.route("/hazards/bulletins/<int:bulletin_id>", methods=["GET"])
@public
@blp.response(200, description="a published bulletin")
def get_bulletin(bulletin_id):
    """One published bulletin (public)."""
    return bulletins.get_published(get_session(), bulletin_id)
