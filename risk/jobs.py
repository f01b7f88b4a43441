"""Risk runs as background jobs: the request queues a job record, a worker runs it.

The run never holds a database write lock while it computes: it reads the inputs in one
short read-only transaction, computes in memory, writes progress in tiny transactions (the
job record's and the assessment's together, which is also where a cancel is noticed) and
stores every cell in one final transaction, so a run retried after its worker died stores its
result once. ``RISK_RUN_INLINE`` runs it in the request instead (tests that share one
session, tiny installations): no job, no worker.
"""

import logging

from flask_babel import lazy_gettext as _l

from emergency.errors import Conflict
from emergency.jobs import service as jobs
from emergency.jobs.kinds import JobKind
from risk import filejobs, service

log = logging.getLogger(__name__)
PROGRESS_STEP = 0.05
KIND = "risk.run_assessment"


def start(app, session, assessment_id, actor=""):
    """Queue a run (a job record the workers pick up), or run it inline in ``session``."""
    service.fail_interrupted(session, app.config["RISK_RUN_MAX_SECONDS"])
    if app.config.get("RISK_RUN_INLINE"):
        run_inline(session, assessment_id)
        return None
    return jobs.submit(session, KIND, actor, subject_id=assessment_id)


def run_inline(session, assessment_id, progress=None):
    """Run in the caller's session; a failure is recorded on the run, not raised."""
    try:
        with session.begin_nested():
            service.run_assessment(session, assessment_id, progress)
    except Exception as exc:  # any failure of the model must end as status "failed"
        log.exception("risk assessment %s failed", assessment_id)
        service.set_state(session, assessment_id, status="failed", error=_reason(exc))


def _reason(exc):
    """A short human reason for a failed run."""
    return getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"


def run_job(job):
    """The queued run: state, read, compute, store, each in its own transaction."""
    aid = job.subject_id
    status = job.short(lambda s: service.get_assessment(s, aid).status, readonly=True)
    if status not in ("queued", "running"):
        return  # ended already (a run that stored its cells, or one failed as interrupted)
    job.short(lambda s: service.set_state(s, aid, "running", 0.0))
    inputs = job.short(lambda s: service.load_inputs(s, aid), readonly=True)
    last = [0.0]

    def progress(fraction):
        if fraction - last[0] >= PROGRESS_STEP and fraction < 1.0:
            last[0] = fraction
            job.progress(0.95 * fraction,
                         lambda s: service.set_state(s, aid, progress=0.95 * fraction))

    grid, result, area_codes, grid_codes = service.compute(inputs, progress)
    try:
        job.short(lambda s: service.store_result(
            s, aid, grid, result, area_codes, grid_codes, len(inputs.teams)))
    except Conflict:
        log.info("assessment %s was stored by an earlier run of its job", aid)


def ended(session, record):
    """A run whose job failed or was cancelled ends as a failed assessment with the reason."""
    run = service.get_assessment(session, record.subject_id)
    if run.status in ("queued", "running"):
        service.set_state(session, run.id, status="failed",
                          error=record.error or record.status)


JOBS = (JobKind(KIND, run_job, _l("Risk assessment"), on_end=ended,
                link=("risk_pages.risk_map", "assessment_id")),) + filejobs.JOBS
