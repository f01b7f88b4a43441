"""Input validation and output shapes of incident information reports."""

from marshmallow import Schema, fields, validate

from incidents.reports.models import REPORT_KINDS

COUNT = {"required": True, "strict": True, "validate": validate.Range(0, 10**8)}


class ReportIn(Schema):
    """Body of POST /incidents/{id}/reports."""

    kind = fields.String(required=True, validate=validate.OneOf(REPORT_KINDS),
                         metadata={"description": "initial (首报), follow_up (续报) or final "
                                                  "(终报; the incident must be closed)"})
    body = fields.String(required=True, validate=validate.Length(1, 20000))
    dead = fields.Integer(**COUNT)
    missing = fields.Integer(**COUNT)
    injured = fields.Integer(**COUNT)
    losses_yuan = fields.Raw(load_default=None, allow_none=True, metadata={
        "description": "direct economic losses in yuan, a decimal >= 0 (string or number); "
                       "null while still being assessed", "example": "1280000.00"})
    unit = fields.String(load_default=None, allow_none=True, validate=validate.Length(0, 200),
                         metadata={"description": "reporting unit (报送单位); default: the "
                                                  "bureau of the incident's district"})
    signer = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(0, 100),
                           metadata={"description": "who signed it off (签发人); default: "
                                                    "the user's display name"})


class ReportOut(Schema):
    """A report as returned."""

    id = fields.Integer()
    incident_id = fields.Integer()
    kind = fields.String()
    seq = fields.Integer(metadata={"description": "place in the series; 1 is the initial"})
    follow_up_number = fields.Integer(allow_none=True)
    body = fields.String()
    dead = fields.Integer()
    missing = fields.Integer()
    injured = fields.Integer()
    losses_yuan = fields.String(allow_none=True, metadata={"description": "yuan, two places"})
    unit = fields.String()
    signer = fields.String()
    reported_by = fields.String()
    reported_at = fields.AwareDateTime()


class ReportList(Schema):
    """An incident's reports and its report state."""

    items = fields.List(fields.Nested(ReportOut))
    total = fields.Integer()
    report_due_at = fields.AwareDateTime(metadata={
        "description": "when the initial report is (or was) due: INCIDENT_REPORT_MINUTES "
                       "after the incident was opened"})
    initial_report_at = fields.AwareDateTime(allow_none=True)
    report_overdue = fields.Boolean()
    initial_report_late = fields.Boolean()
    next_kinds = fields.List(fields.String(), metadata={
        "description": "the kinds of report that may come next"})
