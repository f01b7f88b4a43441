"""`emergency serve` alone (JOB_RUNNER=serve, the default) finishes risk runs on the embedded
SpatiaLite default: it starts a worker of its own beside the web workers. SpatiaLite only:
on PostGIS the same child worker runs the shared queue that tests/jobs/test_jobs_lease.py
runs with `emergency worker`."""

import os
import signal

import pytest
import requests

from tests.conftest import committed_app, free_port, serve
from tests.jobs.jobs_factories import AREA, hazard_layer, planner, until
from tests.risk.risk_factories import start


@pytest.mark.committing
@pytest.mark.parametrize("backend", ["spatialite"])
def test_serve_alone_finishes_a_risk_run(backend, tmp_path):
    with committed_app(backend, tmp_path, "serveruns") as app:
        headers = planner(app, "planner-s")
        client = app.test_client()
        layer = [{"layer_id": hazard_layer(client, headers)}]
        run = start(client, headers, AREA, 500, layer).get_json()  # queued before serve starts
        port = free_port()
        server = serve(app.config["DATABASE_URL"], tmp_path, port, "--workers", "1",
                       env={"JOB_RUNNER": "serve", "JOB_POLL_SECONDS": "0.2"})
        try:
            base = f"http://127.0.0.1:{port}/api/v1"
            second = requests.post(f"{base}/risk/assessments", headers=headers, timeout=30,
                                   json={"area_code": AREA, "cell_size_m": 1000,
                                         "layers": layer})
            assert second.status_code == 202, second.text

            def ended():
                runs = [requests.get(f"{base}/risk/assessments/{i}", headers=headers,
                                     timeout=30).json() for i in (run["id"],
                                                                  second.json()["id"])]
                return runs if all(r["status"] in ("done", "failed") for r in runs) else None

            runs = until(ended, seconds=120, step=0.3)
            assert runs and [r["status"] for r in runs] == ["done", "done"], runs
        finally:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
