"""Input validation and output shapes for incidents, dispatches, requisitions and claims."""

from marshmallow import Schema, fields, validate

from emergency.geojson import GeometryField, SpatialInputSchema
from emergency.schemas import PageQuery, QuerySchema, SpatialPageQuery, items_schema
from emergency.vocabulary import TEAM_CATEGORIES
from incidents.models import (
    CHECKIN_KINDS,
    COMPENSATION_STATUSES,
    DISPATCH_STATUSES,
    INCIDENT_STATUSES,
    ITEM_KINDS,
)

MONEY = {"as_string": True, "places": 2}


class IncidentIn(SpatialInputSchema):
    """Body of POST /incidents."""

    title = fields.String(required=True, validate=validate.Length(1, 200))
    incident_type = fields.String(required=True, validate=validate.Length(1, 40),
                                  metadata={"example": "geological"})
    location = GeometryField(("Point",), required=True)
    occurred_at = fields.AwareDateTime(required=True)
    metrics = fields.Dict(keys=fields.String(validate=validate.Length(1, 40)), values=fields.Raw(),
                          validate=validate.Length(max=100), load_default=dict,
                          metadata={"example": {"deaths": 2, "injured": 5}})


class IncidentEvaluate(SpatialInputSchema):
    """Body of POST /incidents/evaluate: what would apply to such an incident."""

    incident_type = fields.String(required=True, validate=validate.Length(1, 40),
                                  metadata={"example": "geological"})
    location = GeometryField(("Point",), required=True)
    metrics = fields.Dict(keys=fields.String(validate=validate.Length(1, 40)), values=fields.Raw(),
                          validate=validate.Length(max=100), load_default=dict,
                          metadata={"example": {"deaths": 2, "injured": 5}})


class EvaluationOut(Schema):
    """The plan and response level that would apply (nothing is stored)."""

    plan_id = fields.Integer(allow_none=True)
    plan_title = fields.String(allow_none=True)
    plan_version = fields.Integer(allow_none=True)
    response_level = fields.Integer(allow_none=True, metadata={"description": "1..4"})
    matched = fields.List(fields.Dict())
    required_forces = fields.List(fields.Dict(), metadata={
        "description": "[{category, count}] of the level"})
    area_code = fields.String(allow_none=True)
    area_name = fields.String(allow_none=True)


class IncidentPatch(Schema):
    """Body of PATCH /incidents/{id}: new metrics are merged and the level re-evaluated.

    New metrics need a ``note`` (the reason). ``status`` moves between open and
    responding only; closing is POST /incidents/{id}/close.
    """

    title = fields.String(validate=validate.Length(1, 200))
    metrics = fields.Dict(keys=fields.String(validate=validate.Length(1, 40)), values=fields.Raw(),
                          validate=validate.Length(max=100))
    status = fields.String(validate=validate.OneOf(INCIDENT_STATUSES))
    note = fields.String(load_default="", validate=validate.Length(0, 2000),
                         metadata={"description": "reason; required with metrics"})


class IncidentClose(Schema):
    """Body of POST /incidents/{id}/close: the after-action record, every field required."""

    summary = fields.String(required=True, validate=validate.Length(1, 20000))
    dead = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10**8))
    missing = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10**8))
    injured = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10**8))
    losses_yuan = fields.Raw(required=True, metadata={
        "description": "direct economic losses in yuan, a decimal >= 0 (string or number)",
        "example": "1280000.00"})
    lessons = fields.String(required=True, validate=validate.Length(1, 20000))


class AfterActionOut(Schema):
    """The after-action record of a closed incident."""

    summary = fields.String()
    dead = fields.Integer()
    missing = fields.Integer()
    injured = fields.Integer()
    losses_yuan = fields.String(metadata={"description": "yuan, two places"})
    lessons = fields.String()
    recorded_by = fields.String()
    recorded_at = fields.String()


class IncidentTransition(Schema):
    """Body of POST /incidents/{id}/transition."""

    to = fields.String(required=True, validate=validate.OneOf(INCIDENT_STATUSES))
    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class ForceStatus(Schema):
    """Required forces of a category against what is dispatched."""

    category = fields.String()
    required = fields.Integer()
    dispatched = fields.Integer()
    missing = fields.Integer()


