"""Concurrent retries of the same reports: each client_id stored once, no request fails."""

import threading
import uuid
from collections import Counter

import pytest
from sqlalchemy import func, select

from emergency import create_app
from emergency.db import new_session
from tests.conftest import app_config, drop_database, make_database
from tests.hazards.hazard_helpers import body, one_grid_and_staff, png_bytes

THREADS = 6
REPORTS = 15


@pytest.fixture
def served(backend, tmp_path):
    """An app on its own committed scratch database, with a grid and a grid staff token."""
    url, engine = make_database(backend, tmp_path, label="hazconc")
    app = create_app(app_config(url, tmp_path))
    with app.app_context():
        from emergency.auth import service as auth

        session = new_session()
        one_grid_and_staff(session, "conc-staff")
        token = auth.create_token(session, "conc-staff", 1)
        session.commit()
        session.close()
    yield app, {"Authorization": f"Bearer {token}"}
    app.extensions["emergency.db"]["engine"].dispose()
    engine.dispose()
    drop_database(url)


@pytest.mark.committing
def test_concurrent_retries_store_each_report_once(served):
    from hazards.models import HazardPhoto, HazardReport

    app, headers = served
    payloads = [body(client_id=str(uuid.uuid4())) for _ in range(REPORTS)]
    photo = png_bytes()
    barrier = threading.Barrier(THREADS)
    results, photo_results, errors = [], [], []

    def worker():
        client = app.test_client()
        barrier.wait()
        try:
            for payload in payloads:
                response = client.post("/api/v1/hazards", json=payload, headers=headers)
                results.append((payload["client_id"], response.status_code,
                                response.get_json().get("id")))
            report_id = results[-1][2]
            import io

            response = client.post(f"/api/v1/hazards/{report_id}/photos", headers=headers,
                                   data={"photo": (io.BytesIO(photo), "p.png")},
                                   content_type="multipart/form-data")
            photo_results.append((report_id, response.status_code))
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
    ids_by_client = {}
    for cid, _status, report_id in results:
        ids_by_client.setdefault(cid, set()).add(report_id)
    assert all(len(ids) == 1 for ids in ids_by_client.values())
    assert {status for _id, status in photo_results} <= {200, 201}
    with app.app_context():
        session = new_session(readonly=True)
        stored = session.scalar(select(func.count(HazardReport.id)))
        distinct = session.scalar(select(func.count(func.distinct(HazardReport.client_id))))
        photos = session.scalar(select(func.count(HazardPhoto.id)))
        session.close()
    assert stored == distinct == REPORTS
    assert photos == len({report_id for report_id, _s in photo_results})
