"""Large imports and exports as jobs (issue 21): a risk layer imported and a run's cells
exported by a worker, the upload and the file kept in the shared store, the result offered
to its owner only; a bad file fails with its report and stores nothing; a run retried after
its effect committed does nothing twice."""

import io
import json

import pytest

from emergency.db import new_session
from emergency.files import app_store
from emergency.jobs import results
from emergency.jobs import service as jobs
from emergency.jobs.models import JobRecord
from emergency.jobs.worker import JobHandle, run_in_thread, stop_thread
from risk import filejobs
from tests.conftest import DATA_KEY, committed_app
from tests.jobs.jobs_factories import AREA, hazard_layer, planner, until
from tests.risk.risk_factories import collection, rect, start, upload


@pytest.fixture
def live(backend, tmp_path):
    """An app on its own committed database with a planner."""
    with committed_app(backend, tmp_path, "jobfiles") as app:
        app.config["JOB_POLL_SECONDS"] = 0.2
        yield app, app.test_client(), planner(app, "planner-f")


def _job(client, headers, job_id):
    """The job as its owner reads it."""
    return client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()


def _ended(client, headers, job_id):
    """The job once it has ended, else None."""
    job = _job(client, headers, job_id)
    return job if job["status"] not in ("queued", "running") else None


def _upload_keys(app):
    """Keys of uploads kept for jobs."""
    with app.app_context():
        session = new_session()
        try:
            return [k for k in app_store(session).keys() if k.startswith(results.UPLOADS)]
        finally:
            session.close()


def test_layer_import_and_cells_export_run_as_jobs(live):
    app, client, headers = live
    fc = collection([(rect(0, 0, 1500, 2000), {"value": 3}),
                     (rect(1500, 0, 3000, 2000), {"value": 1})])
    # The contract's synchronous answer stays; async=1 queues a job instead.
    queued = upload(client, headers, fc, name="洪水", filename="flood.geojson")
    assert queued.status_code == 201
    resp = client.post("/api/v1/layers?async=1", headers=headers,
                       content_type="multipart/form-data",
                       data={"name": "大图层", "role": "hazard", "value_field": "value",
                             "file": (io.BytesIO(json.dumps(fc).encode()), "big.geojson")})
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert (body["kind"], body["status"], body["result"]) == ("risk.import_layer", "queued",
                                                               None)
    assert resp.headers["Location"] == body["url"] == f"/api/v1/jobs/{body['id']}"
    assert len(_upload_keys(app)) == 1  # kept in the shared store with the job record

    # Bad input is refused at once when the form shows it, else by the job with its report.
    missing = client.post("/api/v1/layers?async=1", headers=headers,
                          content_type="multipart/form-data",
                          data={"name": "x", "role": "hazard",
                                "file": (io.BytesIO(b"{}"), "x.geojson")})
    assert missing.status_code == 422 and "value_field" in missing.get_json()["error"]["details"]
    bad = client.post("/api/v1/layers?async=1", headers=headers,
                      content_type="multipart/form-data",
                      data={"name": "坏", "role": "hazard", "value_field": "depth",
                            "file": (io.BytesIO(json.dumps(fc).encode()), "bad.geojson")})
    assert bad.status_code == 202

    worker = run_in_thread(app)
    try:
        done = until(lambda: _ended(client, headers, body["id"]))
        assert done["status"] == "done", done
        layer_id = done["result"]["layer_id"]
        assert (done["subject_id"], done["result"]["features"], done["result_url"]) == (
            layer_id, 2, None)
        layer = client.get(f"/api/v1/layers/{layer_id}", headers=headers).get_json()
        assert (layer["name"], layer["feature_count"]) == ("大图层", 2)

        failed = until(lambda: _ended(client, headers, bad.get_json()["id"]))
        assert failed["status"] == "failed" and "depth" in failed["error"], failed
        assert "value_field" in failed["result"]["error"]["details"]
        names = [i["name"] for i in client.get("/api/v1/layers", headers=headers)
                 .get_json()["items"]]
        assert sorted(names) == ["大图层", "洪水"]  # the bad file stored nothing
        assert _upload_keys(app) == []  # both uploads let go once their jobs ended

        # A run of the same job again (its worker died after the commit) imports nothing.
        with app.app_context():
            session = new_session()
            record = session.get(JobRecord, body["id"])
            handle = JobHandle(app.extensions["emergency.db"]["engine"], record)
            session.close()
            filejobs.run_import(handle)
        assert client.get("/api/v1/layers", headers=headers).get_json()["total"] == 2

        # An export of a run's cells: the file is kept and offered to its owner only.
        run = start(client, headers, AREA, 500, [{"layer_id": layer_id}]).get_json()
        assert until(lambda: client.get(f"/api/v1/risk/assessments/{run['id']}",
                                        headers=headers).get_json()["status"] == "done")
        not_done = client.post("/api/v1/risk/assessments/999999/export", headers=headers)
        assert not_done.status_code == 404
        exp = client.post(f"/api/v1/risk/assessments/{run['id']}/export?format=gpkg",
                          headers=headers)
        assert exp.status_code == 202, exp.get_json()
        finished = until(lambda: _ended(client, headers, exp.get_json()["id"]))
        assert finished["status"] == "done", finished
        assert finished["result"]["file"]["name"] == f"risk-assessment-{run['id']}.gpkg"
        assert "key" not in finished["result"]["file"]
        got = client.get(finished["result_url"], headers=headers)
        assert got.status_code == 200 and got.data.startswith(b"SQLite format 3\x00")
        assert len(got.data) == finished["result"]["file"]["size"]
        assert "attachment" in got.headers["Content-Disposition"]
        direct = client.get(f"/api/v1/risk/assessments/{run['id']}/export?format=gpkg",
                            headers=headers)
        assert direct.status_code == 200  # the synchronous export is still there
        other = planner(app, "planner-g", area=False)
        assert client.get(finished["result_url"], headers=other).status_code == 403
        nothing = client.get(f"/api/v1/jobs/{body['id']}/result", headers=headers)
        assert nothing.status_code == 404  # an import makes no file
        # The summary's .xlsx as a job too, beside GET ?format=xlsx.
        summ = client.post(f"/api/v1/risk/assessments/{run['id']}/summary", headers=headers)
        assert summ.status_code == 202, summ.get_json()
        assert client.post("/api/v1/risk/assessments/999999/summary",
                           headers=headers).status_code == 404
        made = until(lambda: _ended(client, headers, summ.get_json()["id"]))
        assert made["status"] == "done", made
        sheet = client.get(made["result_url"], headers=headers)
        assert sheet.status_code == 200 and sheet.data.startswith(b"PK")
        assert made["result"]["file"]["name"].endswith(".xlsx")
        audit = client.get("/api/v1/audit?action=risk_assessment.export",
                           headers=planner(app, "admin-f", role="admin", area=False))
        for job_id in (finished["id"], made["id"]):
            assert any(e.get("changes", {}).get("job") == job_id
                       for e in audit.get_json()["items"]), audit.get_json()
    finally:
        stop_thread(worker)


