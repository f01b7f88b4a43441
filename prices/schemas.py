"""Input validation and output shapes of prices: observations, imports, alerts, series,
commodities and complaints."""


from marshmallow import Schema, fields, validate

from emergency.geojson import GeometryField, SpatialInputSchema
from emergency.schemas import PageQuery, QuerySchema, SpatialPageQuery
from prices.models import COMPLAINT_KINDS, COMPLAINT_SOURCES, STATUSES

CODE = validate.Length(1, 32)
AREA = validate.Length(1, 12)


class ObservationIn(Schema):
    """Body of POST /prices/observations."""

    commodity = fields.String(required=True, validate=CODE, metadata={
        "description": "catalogue key (GET /prices/commodities), e.g. rice",
        "example": "rice"})
    unit = fields.String(load_default="", validate=validate.Length(0, 16), metadata={
        "description": "the commodity's unit (optional; another unit is refused)",
        "example": "kg"})
    market = fields.String(required=True, validate=validate.Length(1, 100), metadata={
        "description": "market or store where the price was seen", "example": "菜园坝市场"})
    area_code = fields.String(required=True, validate=AREA, metadata={
        "description": "code of the area (usually the district) of the market",
        "example": "500103"})
    observed_on = fields.Date(required=True, metadata={"description": "day of the price "
                                                       "(Beijing time)"})
    price = fields.String(required=True, validate=validate.Length(1, 20), metadata={
        "description": "price in yuan per unit, > 0, at most two places", "example": "6.58"})


class AlertRef(Schema):
    """An alert raised or brought up to date by stored prices."""

    id = fields.Integer()
    commodity = fields.String()
    area_code = fields.String()
    ratio = fields.Float()
    raised = fields.Boolean(metadata={"description": "true: newly raised; false: updated"})


class ObservationOut(Schema):
    """An observation as stored."""

    id = fields.Integer()
    commodity = fields.String()
    unit = fields.String()
    market = fields.String()
    area_code = fields.String()
    observed_on = fields.Date()
    price = fields.String(metadata={"description": "yuan, two places"})
    created_at = fields.AwareDateTime()
    alerts = fields.List(fields.Nested(AlertRef), metadata={
        "description": "alerts this price raised or updated"})


class ObservationQuery(PageQuery):
    """Filters of GET /prices/observations."""

    commodity = fields.String(validate=CODE)
    area_code = fields.String(validate=AREA, metadata={"description": "this area and those "
                                                       "below it"})
    market = fields.String(validate=validate.Length(1, 100))
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class ObservationList(Schema):
    """A page of observations."""

    items = fields.List(fields.Nested(ObservationOut))
    total = fields.Integer()


class ImportOut(Schema):
    """What an import stored."""

    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer(metadata={"description": "existing keys whose price changed"})
    unchanged = fields.Integer(metadata={"description": "existing keys, same price"})
    alerts = fields.List(fields.Nested(AlertRef))


