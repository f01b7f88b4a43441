"""Idempotent POSTs: a client that sends ``Idempotency-Key`` gets the first answer again on a
retry instead of a second write (phones on bad networks, scripts that time out)."""

import hashlib
from datetime import timedelta

from flask import Response, current_app, g, request
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from emergency.auth.permissions import actor
from emergency.db import Base, UTCDateTime, get_session, utcnow
from emergency.errors import error_response
from emergency.jobs.kinds import Periodic

HEADER = "Idempotency-Key"
MAX_STORED_BYTES = 1024 * 1024


class IdempotentResponse(Base):
    """The first successful answer to a POST carrying an Idempotency-Key, per user."""

    __tablename__ = "idempotent_responses"
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    __audit__ = False

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64), comment="sha256 of method, path, body")
    status: Mapped[int] = mapped_column(Integer)
    mimetype: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


def _request_hash():
    """What identifies the request a key was first used for."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _user_id():
    """The signed-in user's id, or None."""
    user = actor()
    return user.id if user is not None else None


def replay():
    """before_request: answer a retried POST from the stored first answer."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or not key or not request.path.startswith("/api/"):
        return None

    if len(key) > 200:
        return error_response(400, "bad_request", f"{HEADER} longer than 200 characters")
    user_id = _user_id()
    if user_id is None:
        return None  # the route answers 401 itself
    stored = get_session().scalar(select(IdempotentResponse).where(
        IdempotentResponse.user_id == user_id, IdempotentResponse.key == key))
    if stored is None:
        g.idempotency = (user_id, key, _request_hash())
        return None
    if stored.request_hash != _request_hash():
        return error_response(409, "conflict", f"this {HEADER} was used for another request")
    return Response(stored.body, status=stored.status, mimetype=stored.mimetype)


def remember(response):
    """Store a successful JSON answer with its key, in the request's own transaction."""
    pending = g.pop("idempotency", None)
    if pending is None or response.status_code >= 400 or response.direct_passthrough:
        return response
    if response.mimetype not in ("application/json", "application/geo+json"):
        return response
    body = response.get_data()
    if len(body) <= MAX_STORED_BYTES:
        user_id, key, request_hash = pending
        get_session().add(IdempotentResponse(
            user_id=user_id, key=key, request_hash=request_hash, status=response.status_code,
            mimetype=response.mimetype, body=body))
    return response


def prune(session, keep_days=None):
    """Forget stored answers older than ``keep_days`` (IDEMPOTENCY_KEEP_DAYS); returns how
    many. A retry after that long is taken as a new request."""
    days = keep_days if keep_days is not None else current_app.config["IDEMPOTENCY_KEEP_DAYS"]
    result = session.execute(delete(IdempotentResponse).where(
        IdempotentResponse.created_at < utcnow() - timedelta(days=days)))
    return result.rowcount


# Daily: the table would otherwise keep every retried POST's answer for ever.
JOBS = (Periodic("core.prune_idempotent_responses", "20 0 * * *", prune),)
