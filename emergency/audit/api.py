"""Read-only JSON API of the audit log (there is deliberately no write or delete route)."""

from marshmallow import Schema, fields, validate

from emergency.audit import service
from emergency.auth.permissions import allow
from emergency.auth.roles import ADMIN, AUDITOR
from emergency.db import get_session
from emergency.jsonbody import Blueprint
from emergency.schemas import PageQuery, items_schema

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="The audit log")


class AuditQuery(PageQuery):
    """Filters of GET /audit."""

    actor = fields.String(validate=validate.Length(1, 64))
    action = fields.String(validate=validate.Length(1, 64))
    since = fields.AwareDateTime(metadata={"description": "ISO 8601 with offset"})
    object_type = fields.String(validate=validate.Length(1, 64))
    object_id = fields.String(validate=validate.Length(1, 64))


class AuditEntryOut(Schema):
    """One audit entry."""

    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String()
    action = fields.String()
    object_type = fields.String()
    object_id = fields.String(allow_none=True)
    changes = fields.Dict()
    remote_addr = fields.String()


@blp.route("/audit", methods=["GET"])
@allow(ADMIN, AUDITOR)
@blp.arguments(AuditQuery, location="query")
@blp.response(200, items_schema(AuditEntryOut, "AuditList"))
def list_audit(query):
    """Who did what to which record and when, newest first."""
    items, total = service.list_entries(get_session(), **query)
    return {"items": items, "total": total}
