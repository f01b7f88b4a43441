"""The life of a job record: submitted by a request, claimed and advanced by a worker,
cancelled by its owner. Services flush; the caller owns the transaction."""

from datetime import timedelta

from sqlalchemy import func, or_, select, update

from emergency.auth.roles import ADMIN
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Forbidden, NotFound
from emergency.jobs import kinds
from emergency.jobs.models import ACTIVE, JobRecord


class Cancelled(Exception):
    """Raised inside a running job when its owner asked to cancel it."""


def submit(session, kind, owner, subject_id=None, **args):
    """A queued job record; a worker puts it on the queue within JOB_POLL_SECONDS."""
    record = JobRecord(kind=kind, owner=owner or "system", subject_id=subject_id, args=args,
                       status="queued", attempts=0, error="", cancel_requested=False)
    session.add(record)
    session.flush()
    return record


def get_job(session, job_id, user):
    """One job record its owner (or an administrator) may see, else NotFound/Forbidden."""
    record = get_or_404(session, JobRecord, job_id, "job")
    if user.role != ADMIN and record.owner != user.username:
        raise Forbidden(f"job {job_id} is not yours")
    return record


def list_jobs(session, user, status=None, kind=None, limit=50, offset=0):
    """The user's jobs (an administrator's: everyone's), newest first, with the total."""
    where = []
    if user.role != ADMIN:
        where.append(JobRecord.owner == user.username)
    if status:
        where.append(JobRecord.status == status)
    if kind:
        where.append(JobRecord.kind == kind)
    total = session.scalar(select(func.count(JobRecord.id)).where(*where))
    rows = session.scalars(select(JobRecord).where(*where)
                           .order_by(JobRecord.id.desc()).limit(limit).offset(offset))
    return list(rows), total


def job_dict(record):
    """A job record as the API shows it."""
    return {"id": record.id, "kind": record.kind, "subject_id": record.subject_id,
            "owner": record.owner, "status": record.status,
            "progress": None if record.progress is None else round(float(record.progress), 4),
            "attempts": record.attempts, "error": record.error or None,
            "cancel_requested": bool(record.cancel_requested),
            "cancellable": record.status in ACTIVE and not record.cancel_requested,
            "created_at": record.created_at, "started_at": record.started_at,
            "finished_at": record.finished_at, "result": public_result(record)}


def public_result(record):
    """The record's result as its owner sees it (the file's name, type and size; its key in
    the store stays inside)."""
    if record.result is None:
        return None
    result = dict(record.result)
    if isinstance(result.get("file"), dict):
        result["file"] = {k: v for k, v in result["file"].items() if k != "key"}
    return result


def result_file(session, job_id, user):
    """(record, stored file) of a job's result its owner may download; NotFound when the
    job made no file (or has not made it yet)."""
    from emergency.jobs.results import open_result  # the file store needs an app

    record = get_job(session, job_id, user)
    stored = open_result(session, record) if record.status == "done" else None
    if stored is None:
        raise NotFound(f"job {job_id} has no file to download")
    return record, stored


def cancel(session, job_id, user):
    """Cancel a queued job at once, or ask a running one to stop at its next progress
    report. Returns the record; Conflict when it has already ended."""
    record = get_job(session, job_id, user)
    locked = get_or_404(session, JobRecord, record.id, "job", lock=True)
    if locked.status not in ACTIVE:
        raise Conflict(f"job {job_id} has already ended ({locked.status})")
    locked.cancel_requested = True
    if locked.status == "queued":
        end(session, locked, "cancelled", "cancelled by " + user.username)
        kinds.ended(session, locked)
    session.flush()
    return locked


def end(session, record, status, error=""):
    """Record the end of a job (done, failed or cancelled)."""
    record.status = status
    record.error = str(error or "")[:2000]
    record.finished_at = utcnow()
    if status == "done":
        record.progress = 1.0 if record.progress is not None else None
    session.flush()
    return record


