"""Personal data never leaks: lists, exports, errors, logs, the audit log and stored rows."""

import io
import logging
import zipfile

from sqlalchemy import select

from emergency.models import load_all
from tests.registry.registry_factories import id_number, member_body, org_body, team_body

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

    doc = client.get("/api/v1/openapi.json").get_json()
    for path, ops in doc["paths"].items():
        if "get" in ops and "{" not in path:
            for role_headers in (admin, org_headers):
                texts[f"GET {path}"] = client.get(path, headers=role_headers).get_data(
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
    for table in load_all().sorted_tables:
        for row in db.execute(select(table)).all():
            if any(value is not None and (NUMBER in str(value) or PHONE in str(value))
                   for value in row):
                stored.append(table.name)
    assert not stored, f"clear personal data stored in {sorted(set(stored))}"
