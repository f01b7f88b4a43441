"""Personal data never leaks: lists, exports, errors, logs, the audit log and stored rows."""

import io
import logging
import zipfile

from sqlalchemy import select

from emergency.domains import metadata
from tests.factories import id_number, member_body, org_body, team_body

NUMBER = id_number(4242)
PHONE = "13942424242"


def _plain_texts(response):
    """The text of a response; for xlsx exports, the text of every sheet part."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    return data.decode("utf-8", "replace")


def test_id_number_and_phone_never_leak(client, actors, db, caplog):
    caplog.set_level(logging.DEBUG)
    admin = actors.header("admin")
    _user, org_headers = actors.make("org_admin")
    org = client.post("/api/v1/orgs", json=org_body(4242), headers=org_headers).get_json()
    client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"}, headers=admin)
    team = client.post(f"/api/v1/orgs/{org['id']}/teams", json=team_body(),
                       headers=org_headers).get_json()
    created = client.post(f"/api/v1/teams/{team['id']}/members",
                          json=member_body(1, id_number=NUMBER, phone=PHONE),
                          headers=org_headers)
    assert created.status_code == 201
    texts = {"create": created.get_data(as_text=True)}
    # The same person again: the conflict must not echo the number.
    again = client.post(f"/api/v1/teams/{team['id']}/members",
                        json=member_body(2, id_number=NUMBER, phone=PHONE),
                        headers=org_headers)
    texts["duplicate error"] = again.get_data(as_text=True)
    member_id = created.get_json()["id"]
    # A reveal is allowed and audited; the audit entry itself must not hold the number.
    revealed = client.get(f"/api/v1/members/{member_id}?reveal=1", headers=admin)
    assert NUMBER in revealed.get_data(as_text=True)

    # The live event stream ends after its backlog and one short heartbeat, so that it can
    # be read whole like every other listing (all of its events, from the first).
    client.application.config.update(EVENTS_HEARTBEAT_SECONDS=0.1, EVENTS_STREAM_MAX_SECONDS=0)
    doc = client.get("/api/v1/openapi.json").get_json()
    for path, ops in doc["paths"].items():
        if "get" in ops and "{" not in path:
            url = f"{path}?last_event_id=0" if path == "/api/v1/events" else path
            for role_headers in (admin, org_headers):
                texts[f"GET {path}"] = client.get(url, headers=role_headers).get_data(
                    as_text=True)
    for path in (f"/api/v1/teams/{team['id']}/members", f"/api/v1/members/{member_id}",
                 f"/api/v1/teams/{team['id']}/members/export", f"/api/v1/teams/{team['id']}",
                 "/api/v1/audit?limit=500"):
        texts[f"GET {path}"] = _plain_texts(client.get(path, headers=admin))
    texts["logs"] = caplog.text

    leaks = [where for where, text in texts.items()
             if NUMBER in text or PHONE in text or NUMBER[-8:] in text]
    assert not leaks, leaks

    db.flush()
    stored = []
    for table in metadata().sorted_tables:
        for row in db.execute(select(table)).all():
            if any(value is not None and (NUMBER in str(value) or PHONE in str(value))
                   for value in row):
                stored.append(table.name)
    assert not stored, f"clear personal data stored in {sorted(set(stored))}"


def test_database_file_and_backup_hold_no_clear_personal_data(backend, tmp_path):
    from emergency import backup, create_app
    from emergency.auth import service
    from emergency.db import new_session
    from tests.conftest import app_config, drop_database, make_database

    url, engine = make_database(backend, tmp_path, "privacy_file")
    try:
        app = create_app(app_config(url, tmp_path))
        with app.app_context():
            session = new_session()
            session.info["actor"] = "test"
            tokens = {}
            for name, role in (("boss", "admin"), ("lead", "org_admin")):
                service.create_user(session, name, role, "correct horse battery")
                tokens[role] = {"Authorization":
                                f"Bearer {service.create_token(session, name, 1)}"}
            session.commit()
            session.close()
        client = app.test_client()
        org = client.post("/api/v1/orgs", json=org_body(4343), headers=tokens["org_admin"])
        org_id = org.get_json()["id"]
        client.post(f"/api/v1/orgs/{org_id}/review", json={"decision": "approve"},
                    headers=tokens["admin"])
        team = client.post(f"/api/v1/orgs/{org_id}/teams", json=team_body(),
                           headers=tokens["org_admin"]).get_json()
        created = client.post(f"/api/v1/teams/{team['id']}/members",
                              json=member_body(3, id_number=NUMBER, phone=PHONE),
                              headers=tokens["org_admin"])
        assert created.status_code == 201
        app.extensions["emergency.db"]["engine"].dispose()
        archive = tmp_path / "privacy.zip"
        backup.backup(engine, archive, None)
        blobs = {"backup": b""}
        with zipfile.ZipFile(archive) as zf:
            blobs["backup"] = b"".join(zf.read(n) for n in zf.namelist())
        if backend == "spatialite":
            path = url.split("sqlite:///", 1)[1]
            for suffix in ("", "-wal"):
                try:
                    with open(path + suffix, "rb") as fh:
                        blobs[f"file{suffix}"] = fh.read()
                except FileNotFoundError:
                    pass
        assert blobs["backup"]
        leaks = [where for where, data in blobs.items()
                 if NUMBER.encode() in data or PHONE.encode() in data]
        assert not leaks, leaks
    finally:
        engine.dispose()
        drop_database(url)