def claim(session, record_id, queue_job_id):
    """Take a job for one run of the queue's job ``queue_job_id``. A queued record is taken;
    a running one only by the same queue job again (its retry after its worker died). Returns
    the record, or None when it has ended, was cancelled or belongs to another run."""
    result = session.execute(
        update(JobRecord)
        .where(JobRecord.id == record_id, JobRecord.cancel_requested.is_(False),
               or_(JobRecord.status == "queued",
                   (JobRecord.status == "running") & (JobRecord.queue_job_id == queue_job_id)))
        .values(status="running", queue_job_id=queue_job_id, attempts=JobRecord.attempts + 1,
                started_at=func.coalesce(JobRecord.started_at, utcnow()))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return None
    session.flush()
    return session.get(JobRecord, record_id, populate_existing=True)


def settle_cancelled(session, record_id):
    """End a job still marked active whose owner cancelled it while it waited for a retry."""
    record = session.get(JobRecord, record_id, with_for_update=True)
    if record is not None and record.status in ACTIVE and record.cancel_requested:
        end(session, record, "cancelled", "cancelled before its next attempt")
        kinds.ended(session, record)


def report(session, record_id, fraction=None, note=None):
    """Write a running job's progress (and a note such as a retry's reason); raises
    Cancelled when its owner asked to cancel it."""
    record = session.get(JobRecord, record_id, populate_existing=True)
    if record is None:
        raise Cancelled(f"job {record_id} is gone")
    if fraction is not None:
        record.progress = float(min(max(fraction, 0.0), 1.0))
    if note is not None:
        record.error = str(note)[:2000]
        session.flush()
        return record  # a note on a failed attempt: the retry settles a cancel
    session.flush()
    if record.cancel_requested:
        raise Cancelled(f"job {record_id} was cancelled")
    return record


def _due_filter(kinds, lease_seconds, now):
    """Queued records never put on the queue, or put there more than a lease ago."""
    return (JobRecord.status == "queued", JobRecord.kind.in_(list(kinds)),
            or_(JobRecord.deferred_at.is_(None),
                JobRecord.deferred_at < now - timedelta(seconds=lease_seconds)))


def any_due(session, kinds, lease_seconds):
    """True when some queued record waits to be put on the queue (a cheap read, so that an
    idle worker never takes SpatiaLite's write lock to find nothing)."""
    return session.scalar(select(JobRecord.id).where(
        *_due_filter(kinds, lease_seconds, utcnow())).limit(1)) is not None


def due_for_queue(session, kinds, lease_seconds, limit=50):
    """Queued records a worker should put on the queue now: never put there, or put there
    more than a lease ago and still not started (the queue lost them). Marks them put there
    and returns (id, kind) pairs; other workers skip the rows this one holds."""
    now = utcnow()
    rows = session.execute(
        select(JobRecord.id, JobRecord.kind)
        .where(*_due_filter(kinds, lease_seconds, now))
        .order_by(JobRecord.id).limit(limit)
        .with_for_update(skip_locked=True)).all()
    if rows:
        session.execute(update(JobRecord).where(JobRecord.id.in_([r.id for r in rows]))
                        .values(deferred_at=now).execution_options(synchronize_session=False))
    session.flush()
    return [(r.id, r.kind) for r in rows]


def requeue_interrupted(session):
    """At the start of the only worker of a queue that lives in memory: every job still
    queued or running was on the queue of a worker that is gone; queue it again (or end it
    as cancelled when its owner asked for that). Returns how many were queued again."""
    for record in session.scalars(select(JobRecord).where(
            JobRecord.status.in_(ACTIVE), JobRecord.cancel_requested.is_(True))):
        end(session, record, "cancelled", "cancelled while no worker ran")
        kinds.ended(session, record)
    result = session.execute(
        update(JobRecord).where(JobRecord.status.in_(ACTIVE))
        .values(status="queued", deferred_at=None).execution_options(synchronize_session=False))
    session.flush()
    return result.rowcount
