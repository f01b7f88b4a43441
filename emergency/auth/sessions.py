"""Server-side browser sessions: the signed cookie names a row that can be revoked. No Flask.

Flask's cookie session is signed, not stored: before this, a copied cookie kept working after
sign-out, and nothing could end a deactivated user's sessions. Each sign-in now makes a random
id; the cookie carries it and the database keeps only its SHA-256, with the time it was made
and when it was revoked. Every request with a cookie checks the row (one indexed query that
also loads the user, replacing the plain user look-up it did before).
"""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import bindparam, delete, or_, select, update

from emergency.auth.models import User, UserSession
from emergency.db import utcnow


def _digest(sid):
    """The stored form of a session id."""
    return hashlib.sha256(sid.encode()).hexdigest()


def start(session, user, remote_addr="", max_hours=24):
    """Open a session for ``user``; returns the clear id to put in the cookie."""
    now = utcnow()
    # Sweep this user's ended sessions so the table stays the size of the live ones.
    session.execute(delete(UserSession).where(
        UserSession.user_id == user.id,
        or_(UserSession.revoked_at.is_not(None),
            UserSession.created_at < now - timedelta(hours=max_hours))))
    sid = secrets.token_urlsafe(32)
    session.add(UserSession(id=_digest(sid), user_id=user.id, remote_addr=remote_addr or "",
                            created_at=now))
    session.flush()
    return sid


# Built once: it runs on every cookie-authenticated request.
_SESSION_USER = (select(User).join(UserSession, UserSession.user_id == User.id)
                 .where(UserSession.id == bindparam("sid_hash"), User.id == bindparam("user_id"),
                        UserSession.revoked_at.is_(None),
                        UserSession.created_at > bindparam("since"),
                        User.is_active.is_(True)))


def user_for(session, user_id, sid, max_hours=24):
    """The active user of a live, unrevoked session id, else None."""
    if not sid or not isinstance(sid, str) or len(sid) > 200:
        return None
    return session.scalars(_SESSION_USER, {
        "sid_hash": _digest(sid), "user_id": user_id,
        "since": utcnow() - timedelta(hours=max_hours)}).first()


def revoke(session, sid):
    """End one session (sign-out)."""
    if sid and isinstance(sid, str):
        session.execute(update(UserSession).where(UserSession.id == _digest(sid),
                                                  UserSession.revoked_at.is_(None))
                        .values(revoked_at=utcnow()))


def revoke_all(session, user_id):
    """End every session of a user (deactivation, role or password change)."""
    session.execute(update(UserSession).where(UserSession.user_id == user_id,
                                              UserSession.revoked_at.is_(None))
                    .values(revoked_at=utcnow()))