class IncidentOut(Schema):
    """An incident as returned."""

    id = fields.Integer()
    title = fields.String()
    incident_type = fields.String()
    status = fields.String()
    location = fields.Dict()
    area_code = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime()
    metrics = fields.Dict()
    plan_id = fields.Integer(allow_none=True)
    plan_title = fields.String(allow_none=True)
    plan_version = fields.Integer(allow_none=True)
    response_level = fields.Integer(allow_none=True)
    matched = fields.List(fields.Dict())
    required_forces = fields.List(fields.Dict())
    forces = fields.List(fields.Nested(ForceStatus))
    created_by = fields.String()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    after_action = fields.Nested(AfterActionOut, allow_none=True)
    report_due_at = fields.AwareDateTime(metadata={
        "description": "when the initial information report (首报) is or was due: "
                       "INCIDENT_REPORT_MINUTES after the incident was opened"})
    initial_report_at = fields.AwareDateTime(allow_none=True)
    report_overdue = fields.Boolean(metadata={
        "description": "no initial report and its time has passed"})
    initial_report_late = fields.Boolean()


class IncidentQuery(SpatialPageQuery):
    """Filters of GET /incidents."""

    status = fields.String(validate=validate.OneOf(INCIDENT_STATUSES))
    since = fields.AwareDateTime()
    incident_type = fields.String(validate=validate.Length(1, 40))
    report_overdue = fields.Boolean(metadata={
        "description": "true: only incidents whose initial report is overdue; false: none"})


class EventOut(Schema):
    """One timeline entry."""

    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.String()
    kind = fields.String()
    detail = fields.Dict()


TimelineOut = items_schema(EventOut, "IncidentTimeline")


class RecommendationQuery(QuerySchema):
    """Parameters of GET /incidents/{id}/recommendations."""

    category = fields.String(validate=validate.OneOf(TEAM_CATEGORIES))
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 100))
    radius_km = fields.Float(validate=validate.Range(0.1, 5000))


class RecommendedTeam(Schema):
    """A team that qualifies, with the reasons why."""

    team_id = fields.Integer()
    name = fields.String()
    category = fields.String()
    distance_km = fields.Float()
    grade = fields.Integer(allow_none=True)
    members = fields.Integer()
    insured_members = fields.Integer()
    status = fields.String()
    org_id = fields.Integer()
    service_radius_km = fields.Float()
    location = fields.Dict()
    why = fields.List(fields.String())
    warnings = fields.List(fields.String())
    fills_gap = fields.Boolean(metadata={
        "description": "its category is still missing at the incident's response level"})


class ExcludedTeam(RecommendedTeam):
    """A nearby team left out, and the reason."""

    reason = fields.String(metadata={"description": "not_approved|busy|unavailable|"
                                                    "out_of_radius|uninsured"})
    detail = fields.String()


class RecommendationsOut(Schema):
    """Recommendations: qualifying teams nearest first, and nearby teams left out."""

    incident_id = fields.Integer()
    category = fields.String(allow_none=True)
    limit = fields.Integer()
    radius_km = fields.Float(allow_none=True)
    missing_categories = fields.List(fields.String(), metadata={
        "description": "categories the response level requires and no dispatch covers yet"})
    items = fields.List(fields.Nested(RecommendedTeam))
    excluded = fields.List(fields.Nested(ExcludedTeam))


class DispatchIn(Schema):
    """Body of POST /incidents/{id}/dispatches."""

    team_id = fields.Integer(required=True, strict=True)
    task = fields.String(load_default="", validate=validate.Length(0, 2000))
    members_requested = fields.Integer(load_default=1, strict=True,
                                       validate=validate.Range(1, 10000))


class DispatchTransition(Schema):
    """Body of POST /dispatches/{id}/transition."""

    to = fields.String(required=True, validate=validate.OneOf(DISPATCH_STATUSES))
    note = fields.String(load_default="", validate=validate.Length(0, 2000), metadata={
        "description": "reason; required to decline or cancel"})


class DispatchOut(Schema):
    """A dispatch as returned, with what an inbox shows of its incident and team."""

    id = fields.Integer()
    incident_id = fields.Integer()
    incident_title = fields.String()
    incident_type = fields.String()
    incident_status = fields.String()
    response_level = fields.Integer(allow_none=True)
    incident_location = fields.Dict(metadata={"description": "GeoJSON Point, lon/lat"})
    team_id = fields.Integer()
    team_name = fields.String(allow_none=True)
    org_id = fields.Integer()
    task = fields.String()
    members_requested = fields.Integer()
    members_named = fields.Integer()
    status = fields.String()
    distance_km = fields.Decimal(allow_none=True, as_string=True)
    warnings = fields.List(fields.String())
    requested_by = fields.String()
    requested_at = fields.AwareDateTime()
    accepted_at = fields.AwareDateTime(allow_none=True)
    en_route_at = fields.AwareDateTime(allow_none=True)
    on_scene_at = fields.AwareDateTime(allow_none=True)
    ended_at = fields.AwareDateTime(allow_none=True)
    updated_at = fields.AwareDateTime(allow_none=True)
    next = fields.List(fields.String())


