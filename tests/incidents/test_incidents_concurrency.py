"""Concurrent dispatch of one team: exactly one request wins, on a real database of each
backend, with real threads committing (not the rolled-back test session)."""

import threading

from sqlalchemy import text

from emergency import create_app
from tests.conftest import app_config, drop_database, make_database
from tests.incidents.conftest import arrange_committed

THREADS = 8


def _race(backend, tmp_path):
    """Start THREADS dispatch requests for one team at once; return their status codes."""
    url, engine = make_database(backend, tmp_path, "race")
    try:
        app = create_app(app_config(url, tmp_path))
        from registry.crypto import cipher_for

        team_id, token = arrange_committed(engine, cipher_for(app.config["EMERGENCY_DATA_KEY"]))
        headers = {"Authorization": f"Bearer {token}"}
        client = app.test_client()
        incident = client.post("/api/v1/incidents", headers=headers, json={
            "title": "滑坡", "incident_type": "geological", "occurred_at":
            "2026-11-28T08:00:00+08:00",
            "location": {"type": "Point", "coordinates": [106.55, 29.56]}})
        assert incident.status_code == 201, incident.get_json()
        path = f"/api/v1/incidents/{incident.get_json()['id']}/dispatches"
        barrier = threading.Barrier(THREADS)
        codes = []

        def worker():
            local = app.test_client()
            barrier.wait()
            r = local.post(path, json={"team_id": team_id}, headers=headers)
            codes.append(r.status_code)

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM dispatches WHERE team_id = :t"),
                                  {"t": team_id}).scalar()
            status = conn.execute(text("SELECT status FROM teams WHERE id = :t"),
                                  {"t": team_id}).scalar()
        app.extensions["emergency.db"]["engine"].dispose()
        return sorted(codes), stored, status
    finally:
        engine.dispose()
        drop_database(url)


def test_concurrent_dispatch_one_winner(backend, tmp_path):
    codes, stored, status = _race(backend, tmp_path)
    assert codes == [201] + [409] * (THREADS - 1)
    assert stored == 1
    assert status == "dispatched"


def test_database_refuses_second_active_dispatch(backend, tmp_path):
    """The partial unique index itself refuses, whatever the application checks."""
    import pytest
    from sqlalchemy.exc import IntegrityError

    url, engine = make_database(backend, tmp_path, "index")
    try:
        from registry.crypto import cipher_for
        from tests.conftest import DATA_KEY

        team_id, _token = arrange_committed(engine, cipher_for(DATA_KEY))
        insert = text("INSERT INTO incidents (title, incident_type, status, location, "
                      "occurred_at, metrics, matched, required_forces, created_by, created_at, "
                      "updated_at) VALUES ('t', 'flood', 'open', "
                      + ("MakePoint(106.5, 29.5, 4326)" if backend == "spatialite" else
                         "ST_SetSRID(ST_MakePoint(106.5, 29.5), 4326)")
                      + ", CURRENT_TIMESTAMP, '{}', '[]', '[]', '', CURRENT_TIMESTAMP, "
                      "CURRENT_TIMESTAMP)")
        dispatch = text("INSERT INTO dispatches (incident_id, team_id, org_id, task, "
                        "members_requested, status, warnings, requested_by, requested_at, "
                        "updated_at) SELECT 1, id, org_id, '', 1, :s, '[]', '', "
                        "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM teams WHERE id = :t")
        with engine.begin() as conn:
            conn.execute(insert)
            conn.execute(dispatch, {"s": "completed", "t": team_id})
            conn.execute(dispatch, {"s": "on_scene", "t": team_id})
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(dispatch, {"s": "requested", "t": team_id})
    finally:
        engine.dispose()
        drop_database(url)
