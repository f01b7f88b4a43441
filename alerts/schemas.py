"""Input validation and output shapes of warnings."""

from marshmallow import Schema, ValidationError, fields, validate

from alerts.models import LEVELS, STATUSES
from alerts.service import MAX_AREAS
from emergency.geojson import GeometryField, SpatialInputSchema
from emergency.schemas import SpatialPageQuery
from plans.incident_types import INCIDENT_TYPES

STEPS = ("approved", "published", "lifted", "cancelled")


def _rings(value):
    """The linear rings of a GeoJSON Polygon or MultiPolygon (as given), or []."""
    coordinates = value.get("coordinates") if isinstance(value, dict) else None
    if not isinstance(coordinates, list):
        return []
    if value.get("type") == "Polygon":
        return [r for r in coordinates if isinstance(r, list)]
    if value.get("type") == "MultiPolygon":
        return [r for p in coordinates if isinstance(p, list) for r in p if isinstance(r, list)]
    return []


class WarnedAreaField(GeometryField):
    """A drawn warning area: a Polygon or MultiPolygon whose every ring is closed.

    Shapely closes an open ring silently; a CAP polygon must be closed (first = last), so an
    open ring is refused here rather than guessed.
    """

    def __init__(self, **kwargs):
        super().__init__(("Polygon", "MultiPolygon"), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        """Refuse open or too short rings, then parse and check as any geometry."""
        for ring in _rings(value):
            if len(ring) < 4:
                raise ValidationError("a polygon ring needs at least 4 positions")
            if ring[0] != ring[-1]:
                raise ValidationError("polygon not closed: a ring's last position must "
                                      "equal its first")
        return super()._deserialize(value, attr, data, **kwargs)


class WarningIn(SpatialInputSchema):
    """Body of POST /warnings: a draft."""

    title = fields.String(required=True, validate=validate.Length(1, 200),
                          metadata={"example": "重庆市暴雨红色预警"})
    hazard_type = fields.String(required=True, validate=validate.OneOf(INCIDENT_TYPES),
                                metadata={"example": "meteorological",
                                          "description": "an incident type key "
                                          "(GET /plans/incident-types)"})
    level = fields.String(required=True, validate=validate.OneOf(LEVELS),
                          metadata={"description": "red|orange|yellow|blue (红橙黄蓝)"})
    area_codes = fields.List(fields.String(validate=validate.Length(1, 12)),
                             load_default=list, validate=validate.Length(max=MAX_AREAS),
                             metadata={"example": ["500103", "500104"]})
    geometry = WarnedAreaField(load_default=None, allow_none=True,
                               metadata={"description": "drawn area (optional: else the "
                                         "areas' union)"})
    onset = fields.AwareDateTime(required=True, metadata={"example": "2026-07-01T08:00:00+08:00"})
    expires = fields.AwareDateTime(required=True,
                                   metadata={"example": "2026-07-02T08:00:00+08:00"})
    description = fields.String(load_default="", validate=validate.Length(0, 8000))
    instruction = fields.String(load_default="", validate=validate.Length(0, 8000))


class WarningPatch(SpatialInputSchema):
    """Body of PATCH /warnings/{id}: the fields to change; ``note`` (the reason) is required
    once the warning is published."""

    title = fields.String(validate=validate.Length(1, 200))
    hazard_type = fields.String(validate=validate.OneOf(INCIDENT_TYPES))
    level = fields.String(validate=validate.OneOf(LEVELS))
    area_codes = fields.List(fields.String(validate=validate.Length(1, 12)),
                             validate=validate.Length(max=MAX_AREAS))
    geometry = WarnedAreaField(allow_none=True)
    onset = fields.AwareDateTime()
    expires = fields.AwareDateTime()
    description = fields.String(validate=validate.Length(0, 8000))
    instruction = fields.String(validate=validate.Length(0, 8000))
    note = fields.String(load_default="", validate=validate.Length(0, 4000))


class WarningTransitionIn(Schema):
    """Body of POST /warnings/{id}/transition."""

    to = fields.String(required=True, validate=validate.OneOf(STEPS))
    note = fields.String(load_default="", validate=validate.Length(0, 4000),
                         metadata={"description": "required to cancel or lift"})


class WarningQuery(SpatialPageQuery):
    """Filters of GET /warnings."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    level = fields.String(validate=validate.OneOf(LEVELS))
    hazard_type = fields.String(validate=validate.OneOf(INCIDENT_TYPES))
    area_code = fields.String(validate=validate.Length(1, 12),
                              metadata={"description": "warnings covering this area, an "
                                        "area inside it or one containing it"})
    active = fields.Boolean(metadata={"description": "true: published and not expired"})
    q = fields.String(validate=validate.Length(1, 100),
                      metadata={"description": "words of the title"})


class AreaOut(Schema):
    """An area a warning covers."""

    code = fields.String()
    name = fields.String()


class StepOut(Schema):
    """One recorded step of a warning."""

    kind = fields.String()
    from_ = fields.String(data_key="from", allow_none=True)
    to = fields.String()
    version = fields.Integer()
    actor = fields.String()
    at = fields.AwareDateTime()
    note = fields.String()


class WarningOut(Schema):
    """A warning as the API shows it."""

    id = fields.Integer()
    title = fields.String()
    hazard_type = fields.String()
    hazard_type_label = fields.String()
    level = fields.String()
    level_label = fields.String()
    status = fields.String(metadata={"description": "as read: a published warning past its "
                                     "expiry is expired"})
    active = fields.Boolean()
    area_codes = fields.List(fields.String())
    areas = fields.List(fields.Nested(AreaOut))
    area_count = fields.Integer()
    geometry = fields.Dict(allow_none=True)
    onset = fields.AwareDateTime()
    expires = fields.AwareDateTime()
    description = fields.String()
    instruction = fields.String()
    author = fields.String(allow_none=True)
    approved_by = fields.String(allow_none=True)
    published_by = fields.String(allow_none=True)
    approved_at = fields.AwareDateTime(allow_none=True)
    published_at = fields.AwareDateTime(allow_none=True)
    lifted_at = fields.AwareDateTime(allow_none=True)
    cancelled_at = fields.AwareDateTime(allow_none=True)
    note = fields.String()
    version = fields.Integer()
    cap_identifier = fields.String(allow_none=True)
    references = fields.List(fields.String())
    source = fields.String(allow_none=True)
    source_identifier = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    steps = fields.List(fields.Nested(StepOut))


class ExpiryOut(Schema):
    """The answer of POST /warnings/expire."""

    expired = fields.Integer()
