"""Hazard reports' periodic job: escalation (督办) of overdue reports, every minute (the
command ``emergency hazards escalate`` does the same on demand)."""

from emergency.jobs.kinds import Periodic
from hazards import service


def escalate(session):
    """Escalate every open report past its deadline; returns how many."""
    return service.escalate_overdue(session)


JOBS = (Periodic("hazards.escalate", "* * * * *", escalate),)
