"""Incident information reports (首报/续报/终报): the rules of a series, its timeline entries
and live events, and what the pages show. No Flask here.

Rules: one initial report per incident; follow-ups only after it; the final report closes
the series and needs a closed incident (it reports the outcome once the response is over, as
the State Council's 2015 notice asks: "处置结束后，要及时终报"); nothing after the final.
"""

from decimal import Decimal, InvalidOperation

from geoalchemy2.shape import to_shape
from sqlalchemy import select

from emergency.db import utcnow
from emergency.errors import Conflict, Invalid, NotFound
from emergency.events.service import publish
from emergency.geo.models import Area
from emergency.geo.service import district_at
from incidents import service as incidents
from incidents.models import IncidentEvent
from incidents.reports import deadline
from incidents.reports.models import REPORT_KINDS, IncidentReport

COUNTS = ("dead", "missing", "injured")
MAX_COUNT = 10**8
MAX_LOSSES = Decimal("1e13")
MAX_BODY = 20000
BUREAU_SUFFIX = "应急管理局"  # an official name: data, the same in every page language


def _text(value, maximum, problems, field, required=True):
    """A stripped text of at most ``maximum`` characters, recording problems (anything but
    a text counts as none)."""
    text = value.strip() if isinstance(value, str) else ""
    if not text and required:
        problems[field] = ["required: a non-empty text"]
    elif len(text) > maximum:
        problems[field] = [f"at most {maximum} characters"]
    return text


def _losses(value, problems):
    """Losses in yuan as a Decimal with two places, None when not given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    amount = None
    if not isinstance(value, bool) and isinstance(value, (int, float, str, Decimal)):
        try:
            amount = Decimal(str(value).strip().replace(",", ""))
        except (InvalidOperation, ValueError):
            amount = None
    if amount is None or not amount.is_finite() or not 0 <= amount < MAX_LOSSES:
        problems["losses_yuan"] = ["an amount in yuan >= 0, e.g. \"1280.00\""]
        return None
    return amount.quantize(Decimal("0.01"))


def check_report(kind, body, dead, missing, injured, losses_yuan=None, unit=None, signer=None):
    """The checked values of a report, or Invalid naming every bad field."""
    problems = {}
    if kind not in REPORT_KINDS:
        problems["kind"] = ["one of initial, follow_up, final"]
    values = {"kind": kind, "body": _text(body, MAX_BODY, problems, "body")}
    for name, value in (("dead", dead), ("missing", missing), ("injured", injured)):
        if isinstance(value, bool) or not isinstance(value, int) or \
                not 0 <= value <= MAX_COUNT:
            problems[name] = ["required: a whole number >= 0"]
        values[name] = value
    values["losses_yuan"] = _losses(losses_yuan, problems)
    values["unit"] = _text(unit, 200, problems, "unit", required=False)
    values["signer"] = _text(signer, 100, problems, "signer", required=False)
    if problems:
        raise Invalid("some fields of the report are not valid", problems)
    return values


def default_unit(session, incident):
    """The reporting unit when none is given: the bureau of the incident's district."""
    point = to_shape(incident.location)
    code = district_at(session, point.x, point.y)
    name = session.scalar(select(Area.name).where(Area.code == code)) if code else None
    return (name or "") + BUREAU_SUFFIX


def _series(session, incident_id):
    """(kind, seq) of the incident's reports, in order."""
    r = IncidentReport.__table__
    return session.execute(select(r.c.kind, r.c.seq).where(r.c.incident_id == incident_id)
                           .order_by(r.c.seq)).all()


def next_kinds(kinds, status):
    """The kinds of report that may come next, given the kinds made and the incident's
    status."""
    if "final" in kinds:
        return []
    if "initial" not in kinds:
        return ["initial"]
    return ["follow_up", "final"] if status == "closed" else ["follow_up"]


def _refuse(kind, kinds, status):
    """Conflict when a report of ``kind`` may not come now."""
    if "final" in kinds:
        raise Conflict("the final report has closed this incident's reports",
                       {"kind": ["no report after the final one"]}, code="reports_closed")
    if kind == "initial" and "initial" in kinds:
        raise Conflict("the incident already has its initial report",
                       {"kind": ["write a follow-up instead"]}, code="initial_exists")
    if kind != "initial" and "initial" not in kinds:
        raise Conflict("the initial report comes first",
                       {"kind": ["write the initial report first"]}, code="initial_missing")
    if kind == "final" and status != "closed":
        raise Conflict("the final report is made once the incident is closed",
                       {"kind": ["close the incident first, or write a follow-up"]},
                       code="incident_not_closed")


