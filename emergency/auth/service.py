"""Account operations: users, passwords, tokens and sign-in throttling. No Flask here."""

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, select

from emergency.auth.models import ApiToken, LoginAttempt, User, UserGrid
from emergency.auth.roles import GRID_STAFF, ORG_ADMIN, ROLES
from emergency.db import utcnow
from emergency.errors import Conflict, Invalid, NotFound, TooMany

_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")


def hash_password(password):
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def create_user(session, username, role, password, grids=(), org_id=None, area_code=None,
                display_name=""):
    """Create a user with a role and its scopes."""
    from emergency.geo.models import Area, Grid

    problems = {}
    if not USERNAME_RE.match(username or ""):
        problems["username"] = ["2-64 letters, digits, '_', '.' or '-'"]
    if role not in ROLES:
        problems["role"] = [f"must be one of {', '.join(ROLES)}"]
    if not password or len(password) < 8:
        problems["password"] = ["at least 8 characters"]
    if grids and role != GRID_STAFF:
        problems["grids"] = ["only grid_staff are scoped to grids"]
    if org_id is not None and role != ORG_ADMIN:
        problems["org"] = ["only org_admin users belong to an organisation"]
    if problems:
        raise Invalid("invalid user", problems)
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username!r} exists")
    for code in grids:
        if not session.scalar(select(Grid.id).where(Grid.code == code)):
            raise Invalid(f"unknown grid {code!r}", {"grids": [f"unknown grid {code}"]})
    if area_code and not session.scalar(select(Area.id).where(Area.code == area_code)):
        raise Invalid(f"unknown area {area_code!r}", {"area": [f"unknown area {area_code}"]})
    user = User(username=username, role=role, password_hash=hash_password(password),
                org_id=org_id, area_code=area_code, display_name=display_name or username)
    user.grids = [UserGrid(grid_code=code) for code in dict.fromkeys(grids)]
    session.add(user)
    session.flush()
    return user


def get_user(session, username):
    """The user with that name, or NotFound."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def authenticate(session, username, password, remote_addr="", max_failures=5,
                 window_seconds=900):
    """The user whose password matches, None when it does not; TooMany when throttled."""
    since = utcnow() - timedelta(seconds=window_seconds)
    failures = session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.username == username,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at >= since,
        )
    )
    if failures >= max_failures:
        raise TooMany("too many failed sign-ins; try again later")
    user = session.scalar(select(User).where(User.username == username))
    ok = False
    if user is not None and user.is_active:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        # Spend the same time as a real check so names cannot be probed by timing.
        _hasher.hash(password or "x")
    session.add(LoginAttempt(username=username, remote_addr=remote_addr or "", succeeded=ok))
    session.flush()
    return user if ok else None


def _digest(token):
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session, username, days=90):
    """A new API token for the user; returns the clear token, shown only once."""
    if days is None or days < 1 or days > 3650:
        raise Invalid("days must be between 1 and 3650", {"days": ["1..3650"]})
    user = get_user(session, username)
    token = "em_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token),
                         expires_at=utcnow() + timedelta(days=days)))
    session.flush()
    return token


# One indexed query on every API request: the token's user, if the token is still good.
# Built once: constructing and hashing a fresh statement cost more than running it.
_TOKEN_USER = (select(User).join(ApiToken, ApiToken.user_id == User.id)
               .where(ApiToken.token_hash == bindparam("token_hash"),
                      ApiToken.revoked_at.is_(None), ApiToken.expires_at > bindparam("now"),
                      User.is_active.is_(True)))


_GRID_CODES = (select(UserGrid.__table__.c.grid_code)
               .where(UserGrid.__table__.c.user_id == bindparam("user_id"))
               .order_by(UserGrid.__table__.c.grid_code))


def grid_codes_of(session, user_id):
    """The codes of a user's grids, sorted (``User.grid_codes`` without loading the ORM
    collection: one prebuilt Core query, for hot paths such as new hazard reports)."""
    return list(session.execute(_GRID_CODES, {"user_id": user_id}).scalars())


def user_for_token(session, token):
    """The active user a valid, unexpired, unrevoked token belongs to, else None."""
    if not token or len(token) > 200:
        return None
    return session.scalars(_TOKEN_USER, {"token_hash": _digest(token),
                                         "now": utcnow()}).first()


def revoke_tokens(session, username):
    """Revoke every token of a user; returns how many."""
    user = get_user(session, username)
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                  ApiToken.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = utcnow()
    session.flush()
    return len(rows)
