"""Concurrent dispatch of one team: exactly one request wins, on a real database of each
backend, with real threads committing (not the rolled-back test session)."""

import threading
from datetime import date, timedelta

from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.orm import Session

from emergency import create_app
from emergency.auth import service as auth
from tests.conftest import app_config, drop_database, make_database
from tests.registry.registry_factories import credit_code, id_number

THREADS = 8


def _arrange(engine, cipher):
    """An approved organisation with one insured team, a dispatcher and an incident."""
    from registry import members, service
    from registry.models import Organisation

    session = Session(bind=engine)
    session.info["actor"] = "test"
    admin = auth.create_user(session, "boss", "admin", "correct horse battery")
    auth.create_user(session, "disp", "dispatcher", "correct horse battery")
    org = service.register_org(session, cipher, admin, "蓝天救援队", credit_code(7), "张三",
                               "13812345678", Point(106.57, 29.55), address="渝中区")
    session.flush()
    service.review_org(session, admin, org.id, "approve")
    team = service.create_team(session, admin, org.id, "山地一队", "mountain",
                               Point(106.56, 29.57), 50)
    session.flush()
    member = members.add_member(session, cipher, admin, team.id, "队员", id_number(3),
                                "13900000003")
    session.flush()
    members.add_insurance(session, admin, member.id, "人保", "P1",
                          date.today() - timedelta(days=1), date.today() + timedelta(days=99),
                          "100000.00")
    token = auth.create_token(session, "disp", 1)
    session.commit()
    assert session.get(Organisation, org.id).status == "approved"
    team_id = team.id
    session.close()
    return team_id, token


def _race(backend, tmp_path):
    """Start THREADS dispatch requests for one team at once; return their status codes."""
    url, engine = make_database(backend, tmp_path, "race")
    try:
        app = create_app(app_config(url, tmp_path))
        from registry.crypto import cipher_for

        team_id, token = _arrange(engine, cipher_for(app.config["EMERGENCY_DATA_KEY"]))
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

        team_id, _token = _arrange(engine, cipher_for(DATA_KEY))
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
