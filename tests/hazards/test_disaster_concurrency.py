"""Concurrent retries of the same disaster reports: each client_id stored once, none fails."""

import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from emergency import create_app
from emergency.db import new_session
from tests.conftest import app_config, drop_database, make_database
from tests.hazards.hazard_helpers import one_grid_and_staff
from tests.hazards.test_disaster_api import URL, report

THREADS = 4
REPORTS = 8


@pytest.fixture
def served(backend, tmp_path):
    """An app on its own committed scratch database, with a grid and a grid staff token."""
    url, engine = make_database(backend, tmp_path, label="disconc")
    app = create_app(app_config(url, tmp_path))
    with app.app_context():
        from emergency.auth import service as auth

        session = new_session()
        one_grid_and_staff(session, "disaster-conc")
        token = auth.create_token(session, "disaster-conc", 1)
        session.commit()
        session.close()
    yield app, {"Authorization": f"Bearer {token}"}
    app.extensions["emergency.db"]["engine"].dispose()
    engine.dispose()
    drop_database(url)


@pytest.mark.committing
def test_concurrent_retries_store_each_report_once(served):
    from emergency.events.models import LiveEvent
    from hazards.disasters.models import DisasterReport

    app, headers = served
    payloads = [report(client_id=str(uuid.uuid4())) for _ in range(REPORTS)]
    barrier = threading.Barrier(THREADS)
    results, errors = [], []

    def worker():
        client = app.test_client()
        barrier.wait()
        try:
            for payload in payloads:
                response = client.post(URL, json=payload, headers=headers)
                results.append((payload["client_id"], response.status_code,
                                response.get_json().get("id")))
        except Exception as exc:  # any failure is reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    statuses = Counter(status for _cid, status, _id in results)
    assert set(statuses) <= {200, 201}, statuses
    created = Counter(cid for cid, status, _id in results if status == 201)
    assert sorted(created.values()) == [1] * REPORTS
    ids = {}
    for cid, _status, report_id in results:
        ids.setdefault(cid, set()).add(report_id)
    assert all(len(found) == 1 for found in ids.values())
    with app.app_context():
        session = new_session(readonly=True)
        stored = session.scalar(select(func.count(DisasterReport.id)))
        announced = session.scalar(select(func.count(LiveEvent.id)).where(
            LiveEvent.type == "disaster.created"))
        session.close()
    assert stored == announced == REPORTS  # a retry announces nothing
