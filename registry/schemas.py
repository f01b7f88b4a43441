"""Input validation and output shapes of the registry API."""

from flask import current_app, has_app_context
from marshmallow import Schema, ValidationError, fields, validate

from emergency.geojson import GeometryField, SpatialInputSchema
from emergency.schemas import PageQuery, QuerySchema, SpatialPageQuery, items_schema
from emergency.vocabulary import TEAM_CATEGORIES
from registry import validators as v
from registry.models import ORG_STATUSES, TEAM_STATUSES

POINT = ("Point",)
# Bounds of list fields: far above any real team, far below what costs the server.
MAX_SKILLS = 50
MAX_CERTIFICATES = 50
MAX_EQUIPMENT = 500
MAX_TRAINING_TEAMS = 200
MAX_TRAINING_MEMBERS = 5000


def served_bbox():
    """The configured served region, or China's extent outside a request."""
    return current_app.config["SERVED_BBOX"] if has_app_context() else v.CHINA_BBOX


class ServedPoint(GeometryField):
    """A GeoJSON Point inside the served region (SERVED_BBOX); a swapped lon/lat is named."""

    def __init__(self, **kwargs):
        super().__init__(POINT, **kwargs)
        self.metadata["description"] = ("GeoJSON Point [longitude, latitude] inside the served "
                                        "region (SERVED_BBOX)")

    def _deserialize(self, value, attr, data, **kwargs):
        """Parse the point, then place it (before any CRS shift of a few hundred metres)."""
        try:
            point = super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            swapped = _swapped(value)
            if swapped:  # latitude first reads as a latitude above 90 in China
                raise ValidationError(swapped) from None
            raise
        problem = v.location_problem(point.x, point.y, served_bbox())
        if problem:
            raise ValidationError(problem)
        return point


def _swapped(value):
    """The 'swapped' message for [lat, lon] coordinates of the served region, else None."""
    try:
        lon, lat = (float(c) for c in value["coordinates"][:2])
    except (TypeError, ValueError, KeyError, IndexError, OverflowError):
        return None
    if v.looks_swapped(lon, lat, served_bbox()):
        return v.location_problem(lon, lat, served_bbox())
    return None


class OrgIn(SpatialInputSchema):
    """Body of POST /orgs (self-registration)."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    credit_code = fields.String(required=True, validate=validate.Length(1, 40),
                                metadata={"description": "18-character unified social credit "
                                          "code; its GB 32100 check character is verified",
                                          "example": "52500000MJP2817213"})
    contact_name = fields.String(required=True, validate=validate.Length(1, 100))
    contact_phone = fields.String(required=True, validate=validate.Length(1, 20),
                                  metadata={"example": "13812345678"})
    address = fields.String(load_default="", validate=validate.Length(0, 300))
    location = ServedPoint(required=True)


class OrgPatch(SpatialInputSchema):
    """Body of PATCH /orgs/{id}: any of the registration fields."""

    name = fields.String(validate=validate.Length(1, 200))
    credit_code = fields.String(validate=validate.Length(1, 40))
    contact_name = fields.String(validate=validate.Length(1, 100))
    contact_phone = fields.String(validate=validate.Length(1, 20))
    address = fields.String(validate=validate.Length(0, 300))
    location = ServedPoint()


class OrgOut(Schema):
    """An organisation as returned (contact phone masked)."""

    id = fields.Integer()
    name = fields.String()
    credit_code = fields.String()
    contact_name = fields.String()
    contact_phone = fields.String(metadata={"example": "138****5678"})
    address = fields.String()
    area_code = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "|".join(ORG_STATUSES)})
    review_note = fields.String()
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    verify_by = fields.Date(allow_none=True, metadata={"description": "annual re-verification"})
    reverification_due = fields.Boolean()
    submitted_at = fields.DateTime()
    team_count = fields.Integer()
    location = fields.Raw()


class OrgQuery(PageQuery):
    """Filters of GET /orgs."""

    status = fields.String(validate=validate.OneOf(ORG_STATUSES))
    q = fields.String(validate=validate.Length(1, 100))
    area_code = fields.String(validate=validate.Length(1, 12))
    reverification_due = fields.Boolean()


class OrgReviewIn(Schema):
    """Body of POST /orgs/{id}/review."""

    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class OrgBatchReviewIn(OrgReviewIn):
    """Body of POST /orgs/review: one decision on several submitted registrations."""

    ids = fields.List(fields.Integer(validate=validate.Range(1)), required=True,
                      validate=validate.Length(1, 200))


class OrgResubmitIn(Schema):
    """Body of POST /orgs/{id}/resubmit."""

    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class TeamEquipmentIn(Schema):
    """One equipment line of a team."""

    type = fields.String(required=True, validate=validate.Length(1, 100))
    quantity = fields.Integer(required=True, validate=validate.Range(0, 1_000_000))


class TeamIn(SpatialInputSchema):
    """Body of POST /orgs/{id}/teams."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    category = fields.String(required=True, validate=validate.OneOf(TEAM_CATEGORIES))
    location = ServedPoint(required=True)
    service_radius_km = fields.Float(load_default=50, validate=validate.Range(0.1, 1000))
    equipment = fields.List(fields.Nested(TeamEquipmentIn), load_default=list,
                            validate=validate.Length(max=MAX_EQUIPMENT))
    grade = fields.Integer(allow_none=True, validate=validate.OneOf((1, 2, 3)),
                           metadata={"description": "official grade, 1 is the highest"})
    graded_on = fields.Date(allow_none=True)


