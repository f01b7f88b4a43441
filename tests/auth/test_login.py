"""The sign-in page: CSRF, redirects, throttling, sign-out."""

import re

from emergency.auth import service


def _csrf(client, path="/login"):
    page = client.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_login_page_has_the_form(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'name="username"' in html and 'name="password"' in html
    assert 'type="submit"' in html
    assert "登录" in html  # Chinese first


def test_english_on_request(client):
    html = client.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in" in html
    assert "Sign in" in client.get("/login").get_data(as_text=True)  # remembered


def test_sign_in_and_out(client, db):
    service.create_user(db, "zhang", "planner", "correct horse battery")
    response = client.post("/login", data={"username": "zhang", "password":
                                           "correct horse battery", "csrf_token": _csrf(client)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/areas").status_code == 200  # the session works for the API
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get("/").get_data(as_text=True)).group(1)
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/").status_code == 302


def test_login_without_csrf_is_refused(client, db):
    service.create_user(db, "zhang", "planner", "correct horse battery")
    response = client.post("/login", data={"username": "zhang",
                                           "password": "correct horse battery"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_cookie_api_writes_need_csrf_header(client, db, place):
    service.create_user(db, "zhang", "admin", "correct horse battery")
    client.post("/login", data={"username": "zhang", "password": "correct horse battery",
                                "csrf_token": _csrf(client)})
    body = {"code": "g9", "name": "n", "area_code": place["community"],
            "geometry": {"type": "Polygon", "coordinates": [[[106.5, 29.5], [106.51, 29.5],
                                                             [106.51, 29.51], [106.5, 29.5]]]}}
    assert client.post("/api/v1/grids", json=body).status_code == 400
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get("/").get_data(as_text=True)).group(1)
    assert client.post("/api/v1/grids", json=body,
                       headers={"X-CSRFToken": token}).status_code == 201


def test_repeated_failures_are_throttled(client, db):
    service.create_user(db, "zhang", "planner", "correct horse battery")
    token = _csrf(client)
    for _ in range(5):
        bad = client.post("/login", data={"username": "zhang", "password": "wrong",
                                          "csrf_token": token})
        assert bad.status_code == 401
    blocked = client.post("/login", data={"username": "zhang", "password":
                                          "correct horse battery", "csrf_token": token})
    assert blocked.status_code == 429


def test_next_only_follows_local_paths(client, db):
    service.create_user(db, "zhang", "planner", "correct horse battery")
    response = client.post("/login?next=https://evil.example/", data={
        "username": "zhang", "password": "correct horse battery", "csrf_token": _csrf(client)})
    assert response.headers["Location"] == "/"


def test_pages_redirect_to_login(client):
    response = client.get("/maps/districts", headers={"Accept": "text/html"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
