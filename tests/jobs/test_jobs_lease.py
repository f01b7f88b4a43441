"""A worker killed mid-job (SIGKILL): on PostGIS another worker, already running, takes the
job up once its lease has run out; on SpatiaLite (one worker per database file) the next
worker to start queues it again. Either way it runs to the end with exactly one result."""

import os
import signal
import subprocess

import pytest
from sqlalchemy import func, select

from emergency.db import new_session
from emergency.jobs.models import JobRecord
from risk.models import RiskAssessment, RiskCell
from tests.conftest import EMERGENCY, cli_env, committed_app
from tests.jobs.jobs_factories import AREA, hazard_layer, planner, until
from tests.risk.risk_factories import start

LEASE = 3


def _worker(url, tmp_path):
    """`emergency worker --concurrency 1` in a process group of its own."""
    env = {**cli_env(url, tmp_path), "JOB_LEASE_SECONDS": str(LEASE), "JOB_POLL_SECONDS": "0.2"}
    return subprocess.Popen([EMERGENCY, "worker", "--concurrency", "1"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _state(app, job_id):
    """(status, progress, attempts, queue job id) of a job record, read afresh."""
    with app.app_context():
        session = new_session()
        try:
            r = session.get(JobRecord, job_id)
            return r.status, r.progress or 0.0, r.attempts, r.queue_job_id
        finally:
            session.close()


@pytest.mark.committing
@pytest.mark.long
def test_a_killed_workers_job_is_finished_once_by_another(backend, tmp_path):
    shared = backend == "postgis"
    with committed_app(backend, tmp_path, "lease") as app:
        url = app.config["DATABASE_URL"]
        headers = planner(app, "planner-lease", size=(30_000, 20_000))
        client = app.test_client()
        # 60,000 cells: a run of a few seconds, so the test sees it running before it ends.
        run = start(client, headers, AREA, 100, [{"layer_id": hazard_layer(client, headers)}])
        assert run.status_code == 202, run.get_json()
        run_id = run.get_json()["id"]
        job_id = client.get("/api/v1/jobs", headers=headers).get_json()["items"][0]["id"]
        first = _worker(url, tmp_path)
        second = None
        try:
            assert until(lambda: _state(app, job_id)[0] == "running", seconds=120)
            if shared:  # started while the first computes, so it is up at the kill
                second = _worker(url, tmp_path)
            # Killed once it computes (its grid is built), well before it stores the cells.
            assert until(lambda: _state(app, job_id)[1] > 0.05, seconds=120), \
                _state(app, job_id)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
            status, _progress, attempts, queue_job = _state(app, job_id)
            assert (status, attempts) == ("running", 1), "the run ended before the kill"
            if not shared:  # it waits for the database file's worker slot until now
                second = _worker(url, tmp_path)
            assert until(lambda: _state(app, job_id)[0] not in ("queued", "running"), seconds=180)
            # On PostGIS the same queue job ran again; in memory it was queued anew.
            assert _state(app, job_id)[:3] == ("done", 1.0, 2)
            assert not shared or _state(app, job_id)[3] == queue_job
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        with app.app_context():
            session = new_session()
            assessment = session.get(RiskAssessment, run_id)
            cells = session.scalar(select(func.count()).select_from(RiskCell)
                                   .where(RiskCell.assessment_id == run_id))
            assert assessment.status == "done" and assessment.cell_count == cells > 0
            session.close()
