"""A run started over HTTP without RISK_RUN_INLINE is queued and finished by a worker."""

import time

import pytest

from emergency import create_app
from emergency.jobs.worker import run_in_thread, stop_thread
from tests.conftest import app_config, drop_database, make_database
from tests.risk.risk_factories import collection, rect, start, upload


@pytest.fixture
def live(backend, tmp_path):
    """An app on its own committed database with a worker (in a thread of this process)."""
    url, engine = make_database(backend, tmp_path, "riskjob")
    app = create_app(app_config(url, tmp_path, JOB_POLL_SECONDS=0.2))
    worker = run_in_thread(app)
    yield app
    stop_thread(worker)
    app.extensions["emergency.db"]["engine"].dispose()
    engine.dispose()
    drop_database(url)


def _planner_headers(app, username):
    """A planner of a small city on the committed database, as bearer headers."""
    from emergency.auth import service as auth
    from emergency.db import new_session
    from emergency.geo import service as geo

    with app.app_context():
        session = new_session()
        geo.create_area(session, "880000", "测试风险市", "city", rect(0, 0, 3000, 2000))
        auth.create_user(session, username, "planner", "correct horse battery")
        token = auth.create_token(session, username, 1)
        session.commit()
        session.close()
    return {"Authorization": f"Bearer {token}"}


def _until_ended(client, headers, run):
    """Poll a run until it is done or failed (at most 30 s); the last state seen."""
    for _ in range(600):
        run = client.get(f"/api/v1/risk/assessments/{run['id']}", headers=headers).get_json()
        assert 0.0 <= run["progress"] <= 1.0
        if run["status"] in ("done", "failed"):
            break
        time.sleep(0.05)
    return run


def test_background_run_reports_progress_and_finishes(live):
    headers = _planner_headers(live, "planner-bg")
    client = live.test_client()
    layer = upload(client, headers, collection([(rect(0, 0, 1500, 2000), {"value": 3})]))
    assert layer.status_code == 201, layer.get_json()
    response = start(client, headers, "880000", 500, [{"layer_id": layer.get_json()["id"]}])
    assert response.status_code == 202
    run = response.get_json()
    assert run["status"] in ("queued", "running", "done")
    run = _until_ended(client, headers, run)
    assert run["status"] == "done", run
    assert run["cell_count"] == 24
    cells = client.get(f"/api/v1/risk/assessments/{run['id']}/cells", headers=headers)
    assert cells.get_json()["total"] == 24


def test_a_run_whose_process_died_is_failed_when_the_next_starts(live):
    from datetime import timedelta

    from emergency.db import new_session, utcnow
    from risk import service as risk

    headers = _planner_headers(live, "planner-dead")
    client = live.test_client()
    layer_id = upload(client, headers, collection([(rect(0, 0, 1500, 2000), {"value": 3})]))
    layer_id = layer_id.get_json()["id"]
    with live.app_context():
        # Two runs left behind by a worker that died: one queued, one half-way through.
        session = new_session()
        dead = [risk.create_assessment(session, "880000", 500, [{"layer_id": layer_id}], {},
                                       actor="planner-dead") for _ in range(2)]
        risk.set_state(session, dead[1].id, status="running", progress=0.4)
        long_ago = utcnow() - timedelta(seconds=live.config["RISK_RUN_MAX_SECONDS"] + 60)
        for run in dead:
            run.created_at = long_ago
        session.commit()
        ids = [run.id for run in dead]
        session.close()
    response = start(client, headers, "880000", 500, [{"layer_id": layer_id}])
    assert response.status_code == 202
    # Let the new run end before its database goes away.
    new = _until_ended(client, headers, response.get_json())
    assert new["status"] == "done", new
    for run_id in ids:
        run = client.get(f"/api/v1/risk/assessments/{run_id}", headers=headers).get_json()
        assert run["status"] == "failed"
        assert "interrupted" in run["error"] and f"--id {run_id}" in run["error"]
        assert run["finished_at"]
