"""Sign-in throttling and the bound on password hashing. No Flask here.

Three counts of recent failed sign-ins, each with its own allowance, all read from
``login_attempts`` (so every app host sees the same counts):

- per user name *and* client address: guessing one account from one place. A success of the
  pair starts its count afresh. The owner signing in from elsewhere is never held back by it.
- per user name from all addresses (looser): guessing one account from many places. Addresses
  the user signed in from recently are spared, so an attacker cannot lock the owner out.
- per client address over all names (password sprays). Successes do not reset it: an attacker
  with an account of their own could otherwise reset it between guesses.

Past its allowance a count is backed off: the next attempt waits ``backoff`` seconds after the
last failure, doubling with each further failure up to ``backoff_max``. Refused attempts are not
recorded (they cost no hashing and must not push the owner's wait further out).
"""

import math
import threading
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, exists, select

from emergency.auth.models import LoginAttempt
from emergency.db import utcnow
from emergency.errors import DomainError, TooMany

GATE_KEY = "emergency.auth.hash_gate"


class Throttled(TooMany):
    """Too many failed sign-ins; ``retry_after`` says when to try again (seconds)."""

    def __init__(self, retry_after):
        super().__init__("too many failed sign-ins; try again later",
                         {"retry_after": [str(retry_after)]})
        self.retry_after = retry_after


class Busy(DomainError):
    """Every password-hashing slot is taken: the sign-in should be retried shortly."""

    status = 503
    code = "unavailable"

    def __init__(self, retry_after=1):
        super().__init__("sign-in is busy; try again in a moment")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Policy:
    """The allowances and back-off of sign-in throttling (see the LOGIN_* settings)."""

    pair_failures: int = 5
    account_failures: int = 50
    address_failures: int = 10
    backoff: int = 30
    backoff_max: int = 300
    window: int = 900
    known_days: int = 30

    @classmethod
    def from_config(cls, config):
        """The policy of an app's configuration."""
        return cls(config["LOGIN_MAX_FAILURES"], config["LOGIN_ACCOUNT_MAX_FAILURES"],
                   config["LOGIN_ADDRESS_MAX_FAILURES"], config["LOGIN_BACKOFF_SECONDS"],
                   config["LOGIN_BACKOFF_MAX_SECONDS"], config["LOGIN_WINDOW_SECONDS"],
                   config["LOGIN_KNOWN_ADDRESS_DAYS"])

    def delay(self, failures, allowance):
        """Seconds to wait after the last of ``failures``; 0 within the allowance."""
        if failures < allowance:
            return 0
        return min(self.backoff_max, self.backoff * 2 ** min(failures - allowance, 30))

    def rows_needed(self, allowance):
        """Most recent attempts worth reading: past the cap, more failures change nothing."""
        steps = math.ceil(math.log2(max(self.backoff_max / max(self.backoff, 1), 1)))
        return allowance + steps + 1


def _wait(session, policy, allowance, scope, now, reset_by_success):
    """Seconds this scope must still wait (0 when free), from its recent attempts."""
    rows = session.execute(
        select(LoginAttempt.at, LoginAttempt.succeeded)
        .where(scope, LoginAttempt.at >= now - timedelta(seconds=policy.window))
        .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc())
        .limit(policy.rows_needed(allowance))).all()
    failures, last = 0, None
    for at, succeeded in rows:
        if succeeded:
            if reset_by_success:
                break
            continue
        failures += 1
        last = last or at
    delay = policy.delay(failures, allowance)
    if not delay:
        return 0
    return max(0, math.ceil((last + timedelta(seconds=delay) - now).total_seconds()))


def _known_address(session, policy, username, remote_addr, now):
    """True when the user signed in successfully from this address recently."""
    since = now - timedelta(days=policy.known_days)
    return bool(session.scalar(select(exists().where(and_(
        LoginAttempt.username == username, LoginAttempt.remote_addr == remote_addr,
        LoginAttempt.succeeded.is_(True), LoginAttempt.at >= since)))))


def check(session, policy, username, remote_addr):
    """Raise Throttled when this user name or address must wait before another attempt."""
    now = utcnow()
    by_name = LoginAttempt.username == username
    by_addr = LoginAttempt.remote_addr == remote_addr
    waits = [
        _wait(session, policy, policy.pair_failures, and_(by_name, by_addr), now, True),
        _wait(session, policy, policy.address_failures, by_addr, now, False),
    ]
    account = _wait(session, policy, policy.account_failures, by_name, now, True)
    if account and not _known_address(session, policy, username, remote_addr, now):
        waits.append(account)
    longest = max(waits)
    if longest:
        raise Throttled(longest)


def hash_gate(app):
    """The app's semaphore bounding concurrent password hashing (made on first use)."""
    gate = app.extensions.get(GATE_KEY)
    if gate is None:
        gate = app.extensions.setdefault(
            GATE_KEY, threading.BoundedSemaphore(max(1, app.config["LOGIN_HASH_CONCURRENCY"])))
    return gate


class hashing_slot:  # noqa: N801 - used as a context manager, like a lock
    """Hold one hashing slot of ``gate`` for the block, or raise Busy after ``wait`` seconds.

    Argon2 takes ~0.2 s of CPU per hash on the request thread; without a bound a burst of
    sign-ins would occupy every worker thread and core and starve other requests. The
    trade-off: at most K cores per process go to hashing, and a sign-in beyond that holds its
    worker thread for up to ``wait`` seconds, then gets 503 with Retry-After (during a flood
    a real user may have to press the button again), while every other request still runs.
    """

    def __init__(self, gate, wait):
        self.gate, self.wait = gate, wait

    def __enter__(self):
        """Wait briefly for a slot."""
        if self.gate is not None and not self.gate.acquire(timeout=max(self.wait, 0)):
            raise Busy()
        return self

    def __exit__(self, *exc):
        """Give the slot back."""
        if self.gate is not None:
            self.gate.release()
        return False