class TeamPatch(SpatialInputSchema):
    """Body of PATCH /teams/{id}."""

    name = fields.String(validate=validate.Length(1, 200))
    category = fields.String(validate=validate.OneOf(TEAM_CATEGORIES))
    status = fields.String(validate=validate.OneOf(TEAM_STATUSES))
    location = ServedPoint()
    service_radius_km = fields.Float(validate=validate.Range(0.1, 1000))
    equipment = fields.List(fields.Nested(TeamEquipmentIn),
                            validate=validate.Length(max=MAX_EQUIPMENT))
    grade = fields.Integer(allow_none=True, validate=validate.OneOf((1, 2, 3)))
    graded_on = fields.Date(allow_none=True)


class ReadinessOut(Schema):
    """Readiness of a team today."""

    members = fields.Integer()
    insured_members = fields.Integer()
    valid_certificates = fields.Integer()


class TeamOut(Schema):
    """A team as returned."""

    id = fields.Integer()
    org_id = fields.Integer()
    org_name = fields.String()
    org_status = fields.String()
    name = fields.String()
    category = fields.String()
    status = fields.String()
    grade = fields.Integer(allow_none=True)
    graded_on = fields.Date(allow_none=True)
    service_radius_km = fields.Float()
    equipment = fields.List(fields.Dict())
    readiness = fields.Nested(ReadinessOut)
    location = fields.Raw()


class TeamQuery(SpatialPageQuery):
    """Filters of GET /teams."""

    category = fields.String(validate=validate.OneOf(TEAM_CATEGORIES))
    status = fields.String(validate=validate.OneOf(TEAM_STATUSES))
    org_id = fields.Integer()


class CertificateIn(Schema):
    """A certificate of a member."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    number = fields.String(load_default="", validate=validate.Length(0, 100))
    expires_on = fields.Date(load_default=None, allow_none=True)


class MemberIn(Schema):
    """Body of POST /teams/{id}/members."""

    name = fields.String(required=True, validate=validate.Length(1, 100))
    id_number = fields.String(required=True, validate=validate.Length(1, 40),
                              metadata={"description": "18-digit resident ID (GB 11643)"})
    phone = fields.String(required=True, validate=validate.Length(1, 20),
                          metadata={"description": "11-digit mainland mobile number"})
    skills = fields.List(fields.String(validate=validate.Length(1, 100)), load_default=list,
                         validate=validate.Length(max=MAX_SKILLS))
    certificates = fields.List(fields.Nested(CertificateIn), load_default=list,
                               validate=validate.Length(max=MAX_CERTIFICATES))


class MemberPatch(Schema):
    """Body of PATCH /members/{id}: any of the fields, to correct a member's data."""

    name = fields.String(validate=validate.Length(1, 100))
    id_number = fields.String(validate=validate.Length(1, 40),
                              metadata={"description": "18-digit resident ID (GB 11643)"})
    phone = fields.String(validate=validate.Length(1, 20),
                          metadata={"description": "11-digit mainland mobile number"})
    skills = fields.List(fields.String(validate=validate.Length(1, 100)),
                         validate=validate.Length(max=MAX_SKILLS))


class MemberCertificateOut(Schema):
    """A certificate inside a member, valid today or not."""

    id = fields.Integer()
    name = fields.String()
    number = fields.String()
    expires_on = fields.Date(allow_none=True)
    valid = fields.Boolean()


class MemberInsuranceOut(Schema):
    """An insurance policy inside a member, active today or not."""

    id = fields.Integer()
    insurer = fields.String()
    policy_number = fields.String()
    starts_on = fields.Date()
    ends_on = fields.Date()
    coverage_amount = fields.String(metadata={"example": "500000.00"})
    active = fields.Boolean()


