"""Input validation and output shapes for direct disaster reports."""

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate

from emergency.geojson import GeometryField, SpatialInputSchema
from emergency.schemas import QuerySchema, SpatialPageQuery
from hazards.disasters.models import KINDS
from hazards.disasters.service import DEFAULT_LEVEL, LEVELS

MAX_COUNT = 10**8
MAX_YUAN = 10**12


def _count(description):
    """A whole number >= 0 of the report (0 when left out)."""
    return fields.Integer(load_default=0, strict=True,
                          validate=validate.Range(0, MAX_COUNT),
                          metadata={"description": description})


def _two_places(value):
    """Money has at most two decimal places (fen)."""
    if value.as_tuple().exponent < -2:
        raise ValidationError("at most two decimal places")


class DisasterIn(SpatialInputSchema):
    """Body of POST /disaster-reports."""

    client_id = fields.String(required=True, validate=validate.Regexp(
        r"^[A-Za-z0-9_.:\-]{8,64}$", error="8-64 letters, digits, '_', '.', ':' or '-'"),
        metadata={"description": "chosen by the device (e.g. a UUID); resending it never "
                  "duplicates the report", "example": "7f1c2d3e-9a8b-4c5d-8e7f-0a1b2c3d4e5f"})
    location = GeometryField(("Point",), required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS),
                         metadata={"description": "kind of disaster: " + "|".join(KINDS)})
    affected = _count("people affected (受灾人口)")
    dead = _count("people dead (死亡)")
    missing = _count("people missing (失踪)")
    injured = _count("people injured (受伤)")
    houses_collapsed = _count("houses collapsed (倒塌房屋)")
    houses_damaged = _count("houses damaged (损坏房屋)")
    losses_yuan = fields.Decimal(load_default=0, allow_nan=False,
                                 validate=[validate.Range(0, MAX_YUAN), _two_places],
                                 metadata={"description": "direct economic losses in yuan, "
                                           ">= 0, at most two places (string or number)",
                                           "example": "1280.00"})
    note = fields.String(load_default="", validate=validate.Length(0, 4000))


class DisasterOut(Schema):
    """A report as returned."""

    id = fields.Integer()
    client_id = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    affected = fields.Integer()
    dead = fields.Integer()
    missing = fields.Integer()
    injured = fields.Integer()
    houses_collapsed = fields.Integer()
    houses_damaged = fields.Integer()
    losses_yuan = fields.String(metadata={"description": "yuan, two places"})
    note = fields.String()
    grid_code = fields.String()
    area_code = fields.String()
    reporter = fields.String()
    location = fields.Raw(metadata={"description": "GeoJSON Point, WGS-84"})
    created_at = fields.AwareDateTime()


class DisasterQuery(SpatialPageQuery):
    """Filters of GET /disaster-reports."""

    limit = fields.Integer(load_default=100, validate=validate.Range(1, 10_000))
    area_code = fields.String(validate=validate.Length(1, 12),
                              metadata={"description": "this area and every area below it"})
    since = fields.AwareDateTime(default_timezone=UTC)
    kind = fields.String(validate=validate.OneOf(KINDS))
    grid_code = fields.String(validate=validate.Length(1, 32))


class SummaryQuery(QuerySchema):
    """Filters of GET /disaster-reports/summary."""

    area_code = fields.String(validate=validate.Length(1, 12),
                              metadata={"description": "this area and every area below it"})
    since = fields.AwareDateTime(default_timezone=UTC)
    from_ = fields.Date(data_key="from", metadata={"description": "first day (Beijing time)"})
    to = fields.Date(metadata={"description": "last day (Beijing time), inclusive"})
    level = fields.String(load_default=DEFAULT_LEVEL, validate=validate.OneOf(LEVELS),
                          metadata={"description": "the level of the areas summed"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))


class SummaryRow(Schema):
    """The sums of one area (or of all)."""

    area_code = fields.String()
    area_name = fields.String()
    reports = fields.Integer()
    affected = fields.Integer()
    dead = fields.Integer()
    missing = fields.Integer()
    injured = fields.Integer()
    houses_collapsed = fields.Integer()
    houses_damaged = fields.Integer()
    losses_yuan = fields.String()


class SummaryOut(Schema):
    """Sums per area."""

    level = fields.String()
    items = fields.List(fields.Nested(SummaryRow))
    total = fields.Integer(metadata={"description": "number of areas"})
    sums = fields.Nested(SummaryRow, metadata={"description": "all areas together"})
