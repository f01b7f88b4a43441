"""The registry's periodic job: the daily refresh of the teams' stored readiness (the command
``emergency registry refresh-readiness`` does the same on demand, e.g. from cron where no
worker runs)."""

from emergency.jobs.kinds import Periodic
from registry import service


def refresh_readiness(session):
    """Re-centre the readiness of every team whose stored span has lapsed; returns how many."""
    return service.refresh_readiness(session)


# Once a day, shortly after midnight: spans are in days, so more often would find nothing.
JOBS = (Periodic("registry.refresh_readiness", "10 0 * * *", refresh_readiness),)