class MemberOut(Schema):
    """A member as returned: ID number and phone masked unless revealed."""

    id = fields.Integer()
    team_id = fields.Integer()
    org_id = fields.Integer()
    name = fields.String()
    id_number = fields.String(metadata={"example": "500103********123X"})
    phone = fields.String(metadata={"example": "138****5678"})
    skills = fields.List(fields.String())
    certificates = fields.List(fields.Nested(MemberCertificateOut))
    insurance = fields.List(fields.Nested(MemberInsuranceOut))
    insured_today = fields.Boolean()
    valid_certificates = fields.Integer()
    training_hours_this_year = fields.String()
    revealed = fields.Boolean()
    also_serves = fields.List(fields.Dict(), metadata={"description": "bureau roles only"})
    duplicate_person = fields.Boolean()


MemberList = items_schema(MemberOut, "MemberList")
OrgList = items_schema(OrgOut, "OrgList")


class RevealQuery(QuerySchema):
    """``?reveal=1`` unmasks personal data for allowed roles (audited)."""

    reveal = fields.Boolean(load_default=False)


class JobQuery(QuerySchema):
    """``async=1``: import in a background job, answer 202 with the job."""

    run_async = fields.Boolean(load_default=False, data_key="async", metadata={
        "description": "true: queue the work as a job and answer 202 with the job (follow "
                       "it at its url; its result counts the members, or lists bad rows)"})


class MemberQuery(PageQuery, RevealQuery):
    """Paging and reveal for a team's members."""


class InsuranceIn(Schema):
    """Body of POST /members/{id}/insurance."""

    insurer = fields.String(required=True, validate=validate.Length(1, 200))
    policy_number = fields.String(required=True, validate=validate.Length(1, 100))
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    coverage_amount = fields.Decimal(required=True, places=2, as_string=True,
                                     validate=validate.Range(0, 10**11, min_inclusive=False))


class InsuranceOut(InsuranceIn):
    """An insurance policy as returned."""

    id = fields.Integer()
    member_id = fields.Integer()


class CertificateOut(CertificateIn):
    """A certificate as returned."""

    id = fields.Integer()
    member_id = fields.Integer()


class TrainingIn(Schema):
    """Body of POST /trainings."""

    held_on = fields.Date(required=True)
    hours = fields.Decimal(required=True, places=1, as_string=True)
    topic = fields.String(required=True, validate=validate.Length(1, 200))
    team_ids = fields.List(fields.Integer(), required=True,
                           validate=validate.Length(1, MAX_TRAINING_TEAMS))
    member_ids = fields.List(fields.Integer(), load_default=list,
                             validate=validate.Length(max=MAX_TRAINING_MEMBERS))
    with_professional = fields.Boolean(load_default=False,
                                       metadata={"description": "professional teams took part"})
    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class TrainingOut(TrainingIn):
    """A training session as returned."""

    id = fields.Integer()


TrainingList = items_schema(TrainingOut, "TrainingList")


class TrainingQuery(PageQuery):
    """Filters of GET /trainings."""

    team_id = fields.Integer()
    year = fields.Integer(validate=validate.Range(2000, 2100))


class ExpiringQuery(QuerySchema):
    """``days`` ahead for GET /registry/expiring."""

    days = fields.Integer(load_default=30, validate=validate.Range(1, 366))
    org_id = fields.Integer()


class PersonLookupIn(Schema):
    """Body of POST /registry/person-lookup."""

    id_number = fields.String(required=True, validate=validate.Length(1, 40))


class RosterImportResult(Schema):
    """Result of a roster import."""

    imported = fields.Integer()


class ExpiringItem(Schema):
    """An insurance policy or certificate about to end."""

    id = fields.Integer()
    member_id = fields.Integer()
    member_name = fields.String()
    team_id = fields.Integer()
    team_name = fields.String()
    org_id = fields.Integer()
    insurer = fields.String()
    policy_number = fields.String()
    name = fields.String()
    number = fields.String()
    ends_on = fields.Date()
    expires_on = fields.Date()


class ExpiringOut(Schema):
    """Insurance and certificates ending within ``days``."""

    days = fields.Integer()
    insurance = fields.List(fields.Nested(ExpiringItem))
    certificates = fields.List(fields.Nested(ExpiringItem))


class PersonLookupOut(Schema):
    """Memberships of one person."""

    items = fields.List(fields.Dict())
