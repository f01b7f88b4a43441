"""Shared input and output schemas: paging, bbox, errors, GeoJSON collections."""

from marshmallow import EXCLUDE, Schema, fields, validate

from emergency.geojson import BBoxField


class QuerySchema(Schema):
    """Base of query-string schemas: unknown parameters are ignored, as browsers add some."""

    class Meta:
        unknown = EXCLUDE


class PageQuery(QuerySchema):
    """``limit`` and ``offset`` of any list."""

    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class SpatialPageQuery(PageQuery):
    """Paging plus a ``bbox`` filter."""

    bbox = BBoxField(metadata={"description": "minlon,minlat,maxlon,maxlat (WGS-84)",
                               "example": "106.4,29.4,106.7,29.7"})


class ErrorDetail(Schema):
    """The inside of an error body."""

    code = fields.String()
    message = fields.String()
    details = fields.Dict()


class ErrorSchema(Schema):
    """The contract's error body."""

    error = fields.Nested(ErrorDetail)


class FeatureSchema(Schema):
    """A GeoJSON Feature."""

    type = fields.Constant("Feature")
    id = fields.Raw()
    geometry = fields.Dict(allow_none=True)
    properties = fields.Dict()


class FeatureCollectionSchema(Schema):
    """A GeoJSON FeatureCollection with the total count before paging."""

    type = fields.Constant("FeatureCollection")
    features = fields.List(fields.Nested(FeatureSchema))
    total = fields.Integer()


def items_schema(item_schema, name):
    """A ``{"items": [...], "total": N}`` list schema for ``item_schema``."""
    return Schema.from_dict({"items": fields.List(fields.Nested(item_schema)),
                             "total": fields.Integer()}, name=name)
