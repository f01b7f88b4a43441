"""JSON API for warnings (预警): drafts, changes, the four-eyes steps, lists, expiry.

``GET /warnings/{id}?format=cap`` and ``POST /warnings/import`` (CAP 1.2) are in this
blueprint too, built on alerts/cap.py.
"""

from flask import Response, current_app, request, url_for
from marshmallow import Schema, fields, validate

from alerts import capimport, feeds, listing, schemas, service
from alerts.cap import MIMETYPE as CAP_MIMETYPE
from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, DISPATCHER, EVERYONE, PLANNER
from emergency.db import get_session
from emergency.geojson import feature, feature_collection, geojson_response
from emergency.jsonbody import Blueprint
from emergency.schemas import FeatureCollectionSchema

blp = Blueprint("alerts_api", __name__, url_prefix="/api/v1",
                description="Warnings (预警): draft, four-eyes approval and publication, "
                "lifting, expiry")

DRAFTERS = (ADMIN, PLANNER, DISPATCHER)


def release():
    """The CAP sender and identifier prefix from the configuration."""
    config = current_app.config
    return service.Release(sender=config["CAP_SENDER"], prefix=config["CAP_IDENTIFIER_PREFIX"])


def region():
    """The served region (SERVED_BBOX)."""
    return current_app.config["SERVED_BBOX"]


def to_feature(record):
    """A warning as a GeoJSON Feature (the list shape)."""
    props = {k: v for k, v in record.items() if k != "geometry"}
    for key, value in props.items():
        if hasattr(value, "isoformat"):
            props[key] = value.isoformat()
    return feature(record["id"], record["geometry"], props)


def _out(warning_id):
    """The warning as answered after a change."""
    return listing.get_warning(get_session(), actor(), warning_id)


@blp.route("/warnings", methods=["POST"])
@allow(*DRAFTERS)
@blp.arguments(schemas.WarningIn)
@blp.response(201, schemas.WarningOut)
def create_warning(body):
    """Draft a warning (status draft); areas by code, or a drawn polygon, or both."""
    warning = service.create_warning(get_session(), actor(), region=region(), **body)
    return _out(warning.id)


@blp.route("/warnings", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.WarningQuery, location="query")
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def list_warnings(query):
    """Warnings as a FeatureCollection, newest first (filters status, level, hazard_type,
    area_code, active, bbox, q; limit and offset)."""
    records, total = listing.list_warnings(get_session(), actor(), **query)
    return geojson_response(feature_collection([to_feature(r) for r in records], total))


class WarningFormatQuery(Schema):
    """Query of GET /warnings/{id}: the JSON record or its CAP 1.2 document."""

    format = fields.String(load_default="json", validate=validate.OneOf(("json", "cap")),
                           metadata={"description": "json (default) or cap: the CAP 1.2 "
                                     "alert (application/cap+xml) of a published warning"})


@blp.route("/warnings/<int:warning_id>", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(WarningFormatQuery, location="query")
@blp.response(200, schemas.WarningOut)
@blp.alt_response(409, description="format=cap of a warning never published")
def get_warning(query, warning_id):
    """One warning with every area named and its recorded steps; ``format=cap`` gives its
    CAP 1.2 alert (Alert, Update after a change, Cancel when lifted; an imported warning as
    its source sent it)."""
    if query["format"] != "cap":
        return _out(warning_id)
    record = _out(warning_id)  # 404 for an unknown warning, scope as for the JSON
    session = get_session()
    warning = feeds.ever_published(session, record["id"], conflict=True)
    page = url_for("public_pages.warnings_page", _external=True) + f"#w{warning.id}"
    data = feeds.cap_document(session, warning, current_app.config["CAP_SENDER"], web=page)
    return Response(data, mimetype=CAP_MIMETYPE)


@blp.route("/warnings/import", methods=["POST"])
@allow(*capimport.IMPORTERS)
@blp.doc(requestBody={"required": True, "content": {
    CAP_MIMETYPE: {"schema": {"type": "string"}},
    "application/xml": {"schema": {"type": "string"}}}})
@blp.response(201, schemas.WarningOut)
@blp.alt_response(200, schema=schemas.WarningOut, description="the same sender and identifier "
                  "again (the stored warning), or an Update or Cancel applied to it")
@blp.alt_response(413, description="larger than CAP_IMPORT_MAX_BYTES")
@blp.alt_response(422, description="not CAP 1.2, or not importable (the element is named)")
def import_warning():
    """Import a CAP 1.2 alert of another bureau (body: the XML document) as a published
    warning keeping its sender and identifier; the same alert again is not duplicated, an
    Update changes the warning it references, a Cancel lifts it. Administrators and
    planners only (importing publishes)."""
    limit = capimport.MAX_BYTES
    if (request.content_length or 0) > limit:
        raise capimport.too_large()
    # Flask 3.1: a limit for this request only (a chunked body past it is 413 as it is read);
    # the body may already be cached (an Idempotency-Key's check reads it first).
    request.max_content_length = limit
    data = request.get_data(cache=True)
    if len(data) > limit:
        raise capimport.too_large()
    warning, created = capimport.import_alert(
        get_session(), actor(), data, own_sender=current_app.config["CAP_SENDER"],
        region=region())
    return _out(warning.id), 201 if created else 200


@blp.route("/warnings/<int:warning_id>", methods=["PATCH"])
@allow(*DRAFTERS)
@blp.arguments(schemas.WarningPatch)
@blp.response(200, schemas.WarningOut)
def update_warning(body, warning_id):
    """Change a warning: a draft stays a draft, an approved one returns to draft, a
    published one is released at once as a new version (CAP Update; reason required)."""
    note = body.pop("note", "")
    service.update_warning(get_session(), actor(), warning_id, body, region=region(),
                           release=release(), note=note)
    return _out(warning_id)


@blp.route("/warnings/<int:warning_id>/transition", methods=["POST"])
@allow(*DRAFTERS)
@blp.arguments(schemas.WarningTransitionIn)
@blp.response(200, schemas.WarningOut)
def transition_warning(body, warning_id):
    """Approve, publish (both by an administrator or planner other than the author), cancel
    (before publication) or lift (after); cancelling and lifting need a note."""
    service.transition(get_session(), actor(), warning_id, body["to"], body["note"],
                       release=release())
    return _out(warning_id)


@blp.route("/warnings/expire", methods=["POST"])
@allow(ADMIN)
@blp.response(200, schemas.ExpiryOut)
def expire():
    """Mark published warnings past their expiry as expired (as the scheduled job does)."""
    return {"expired": service.expire_due(get_session())}
