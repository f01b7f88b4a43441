"""The worker: procrastinate runs the jobs; around it, a feeder that puts queued job records
on the queue and a lease keeper that hands the jobs of dead workers to live ones.

- Each worker heartbeats every quarter of ``JOB_LEASE_SECONDS``; a job whose worker has not
  beaten for a whole lease is stalled and is put back on the queue by whichever worker looks
  next (every quarter lease), where the next free worker takes it. The job claims its record
  again (same queue job), so its steps run again and its one final transaction stores the
  result once.
- On SpatiaLite the queue is procrastinate's in-memory one, so one worker serves a database
  file (a file lock makes a second one wait); at its start it queues again every record left
  queued or running by the worker before it. Periodic tasks run there all the same.
"""

import asyncio
import fcntl
import json
import logging
import threading
import time

from procrastinate import App, RetryStrategy
from procrastinate import worker as procrastinate_worker
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy.orm import Session

from emergency import spatial
from emergency.db import unit_of_work
from emergency.jobs import kinds, service
from emergency.spatial import jobqueue

log = logging.getLogger(__name__)


class JobHandle:
    """What a running job sees: its record, its arguments and short transactions."""

    def __init__(self, engine, record):
        self.engine = engine
        self.record_id = record.id
        self.subject_id = record.subject_id
        self.args = dict(record.args or {})
        self.actor = record.owner
        self.attempt = record.attempts  # 1 on the first run

    def short(self, work, readonly=False):
        """Run ``work(session)`` in its own short transaction, committed unless ``readonly``."""
        bind = spatial.for_reading(self.engine) if readonly else self.engine
        session = Session(bind=bind)
        session.info["actor"] = self.actor or "worker"
        try:
            result = work(session)
            if readonly:
                session.rollback()
            else:
                session.commit()
            return result
        finally:
            session.close()

    def stored_before(self):
        """Whether an earlier run of this job already committed its result (its effect):
        a retried run then has nothing to do, not even read its input again."""
        def read(session):
            record = session.get(service.JobRecord, self.record_id, populate_existing=True)
            return record is not None and record.result is not None
        return self.short(read, readonly=True)

    def finish_once(self, work):
        """Do the job's effect with ``work(session)`` and keep what it returns (a JSON dict)
        as the record's result, in one transaction; a run whose record already holds a
        result (an earlier run of the job committed it) does nothing. A ``subject_id`` in
        the result becomes the record's subject (the layer an import made)."""
        def once(session):
            record = session.get(service.JobRecord, self.record_id, with_for_update=True,
                                 populate_existing=True)
            if record.result is not None:
                log.info("job %s: its result was stored by an earlier run", self.record_id)
                return record.result
            result = work(session)
            record.result = result
            if result.get("subject_id") is not None:
                record.subject_id = result["subject_id"]
            session.flush()
            return result
        return self.short(once)

    def progress(self, fraction, also=None):
        """Write progress (and ``also(session)`` in the same transaction); raises
        Cancelled when the owner asked to cancel."""
        def work(session):
            if also is not None:
                also(session)
            service.report(session, self.record_id, fraction)
        self.short(work)


def _reason(exc):
    """A short human reason for a failure, with the problems a domain error names (an
    import's bad rows and fields), so that the jobs page is the import's report."""
    text = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    details = getattr(exc, "details", None)
    if isinstance(details, dict) and details:
        parts = []
        for name, problems in details.items():
            shown = problems if isinstance(problems, list | tuple) else [problems]
            parts.append(f"{name}: " + "; ".join(str(p) for p in shown))
        text = text + " — " + " | ".join(parts)
    return text[:2000]


