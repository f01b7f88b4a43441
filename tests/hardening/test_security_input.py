"""Hostile request bodies and parameters: every one gets a fast 4xx naming the problem, nothing
is stored, and the server stays healthy (issue 15, classes 5 and 6)."""

import io
import json
import re

import pytest

from tests.conftest import error_of
from tests.factories import org_body

PASSWORD = "correct horse battery"


def _post_raw(client, path, raw, headers, **kwargs):
    """POST a raw JSON text."""
    return client.post(path, data=raw, headers={**headers, "Content-Type": "application/json"},
                       **kwargs)


def _healthy(client):
    """The server still answers right after a rejection."""
    assert client.get("/api/v1/health").status_code == 200


def _org_count(client, headers):
    """How many organisations the admin sees."""
    return client.get("/api/v1/orgs", headers=headers).get_json()["total"]


@pytest.fixture
def admin(actors):
    """An admin's bearer header."""
    return actors.header("admin")


def test_deeply_nested_json_is_400(client, admin):
    """5,000 levels (RecursionError in Python's parser) and 40 levels are both refused."""
    for depth in (5000, 40):
        raw = '{"name": ' + "[" * depth + "]" * depth + "}"
        response = _post_raw(client, "/api/v1/orgs", raw, admin)
        assert response.status_code == 400, (depth, response.get_data(as_text=True)[:200])
        assert "nested" in error_of(response)["message"] or "嵌套" in error_of(response)["message"]
    _healthy(client)


def test_huge_integer_is_400(client, admin):
    """An integer of 5,000 digits is refused as malformed, not a server error."""
    raw = '{"name": "x", "credit_code": ' + "9" * 5000 + "}"
    response = _post_raw(client, "/api/v1/orgs", raw, admin)
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"
    # As a query parameter the schema refuses it as an invalid integer.
    response = client.get("/api/v1/orgs?limit=" + "9" * 5000, headers=admin)
    assert response.status_code == 422
    _healthy(client)


def test_lone_surrogate_is_refused_and_nothing_stored(client, admin):
    """A lone surrogate in a stored string cannot reach the database (500 on PostgreSQL)."""
    before = _org_count(client, admin)
    body = json.dumps({**org_body(), "name": "救援\ud800队"})  # json escapes it as \\ud800
    assert "\\ud800" in body
    response = _post_raw(client, "/api/v1/orgs", body, admin)
    assert response.status_code == 400
    assert "name" in error_of(response)["details"]
    assert _org_count(client, admin) == before
    _healthy(client)


def test_nul_bytes_are_refused_everywhere(client, admin):
    """NUL in a JSON string, a JSON key, a query parameter or a form field: 422 naming it."""
    before = _org_count(client, admin)
    response = _post_raw(client, "/api/v1/orgs", json.dumps({**org_body(), "address": "a\x00b"}),
                         admin)
    assert response.status_code == 422
    assert "address" in error_of(response)["details"]
    response = _post_raw(client, "/api/v1/orgs", json.dumps({**org_body(), "a\x00": 1}), admin)
    assert response.status_code == 422
    response = client.get("/api/v1/orgs?q=a%00b", headers=admin)
    assert response.status_code == 422
    assert "q" in error_of(response)["details"]
    response = client.post("/login", data={"username": "a\x00", "password": "x"})
    assert response.status_code == 422
    assert _org_count(client, admin) == before
    _healthy(client)


def test_objects_with_too_many_members_are_refused_fast(client, actors, admin):
    """300,000 metric keys (2.5 s of validation before) are refused by the body guard, and
    a metrics object above the schema's bound by the schema."""
    plans = client.get("/api/v1/plans", headers=admin).get_json()
    plan_id = plans["items"][0]["id"] if plans["items"] else 1
    raw = json.dumps({"metrics": {f"m{i}": i for i in range(300_000)}})
    response = _post_raw(client, f"/api/v1/plans/{plan_id}/evaluate", raw, admin)
    assert response.status_code in (413, 422)
    response = _post_raw(client, f"/api/v1/plans/{plan_id}/evaluate",
                         json.dumps({"metrics": {f"m{i}": i for i in range(500)}}), admin)
    assert response.status_code in (404, 422)
    if response.status_code == 422:
        assert "metrics" in error_of(response)["details"]
    _healthy(client)


def test_json_body_limit_holds_for_chunked_bodies(database, tmp_path, actors, db):
    """MAX_JSON_BYTES is enforced with and without a Content-Length."""
    from emergency import create_app
    from tests.conftest import app_config

    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                MAX_JSON_BYTES=64 * 1024))
    client = app.test_client()
    headers = actors.header("admin")
    big = json.dumps({**org_body(), "address": "x" * 100_000}).encode()
    response = _post_raw(client, "/api/v1/orgs", big, headers)
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"
    # A chunked body has no length; the server (gunicorn) marks its input as terminated.
    chunked = {"headers": {**headers, "Content-Type": "application/json",
                           "Transfer-Encoding": "chunked"},
               "environ_overrides": {"wsgi.input_terminated": True}}
    response = client.post("/api/v1/orgs", input_stream=io.BytesIO(big), **chunked)
    assert response.status_code == 413, response.get_data(as_text=True)
    small = json.dumps(org_body()).encode()
    response = client.post("/api/v1/orgs", input_stream=io.BytesIO(small), **chunked)
    assert response.status_code == 201, response.get_data(as_text=True)
    _healthy(client)


@pytest.mark.parametrize("target", [
    "/plans\r\nSet-Cookie: evil=1", "/plans\nX: y", "/\\evil.example", "/%0d%0a", "//evil.example",
    "https://evil.example/"])
def test_login_next_never_leaves_the_site_or_splits_headers(client, actors, target):
    """A hostile ``next`` falls back to the home page."""
    actors.make("planner", username="nextuser")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", query_string={"next": target},
                           data={"username": "nextuser", "password": PASSWORD,
                                 "csrf_token": token})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "\r" not in location and "\n" not in location
    assert "evil" not in location and "Set-Cookie" not in location
    assert "evil" not in response.headers.get("Set-Cookie", "")


def test_risk_runs_are_bounded(database, tmp_path, db, actors, place):
    """Runs beyond RISK_MAX_ACTIVE_RUNS queued or running at once get 429, nothing stored."""
    from emergency import create_app
    from risk.models import RiskAssessment
    from tests.conftest import app_config

    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                RISK_MAX_ACTIVE_RUNS=1))
    client = app.test_client()
    headers = actors.header("planner")
    db.add(RiskAssessment(area_code=place["district"], cell_size_m=1000, method="composite",
                          layers=[], params={}, status="running", progress=0.1, error="",
                          epsg=32648, created_by="other"))
    db.flush()
    count = db.query(RiskAssessment).count()
    response = client.post("/api/v1/risk/assessments", headers=headers, json={
        "area_code": place["district"], "cell_size_m": 1000, "layers": [{"layer_id": 1}]})
    assert response.status_code == 429, response.get_data(as_text=True)
    assert db.query(RiskAssessment).count() == count


def test_json_output_writes_iso_dates(app):
    """Any date that reaches Flask's JSON output is ISO 8601, never RFC 1123."""
    from datetime import UTC, date, datetime

    from flask import jsonify

    with app.test_request_context():
        body = jsonify({"d": date(2026, 3, 4), "t": datetime(2026, 3, 4, 5, 6, tzinfo=UTC),
                        "naive": datetime(2026, 3, 4, 5, 6)}).get_json()
    assert body == {"d": "2026-03-04", "t": "2026-03-04T05:06:00+00:00",
                    "naive": "2026-03-04T05:06:00+00:00"}