def test_a_cancelled_import_lets_its_upload_go(live):
    app, client, headers = live
    hazard_layer(client, headers)
    fc = collection([(rect(0, 0, 100, 100), {"value": 1})])
    resp = client.post("/api/v1/layers?async=1", headers=headers,
                       content_type="multipart/form-data",
                       data={"name": "取消", "role": "hazard", "value_field": "value",
                             "file": (io.BytesIO(json.dumps(fc).encode()), "c.geojson")})
    assert resp.status_code == 202 and len(_upload_keys(app)) == 1
    job_id = resp.get_json()["id"]
    cancelled = client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers).get_json()
    assert cancelled["status"] == "cancelled"
    assert _upload_keys(app) == []
    with app.app_context():
        session = new_session()
        assert jobs.get_job(session, job_id, type("U", (), {"role": "admin"})()).result is None
        session.close()


def test_a_failed_jobs_reason_reads_in_the_readers_language(tmp_path):
    """The worker keeps an import's error as it was raised outside any request (English); the
    jobs page shows it in the reader's language, as the 422 of the same import would."""
    from emergency import create_app
    from emergency.jobs.views import _failure

    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path}/i18n.sqlite",
                      "SECRET_KEY": "t", "EMERGENCY_DATA_KEY": DATA_KEY})
    kept = {"code": "invalid", "message": "the file cannot be read",
            "details": {"file": ["not a readable GeoJSON file"]}}
    with app.test_request_context("/jobs?lang=zh"):
        assert _failure(kept).startswith("文件无法读取 — 文件：")
    with app.test_request_context("/jobs?lang=en"):
        assert _failure(kept) == "the file cannot be read — File: not a readable GeoJSON file"