def execute(flask_app, kind, record_id, queue_job_id, attempts_before):
    """One run of a job: claim its record, do the work, record how it ended. Raises what the
    queue should retry (a transient failure with attempts left); anything else ends here."""
    engine = flask_app.extensions["emergency.db"]["engine"]
    with flask_app.app_context():
        handle, problems = None, None
        try:
            with unit_of_work("worker") as session:
                record = service.claim(session, record_id, queue_job_id)
                if record is not None:
                    handle = JobHandle(engine, record)
                else:
                    service.settle_cancelled(session, record_id)
            if handle is None:
                log.info("job %s: nothing to do (ended, cancelled or taken)", record_id)
                return
            kind.run(handle)
            outcome = ("done", "")
        except service.Cancelled as exc:
            outcome = ("cancelled", str(exc))
        except Exception as exc:
            retry = isinstance(exc, kind.retry_on) and attempts_before + 1 < kind.attempts
            log.exception("job %s (%s) failed%s", record_id, kind.name,
                          "; it will be retried" if retry else "")
            if retry:
                _note(record_id, f"attempt {attempts_before + 1} failed: {_reason(exc)}")
                raise
            outcome = ("failed", _reason(exc))
            if isinstance(getattr(exc, "details", None), dict) and exc.details:
                problems = json.loads(json.dumps(
                    {"code": getattr(exc, "code", "invalid"), "message": str(exc.message),
                     "details": exc.details}, default=str))
        with unit_of_work("worker") as session:
            record = session.get(service.JobRecord, record_id, with_for_update=True)
            service.end(session, record, *outcome)
            if problems is not None and record.result is None:
                record.result = {"error": problems}  # an import's report of its bad rows
            if outcome[0] != "done":
                kinds.ended(session, record)


def _note(record_id, text):
    """Write a note on a record (a failed attempt's reason), best effort."""
    try:
        with unit_of_work("worker") as session:
            service.report(session, record_id, note=text)
    except Exception:  # the database may be the reason the attempt failed
        log.exception("could not note the failure of job %s", record_id)


def build(flask_app, connector, ran=None):
    """A procrastinate app with every declared kind and periodic task as its tasks;
    ``ran`` (a dict) gets each periodic task's last count by name."""
    app = App(connector=connector)
    for kind in kinds.KINDS.values():
        _add_kind(app, flask_app, kind)
    for periodic in kinds.PERIODIC.values():
        _add_periodic(app, flask_app, periodic, {} if ran is None else ran)
    return app


def _add_kind(app, flask_app, kind):
    """A task running one kind of job, retried by the queue on transient failures."""
    strategy = RetryStrategy(max_attempts=kind.attempts - 1, wait=kind.retry_wait_seconds,
                             retry_exceptions=set(kind.retry_on))

    @app.task(name=kind.name, pass_context=True, retry=strategy)
    def run(context, record_id):
        execute(flask_app, kind, record_id, context.job.id, context.job.attempts)


def _add_periodic(app, flask_app, periodic, ran):
    """A task the workers' periodic deferrer queues on its schedule (once across workers)."""
    @app.periodic(cron=periodic.cron, periodic_id=periodic.name)
    @app.task(name=periodic.name)
    def run(timestamp):
        with flask_app.app_context(), unit_of_work("system") as session:
            count = periodic.run(session)
        ran[periodic.name] = count
        log.info("%s: %s", periodic.name, count)


