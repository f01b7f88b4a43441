"""Server-side sessions: sign-out, deactivation, role and password changes end them at once;
CSRF is skipped only for requests a valid bearer token authenticated."""

import pytest

from emergency.auth import service
from tests.auth.auth_helpers import PASSWORD, csrf_of, sign_in, sign_out


def _copy_cookie(app, client):
    """A second client holding a copy of ``client``'s session cookie (a stolen cookie)."""
    other = app.test_client()
    cookie = client.get_cookie("session")
    other.set_cookie("session", cookie.value)
    return other


def test_copied_cookie_stops_working_after_sign_out(app, client, db):
    service.create_user(db, "zhang", "planner", PASSWORD)
    assert sign_in(client, "zhang").status_code == 302
    thief = _copy_cookie(app, client)
    assert thief.get("/").status_code == 200
    sign_out(client)
    assert client.get("/").status_code == 302
    assert thief.get("/").status_code == 302
    assert thief.get("/api/v1/areas").status_code == 401


def test_signing_in_again_ends_the_previous_session(app, client, db):
    service.create_user(db, "zhang", "planner", PASSWORD)
    assert sign_in(client, "zhang").status_code == 302
    old = _copy_cookie(app, client)
    assert sign_in(client, "zhang").status_code == 302
    assert client.get("/").status_code == 200
    assert old.get("/").status_code == 302


def test_signing_out_ends_only_that_session(app, db):
    service.create_user(db, "zhang", "planner", PASSWORD)
    phone, desk = app.test_client(), app.test_client()
    assert sign_in(phone, "zhang").status_code == 302
    assert sign_in(desk, "zhang").status_code == 302
    sign_out(phone)
    assert phone.get("/").status_code == 302
    assert desk.get("/").status_code == 200


@pytest.mark.parametrize("change", [{"active": False}, {"role": "auditor"},
                                    {"password": "a brand new secret"}])
def test_deactivation_role_or_password_change_ends_sessions_and_tokens(app, client, db, actors,
                                                                       change):
    admin = actors.header("admin")
    user, token = actors.make("planner")
    browser = app.test_client()
    assert sign_in(browser, user.username).status_code == 302
    assert browser.get("/").status_code == 200
    assert client.get("/api/v1/plans", headers=token).status_code == 200
    response = client.patch(f"/api/v1/users/{user.id}", json=change, headers=admin)
    assert response.status_code == 200, response.get_json()
    assert browser.get("/").status_code == 302
    assert browser.get("/api/v1/plans").status_code == 401
    assert client.get("/api/v1/plans", headers=token).status_code == 401


def test_scope_change_keeps_sessions(app, client, db, actors, place):
    admin = actors.header("admin")
    user, _token = actors.make("planner")
    browser = app.test_client()
    sign_in(browser, user.username)
    response = client.patch(f"/api/v1/users/{user.id}", json={"area_code": place["district"]},
                            headers=admin)
    assert response.status_code == 200, response.get_json()
    assert browser.get("/").status_code == 200


def test_deactivated_user_cannot_sign_in(client, db, actors):
    admin = actors.header("admin")
    user, _token = actors.make("planner")
    client.patch(f"/api/v1/users/{user.id}", json={"active": False}, headers=admin)
    assert sign_in(client, user.username).status_code == 401


def _grid_body(place, code):
    return {"code": code, "name": "n", "area_code": place["community"],
            "geometry": {"type": "Polygon", "coordinates": [[[106.5, 29.5], [106.51, 29.5],
                                                             [106.51, 29.51], [106.5, 29.5]]]}}


def test_bogus_authorization_header_does_not_skip_csrf(client, db, place):
    service.create_user(db, "zhang", "admin", PASSWORD)
    assert sign_in(client, "zhang").status_code == 302
    for bogus in ("Bearer not-a-token", "Basic emhhbmc6eA==", "x"):
        response = client.post("/api/v1/grids", json=_grid_body(place, "g-bogus"),
                               headers={"Authorization": bogus})
        assert response.status_code in (400, 403), (bogus, response.status_code)
    assert client.get("/api/v1/grids/g-bogus").status_code == 404


def test_valid_token_needs_no_csrf_and_acts_as_its_user(client, db, actors, place):
    service.create_user(db, "zhang", "planner", PASSWORD)
    assert sign_in(client, "zhang").status_code == 302  # a planner's cookie session ...
    admin_user, admin = actors.make("admin")  # ... and an admin's token in the same client
    response = client.post("/api/v1/grids", json=_grid_body(place, "g-token"), headers=admin)
    assert response.status_code == 201, response.get_json()
    # With the CSRF header, the cookie session still writes as itself (a planner: 403).
    response = client.post("/api/v1/grids", json=_grid_body(place, "g-cookie"),
                           headers={"X-CSRFToken": csrf_of(client, "/")})
    assert response.status_code == 403
