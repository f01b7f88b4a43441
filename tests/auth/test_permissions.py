"""Authentication and role rules: 401 without credentials, 403 for other roles."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from emergency.auth import service
from emergency.auth.models import ApiToken
from emergency.auth.roles import ROLES
from tests.conftest import error_of, square

AREA = {"code": "990199", "name": "x", "level": "district", "parent_code": "990000",
        "geometry": square(106.4, 29.4)}


def test_no_token_is_401(client):
    response = client.get("/api/v1/areas")
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_bad_token_is_401(client):
    response = client.get("/api/v1/areas", headers={"Authorization": "Bearer em_nope"})
    assert response.status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_area_write_is_admin_only(client, actors, place, role):
    response = client.post("/api/v1/areas", json=AREA, headers=actors.header(role))
    expected = 201 if role == "admin" else 403
    assert response.status_code == expected, response.get_json()
    if expected == 403:
        assert error_of(response)["code"] == "forbidden"


@pytest.mark.parametrize("role", ROLES)
def test_audit_read_is_admin_and_auditor(client, actors, role):
    response = client.get("/api/v1/audit", headers=actors.header(role))
    assert response.status_code == (200 if role in ("admin", "auditor") else 403)


@pytest.mark.parametrize("role", ROLES)
def test_everyone_signed_in_reads_areas(client, actors, role):
    assert client.get("/api/v1/areas", headers=actors.header(role)).status_code == 200


def test_expired_and_revoked_tokens_are_refused(client, db, actors):
    user, header = actors.make("admin")
    assert client.get("/api/v1/areas", headers=header).status_code == 200
    token = db.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    token.expires_at = token.expires_at - timedelta(days=2)
    db.flush()
    assert client.get("/api/v1/areas", headers=header).status_code == 401
    fresh = {"Authorization": "Bearer " + service.create_token(db, user.username, 1)}
    assert client.get("/api/v1/areas", headers=fresh).status_code == 200
    service.revoke_tokens(db, user.username)
    assert client.get("/api/v1/areas", headers=fresh).status_code == 401


def test_tokens_are_stored_hashed(db, actors):
    user, header = actors.make("planner")
    clear = header["Authorization"].split()[1]
    stored = db.scalar(select(ApiToken.token_hash).where(ApiToken.user_id == user.id))
    assert clear not in stored and len(stored) == 64


def test_passwords_use_argon2(db, actors):
    user, _ = actors.make("planner")
    assert user.password_hash.startswith("$argon2id$")


def test_user_validation(db, ctx):
    from emergency.errors import Conflict, Invalid

    with pytest.raises(Invalid) as bad:
        service.create_user(db, "x y", "boss", "short")
    assert set(bad.value.details) == {"username", "role", "password"}
    service.create_user(db, "li", "planner", "long enough pw")
    with pytest.raises(Conflict):
        service.create_user(db, "li", "planner", "long enough pw")
    with pytest.raises(Invalid):
        service.create_user(db, "zhao", "grid_staff", "long enough pw", grids=["nope"])


def test_bearer_token_works_for_clients_that_keep_cookies(client, actors):
    header = actors.header("planner")
    client.get("/login")  # sets a session cookie holding the CSRF token
    assert client.get("/api/v1/areas", headers=header).status_code == 200
