"""Input validation and output shapes for officials, courses, attendance and compliance."""

from marshmallow import Schema, fields, validate

from emergency.schemas import PageQuery, QuerySchema
from plans.training.models import MANDATORY_FOR, TOPICS

HOURS = validate.Range(min=0, max=1000, min_inclusive=False,
                       error="more than 0 and at most 1000")


class OfficialIn(Schema):
    """Body of POST /officials."""

    name = fields.String(required=True, validate=validate.Length(1, 100),
                         metadata={"example": "张明"})
    department = fields.String(required=True, validate=validate.Length(1, 200),
                               metadata={"example": "渝中区应急管理局"})
    position = fields.String(load_default="", validate=validate.Length(0, 100),
                             metadata={"example": "局长"})
    area_code = fields.String(load_default=None, allow_none=True,
                              validate=validate.Length(1, 12),
                              metadata={"description": "area of the department",
                                        "example": "500103"})
    leader = fields.Boolean(load_default=False,
                            metadata={"description": "a leading official (领导干部)"})


class OfficialPatch(Schema):
    """Body of PATCH /officials/{id}: any of the fields; ``active: false`` when they leave."""

    name = fields.String(validate=validate.Length(1, 100))
    department = fields.String(validate=validate.Length(1, 200))
    position = fields.String(validate=validate.Length(0, 100))
    area_code = fields.String(allow_none=True, validate=validate.Length(1, 12))
    leader = fields.Boolean()
    active = fields.Boolean()


class OfficialOut(Schema):
    """An official."""

    id = fields.Integer()
    name = fields.String()
    department = fields.String()
    position = fields.String()
    area_code = fields.String(allow_none=True)
    area_name = fields.String(allow_none=True)
    leader = fields.Boolean()
    active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class OfficialQuery(PageQuery):
    """Filters of GET /officials."""

    department = fields.String(validate=validate.Length(1, 200))
    area_code = fields.String(validate=validate.Length(1, 12))
    leader = fields.Boolean()
    active = fields.Boolean(load_default=True, metadata={
        "description": "true (default): in post; false: those who left"})
    q = fields.String(validate=validate.Length(1, 100),
                      metadata={"description": "name, department or position contains"})


class CourseIn(Schema):
    """Body of POST /courses."""

    title = fields.String(required=True, validate=validate.Length(1, 200),
                          metadata={"example": "《中华人民共和国突发事件应对法》专题学习"})
    topic = fields.String(required=True, validate=validate.OneOf(TOPICS),
                          metadata={"description": "|".join(TOPICS)})
    hours = fields.Decimal(required=True, places=1, allow_nan=False, validate=HOURS,
                           metadata={"description": "class hours (one decimal place)",
                                     "example": 4})
    mandatory_for = fields.String(load_default=None, allow_none=True,
                                  validate=validate.OneOf(MANDATORY_FOR), metadata={
                                      "description": "leaders|all: to be passed every "
                                                     "calendar year; null: optional"})
    description = fields.String(load_default="", validate=validate.Length(0, 4000))


class CoursePatch(Schema):
    """Body of PATCH /courses/{id}; ``active: false`` retires the course."""

    title = fields.String(validate=validate.Length(1, 200))
    topic = fields.String(validate=validate.OneOf(TOPICS))
    hours = fields.Decimal(places=1, allow_nan=False, validate=HOURS)
    mandatory_for = fields.String(allow_none=True, validate=validate.OneOf(MANDATORY_FOR))
    description = fields.String(validate=validate.Length(0, 4000))
    active = fields.Boolean()


class CourseOut(Schema):
    """A course."""

    id = fields.Integer()
    title = fields.String()
    topic = fields.String()
    hours = fields.Float()
    mandatory_for = fields.String(allow_none=True)
    description = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CourseQuery(PageQuery):
    """Filters of GET /courses."""

    topic = fields.String(validate=validate.OneOf(TOPICS))
    mandatory_for = fields.String(validate=validate.OneOf((*MANDATORY_FOR, "none")))
    active = fields.Boolean(load_default=True)


