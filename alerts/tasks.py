"""Warnings' periodic job: expiry of published warnings past their end, every minute (the
command ``emergency warnings expire`` does the same on demand)."""

from alerts import service
from emergency.jobs.kinds import Periodic


def expire(session):
    """Mark published warnings past their expiry as expired; returns how many."""
    return service.expire_due(session)


JOBS = (Periodic("alerts.expire", "* * * * *", expire),)
