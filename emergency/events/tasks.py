"""The live events' periodic job: pruning events older than a day (every worker may run it;
the queue runs it once per minute across all of them)."""

from emergency.events import service
from emergency.jobs.kinds import Periodic


def prune_events(session):
    """Delete live events older than a day; returns how many."""
    return service.prune(session)


JOBS = (Periodic("events.prune", "*/10 * * * *", prune_events),)