class AttendanceIn(Schema):
    """Body of POST /courses/{id}/attendance."""

    official_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(1)),
                               required=True, validate=validate.Length(1, 2000),
                               metadata={"description": "officials who attended"})
    held_on = fields.Date(required=True, metadata={"description": "day of the session"})
    passed = fields.Boolean(load_default=True,
                            metadata={"description": "they passed the assessment"})


class AttendanceOut(Schema):
    """One attendance."""

    id = fields.Integer()
    course_id = fields.Integer()
    official_id = fields.Integer()
    official_name = fields.String()
    department = fields.String()
    held_on = fields.Date()
    passed = fields.Boolean()
    source = fields.String(metadata={"description": "form|import"})
    recorded_by = fields.String()
    created_at = fields.DateTime()


class AttendanceResult(Schema):
    """What recording attendance did."""

    created = fields.Integer()
    updated = fields.Integer(metadata={"description": "rows whose passed changed"})
    unchanged = fields.Integer(metadata={"description": "already recorded (a retry)"})
    items = fields.List(fields.Nested(AttendanceOut))


class AttendanceQuery(PageQuery):
    """Filters of GET /courses/{id}/attendance."""

    limit = fields.Integer(load_default=200, validate=validate.Range(1, 5000))
    year = fields.Integer(validate=validate.Range(2000, 2100))
    official_id = fields.Integer(validate=validate.Range(1))


class ComplianceQuery(QuerySchema):
    """Filters of GET /training/compliance."""

    year = fields.Integer(validate=validate.Range(2000, 2100),
                          metadata={"description": "calendar year (default: this year)"})
    department = fields.String(validate=validate.Length(1, 200))
    area_code = fields.String(validate=validate.Length(1, 12))
    leader = fields.Boolean()
    q = fields.String(validate=validate.Length(1, 100))
    missing_only = fields.Boolean(load_default=False, metadata={
        "description": "only officials still missing a mandatory course"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx")))
    limit = fields.Integer(load_default=1000, validate=validate.Range(1, 100_000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class CourseRef(Schema):
    """A course named in a compliance row."""

    id = fields.Integer()
    title = fields.String()
    mandatory_for = fields.String(allow_none=True)
    hours = fields.Float()


class ComplianceRow(Schema):
    """One official's year."""

    official_id = fields.Integer()
    name = fields.String()
    department = fields.String()
    position = fields.String()
    area_code = fields.String(allow_none=True)
    area_name = fields.String(allow_none=True)
    leader = fields.Boolean()
    hours = fields.Float(metadata={"description": "class hours attended in the year"})
    sessions = fields.Integer()
    required = fields.List(fields.Nested(CourseRef))
    missing = fields.List(fields.Nested(CourseRef), metadata={
        "description": "mandatory courses not passed in the year"})
    compliant = fields.Boolean()


class DepartmentRow(Schema):
    """One department's year (or all, in ``summary``)."""

    department = fields.String()
    officials = fields.Integer()
    compliant = fields.Integer()
    non_compliant = fields.Integer()
    leaders = fields.Integer()
    leaders_missing = fields.Integer(metadata={
        "description": "leaders missing a course mandatory for leaders"})
    hours = fields.Float()
    average_hours = fields.Float()
    rate = fields.Float(allow_none=True, metadata={"description": "compliant / officials"})


class ComplianceOut(Schema):
    """Compliance per official and per department."""

    year = fields.Integer()
    mandatory = fields.List(fields.Nested(CourseRef))
    items = fields.List(fields.Nested(ComplianceRow))
    total = fields.Integer()
    departments = fields.List(fields.Nested(DepartmentRow))
    summary = fields.Nested(DepartmentRow)


class ImportResult(AttendanceResult):
    """What importing a sign-in sheet did."""
