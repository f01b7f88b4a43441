"""Jobs through the real queue (procrastinate on PostGIS, its in-memory queue on SpatiaLite):
a risk run queued by a request and run by a worker, cancel, retries, the periodic tasks."""

import time
from datetime import timedelta

import pytest

from emergency.db import new_session, unit_of_work, utcnow
from emergency.jobs import kinds
from emergency.jobs import service as jobs
from emergency.jobs.models import JobRecord
from emergency.jobs.worker import run_in_thread, stop_thread
from tests.conftest import committed_app
from tests.jobs.jobs_factories import AREA, hazard_layer, planner, until
from tests.risk.risk_factories import start


def flaky(job):
    """Fails the way a restarting database does on its first two runs, then works."""
    if job.attempt < 3:
        raise ConnectionError(f"database went away (attempt {job.attempt})")
    job.progress(1.0)


def broken(job):
    """Fails for good: a bug is not retried."""
    raise ValueError("no such thing")


def endless(job):
    """Reports progress until its owner cancels it."""
    for step in range(6000):
        job.progress(step / 6000)
        time.sleep(0.02)


kinds.install([kinds.JobKind("test.flaky", flaky, "flaky", attempts=3, retry_wait_seconds=0),
               kinds.JobKind("test.broken", broken, "broken", attempts=3),
               kinds.JobKind("test.endless", endless, "endless")])


@pytest.fixture
def live(backend, tmp_path):
    """An app on its own committed database, with a planner and a hazard layer."""
    with committed_app(backend, tmp_path, "jobs") as app:
        app.config["JOB_POLL_SECONDS"] = 0.2
        headers = planner(app, "planner-q")
        client = app.test_client()
        yield app, client, headers, hazard_layer(client, headers)


def _record(app, job_id):
    """A job record as a dict, read afresh."""
    with app.app_context():
        session = new_session()
        try:
            return jobs.job_dict(session.get(JobRecord, job_id))
        finally:
            session.close()


def _ended(app, job_id):
    """The record once it has ended, else None."""
    record = _record(app, job_id)
    return record if record["status"] not in ("queued", "running") else None


def test_queue_runs_cancels_retries_and_schedules(live):
    app, client, headers, layer_id = live
    run = start(client, headers, AREA, 500, [{"layer_id": layer_id}])
    assert run.status_code == 202 and run.get_json()["status"] == "queued"
    listed = client.get("/api/v1/jobs", headers=headers).get_json()
    assert listed["total"] == 1
    job = listed["items"][0]
    assert (job["kind"], job["subject_id"], job["status"], job["cancellable"]) == (
        "risk.run_assessment", run.get_json()["id"], "queued", True)

    # Only its owner (or an administrator) sees or cancels it.
    other = planner(app, "planner-other", area=False)
    assert client.get(f"/api/v1/jobs/{job['id']}", headers=other).status_code == 403
    assert client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=other).status_code == 403
    assert client.get("/api/v1/jobs", headers=other).get_json()["total"] == 0
    admin = planner(app, "admin-q", role="admin", area=False)
    assert client.get("/api/v1/jobs", headers=admin).get_json()["total"] == 1

    # Cancelled while queued: it never runs and its assessment ends failed, saying why.
    cancelled = client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    assessment = client.get(f"/api/v1/risk/assessments/{job['subject_id']}",
                            headers=headers).get_json()
    assert assessment["status"] == "failed" and "cancelled" in assessment["error"]

    with app.app_context(), unit_of_work("test") as session:
        flaky_id = jobs.submit(session, "test.flaky", "planner-q").id
        broken_id = jobs.submit(session, "test.broken", "planner-q").id
        endless_id = jobs.submit(session, "test.endless", "planner-q").id
    worker = run_in_thread(app, concurrency=2)
    try:
        run = start(client, headers, AREA, 500, [{"layer_id": layer_id}]).get_json()
        run_job = _job_of(client, headers, run["id"])
        done = until(lambda: _ended(app, run_job))
        assert done and done["status"] == "done" and done["progress"] == 1.0, done
        assert done["attempts"] == 1
        assessment = client.get(f"/api/v1/risk/assessments/{run['id']}",
                                headers=headers).get_json()
        assert (assessment["status"], assessment["cell_count"]) == ("done", 24)
        assert _record(app, job["id"])["status"] == "cancelled"  # the worker left it alone

        # A transient failure is retried by the queue; a bug fails at once.
        flaky_end = until(lambda: _ended(app, flaky_id))
        assert (flaky_end["status"], flaky_end["attempts"]) == ("done", 3), flaky_end
        broken_end = until(lambda: _ended(app, broken_id))
        assert (broken_end["status"], broken_end["attempts"]) == ("failed", 1), broken_end
        assert "ValueError: no such thing" in broken_end["error"]

        # A running job stops at its next progress report once its owner cancels it.
        assert until(lambda: _record(app, endless_id)["progress"])
        stopping = client.post(f"/api/v1/jobs/{endless_id}/cancel", headers=headers)
        assert stopping.status_code == 200
        assert (stopping.get_json()["status"], stopping.get_json()["cancel_requested"]) == (
            "running", True)
        stopped = until(lambda: _ended(app, endless_id))
        assert stopped["status"] == "cancelled" and stopped["progress"] < 1, stopped

        # The periodic tasks run through the queue (here queued now, not at their minute).
        from emergency.auth.models import User
        from emergency.events.models import LiveEvent
        from emergency.idempotency import IdempotentResponse

        with app.app_context(), unit_of_work("test") as session:
            session.add_all([LiveEvent(type="hazard.created", resource_id=1, data={},
                                       at=utcnow() - timedelta(days=3)),
                             LiveEvent(type="hazard.created", resource_id=2, data={})])
            user_id = session.query(User.id).filter_by(username="planner-q").scalar()
            days = app.config["IDEMPOTENCY_KEEP_DAYS"]
            session.add_all([IdempotentResponse(
                user_id=user_id, key=key, request_hash="0" * 64, status=201,
                mimetype="application/json", body=b"{}",
                created_at=utcnow() - timedelta(days=age)) for key, age in (
                    ("old", days + 1), ("recent", days - 1))])
        worker.periodic_ran.clear()
        for name in ("hazards.escalate", "alerts.expire", "events.prune",
                     "registry.refresh_readiness", "core.prune_idempotent_responses"):
            worker.run_periodic_now(name)
        assert until(lambda: set(kinds.PERIODIC) <= set(worker.periodic_ran)), \
            worker.periodic_ran
        assert worker.periodic_ran["core.prune_idempotent_responses"] == 1
        with app.app_context():
            session = new_session()
            assert session.query(LiveEvent.resource_id).all() == [(2,)]
            assert session.query(IdempotentResponse.key).all() == [("recent",)]
            session.close()
    finally:
        stop_thread(worker)


def _job_of(client, headers, assessment_id):
    """The id of the job running an assessment."""
    items = client.get("/api/v1/jobs?kind=risk.run_assessment", headers=headers).get_json()
    return next(i["id"] for i in items["items"] if i["subject_id"] == assessment_id)