DispatchList = items_schema(DispatchOut, "DispatchList")


class DispatchQuery(PageQuery):
    """Filters of GET /dispatches."""

    incident_id = fields.Integer()
    status = fields.String(validate=validate.OneOf(DISPATCH_STATUSES))
    team_id = fields.Integer()
    active = fields.Boolean(metadata={"description": "1: requested, accepted, en route or "
                                                     "on scene; 0: ended"})


class MembersIn(Schema):
    """Body of POST /dispatches/{id}/members: the whole list of who goes."""

    member_ids = fields.List(fields.Integer(strict=True), required=True,
                             validate=validate.Length(0, 1000))


class DispatchMemberOut(Schema):
    """A member named on a dispatch (phone masked)."""

    member_id = fields.Integer()
    name = fields.String()
    phone_masked = fields.String()
    checked_in = fields.Boolean(metadata={"description": "on scene now"})
    hours = fields.Float(metadata={"description": "hours on scene for this dispatch"})
    named_at = fields.AwareDateTime()
    named_by = fields.String()


DispatchMemberList = items_schema(DispatchMemberOut, "DispatchMemberList")


class CheckinIn(SpatialInputSchema):
    """Body of POST /dispatches/{id}/checkins."""

    member_id = fields.Integer(required=True, strict=True)
    kind = fields.String(required=True, validate=validate.OneOf(CHECKIN_KINDS))
    location = GeometryField(("Point",), load_default=None, allow_none=True, metadata={
        "description": "where the member is (GeoJSON Point; optional when the phone "
                       "cannot tell)"})


class CheckinOut(Schema):
    """A check-in or check-out."""

    id = fields.Integer()
    dispatch_id = fields.Integer()
    member_id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    at = fields.AwareDateTime()
    location = fields.Dict(allow_none=True)
    recorded_by = fields.String()


CheckinList = items_schema(CheckinOut, "CheckinList")


class ServiceDispatch(Schema):
    """A member's hours on one dispatch."""

    dispatch_id = fields.Integer()
    incident_id = fields.Integer()
    incident_title = fields.String()
    status = fields.String()
    hours = fields.Float()


class ServiceOut(Schema):
    """A member's volunteer service hours from check-ins."""

    member_id = fields.Integer()
    name = fields.String()
    hours = fields.Float(metadata={"description": "one decimal"})
    dispatches = fields.List(fields.Nested(ServiceDispatch))


class RequisitionIn(Schema):
    """Body of POST /incidents/{id}/requisitions (legal basis and authority required: a
    requisition is a measure of kind requisition)."""

    legal_basis = fields.String(required=True, validate=validate.Length(1, 300), metadata={
        "example": "《中华人民共和国突发事件应对法》第七十六条"})
    authority = fields.String(required=True, validate=validate.Length(1, 200), metadata={
        "description": "the organ that orders the requisition"})
    owner_name = fields.String(required=True, validate=validate.Length(1, 200))
    owner_contact = fields.String(required=True, validate=validate.Length(1, 100))
    property = fields.String(required=True, validate=validate.Length(1, 300))
    quantity = fields.Decimal(required=True, places=2, validate=validate.Range(0.01, 1e9))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(load_default=None, allow_none=True)
    valuation = fields.Decimal(required=True, places=2, validate=validate.Range(0, 1e11))


class RequisitionReturn(Schema):
    """Body of POST /requisitions/{id}/return."""

    condition = fields.String(required=True,
                              validate=validate.OneOf(("intact", "damaged", "lost")))
    note = fields.String(load_default="", validate=validate.Length(0, 2000))
    returned_at = fields.AwareDateTime(load_default=None, allow_none=True)


class RequisitionOut(Schema):
    """A requisition as returned (owner contact masked)."""

    id = fields.Integer()
    incident_id = fields.Integer()
    order_number = fields.String()
    legal_basis = fields.String()
    authority = fields.String()
    owner_name = fields.String()
    owner_contact = fields.String()
    property = fields.String()
    quantity = fields.Decimal(as_string=True)
    starts_at = fields.AwareDateTime()
    ends_at = fields.AwareDateTime(allow_none=True)
    valuation = fields.Decimal(**MONEY)
    status = fields.String()
    returned_at = fields.AwareDateTime(allow_none=True)
    return_condition = fields.String(allow_none=True)
    return_note = fields.String()
    created_by = fields.String()
    created_at = fields.AwareDateTime()


