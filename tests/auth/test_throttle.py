"""Sign-in throttling: by account and address pair, by account, by address; back-off that
grows and expires; argon2 hashing bounded so sign-ins cannot starve other requests."""

from datetime import timedelta

from sqlalchemy import select

from emergency import create_app
from emergency.auth import service
from emergency.auth.models import LoginAttempt
from tests.auth.auth_helpers import PASSWORD, sign_in
from tests.conftest import app_config

ATTACKER, OWNER, OTHER = "203.0.113.7", "198.51.100.20", "192.0.2.44"


def _age_attempts(db, seconds):
    """Move every recorded sign-in attempt ``seconds`` into the past (instead of sleeping)."""
    for attempt in db.scalars(select(LoginAttempt)):
        attempt.at -= timedelta(seconds=seconds)
    db.flush()


def _retry_after(response):
    """The Retry-After header in seconds."""
    return int(response.headers["Retry-After"])


def test_spray_across_usernames_from_one_address_is_throttled(client, db):
    names = [f"user{n:02d}" for n in range(20)]
    for name in names:
        service.create_user(db, name, "planner", PASSWORD)
    statuses = [sign_in(client, name, "Winter2026!", ATTACKER).status_code for name in names]
    assert 429 in statuses, statuses
    assert statuses.count(401) < len(names)
    # Once throttled, this address gets 429 for any name, with a Retry-After.
    refused = sign_in(client, names[-1], PASSWORD, ATTACKER)
    assert refused.status_code == 429 and _retry_after(refused) >= 1
    # Other addresses are not held back by the spray.
    assert sign_in(client, names[0], PASSWORD, OWNER).status_code == 302


def test_attackers_failures_do_not_lock_the_owner_out(client, db):
    service.create_user(db, "zhang", "planner", PASSWORD)
    statuses = [sign_in(client, "zhang", f"guess{n}", ATTACKER).status_code
                for n in range(8)]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    # The attacker's pair is held back even with the right password ...
    assert sign_in(client, "zhang", PASSWORD, ATTACKER).status_code == 429
    # ... while the owner, from their own address, signs in at once.
    assert sign_in(client, "zhang", PASSWORD, OWNER).status_code == 302


def test_back_off_grows_and_expires(client, db):
    service.create_user(db, "zhang", "planner", PASSWORD)
    for _ in range(5):
        assert sign_in(client, "zhang", "wrong", OWNER).status_code == 401
    first = sign_in(client, "zhang", PASSWORD, OWNER)
    assert first.status_code == 429
    delay1 = _retry_after(first)
    assert f"请在 {delay1} 秒后重试" in first.get_data(as_text=True)  # the wait is shown
    _age_attempts(db, delay1 + 1)
    assert sign_in(client, "zhang", "wrong again", OWNER).status_code == 401
    second = sign_in(client, "zhang", PASSWORD, OWNER)
    assert second.status_code == 429
    delay2 = _retry_after(second)
    assert delay2 > delay1  # each further failure doubles the wait
    _age_attempts(db, delay2 + 1)
    assert sign_in(client, "zhang", PASSWORD, OWNER).status_code == 302  # expired


def test_back_off_is_capped(database, db, tmp_path):
    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                LOGIN_BACKOFF_SECONDS=30, LOGIN_BACKOFF_MAX_SECONDS=120))
    client = app.test_client()
    service.create_user(db, "zhang", "planner", PASSWORD)
    delays = []
    for _ in range(10):
        response = sign_in(client, "zhang", "wrong", OWNER)
        if response.status_code == 429:
            delays.append(_retry_after(response))
            _age_attempts(db, delays[-1] + 1)
    assert max(delays) <= 120 and delays[-1] == 120, delays


def test_distributed_guessing_of_one_account_spares_known_addresses(database, db, tmp_path):
    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                LOGIN_ACCOUNT_MAX_FAILURES=6))
    client = app.test_client()
    service.create_user(db, "zhang", "planner", PASSWORD)
    assert sign_in(client, "zhang", PASSWORD, OWNER).status_code == 302
    client = app.test_client()
    statuses = [sign_in(client, "zhang", "guess", f"10.9.0.{n}").status_code
                for n in range(1, 9)]
    assert statuses[:6] == [401] * 6 and set(statuses[6:]) == {429}, statuses
    # A fresh address is held back by the account-wide limit ...
    assert sign_in(client, "zhang", PASSWORD, OTHER).status_code == 429
    # ... but the owner's address, known from an earlier sign-in, is not.
    assert sign_in(client, "zhang", PASSWORD, OWNER).status_code == 302


def test_hashing_is_bounded_and_busy_sign_ins_get_503(database, db, tmp_path):
    from emergency.auth import throttle

    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                LOGIN_HASH_CONCURRENCY=1, LOGIN_HASH_WAIT_SECONDS=0))
    client = app.test_client()
    service.create_user(db, "zhang", "planner", PASSWORD)
    gate = throttle.hash_gate(app)
    assert gate.acquire(timeout=1)  # another sign-in is hashing right now
    try:
        busy = sign_in(client, "zhang", PASSWORD, OWNER)
        assert busy.status_code == 503 and _retry_after(busy) >= 1
        # Other requests are not held up by the busy sign-in.
        assert client.get("/api/v1/health").status_code == 200
    finally:
        gate.release()
    assert sign_in(client, "zhang", PASSWORD, OWNER).status_code == 302
