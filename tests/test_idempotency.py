"""Idempotency-Key: a retried POST gets the first answer, never a second write."""

from sqlalchemy import func, select

from emergency.geo.models import Area
from tests.conftest import error_of, square


def _area(code="990101077"):
    return {"code": code, "name": "重试街道", "level": "street", "parent_code": "990101",
            "geometry": square(106.6, 29.6, 0.05)}


def test_a_retry_gets_the_first_answer(client, actors, db, place):
    headers = {**actors.header("admin"), "Idempotency-Key": "abc-1"}
    first = client.post("/api/v1/areas", json=_area(), headers=headers)
    again = client.post("/api/v1/areas", json=_area(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert db.scalar(select(func.count()).where(Area.code == "990101077")) == 1


def test_without_a_key_the_second_post_conflicts(client, actors, place):
    headers = actors.header("admin")
    assert client.post("/api/v1/areas", json=_area(), headers=headers).status_code == 201
    assert client.post("/api/v1/areas", json=_area(), headers=headers).status_code == 409


def test_a_key_reused_for_another_request_is_409(client, actors, place):
    headers = {**actors.header("admin"), "Idempotency-Key": "abc-2"}
    assert client.post("/api/v1/areas", json=_area(), headers=headers).status_code == 201
    other = client.post("/api/v1/areas", json=_area("990101078"), headers=headers)
    assert other.status_code == 409
    assert "Idempotency-Key" in error_of(other)["message"]


def test_failed_requests_are_not_remembered(client, actors, place):
    headers = {**actors.header("admin"), "Idempotency-Key": "abc-3"}
    bad = {**_area(), "level": "town"}
    assert client.post("/api/v1/areas", json=bad, headers=headers).status_code == 422
    # The same key with the same (still bad) body is evaluated again, not replayed...
    assert client.post("/api/v1/areas", json=bad, headers=headers).status_code == 422
    # ...and a corrected body under the same key goes through.
    assert client.post("/api/v1/areas", json=_area(), headers=headers).status_code == 201


def test_keys_belong_to_their_user(client, actors, db, place):
    first = {**actors.header("admin"), "Idempotency-Key": "shared"}
    second = {**actors.header("admin"), "Idempotency-Key": "shared"}
    assert client.post("/api/v1/areas", json=_area(), headers=first).status_code == 201
    assert client.post("/api/v1/areas", json=_area("990101079"),
                       headers=second).status_code == 201
    assert db.scalar(select(func.count()).where(Area.code.in_(["990101077", "990101079"]))) == 2