RequisitionList = items_schema(RequisitionOut, "RequisitionList")


class ItemIn(Schema):
    """One claim item."""

    kind = fields.String(required=True, validate=validate.OneOf(ITEM_KINDS))
    quantity = fields.Decimal(required=True, validate=validate.Range(0.01, 1e7))
    unit_price = fields.Decimal(required=True, validate=validate.Range(0, 1e9))
    note = fields.String(load_default="", validate=validate.Length(0, 500))


class ClaimIn(Schema):
    """Body of POST /dispatches/{id}/compensation and /requisitions/{id}/compensation."""

    items = fields.List(fields.Nested(ItemIn), required=True,
                        validate=validate.Length(1, 200))


class ItemOut(Schema):
    """A claim item as returned."""

    id = fields.Integer()
    kind = fields.String()
    quantity = fields.Decimal(as_string=True)
    unit_price = fields.Decimal(**MONEY)
    amount = fields.Decimal(**MONEY)
    note = fields.String()


class ClaimOut(Schema):
    """A compensation claim as returned."""

    id = fields.Integer()
    incident_id = fields.Integer()
    incident_title = fields.String()
    dispatch_id = fields.Integer(allow_none=True)
    requisition_id = fields.Integer(allow_none=True)
    org_id = fields.Integer(allow_none=True)
    claimant = fields.String()
    total = fields.Decimal(**MONEY)
    status = fields.String()
    submitted_by = fields.String()
    submitted_at = fields.AwareDateTime()
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = fields.AwareDateTime(allow_none=True)
    review_note = fields.String()
    paid_by = fields.String(allow_none=True)
    paid_at = fields.AwareDateTime(allow_none=True)
    rejected_by = fields.String(allow_none=True, metadata={
        "description": "who rejected it, kept when it was appealed"})
    rejected_at = fields.AwareDateTime(allow_none=True)
    rejection_note = fields.String(allow_none=True)
    appeal_reason = fields.String(allow_none=True)
    appealed_by = fields.String(allow_none=True)
    appealed_at = fields.AwareDateTime(allow_none=True)
    items = fields.List(fields.Nested(ItemOut))


class ReviewIn(Schema):
    """Body of POST /compensations/{id}/review."""

    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class AppealIn(Schema):
    """Body of POST /compensations/{id}/appeal."""

    reason = fields.String(required=True, validate=validate.Length(1, 4000))


class PayIn(Schema):
    """Body of POST /compensations/{id}/pay (optional)."""

    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class LedgerQuery(PageQuery):
    """Filters of GET /compensations."""

    status = fields.String(validate=validate.OneOf(COMPENSATION_STATUSES))
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    org_id = fields.Integer()
    incident_id = fields.Integer()
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))
    limit = fields.Integer(load_default=1000, validate=validate.Range(1, 10000))


class LedgerSum(Schema):
    """Sums of one organisation or incident."""

    claimant = fields.String()
    incident = fields.String()
    claims = fields.Integer()
    total = fields.Decimal(**MONEY)
    paid = fields.Decimal(**MONEY)


class LedgerOut(Schema):
    """The compensation ledger."""

    items = fields.List(fields.Nested(ClaimOut))
    total = fields.Integer()
    sum = fields.Decimal(**MONEY)
    by_organisation = fields.List(fields.Nested(LedgerSum))
    by_incident = fields.List(fields.Nested(LedgerSum))


class PrefillItem(Schema):
    """A pre-filled claim item."""

    kind = fields.String()
    quantity = fields.Decimal(as_string=True)
    unit_price = fields.Decimal(**MONEY)
    amount = fields.Decimal(**MONEY)
    note = fields.String()


class PrefillOut(Schema):
    """Pre-filled items of a dispatch's claim from the rate table."""

    dispatch_id = fields.Integer()
    days = fields.Integer()
    members = fields.Integer()
    person_days = fields.Decimal(as_string=True, metadata={
        "description": "personnel days claimed: from check-ins, else days × members"})
    from_checkins = fields.Boolean(metadata={"description": "person_days came from check-ins"})
    rates = fields.Dict()
    items = fields.List(fields.Nested(PrefillItem))
    total = fields.Decimal(**MONEY)
