"""Input validation and output shapes for hazard reports and bulletins."""

from datetime import UTC

from marshmallow import Schema, fields, validate

from emergency.geojson import GeometryField, SpatialInputSchema
from emergency.schemas import QuerySchema, SpatialPageQuery
from hazards.models import CATEGORIES, SEVERITIES, STATUSES


class HazardIn(SpatialInputSchema):
    """Body of POST /hazards."""

    client_id = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.:\-]{8,64}$", error="8-64 letters, digits, '_', '.', ':' or '-'"),
        metadata={"description": "chosen by the device (e.g. a UUID); resending it never "
                  "duplicates the report", "example": "7f1c2d3e-9a8b-4c5d-8e7f-0a1b2c3d4e5f"})
    category = fields.String(required=True, validate=validate.OneOf(CATEGORIES))
    severity = fields.String(required=True, validate=validate.OneOf(SEVERITIES))
    description = fields.String(load_default="", validate=validate.Length(0, 4000))
    location = GeometryField(("Point",), required=True)


class HazardPhotoOut(Schema):
    """A photo of a report."""

    id = fields.Integer()
    url = fields.String()
    thumb_url = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    width = fields.Integer()
    height = fields.Integer()
    sha256 = fields.String()
    stage = fields.String()
    event_id = fields.Integer(allow_none=True)
    uploaded_by = fields.String()
    created_at = fields.AwareDateTime()


class HazardEventOut(Schema):
    """One recorded step."""

    kind = fields.String()
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String()
    actor = fields.String()
    at = fields.AwareDateTime()
    note = fields.String()
    photo_ids = fields.List(fields.Integer())


class HazardOut(Schema):
    """A report as returned."""

    id = fields.Integer()
    client_id = fields.String()
    category = fields.String()
    category_label = fields.String()
    severity = fields.String()
    severity_label = fields.String()
    description = fields.String()
    status = fields.String()
    status_label = fields.String()
    grid_code = fields.String()
    area_code = fields.String()
    reporter = fields.String()
    location = fields.Raw(metadata={"description": "GeoJSON Point, WGS-84"})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    escalated_at = fields.AwareDateTime(allow_none=True)
    overdue = fields.Boolean()
    escalated = fields.Boolean()
    photos = fields.List(fields.Nested(HazardPhotoOut))
    history = fields.List(fields.Nested(HazardEventOut))
    next_steps = fields.List(fields.String(), metadata={"description": "in task lists: the "
                             "steps the signed-in user may take"})


class HazardQuery(SpatialPageQuery):
    """Filters of GET /hazards."""

    limit = fields.Integer(load_default=100, validate=validate.Range(1, 10_000))
    status = fields.String(validate=validate.OneOf(STATUSES))
    category = fields.String(validate=validate.OneOf(CATEGORIES))
    grid_code = fields.String(validate=validate.Length(1, 32))
    area_code = fields.String(validate=validate.Length(1, 12))
    overdue = fields.Boolean()
    escalated = fields.Boolean()
    since = fields.AwareDateTime(default_timezone=UTC)


class HazardTransitionIn(Schema):
    """Body of POST /hazards/{id}/transition."""

    to = fields.String(required=True, validate=validate.OneOf(STATUSES))
    note = fields.String(load_default="", validate=validate.Length(0, 4000))
    photo_ids = fields.List(fields.Integer(), load_default=list,
                            validate=validate.Length(max=50),
                            metadata={"description": "photos of this report that document "
                                      "the step (e.g. rectification)"})


class HazardPhotoIn(Schema):
    """Multipart body of POST /hazards/{id}/photos."""

    photo = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class HazardPhotoQuery(QuerySchema):
    """Options of GET /hazards/{id}/photos/{photo_id}."""

    thumb = fields.Boolean(load_default=False)


class HazardBulletinQuery(QuerySchema):
    """Period of GET /hazards/bulletin."""

    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "html")))


class HazardBulletinIn(Schema):
    """Body of POST /hazards/bulletins (publish)."""

    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    title = fields.String(load_default="", validate=validate.Length(0, 200))


class HazardEscalationOut(Schema):
    """Result of POST /hazards/escalate."""

    escalated = fields.Integer()
