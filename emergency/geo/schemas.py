"""Input validation and output shapes for areas and grids."""

from marshmallow import Schema, fields, validate

from emergency.geo.models import AREA_LEVELS
from emergency.geojson import GeometryField, SpatialInputSchema
from emergency.schemas import QuerySchema, SpatialPageQuery

POLYGONS = ("Polygon", "MultiPolygon")


class AreaIn(SpatialInputSchema):
    """Body of POST /areas."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{2,12}$"),
                         metadata={"example": "500103"})
    name = fields.String(required=True, validate=validate.Length(1, 100))
    name_en = fields.String(load_default="", validate=validate.Length(0, 100))
    level = fields.String(required=True, validate=validate.OneOf(AREA_LEVELS))
    parent_code = fields.String(load_default=None, allow_none=True,
                                validate=validate.Regexp(r"^[0-9]{2,12}$"))
    geometry = GeometryField(POLYGONS, required=True)


class AreaOut(AreaIn):
    """An area as returned."""

    id = fields.Integer()
    geometry = fields.Raw()


class AreaQuery(SpatialPageQuery):
    """Filters of GET /areas."""

    level = fields.String(validate=validate.OneOf(AREA_LEVELS))
    parent_code = fields.String(validate=validate.Length(1, 12))
    q = fields.String(validate=validate.Length(1, 80),
                      metadata={"description": "part of the name (or English name), or the code"})


class GridIn(SpatialInputSchema):
    """Body of POST /grids."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[0-9A-Za-z_\-]{1,32}$"))
    name = fields.String(required=True, validate=validate.Length(1, 100))
    area_code = fields.String(required=True, validate=validate.Length(1, 12))
    geometry = GeometryField(POLYGONS, required=True)


class GridOut(GridIn):
    """A grid as returned, with its staff."""

    id = fields.Integer()
    staff = fields.List(fields.String())
    geometry = fields.Raw()


class GridQuery(SpatialPageQuery):
    """Filters of GET /grids."""

    area_code = fields.String(validate=validate.Length(1, 12))


class PickQuery(QuerySchema):
    """A picker's query: the typed text (name, pinyin initials or code) and how many."""

    q = fields.String(load_default="", validate=validate.Length(0, 80),
                      metadata={"description": "Chinese name, pinyin initials or code"})
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 20))


class AreaPickQuery(PickQuery):
    """Query of GET /pick/areas."""

    level = fields.String(validate=validate.OneOf(AREA_LEVELS))
    parent_code = fields.String(validate=validate.Length(1, 12))


class GridPickQuery(PickQuery):
    """Query of GET /pick/grids."""

    area_code = fields.String(validate=validate.Length(1, 12))


class PickItem(Schema):
    """One choice of a picker: ``value`` goes into the form, ``label`` and ``hint`` are shown."""

    value = fields.String()
    label = fields.String()
    hint = fields.String()
    code = fields.String()
    name = fields.String()
    level = fields.String()
    parent_code = fields.String(allow_none=True)
    parent_name = fields.String(allow_none=True)
    area_code = fields.String()
    area_name = fields.String(allow_none=True)
