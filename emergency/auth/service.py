"""Account operations: users, passwords, tokens and sign-in throttling. No Flask here."""

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, column, func, select, table

from emergency.auth import sessions, throttle
from emergency.auth.models import ApiToken, LoginAttempt, User, UserGrid
from emergency.auth.roles import ADMIN, GRID_STAFF, ORG_ADMIN, ROLES
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Invalid, NotFound
from emergency.geo.models import Area, Grid

_hasher = PasswordHasher()
# The registry's table of organisations, named here by its columns only: the registry sits
# above auth, which must not import it.
_ORGANISATIONS = table("organisations", column("id"))
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")


def hash_password(password):
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def _scope_problems(session, role, grids, org_id, area_code):
    """Problems of a role's scopes, by the API's field names (empty when all is well)."""
    problems = {}
    if grids and role != GRID_STAFF:
        problems["grid_codes"] = ["only grid_staff are scoped to grids"]
    else:
        unknown = [code for code in grids
                   if not session.scalar(select(Grid.id).where(Grid.code == code))]
        if unknown:
            problems["grid_codes"] = [f"unknown grid {code}" for code in unknown]
    if org_id is not None:
        if role != ORG_ADMIN:
            problems["org_id"] = ["only org_admin users belong to an organisation"]
        elif session.scalar(select(_ORGANISATIONS.c.id).where(
                _ORGANISATIONS.c.id == org_id)) is None:
            problems["org_id"] = [f"unknown organisation {org_id}"]
    if area_code and not session.scalar(select(Area.id).where(Area.code == area_code)):
        problems["area_code"] = [f"unknown area {area_code}"]
    return problems


def _password_problems(password):
    """Problems of a new password."""
    if not isinstance(password, str) or len(password) < 8:
        return {"password": ["at least 8 characters"]}
    if len(password) > 1024:
        return {"password": ["at most 1024 characters"]}
    return {}


def create_user(session, username, role, password, grids=(), org_id=None, area_code=None,
                display_name=""):
    """Create a user with a role and its scopes."""
    grids = list(dict.fromkeys(grids or ()))
    problems = {}
    if not USERNAME_RE.match(username or ""):
        problems["username"] = ["2-64 letters, digits, '_', '.' or '-'"]
    if role not in ROLES:
        problems["role"] = [f"must be one of {', '.join(ROLES)}"]
    problems.update(_password_problems(password))
    problems.update(_scope_problems(session, role, grids, org_id, area_code))
    if problems:
        raise Invalid("invalid user: " + ", ".join(sorted(problems)), problems)
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username!r} exists", {"username": ["taken"]})
    user = User(username=username, role=role, password_hash=hash_password(password),
                org_id=org_id, area_code=area_code or None,
                display_name=display_name or username)
    user.grids = [UserGrid(grid_code=code) for code in grids]
    session.add(user)
    session.flush()
    return user


def get_user(session, username):
    """The user with that name, or NotFound."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def authenticate(session, username, password, remote_addr="", policy=None, gate=None,
                 wait=2):
    """The user whose password matches, None when it does not.

    Raises ``throttle.Throttled`` (429) while this name or address is backed off, and
    ``throttle.Busy`` (503) when no password-hashing slot of ``gate`` frees up in ``wait`` s.
    """
    remote_addr = remote_addr or ""
    throttle.check(session, policy or throttle.Policy(), username, remote_addr)
    user = session.scalar(select(User).where(User.username == username))
    ok = False
    with throttle.hashing_slot(gate, wait):
        if user is not None and user.is_active:
            try:
                ok = _hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            # Spend the same time as a real check so names cannot be probed by timing.
            _hasher.hash(password or "x")
    session.add(LoginAttempt(username=username, remote_addr=remote_addr, succeeded=ok))
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


def user_record(user):
    """A user as the API shows it (never the password hash)."""
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role": user.role, "active": bool(user.is_active), "grid_codes": user.grid_codes,
            "org_id": user.org_id, "area_code": user.area_code, "created_at": user.created_at}


def get_user_by_id(session, user_id):
    """The user with that id, or NotFound."""
    return get_or_404(session, User, user_id, "user")


def list_users(session, q=None, role=None, active=None, limit=100, offset=0):
    """Users ordered by name, filtered by a search text, role and state; with the total."""
    query = select(User)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(User.username.ilike(pattern, escape="\\")
                            | User.display_name.ilike(pattern, escape="\\"))
    if role:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active.is_(active))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    users = session.scalars(query.order_by(User.username).limit(limit).offset(offset)).all()
    return users, total


def _other_active_admins(session, user):
    """How many active admins there are besides ``user``."""
    return session.scalar(select(func.count(User.id)).where(
        User.role == ADMIN, User.is_active.is_(True), User.id != user.id))


def update_user(session, user_id, by, **changes):
    """Change a user's role, state, scopes, name or password (by the admin ``by``; None from
    the command line).

    Deactivation, a role change and a new password end every session and token of the user
    at once; scope changes apply from the next request anyway.
    """
    user = get_user_by_id(session, user_id)
    role = changes.get("role", user.role)
    active = changes.get("active", user.is_active)
    grids = changes.get("grid_codes")
    if grids is None:
        grids = user.grid_codes if role == GRID_STAFF else []
    grids = list(dict.fromkeys(grids))
    org_id = changes.get("org_id", user.org_id if role == ORG_ADMIN else None)
    area_code = changes.get("area_code", user.area_code) or None
    problems = {}
    if role not in ROLES:
        problems["role"] = [f"must be one of {', '.join(ROLES)}"]
    if "password" in changes:
        problems.update(_password_problems(changes["password"]))
    problems.update(_scope_problems(session, role, grids, org_id, area_code))
    if problems:
        raise Invalid("invalid user: " + ", ".join(sorted(problems)), problems)
    if by is not None and user.id == by.id and not active:
        raise Conflict("you cannot deactivate yourself", {"active": ["your own account"]})
    losing_admin = user.role == ADMIN and user.is_active and (role != ADMIN or not active)
    if losing_admin and not _other_active_admins(session, user):
        field = "role" if role != ADMIN else "active"
        raise Conflict("the last active administrator must stay",
                       {field: ["last active administrator"]})
    end_sessions = (role != user.role or (user.is_active and not active)
                    or "password" in changes)
    user.role, user.is_active, user.org_id, user.area_code = role, active, org_id, area_code
    if "display_name" in changes:
        user.display_name = changes["display_name"] or user.username
    if "password" in changes:
        user.password_hash = hash_password(changes["password"])
    if grids != user.grid_codes:
        kept = [g for g in user.grids if g.grid_code in grids]
        held = {g.grid_code for g in kept}
        user.grids = kept + [UserGrid(grid_code=code) for code in grids if code not in held]
    session.flush()
    if end_sessions:
        sessions.revoke_all(session, user.id)
        revoke_tokens(session, user.username)
    return user
