"""Input validation and output shapes of emergency measures."""

from marshmallow import Schema, fields, validate

from emergency.geojson import GeometryField, SpatialInputSchema
from emergency.schemas import SpatialPageQuery
from incidents.measures.models import LISTED_STATUSES, MEASURE_KINDS


class MeasureIn(SpatialInputSchema):
    """Body of POST /incidents/{id}/measures."""

    kind = fields.String(required=True, validate=validate.OneOf(MEASURE_KINDS))
    legal_basis = fields.String(required=True, validate=validate.Length(1, 300), metadata={
        "example": "《中华人民共和国突发事件应对法》第七十三条",
        "description": "the law and article the measure rests on"})
    authority = fields.String(required=True, validate=validate.Length(1, 200), metadata={
        "example": "重庆市渝中区人民政府", "description": "the issuing organ"})
    scope = GeometryField(("Polygon", "MultiPolygon"), required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                   metadata={"description": "after starts_at; null: until lifted"})
    note = fields.String(load_default="", validate=validate.Length(0, 5000),
                         metadata={"description": "what the measure orders"})


class LiftIn(Schema):
    """Body of POST /measures/{id}/lift (optional)."""

    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class MeasureOut(Schema):
    """A measure as returned; ``status`` is in_force, lifted or expired (computed)."""

    id = fields.Integer()
    source = fields.String(metadata={"description": "measure | requisition"})
    incident_id = fields.Integer()
    kind = fields.String()
    order_number = fields.String()
    legal_basis = fields.String()
    authority = fields.String()
    scope = fields.Dict(allow_none=True, metadata={"description": "GeoJSON MultiPolygon"})
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime(allow_none=True)
    note = fields.String()
    status = fields.String()
    lifted_at = fields.AwareDateTime(allow_none=True)
    lifted_by = fields.String(allow_none=True)
    lift_note = fields.String()
    created_by = fields.String()
    created_at = fields.AwareDateTime()


class MeasureQuery(SpatialPageQuery):
    """Filters of GET /measures."""

    status = fields.String(validate=validate.OneOf(LISTED_STATUSES))
    incident_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(MEASURE_KINDS))


class MeasureGet(Schema):
    """Query of GET /measures/{id}: format=html gives the printable decision."""

    format = fields.String(load_default="json", validate=validate.OneOf(("json", "html")))


class LegalBasisOut(Schema):
    """One of the usual legal bases offered as a choice."""

    text = fields.String()
    kinds = fields.List(fields.String())
    summary = fields.String()


class LegalBasisList(Schema):
    """The usual legal bases and where their text comes from."""

    items = fields.List(fields.Nested(LegalBasisOut))
    total = fields.Integer()
    source = fields.String()