class Worker:
    """One worker process (or thread, in tests): procrastinate's worker plus the feeder and
    the lease keeper."""

    def __init__(self, flask_app, concurrency=None, install_signal_handlers=True):
        self.flask_app = flask_app
        config = flask_app.config
        self.engine = flask_app.extensions["emergency.db"]["engine"]
        self.concurrency = concurrency or config["JOB_CONCURRENCY"]
        self.lease = float(config["JOB_LEASE_SECONDS"])
        self.poll = float(config["JOB_POLL_SECONDS"])
        self.shared = jobqueue.is_shared(self.engine)
        self.install_signal_handlers = install_signal_handlers
        self.app = None
        self.worker = None
        self.ready = threading.Event()
        self.periodic_ran = {}  # name -> the count its last run returned
        self._lock_file = None
        self._loop = None

    async def run(self):
        """Run until stopped (SIGINT/SIGTERM in a process, ``stop()`` from another thread)."""
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._take_database)
        self.app = build(self.flask_app, jobqueue.connector(self.engine, self.concurrency + 2),
                         self.periodic_ran)
        heartbeat = max(self.lease / 4, 0.2)
        async with self.app.open_async():
            self.worker = procrastinate_worker.Worker(
                self.app, concurrency=self.concurrency, name="emergency-worker",
                install_signal_handlers=self.install_signal_handlers,
                update_heartbeat_interval=heartbeat, stalled_worker_timeout=self.lease,
                fetch_job_polling_interval=min(5.0, heartbeat),
                listen_notify=True, delete_jobs="successful")
            sides = [asyncio.create_task(self._feed(), name="feeder")]
            if self.shared:
                sides.append(asyncio.create_task(self._keep_leases(), name="lease keeper"))
            sides.append(asyncio.create_task(self._announce(), name="ready"))
            try:
                await self.worker.run()
            finally:
                for task in sides:
                    task.cancel()
                await asyncio.gather(*sides, return_exceptions=True)
                self._release_database()

    async def _announce(self):
        """Set ``ready`` once procrastinate's worker has registered (it takes jobs)."""
        while self.worker.worker_id is None:
            await asyncio.sleep(0.05)
        self.ready.set()

    def run_periodic_now(self, name, timeout=30):
        """Queue a periodic task now, from another thread (the jobs' tests, an operator's
        shell); returns the queue's job id."""
        coro = self.app.configure_task(name).defer_async(timestamp=int(time.time()))
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def stop(self):
        """Ask the worker to finish its running jobs and stop (thread-safe)."""
        if self.worker is not None:
            self.worker.stop()

    def _take_database(self):
        """SpatiaLite: wait for the database file's one worker slot, then queue again what
        the worker before left behind."""
        path = jobqueue.single_worker_lock(self.engine)
        if path is None:
            return
        self._lock_file = open(path, "w")  # noqa: SIM115 (held for the worker's life)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another worker serves %s; waiting until it stops", path)
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        with self.flask_app.app_context(), unit_of_work("worker") as session:
            count = service.requeue_interrupted(session)
        if count:
            log.info("queued %s interrupted job(s) again", count)

    def _release_database(self):
        """Let the next worker of this SpatiaLite file start."""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _due(self):
        """Claim the queued records to put on the queue (one short transaction, only when a
        lock-free read found some)."""
        reader = Session(bind=spatial.for_reading(self.engine))
        try:
            if not service.any_due(reader, kinds.KINDS, self.lease):
                return []
        finally:
            reader.close()
        with self.flask_app.app_context(), unit_of_work("worker") as session:
            return service.due_for_queue(session, kinds.KINDS, self.lease)

    async def _feed(self):
        """Put queued job records on the queue, every JOB_POLL_SECONDS."""
        while True:
            try:
                for record_id, kind in await asyncio.to_thread(self._due):
                    try:
                        await self.app.configure_task(
                            kind, queueing_lock=f"job-{record_id}").defer_async(
                                record_id=record_id)
                    except AlreadyEnqueued:
                        pass  # still waiting on the queue from an earlier pass
            except Exception:  # the database restarting: try again at the next pass
                log.exception("could not put queued jobs on the queue")
            await asyncio.sleep(self.poll)

    async def _keep_leases(self):
        """Put the jobs of workers silent for a whole lease back on the queue."""
        manager = self.app.job_manager
        while True:
            await asyncio.sleep(max(self.lease / 4, 0.2))
            try:
                for job in await manager.get_stalled_jobs(seconds_since_heartbeat=self.lease):
                    log.warning("job %s (%s) lost its worker; queued again", job.id,
                                job.task_name)
                    await manager.retry_job(job)
            except Exception:
                log.exception("could not check for stalled jobs")


def run_in_thread(flask_app, concurrency=None):
    """A worker in a daemon thread of this process (tests, a single-process install):
    returns it once it takes jobs; ``stop_thread`` ends it."""
    worker = Worker(flask_app, concurrency, install_signal_handlers=False)

    def main():
        try:
            asyncio.run(worker.run())
        except Exception:
            log.exception("the in-process worker stopped")
        finally:
            worker.ready.set()

    worker.thread = threading.Thread(target=main, name="job-worker", daemon=True)
    worker.thread.start()
    worker.ready.wait(60)
    return worker


def stop_thread(worker, timeout=60):
    """Stop a worker started by ``run_in_thread`` and wait for it."""
    worker.stop()
    worker.thread.join(timeout)
