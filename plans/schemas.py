"""Input validation and output shapes for plans, versions, evaluation and drills."""

import math

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from emergency.schemas import PageQuery, QuerySchema
from emergency.vocabulary import TEAM_CATEGORIES
from plans import metrics as pm
from plans.content import METRIC_HELP, METRIC_RE
from plans.incident_types import PLAN_TYPES
from plans.models import (
    DRILL_KINDS,
    FINDING_STATUSES,
    OPERATORS,
    PLAN_KINDS,
    PLAN_STATUSES,
    VERSION_STATUSES,
)

# Metrics in one evaluation: plans name a handful; the bound keeps the work per request small.
METRICS_MAX = 100
# Sections of one plan (a county's overall plan has a few dozen).
SECTIONS_MAX = 500


def flatten(messages, prefix=""):
    """Nested marshmallow messages as ``{"a.0.b": [msgs]}``, the contract's details keys."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten(value, name))
            else:
                flat[name] = value if isinstance(value, list) else [value]
    else:
        flat[prefix or "_schema"] = messages if isinstance(messages, list) else [messages]
    return flat


class PlanFlatSchema(Schema):
    """A body schema whose errors name nested parts with dotted keys."""

    class Meta:
        unknown = RAISE

    def handle_error(self, error, data, *, many, **kwargs):
        """Re-raise with flattened messages."""
        raise ValidationError(flatten(error.messages), data=data,
                              valid_data=error.valid_data)


class MetricField(fields.String):
    """A metric's key; its Chinese or English name (死亡人数, "Deaths") is read as the key."""

    def _deserialize(self, value, attr, data, **kwargs):
        """The key of the named metric, or a lower-case identifier as it is."""
        text = super()._deserialize(value, attr, data, **kwargs)
        key = pm.resolve(text) or text.strip()
        if not METRIC_RE.match(key):
            raise ValidationError(METRIC_HELP)
        return key


class PlanCriterion(PlanFlatSchema):
    """A trigger criterion: ``metric op value``."""

    metric = MetricField(required=True, metadata={
        "example": "deaths", "description": "a metric key (GET /plans/metrics) or its name, "
                                            "e.g. 死亡人数"})
    op = fields.String(required=True, validate=validate.OneOf(OPERATORS))
    value = fields.Float(required=True, allow_nan=False, metadata={"example": 30})


class PlanAction(PlanFlatSchema):
    """A duty of a unit at a response level."""

    unit = fields.String(required=True, validate=validate.Length(1, 200))
    duty = fields.String(required=True, validate=validate.Length(1, 4000))


class PlanForce(PlanFlatSchema):
    """Teams a level requires: a registry category and a count."""

    category = fields.String(required=True, validate=validate.OneOf(TEAM_CATEGORIES))
    count = fields.Integer(required=True, strict=True, validate=validate.Range(1, 10_000))


class PlanLevel(PlanFlatSchema):
    """A response level (1 = 一级, most severe) with criteria, duties and required forces."""

    level = fields.Integer(required=True, strict=True, validate=validate.Range(1, 4))
    name = fields.String(load_default="", validate=validate.Length(0, 100))
    criteria = fields.List(fields.Nested(PlanCriterion), load_default=list,
                           validate=validate.Length(max=50))
    actions = fields.List(fields.Nested(PlanAction), load_default=list,
                          validate=validate.Length(max=200))
    required_forces = fields.List(fields.Nested(PlanForce), load_default=list,
                                  validate=validate.Length(max=50))


class PlanSection(PlanFlatSchema):
    """A section of the plan's text."""

    title = fields.String(required=True, validate=validate.Length(1, 200))
    body = fields.String(load_default="", validate=validate.Length(0, 100_000))


