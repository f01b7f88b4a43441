"""The audit log: every write recorded without personal data, and it cannot be changed."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from tests.conftest import square


def test_writes_through_the_api_are_audited(client, actors, place):
    admin_user, admin = actors.make("admin", username="auditme")
    body = {"code": "990101004", "name": "审计街道", "level": "street", "parent_code": "990101",
            "geometry": square(106.6, 29.6, 0.05)}
    created = client.post("/api/v1/areas", json=body, headers=admin).get_json()
    auditor = actors.header("auditor")
    log = client.get("/api/v1/audit?actor=auditme&action=area.create", headers=auditor)
    assert log.status_code == 200
    items = log.get_json()["items"]
    assert len(items) == 1
    entry = items[0]
    assert entry["object_type"] == "area" and entry["object_id"] == str(created["id"])
    assert entry["changes"]["code"] == "990101004"
    assert entry["at"].endswith("+00:00")


def test_secrets_are_redacted(client, actors):
    actors.make("planner", username="secretive")
    items = client.get("/api/v1/audit?action=user.create",
                       headers=actors.header("auditor")).get_json()["items"]
    entry = next(i for i in items if i["changes"].get("username") == "secretive")
    assert entry["changes"]["password_hash"] == "[redacted]"
    token_entries = client.get("/api/v1/audit?action=api_token.create",
                               headers=actors.header("auditor")).get_json()["items"]
    assert all(e["changes"]["token_hash"] == "[redacted]" for e in token_entries)


def test_failed_requests_leave_no_audit_entry(client, actors, place):
    admin = actors.header("admin")
    bad = {"code": "990101", "name": "dup", "level": "district", "parent_code": "990000",
           "geometry": square(106.4, 29.4)}
    assert client.post("/api/v1/areas", json=bad, headers=admin).status_code == 409
    log = client.get("/api/v1/audit?action=area.create", headers=admin).get_json()["items"]
    assert all(e["changes"].get("name") != "dup" for e in log)


def test_there_is_no_route_to_change_the_log(client, actors):
    admin = actors.header("admin")
    for method in ("put", "patch", "delete", "post"):
        response = getattr(client, method)("/api/v1/audit", headers=admin)
        assert response.status_code == 405
        response = getattr(client, method)("/api/v1/audit/1", headers=admin)
        assert response.status_code in (404, 405)


def test_the_database_refuses_updates_and_deletes(db, actors):
    actors.make("planner")
    db.flush()
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        nested = db.begin_nested()
        with pytest.raises(DatabaseError, match="append-only"):
            db.execute(text(statement))
        nested.rollback()


def test_audit_filters_and_paging(client, actors):
    auditor = actors.header("auditor")
    for _ in range(3):
        actors.make("planner")
    page = client.get("/api/v1/audit?action=user.create&limit=2", headers=auditor).get_json()
    assert len(page["items"]) == 2 and page["total"] >= 3
    assert client.get("/api/v1/audit?since=notatime", headers=auditor).status_code == 422
    assert client.get("/api/v1/audit?limit=0", headers=auditor).status_code == 422