def create_report(session, user, incident_id, kind, body, dead, missing, injured,
                  losses_yuan=None, unit=None, signer=None,
                  minutes=deadline.DEFAULT_MINUTES):
    """Make the next report of an incident's series; in the timeline and a live event."""
    values = check_report(kind, body, dead, missing, injured, losses_yuan, unit, signer)
    incident = incidents.incident_or_404(session, incident_id, lock=True)
    incidents.check_district(session, user, incident.area_code)
    series = _series(session, incident_id)
    _refuse(kind, {k for k, _seq in series}, incident.status)
    values["unit"] = values["unit"] or default_unit(session, incident)
    values["signer"] = values["signer"] or user.display_name or user.username
    report = IncidentReport(incident_id=incident.id, seq=(series[-1][1] + 1 if series else 1),
                            reported_by=user.username, reported_at=utcnow(), **values)
    session.add(report)
    session.flush()
    state = deadline.state_of(session, incident, minutes)
    session.add(IncidentEvent(
        incident_id=incident.id, actor=user.username, kind="report", at=report.reported_at,
        detail={"report_id": report.id, "kind": kind, "seq": report.seq, "dead": report.dead,
                "missing": report.missing, "injured": report.injured,
                "losses_yuan": _money(report.losses_yuan),
                "late": kind == "initial" and state["initial_report_late"]}))
    publish(session, "incident.updated", incident.id, audience="bureau",
            area_code=incident.area_code, status=incident.status,
            response_level=incident.response_level, report_id=report.id, report_kind=kind,
            report_overdue=state["report_overdue"])
    return report


def _money(value):
    """Yuan as a string with two places, or None."""
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def follow_up_number(report):
    """The number of a follow-up in its series (the first follow-up is 1)."""
    return report.seq - 1 if report.kind == "follow_up" else None


def report_dict(report):
    """A report as the API shows it."""
    return {"id": report.id, "incident_id": report.incident_id, "kind": report.kind,
            "seq": report.seq, "follow_up_number": follow_up_number(report),
            "body": report.body, "dead": report.dead, "missing": report.missing,
            "injured": report.injured, "losses_yuan": _money(report.losses_yuan),
            "unit": report.unit, "signer": report.signer, "reported_by": report.reported_by,
            "reported_at": report.reported_at}


def list_reports(session, user, incident_id, minutes=deadline.DEFAULT_MINUTES):
    """The incident's reports in order, with its report state and what may come next."""
    incident = incidents.incident_in_scope(session, user, incident_id)
    reports = session.scalars(select(IncidentReport).where(
        IncidentReport.incident_id == incident_id).order_by(IncidentReport.seq)).all()
    items = [report_dict(r) for r in reports]
    return {"items": items, "total": len(items),
            **deadline.state_of(session, incident, minutes),
            "next_kinds": next_kinds({r.kind for r in reports}, incident.status)}


def get_report(session, user, incident_id, report_id):
    """One report of the incident (NotFound when it belongs to another)."""
    incidents.incident_in_scope(session, user, incident_id)
    report = session.scalar(select(IncidentReport).where(
        IncidentReport.id == report_id, IncidentReport.incident_id == incident_id))
    if report is None:
        raise NotFound(f"no incident report {report_id}")
    return report


def prefill(session, user, incident_id, kind):
    """Figures for a new report: the final report's from the after-action record, others'
    from the incident's current metrics (economic_loss is in 10,000 yuan)."""
    incident = incidents.incident_in_scope(session, user, incident_id)
    record = incident.after_action or {}
    if kind == "final" and record:
        return {"dead": record.get("dead", 0), "missing": record.get("missing", 0),
                "injured": record.get("injured", 0), "losses_yuan": record.get("losses_yuan"),
                "body": record.get("summary", ""),
                "unit": default_unit(session, incident)}
    metrics = incident.metrics or {}
    loss = metrics.get("economic_loss")
    return {"dead": int(metrics.get("deaths") or 0), "missing": int(metrics.get("missing") or 0),
            "injured": int(metrics.get("injured") or 0),
            "losses_yuan": _money(Decimal(str(loss)) * 10000) if loss is not None else None,
            "body": "", "unit": default_unit(session, incident)}