class PlanPatch(PlanFlatSchema):
    """Body of PATCH /plans/{id}: any of the fields of a plan."""

    title = fields.String(validate=validate.Length(1, 200))
    kind = fields.String(validate=validate.OneOf(PLAN_KINDS))
    incident_type = fields.String(validate=validate.OneOf(PLAN_TYPES))
    area_code = fields.String(validate=validate.Length(1, 12))
    owner = fields.String(validate=validate.Length(0, 200))
    parent_id = fields.Integer(allow_none=True, strict=True)
    sections = fields.List(fields.Nested(PlanSection), validate=validate.Length(max=SECTIONS_MAX))
    response_levels = fields.List(fields.Nested(PlanLevel), validate=validate.Length(max=4))
    drill_interval_months = fields.Integer(strict=True, validate=validate.Range(1, 120))
    revision_interval_months = fields.Integer(strict=True, validate=validate.Range(1, 120))

    @validates("response_levels")
    def _unique_levels(self, levels, **_kwargs):
        """Each level appears once."""
        seen = set()
        for i, level in enumerate(levels):
            number = level.get("level")
            if number in seen:
                raise ValidationError({f"{i}.level": [f"duplicate level {number}"]})
            if number is not None:
                seen.add(number)


class PlanIn(PlanPatch):
    """Body of POST /plans."""

    title = fields.String(required=True, validate=validate.Length(1, 200))
    kind = fields.String(required=True, validate=validate.OneOf(PLAN_KINDS))
    incident_type = fields.String(required=True, validate=validate.OneOf(PLAN_TYPES))
    area_code = fields.String(required=True, validate=validate.Length(1, 12))
    owner = fields.String(load_default="", validate=validate.Length(0, 200))
    parent_id = fields.Integer(load_default=None, allow_none=True, strict=True)
    sections = fields.List(fields.Nested(PlanSection), load_default=list,
                           validate=validate.Length(max=SECTIONS_MAX))
    response_levels = fields.List(fields.Nested(PlanLevel), load_default=list,
                                  validate=validate.Length(max=4))
    drill_interval_months = fields.Integer(load_default=None, allow_none=True, strict=True,
                                           validate=validate.Range(1, 120))
    revision_interval_months = fields.Integer(load_default=None, allow_none=True, strict=True,
                                              validate=validate.Range(1, 120))