class AlertQuery(PageQuery):
    """Filters of GET /prices/alerts."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    area_code = fields.String(validate=AREA, metadata={"description": "this area and those "
                                                       "below it"})
    commodity = fields.String(validate=CODE)


class StepOut(Schema):
    """One recorded step of an alert."""

    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    actor = fields.String()
    at = fields.AwareDateTime()
    note = fields.String()


class AlertOut(Schema):
    """A price alert."""

    id = fields.Integer()
    commodity = fields.String()
    commodity_name = fields.String()
    unit = fields.String()
    area_code = fields.String()
    area_name = fields.String()
    baseline = fields.String(metadata={"description": "yuan, two places: median of the "
                                       "daily prices of the baseline days"})
    latest = fields.String(metadata={"description": "yuan: the latest daily price"})
    ratio = fields.Float(metadata={"description": "rise over the baseline (0.27 = 27 %)"})
    threshold = fields.Float(metadata={"description": "the alert ratio in force"})
    baseline_days = fields.Integer()
    latest_on = fields.Date()
    status = fields.String()
    raised_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    note = fields.String()
    next_steps = fields.List(fields.String())
    steps = fields.List(fields.Nested(StepOut))


class AlertList(Schema):
    """A page of alerts."""

    items = fields.List(fields.Nested(AlertOut))
    total = fields.Integer()


class TransitionIn(Schema):
    """Body of POST /prices/alerts/{id}/transition."""

    to = fields.String(required=True, validate=validate.OneOf(
        ("acknowledged", "referred", "closed")))
    note = fields.String(load_default="", validate=validate.Length(0, 4000), metadata={
        "description": "required for referred (to market regulation) and closed"})


class ImportJobQuery(QuerySchema):
    """``async=1`` on the import: do it in a background job, answer 202 with the job."""

    run_async = fields.Boolean(load_default=False, data_key="async", metadata={
        "description": "true: keep the file, queue the import as a job and answer 202 with "
                       "the job (follow it at its url; its result counts the rows, or its "
                       "error lists the bad rows)"})


class SeriesQuery(QuerySchema):
    """Query of GET /prices/series."""

    commodity = fields.String(required=True, validate=CODE)
    area_code = fields.String(required=True, validate=AREA)
    from_ = fields.Date(data_key="from", metadata={"description": "first day (default: 89 "
                                                   "days before 'to')"})
    to = fields.Date(metadata={"description": "last day (default: the latest observed)"})


class SeriesDay(Schema):
    """One day of a series."""

    day = fields.Date()
    price = fields.String(metadata={"description": "median over markets, yuan"})
    low = fields.String()
    high = fields.String()
    markets = fields.Integer()
    baseline = fields.String(allow_none=True, metadata={
        "description": "median of the daily prices of the baseline days before this day"})
    limit = fields.String(allow_none=True, metadata={
        "description": "baseline x (1 + alert ratio): above it a price is abnormal"})


class SeriesOut(Schema):
    """The daily series of a commodity in an area and its baseline."""

    commodity = fields.String()
    commodity_name = fields.String()
    unit = fields.String()
    area_code = fields.String()
    area_name = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    baseline_days = fields.Integer()
    alert_ratio = fields.Float()
    open_alert_id = fields.Integer(allow_none=True)
    days = fields.List(fields.Nested(SeriesDay))


class CommodityIn(Schema):
    """Body of PUT /prices/commodities/{code}."""

    name = fields.String(load_default=None, validate=validate.Length(1, 60))
    name_en = fields.String(load_default=None, validate=validate.Length(0, 60))
    unit = fields.String(load_default=None, validate=validate.Length(1, 16))
    baseline_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                   validate=validate.Range(1, 365), metadata={
                                       "description": "null: PRICE_BASELINE_DAYS"})
    alert_ratio = fields.Float(load_default=None, allow_none=True, allow_nan=False,
                               validate=validate.Range(0, 10, min_inclusive=False), metadata={
                                   "description": "a fraction (0.2 = 20 %); null: "
                                   "PRICE_ALERT_RATIO"})
    active = fields.Boolean(load_default=True)


class CommodityOut(Schema):
    """A commodity of the catalogue with its effective thresholds."""

    code = fields.String()
    name = fields.String()
    name_en = fields.String()
    unit = fields.String()
    baseline_days = fields.Integer()
    alert_ratio = fields.Float()
    own_baseline_days = fields.Integer(allow_none=True)
    own_alert_ratio = fields.Float(allow_none=True)
    builtin = fields.Boolean()
    active = fields.Boolean()


class CommodityList(Schema):
    """The catalogue."""

    items = fields.List(fields.Nested(CommodityOut))
    total = fields.Integer()


class ComplaintIn(SpatialInputSchema):
    """Body of POST /prices/complaints."""

    kind = fields.String(required=True, validate=validate.OneOf(COMPLAINT_KINDS), metadata={
        "description": "|".join(COMPLAINT_KINDS) +
        " (哄抬价格/囤积居奇/散布涨价谣言/假冒伪劣/其他)"})
    source = fields.String(load_default="hotline", validate=validate.OneOf(COMPLAINT_SOURCES))
    commodity = fields.String(load_default=None, allow_none=True, validate=CODE)
    place = fields.String(load_default="", validate=validate.Length(0, 200))
    description = fields.String(required=True, validate=validate.Length(1, 4000))
    received_on = fields.Date(load_default=None)
    location = GeometryField(("Point",), required=True)


class ComplaintOut(Schema):
    """A complaint as stored."""

    id = fields.Integer()
    kind = fields.String()
    source = fields.String()
    commodity = fields.String(allow_none=True)
    place = fields.String()
    description = fields.String()
    area_code = fields.String(allow_none=True)
    received_on = fields.Date()
    created_by = fields.String()
    created_at = fields.AwareDateTime()
    location = fields.Raw()


class ComplaintQuery(SpatialPageQuery):
    """Filters of GET /prices/complaints."""

    kind = fields.String(validate=validate.OneOf(COMPLAINT_KINDS))
    commodity = fields.String(validate=CODE)
    area_code = fields.String(validate=AREA)
    since = fields.Date(metadata={"description": "received on or after this day"})


