"""When an incident's initial report is due and whether it is overdue, as SQL clauses (for
lists and filters) and as values (for one incident).

An incident is ``report_overdue`` when it has no initial report ``minutes``
(INCIDENT_REPORT_MINUTES) after it was opened (its ``created_at``), whatever its status: a
closed incident never reported stays overdue until its initial report is made. No Flask here.
"""

from datetime import timedelta

from sqlalchemy import and_, exists, not_, select

from emergency.db import utcnow
from incidents.reports.models import IncidentReport

DEFAULT_MINUTES = 30


def _initial_exists(incident_id):
    """EXISTS an initial report of the incident whose id is ``incident_id`` (a column)."""
    r = IncidentReport.__table__
    return exists().where(r.c.incident_id == incident_id, r.c.kind == "initial")


def initial_reported_at(incident_id):
    """A scalar subquery: when the incident's initial report was made, or NULL."""
    r = IncidentReport.__table__
    return (select(r.c.reported_at).where(r.c.incident_id == incident_id,
                                          r.c.kind == "initial").scalar_subquery())


def overdue_clause(incidents, minutes, now=None):
    """WHERE clause for the rows of ``incidents`` (the table) whose initial report is
    overdue."""
    cutoff = (now or utcnow()) - timedelta(minutes=minutes)
    return and_(incidents.c.created_at <= cutoff, not_(_initial_exists(incidents.c.id)))


def not_overdue_clause(incidents, minutes, now=None):
    """WHERE clause for the incidents whose initial report is not overdue."""
    return not_(overdue_clause(incidents, minutes, now))


def state(created_at, initial_at, minutes, now=None):
    """The report state of one incident: when its initial report is (or was) due, when it
    was made, whether it is overdue and whether it came late."""
    due = created_at + timedelta(minutes=minutes)
    return {"report_due_at": due, "initial_report_at": initial_at,
            "report_overdue": initial_at is None and (now or utcnow()) >= due,
            "initial_report_late": initial_at is not None and initial_at > due}


def state_of(session, incident, minutes, now=None):
    """The report state of an incident row."""
    r = IncidentReport.__table__
    initial_at = session.scalar(select(r.c.reported_at).where(
        r.c.incident_id == incident.id, r.c.kind == "initial"))
    return state(incident.created_at, initial_at, minutes, now)