class PlanOut(Schema):
    """A plan with its deadlines and the working version's content."""

    id = fields.Integer()
    title = fields.String()
    kind = fields.String()
    incident_type = fields.String()
    incident_type_label = fields.String()
    area_code = fields.String()
    owner = fields.String()
    parent_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"enum": list(PLAN_STATUSES)})
    version = fields.Integer(metadata={"description": "the working version"})
    published_version = fields.Integer(allow_none=True,
                                       metadata={"description": "the version in force"})
    in_force = fields.Boolean()
    drill_interval_months = fields.Integer()
    revision_interval_months = fields.Integer()
    first_published_at = fields.DateTime(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    last_drill_on = fields.Date(allow_none=True)
    drill_due_on = fields.Date(allow_none=True)
    drill_overdue = fields.Boolean()
    revision_due_on = fields.Date(allow_none=True)
    revision_overdue = fields.Boolean()
    filing = fields.Nested(lambda: PlanFilingOut(), allow_none=True, metadata={
        "description": "the filing (备案) of the version in force; null: not filed"})
    filing_due_on = fields.Date(allow_none=True, metadata={
        "description": "last day to file the version in force: its publication + "
                       "PLAN_FILING_DAYS"})
    filing_overdue = fields.Boolean(metadata={
        "description": "in force, not filed, and past filing_due_on"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    sections = fields.List(fields.Nested(PlanSection))
    response_levels = fields.List(fields.Nested(PlanLevel))


class PlanQuery(PageQuery):
    """Filters of GET /plans."""

    kind = fields.String(validate=validate.OneOf(PLAN_KINDS))
    incident_type = fields.String(validate=validate.OneOf(PLAN_TYPES))
    area_code = fields.String(validate=validate.Length(1, 12))
    status = fields.String(validate=validate.OneOf(PLAN_STATUSES))
    parent_id = fields.Integer()
    q = fields.String(validate=validate.Length(1, 100), metadata={"description": "title text"})
    drill_overdue = fields.Boolean()
    revision_overdue = fields.Boolean()
    in_force = fields.Boolean()
    filing_overdue = fields.Boolean(metadata={
        "description": "true: in force and not filed within PLAN_FILING_DAYS of publication"})
    filed = fields.Boolean(metadata={"description": "true: the version in force is filed; "
                                     "false: in force and not filed yet"})


class PlanFilingIn(Schema):
    """Body of POST /plans/{id}/filing."""

    authority = fields.String(required=True, validate=validate.Length(1, 200), metadata={
        "description": "the authority the plan was filed with", "example": "重庆市应急管理局"})
    filed_on = fields.Date(required=True, metadata={
        "description": "day of filing: not before publication, not in the future"})
    number = fields.String(required=True, validate=validate.Length(1, 100), metadata={
        "description": "filing number (备案编号)", "example": "渝应急备〔2026〕12号"})


class PlanFilingOut(Schema):
    """The filing of one published version."""

    version = fields.Integer()
    authority = fields.String()
    filed_on = fields.Date()
    number = fields.String()
    recorded_by = fields.String()
    recorded_at = fields.DateTime()


class PlanVersionOut(Schema):
    """A version of a plan with its content."""

    version = fields.Integer()
    status = fields.String(metadata={"enum": list(VERSION_STATUSES)})
    content = fields.Dict()
    history = fields.List(fields.Dict())
    created_at = fields.DateTime()
    published_at = fields.DateTime(allow_none=True)


class PlanDiffQuery(QuerySchema):
    """Versions to compare (default: the version in force against the working version)."""

    from_ = fields.Integer(data_key="from", validate=validate.Range(1, 100_000))
    to = fields.Integer(validate=validate.Range(1, 100_000))


class PlanDiffOut(Schema):
    """Side-by-side rows of two versions."""

    plan_id = fields.Integer()
    from_ = fields.Integer(data_key="from")
    to = fields.Integer()
    rows = fields.List(fields.Dict())


class PlanTransitionIn(PlanFlatSchema):
    """Body of POST /plans/{id}/transition."""

    to = fields.String(required=True, validate=validate.OneOf(PLAN_STATUSES))
    note = fields.String(load_default="", validate=validate.Length(0, 2000))


class PlanEvaluateIn(PlanFlatSchema):
    """Body of POST /plans/{id}/evaluate."""

    metrics = fields.Dict(keys=fields.String(validate=validate.Length(1, 40)),
                          values=fields.Raw(), required=True,
                          validate=validate.Length(max=METRICS_MAX))

    @validates("metrics")
    def _numbers(self, metrics, **_kwargs):
        """Every metric is a finite number."""
        bad = {name: ["must be a number"] for name, value in metrics.items()
               if not isinstance(value, int | float) or isinstance(value, bool)
               or not math.isfinite(value)}
        if bad:
            raise ValidationError(bad)


class PlanMatchedOut(Schema):
    """A criterion that held."""

    level = fields.Integer()
    metric = fields.String()
    op = fields.String()
    value = fields.Float()
    actual = fields.Float()


class PlanEvaluateOut(Schema):
    """The response level for the metrics (null when none applies)."""

    level = fields.Integer(allow_none=True)
    matched = fields.List(fields.Nested(PlanMatchedOut))
    plan_id = fields.Integer()
    version = fields.Integer()
    required_forces = fields.List(fields.Nested(PlanForce))


class DrillFindingIn(PlanFlatSchema):
    """A drill finding and its corrective action."""

    description = fields.String(required=True, validate=validate.Length(1, 4000))
    corrective_action = fields.String(load_default="", validate=validate.Length(0, 4000))
    owner = fields.String(load_default="", validate=validate.Length(0, 200))
    status = fields.String(load_default="open", validate=validate.OneOf(FINDING_STATUSES))
    due_on = fields.Date(load_default=None, allow_none=True)


class DrillFindingPatch(PlanFlatSchema):
    """Changes to a finding."""

    corrective_action = fields.String(validate=validate.Length(0, 4000))
    owner = fields.String(validate=validate.Length(0, 200))
    status = fields.String(validate=validate.OneOf(FINDING_STATUSES))
    due_on = fields.Date(allow_none=True)


class DrillFindingOut(DrillFindingIn):
    """A finding as returned."""

    id = fields.Integer()
    drill_id = fields.Integer()
    updated_at = fields.DateTime()


class FindingsField(fields.Field):
    """Findings: a text, a list of texts, or a list of finding objects."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Normalise to a list of finding dicts, validated."""
        if isinstance(value, str):
            value = [value] if value.strip() else []
        if not isinstance(value, list):
            raise ValidationError("text or a list of findings")
        if len(value) > 200:
            raise ValidationError("at most 200 findings")
        out, problems = [], {}
        for i, item in enumerate(value):
            if isinstance(item, str):
                item = {"description": item}
            try:
                out.append(DrillFindingIn().load(item))
            except ValidationError as exc:
                problems.update(flatten(exc.messages, str(i)))
        if problems:
            raise ValidationError(problems)
        return out


class DrillIn(PlanFlatSchema):
    """Body of POST /plans/{id}/drills."""

    held_on = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(DRILL_KINDS))
    team_ids = fields.List(fields.Integer(strict=True, validate=validate.Range(1)),
                           load_default=list, validate=validate.Length(max=200))
    findings = FindingsField(load_default=list, metadata={
        "description": "text, a list of texts, or [{description, corrective_action, owner, "
                       "status, due_on}]"})
    title = fields.String(load_default="", validate=validate.Length(0, 200))
    scenario = fields.String(load_default="", validate=validate.Length(0, 10_000))
    location = fields.String(load_default="", validate=validate.Length(0, 200))
    participants = fields.Integer(load_default=None, allow_none=True, strict=True,
                                  validate=validate.Range(0, 1_000_000))


class DrillTeamRef(Schema):
    """A registry team taking part."""

    id = fields.Integer()
    name = fields.String(allow_none=True)
    category = fields.String(allow_none=True)


class DrillOut(Schema):
    """A drill with its teams and findings."""

    id = fields.Integer()
    plan_id = fields.Integer()
    plan_version = fields.Integer(allow_none=True)
    held_on = fields.Date()
    kind = fields.String()
    title = fields.String()
    scenario = fields.String()
    location = fields.String()
    participants = fields.Integer(allow_none=True)
    team_ids = fields.List(fields.Integer())
    teams = fields.List(fields.Nested(DrillTeamRef))
    findings = fields.List(fields.Nested(DrillFindingOut))
    created_at = fields.DateTime()


class DrillQuery(PageQuery):
    """Paging of a plan's drills."""


class PlanIncidentTypeOut(Schema):
    """An incident type or category with its labels."""

    key = fields.String()
    category = fields.String(allow_none=True)
    label_zh = fields.String()
    label_en = fields.String()


class PickQuery(QuerySchema):
    """A picker's query: the typed text (name, pinyin initials or id) and how many."""

    q = fields.String(load_default="", validate=validate.Length(0, 80))
    limit = fields.Integer(load_default=10, validate=validate.Range(1, 20))


class TeamPickQuery(PickQuery):
    """Query of GET /pick/teams."""

    category = fields.String(validate=validate.OneOf(TEAM_CATEGORIES))


class PickChoice(Schema):
    """One choice of a picker: ``value`` goes into the form, ``label`` and ``hint`` are shown."""

    value = fields.String()
    label = fields.String()
    hint = fields.String()
    id = fields.Integer()
    key = fields.String()
    name = fields.String()
    unit = fields.String()
    aliases = fields.List(fields.String())
    category = fields.String()
    status = fields.String()
    org_id = fields.Integer()
    org_name = fields.String()
    skills = fields.List(fields.String())
