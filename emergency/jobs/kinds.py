"""What a domain declares to the job system: kinds of jobs and periodic tasks.

A domain lists them in its ``Domain(jobs=...)`` entry (emergency/domains.py); ``install``
puts them here when the app is made, and both the worker and the pages read them from here.
Nothing in this module knows the queue library: the worker turns each into a task.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import InterfaceError, OperationalError

# Failures that may pass (the database restarting, a network blip): such a run is retried.
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@dataclass(frozen=True)
class JobKind:
    """A kind of job with a record its owner follows (a risk run, a large import)."""

    name: str  # the task name, e.g. "risk.run_assessment"
    run: Callable  # run(handle): the work; handle is emergency.jobs.worker.JobHandle
    label: object  # what the jobs page calls it (a lazy translation)
    # run as a failed or cancelled job ends: on_end(session, record) (the subject follows)
    on_end: Callable | None = None
    # the subject's page: (endpoint, name of its id argument)
    link: tuple[str, str] | None = None
    # what the jobs page says of a done job's result: describe(result) -> text
    describe: Callable | None = None
    attempts: int = 3  # runs at most, when a run fails with one of ``retry_on``
    retry_on: tuple = field(default=TRANSIENT)
    retry_wait_seconds: int = 5


@dataclass(frozen=True)
class Periodic:
    """A task the workers run on a schedule (one run per time across all workers)."""

    name: str  # e.g. "hazards.escalate"
    cron: str  # five fields, or six with seconds first... as croniter reads them
    run: Callable  # run(session) -> a count for the log; committed as one unit of work


KINDS: dict[str, JobKind] = {}
PERIODIC: dict[str, Periodic] = {}


def install(declared):
    """Record every domain's kinds and periodic tasks (idempotent: each app makes it again)."""
    for item in declared:
        (KINDS if isinstance(item, JobKind) else PERIODIC)[item.name] = item


def ended(session, record):
    """Let the kind's subject follow a job that ended failed or cancelled."""
    kind = KINDS.get(record.kind)
    if kind is not None and kind.on_end is not None:
        kind.on_end(session, record)
