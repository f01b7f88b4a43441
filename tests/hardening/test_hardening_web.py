"""Web security: CSRF on every form, headers, cookies, throttling, tokens, upload limits."""

import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
from sqlalchemy import update

from emergency import create_app
from emergency.auth import service
from emergency.auth.models import ApiToken
from emergency.db import utcnow
from tests.conftest import app_config, error_of
from tests.factories import member_body, org_body, team_body
from tests.hazards.hazard_helpers import INSIDE_1
from tests.hazards.hazard_helpers import body as hazard_body

PASSWORD = "correct horse battery"
ROLES = ("admin", "planner", "dispatcher", "grid_staff", "org_admin", "auditor")


class _Forms(HTMLParser):
    """Collects forms (method, has csrf_token) and same-site links of a page."""

    def __init__(self):
        super().__init__()
        self.forms, self.links = [], []

    def handle_starttag(self, tag, attrs):
        """Track forms, their hidden csrf inputs, and links."""
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"method": (a.get("method") or "get").lower(),
                               "action": a.get("action"), "csrf": False})
        elif tag == "input" and self.forms and a.get("name") == "csrf_token" \
                and a.get("type") == "hidden" and a.get("value"):
            self.forms[-1]["csrf"] = True
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"])


def _login(client, username, password=PASSWORD):
    """Sign in through the real form (with its CSRF token); returns the response."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token})


def _start_pages(app):
    """Every GET page without URL parameters (not the API, not static files)."""
    pages = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(
                ("/api/", "/static", "/login", "/logout")):
            pages.append(rule.rule)
    return sorted(pages)


@pytest.fixture
def world(client, actors, place):
    """Users of every role (with a grid and an org) and a few objects pages can link to."""
    admin_user, admin = actors.make("admin")
    users = {"admin": admin_user.username}
    org_user, org_headers = actors.make("org_admin")
    org = client.post("/api/v1/orgs", json=org_body(901), headers=org_headers).get_json()
    client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"}, headers=admin)
    team = client.post(f"/api/v1/orgs/{org['id']}/teams", json=team_body(),
                       headers=org_headers).get_json()
    client.post(f"/api/v1/teams/{team['id']}/members", json=member_body(901),
                headers=org_headers)
    users["org_admin"] = org_user.username
    grid_user, grid_headers = actors.make("grid_staff", grids=place["grids"][:1])
    client.post("/api/v1/hazards", json=hazard_body(INSIDE_1), headers=grid_headers)
    users["grid_staff"] = grid_user.username
    for role in ("planner", "dispatcher", "auditor"):
        users[role] = actors.make(role)[0].username
    return users


@pytest.mark.parametrize("role", ROLES)
def test_every_post_form_of_every_page_carries_csrf(app, world, role):
    client = app.test_client()
    assert _login(client, world[role]).status_code == 302
    queue, seen, problems = list(_start_pages(app)), set(), []
    while queue and len(seen) < 60:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        # Read and close every response: file responses (a service worker) hold a file open.
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        status = response.status_code
        response.close()
        assert status < 500, (path, status)
        if not html or status != 200:
            continue
        parser = _Forms()
        parser.feed(html)
        for form in parser.forms:
            if form["method"] == "post" and not form["csrf"]:
                problems.append((path, form["action"]))
        for href in parser.links:
            url = urlparse(urljoin(path, href))
            if not url.netloc and url.path.startswith("/") and not url.path.startswith(
                    ("/api/", "/static", "/logout")):
                queue.append(url.path)
    assert len(seen) > 3
    assert not problems, problems


def test_form_post_without_csrf_token_is_refused(app, world):
    client = app.test_client()
    response = client.post("/login", data={"username": world["admin"], "password": PASSWORD})
    assert response.status_code == 400
    _login(client, world["admin"])
    # A signed-in browser session writing to the API without the CSRF header is refused too.
    response = client.post("/api/v1/plans", json={"title": "x"})
    assert response.status_code == 400


def test_security_headers_on_pages_and_api(client, app, world):
    _login(client, world["admin"])
    page = client.get("/")
    api = client.get("/api/v1/health")
    for response in (page, api):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] in ("DENY", "SAMEORIGIN")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors" in csp
    assert "Strict-Transport-Security" not in page.headers


def test_secure_deployment_sets_hsts_and_secure_cookie(database, db, tmp_path, world):
    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                SESSION_COOKIE_SECURE=True))
    client = app.test_client()
    response = _login(client, world["admin"])
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookie and "Secure" in cookie[0] and "HttpOnly" in cookie[0]
    assert "SameSite=Lax" in cookie[0]
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_session_cookie_is_httponly_and_samesite(client, world):
    response = _login(client, world["admin"])
    cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookie and "HttpOnly" in cookie[0] and "SameSite=Lax" in cookie[0]
    assert "Secure" not in cookie[0]


def test_login_throttled_after_repeated_failures(client, world):
    statuses = [_login(client, world["planner"], "wrong password").status_code
                for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    # Even the right password is refused while throttled.
    assert _login(client, world["planner"]).status_code == 429


def test_revoked_and_expired_tokens_are_refused(client, db, actors):
    user, headers = actors.make("planner")
    assert client.get("/api/v1/plans", headers=headers).status_code == 200
    service.revoke_tokens(db, user.username)
    assert client.get("/api/v1/plans", headers=headers).status_code == 401
    token = service.create_token(db, user.username, 1)
    fresh = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/plans", headers=fresh).status_code == 200
    db.execute(update(ApiToken).where(ApiToken.revoked_at.is_(None)).values(
        expires_at=utcnow() - timedelta(minutes=1)))
    db.expire_all()
    response = client.get("/api/v1/plans", headers=fresh)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    for bad in ("Bearer ", "Bearer " + "x" * 5000, "Basic YWRtaW46YWRtaW4="):
        assert client.get("/api/v1/plans", headers={"Authorization": bad}).status_code == 401


def test_upload_limits_and_content_checks(database, db, tmp_path, actors, place):
    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                MAX_CONTENT_LENGTH=200_000, PHOTO_MAX_BYTES=50_000))
    client = app.test_client()
    _user, headers = actors.make("grid_staff", grids=place["grids"][:1])
    report = client.post("/api/v1/hazards", json=hazard_body(INSIDE_1), headers=headers)
    report_id = report.get_json()["id"]
    huge = client.post(f"/api/v1/hazards/{report_id}/photos", headers=headers,
                       data={"photo": (io.BytesIO(b"\xff" * 300_000), "a.jpg")})
    assert huge.status_code == 413
    assert error_of(huge)["code"] == "too_large"
    big = client.post(f"/api/v1/hazards/{report_id}/photos", headers=headers,
                      data={"photo": (io.BytesIO(b"\xff\xd8" + b"\x00" * 60_000), "a.jpg")})
    assert big.status_code == 413
    fake = client.post(f"/api/v1/hazards/{report_id}/photos", headers=headers,
                       data={"photo": (io.BytesIO(b"<?php echo 1; ?>"), "a.jpg")})
    assert fake.status_code == 422
    big_json = client.post("/api/v1/hazards", headers={**headers,
                                                       "Content-Type": "application/json"},
                           data=b'{"description": "' + b"x" * 250_000 + b'"}')
    assert big_json.status_code == 413


def test_numbers_too_large_for_the_database_are_422(client, actors):
    headers = actors.header("admin")
    response = client.get("/api/v1/compensations?org_id=99999999999999999999999",
                          headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert error_of(response)["code"] == "invalid"
