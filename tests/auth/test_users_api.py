"""The Users API (admin only): list with search, create, change role/scope/state, audited."""

from tests.auth.auth_helpers import PASSWORD
from tests.conftest import error_of


def test_create_list_and_get(client, actors, place):
    admin = actors.header("admin")
    body = {"username": "li.si", "password": PASSWORD, "role": "grid_staff",
            "grid_codes": place["grids"][:1], "display_name": "李四"}
    created = client.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201, created.get_json()
    user = created.get_json()
    assert user["username"] == "li.si" and user["role"] == "grid_staff"
    assert user["grid_codes"] == place["grids"][:1] and user["active"] is True
    assert "password" not in user and "password_hash" not in user
    listed = client.get("/api/v1/users?q=li.", headers=admin).get_json()
    assert [u["username"] for u in listed["items"]] == ["li.si"] and listed["total"] == 1
    assert client.get("/api/v1/users?q=李四", headers=admin).get_json()["total"] == 1
    everyone = client.get("/api/v1/users", headers=admin).get_json()
    assert everyone["total"] == 2
    assert client.get(f"/api/v1/users/{user['id']}", headers=admin).get_json()["username"] \
        == "li.si"


def test_bad_input_names_the_fields(client, actors):
    admin = actors.header("admin")
    response = client.post("/api/v1/users", json={"username": "x y", "password": "short",
                                                  "role": "king"}, headers=admin)
    assert response.status_code == 422
    details = error_of(response)["details"]
    assert {"username", "password", "role"} <= set(details), details
    response = client.post("/api/v1/users", json={
        "username": "wang", "password": PASSWORD, "role": "planner",
        "grid_codes": ["no-such-grid"]}, headers=admin)
    assert response.status_code == 422 and "grid_codes" in error_of(response)["details"]
    response = client.post("/api/v1/users", json={
        "username": "wang", "password": PASSWORD, "role": "org_admin", "org_id": 99999},
        headers=admin)
    assert response.status_code == 422 and "org_id" in error_of(response)["details"]
    response = client.patch("/api/v1/users/1", json={"active": "maybe"}, headers=admin)
    assert response.status_code == 422 and "active" in error_of(response)["details"]


def test_duplicate_username_is_409(client, actors):
    admin = actors.header("admin")
    body = {"username": "zhao", "password": PASSWORD, "role": "planner"}
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
    response = client.post("/api/v1/users", json=body, headers=admin)
    assert response.status_code == 409 and error_of(response)["code"] == "conflict"


def test_admin_cannot_deactivate_self_or_remove_the_last_admin(client, actors):
    me, admin = actors.make("admin")
    response = client.patch(f"/api/v1/users/{me.id}", json={"active": False}, headers=admin)
    assert response.status_code == 409 and "active" in error_of(response)["details"]
    response = client.patch(f"/api/v1/users/{me.id}", json={"role": "planner"}, headers=admin)
    assert response.status_code == 409 and "role" in error_of(response)["details"]
    other, _headers = actors.make("admin")
    assert client.patch(f"/api/v1/users/{other.id}", json={"active": False},
                        headers=admin).status_code == 200
    assert client.patch(f"/api/v1/users/{other.id}", json={"active": True},
                        headers=admin).status_code == 200
    # With a second active admin, stepping down oneself is allowed.
    assert client.patch(f"/api/v1/users/{me.id}", json={"role": "planner"},
                        headers=admin).status_code == 200


def test_scope_rules_on_change(client, actors, place):
    admin = actors.header("admin")
    user, _ = actors.make("planner")
    response = client.patch(f"/api/v1/users/{user.id}", json={"grid_codes": place["grids"]},
                            headers=admin)
    assert response.status_code == 422 and "grid_codes" in error_of(response)["details"]
    response = client.patch(f"/api/v1/users/{user.id}",
                            json={"role": "grid_staff", "grid_codes": place["grids"]},
                            headers=admin)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["grid_codes"] == sorted(place["grids"])
    response = client.patch(f"/api/v1/users/{user.id}", json={"area_code": "000000"},
                            headers=admin)
    assert response.status_code == 422 and "area_code" in error_of(response)["details"]
    assert client.patch("/api/v1/users/999999", json={}, headers=admin).status_code == 404


def test_every_change_is_audited(client, actors):
    me, admin = actors.make("admin")
    user, _ = actors.make("planner")
    client.patch(f"/api/v1/users/{user.id}", json={"active": False, "role": "auditor"},
                 headers=admin)
    entries = client.get("/api/v1/audit?action=user.update", headers=admin).get_json()["items"]
    mine = [e for e in entries if e["object_id"] == str(user.id)]
    assert mine and all(e["actor"] == me.username for e in mine)
    changes = {k for e in mine for k in e["changes"]}
    assert {"is_active", "role"} <= changes


def test_only_admins(client, actors):
    for role in ("planner", "dispatcher", "grid_staff", "org_admin", "auditor"):
        headers = actors.header(role)
        assert client.get("/api/v1/users", headers=headers).status_code == 403
        assert client.post("/api/v1/users", json={}, headers=headers).status_code == 403
