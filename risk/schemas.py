"""Input validation and output shapes for risk layers and assessments."""

from flask_smorest.fields import Upload
from marshmallow import EXCLUDE, Schema, fields, validate

from emergency.schemas import PageQuery, QuerySchema, SpatialPageQuery, items_schema
from risk.models import LAYER_ROLES, RUN_STATUSES


class LayerForm(Schema):
    """Form fields of POST /layers (multipart)."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(1, 200))
    role = fields.String(required=True, validate=validate.OneOf(LAYER_ROLES))
    value_field = fields.String(load_default=None, validate=validate.Length(1, 100),
                                metadata={"description": "numeric attribute read as value"})
    likelihood_field = fields.String(load_default=None, validate=validate.Length(1, 100),
                                     metadata={"description": "1..5 (matrix method)"})
    consequence_field = fields.String(load_default=None, validate=validate.Length(1, 100),
                                      metadata={"description": "1..5 (matrix method)"})
    crs = fields.String(load_default=None, validate=validate.Length(1, 200), metadata={
        "description": "wgs84, gcj02, bd09 or an EPSG code; overrides the file's CRS"})
    encoding = fields.String(load_default=None, validate=validate.Length(1, 40), metadata={
        "description": "attribute encoding (e.g. GBK) for a Shapefile without .cpg"})
    layer = fields.String(load_default=None, validate=validate.Length(1, 200),
                          metadata={"description": "layer name inside a GeoPackage"})
    repair = fields.Boolean(load_default=False, metadata={
        "description": "repair invalid polygons with make_valid instead of refusing them"})


class LayerJobQuery(QuerySchema):
    """``async=1`` on POST /layers: import in a background job, answer 202 with the job."""

    run_async = fields.Boolean(load_default=False, data_key="async", metadata={
        "description": "true: keep the file, queue the import as a job and answer 202 with "
                       "the job (follow it at its url; its result names the layer)"})


class LayerFile(Schema):
    """The file part of POST /layers."""

    file = Upload(required=True, metadata={
        "description": "GeoJSON, GeoPackage or zipped Shapefile"})


class LayerOut(Schema):
    """A layer as returned."""

    id = fields.Integer()
    name = fields.String()
    role = fields.String()
    value_field = fields.String(allow_none=True)
    likelihood_field = fields.String(allow_none=True)
    consequence_field = fields.String(allow_none=True)
    geometry_kind = fields.String()
    feature_count = fields.Integer()
    value_max = fields.Float()
    source_crs = fields.String()
    source_file = fields.String()
    bbox = fields.List(fields.Float(), allow_none=True)
    created_by = fields.String()
    created_at = fields.DateTime()
    repaired = fields.List(fields.Integer(), metadata={
        "description": "numbers of the features repaired on import"})


LayerList = items_schema(LayerOut, "LayerList")


class LayerQuery(PageQuery):
    """Filters of GET /layers."""

    role = fields.String(validate=validate.OneOf(LAYER_ROLES))


class LayerFeaturesQuery(SpatialPageQuery):
    """Paging and bbox of a layer's features."""

    limit = fields.Integer(load_default=1000, validate=validate.Range(1, 10_000))


class ChosenLayer(Schema):
    """One layer of an assessment and its weight."""

    layer_id = fields.Integer(required=True)
    weight = fields.Float(load_default=1.0, validate=validate.Range(0, 1000, min_inclusive=False))
    scale = fields.Float(load_default=None, allow_none=True,
                         validate=validate.Range(0, None, min_inclusive=False), metadata={
                             "description": "value that counts as 1 (default: layer's max)"})
    density_ref = fields.Float(load_default=None, allow_none=True,
                               validate=validate.Range(0, None, min_inclusive=False),
                               metadata={"description": "point layers: points per km2 "
                                         "reaching 1-1/e (default params.point_density_ref)"})


class AssessmentIn(Schema):
    """Body of POST /risk/assessments."""

    area_code = fields.String(required=True, validate=validate.Length(1, 12))
    cell_size_m = fields.Integer(required=True, validate=validate.Range(50, 20_000))
    layers = fields.List(fields.Nested(ChosenLayer), required=True,
                         validate=validate.Length(1, 50))
    params = fields.Dict(load_default=dict, metadata={
        "description": "model parameters; see docs/risk-model.md for names and defaults"})


class AssessmentOut(Schema):
    """An assessment as returned."""

    id = fields.Integer()
    area_code = fields.String()
    cell_size_m = fields.Integer()
    method = fields.String()
    layers = fields.List(fields.Dict())
    params = fields.Dict()
    status = fields.String(metadata={"enum": list(RUN_STATUSES)})
    progress = fields.Float()
    error = fields.String(allow_none=True)
    epsg = fields.Integer(allow_none=True)
    cell_count = fields.Integer()
    team_count = fields.Integer()
    created_by = fields.String()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


AssessmentList = items_schema(AssessmentOut, "AssessmentList")


class AssessmentQuery(PageQuery):
    """Filters of GET /risk/assessments."""

    area_code = fields.String(validate=validate.Length(1, 12))
    status = fields.String(validate=validate.OneOf(RUN_STATUSES))


class RiskCellsQuery(SpatialPageQuery):
    """Filters of GET /risk/assessments/{id}/cells."""

    limit = fields.Integer(load_default=1000, validate=validate.Range(1, 10_000))
    max_level = fields.Integer(validate=validate.Range(1, 4),
                               metadata={"description": "only cells at this level or higher"})
    gap = fields.Boolean(metadata={"description": "only gap cells (true) or only others"})


class RiskExportQuery(QuerySchema):
    """Format of a cells export."""

    format = fields.String(load_default="gpkg", validate=validate.OneOf(("gpkg", "geojson")))


class RiskSummaryQuery(QuerySchema):
    """Format of a summary."""

    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))


class RiskCompareQuery(PageQuery):
    """The other run of a comparison."""

    other = fields.Integer(required=True, metadata={"description": "id of the earlier run"})
    limit = fields.Integer(load_default=1000, validate=validate.Range(1, 10_000))
