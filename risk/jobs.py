"""Running assessments off the request thread, with progress written as the run goes.

The worker never holds a database write lock while it computes: it reads the inputs in one
short read-only session, computes in memory, writes progress in tiny transactions and
stores every cell in one final transaction. ``RISK_RUN_INLINE`` runs it in the request
instead (tests, which share one session, and tiny installations).
"""

import logging
import threading

from sqlalchemy.orm import Session

from emergency import spatial
from risk import service

log = logging.getLogger(__name__)
PROGRESS_STEP = 0.05


def start(app, session, assessment_id, actor=""):
    """Start a queued run: inline in ``session`` or in a background thread."""
    service.fail_interrupted(session, app.config["RISK_RUN_MAX_SECONDS"])
    if app.config.get("RISK_RUN_INLINE"):
        run_inline(session, assessment_id)
        return None
    # The worker reads the run in its own connection: it must be committed first.
    session.commit()
    thread = threading.Thread(target=_worker, args=(app, assessment_id, actor),
                              name=f"risk-run-{assessment_id}", daemon=True)
    thread.start()
    return thread


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


def _short(engine, actor, work, readonly=False):
    """Run ``work(session)`` in its own short transaction and commit it."""
    bind = spatial.for_reading(engine) if readonly else engine
    session = Session(bind=bind)
    session.info["actor"] = actor or "risk-worker"
    try:
        result = work(session)
        if readonly:
            session.rollback()
        else:
            session.commit()
        return result
    finally:
        session.close()


def _worker(app, assessment_id, actor):
    """The background run: state, read, compute, store, each in its own transaction."""
    with app.app_context():
        engine = app.extensions["emergency.db"]["engine"]
        try:
            _short(engine, actor, lambda s: service.set_state(s, assessment_id, "running", 0.0))
            inputs = _short(engine, actor, lambda s: service.load_inputs(s, assessment_id),
                            readonly=True)
            last = [0.0]

            def progress(fraction):
                if fraction - last[0] >= PROGRESS_STEP and fraction < 1.0:
                    last[0] = fraction
                    _short(engine, actor, lambda s: service.set_state(
                        s, assessment_id, progress=0.95 * fraction))

            grid, result, area_codes, grid_codes = service.compute(inputs, progress)
            _short(engine, actor, lambda s: service.store_result(
                s, assessment_id, grid, result, area_codes, grid_codes, len(inputs.teams)))
        except Exception as exc:  # the run must end as "failed", never stay "running"
            log.exception("risk assessment %s failed", assessment_id)
            reason = _reason(exc)
            try:
                _short(engine, actor, lambda s: service.set_state(
                    s, assessment_id, status="failed", error=reason))
            except Exception:  # the database itself is gone; the log has the reason
                log.exception("could not record the failure of assessment %s", assessment_id)
