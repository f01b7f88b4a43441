"""The live event stream, ``GET /api/v1/events`` (Server-Sent Events).

A stream holds no database session or transaction while it waits: the request's session is
closed when the view returns (the body is produced after the request context is gone), the
backlog of a resumed stream is read in short sessions of its own, new events come from the
process's hub (emergency/events/service.py), and each heartbeat checks in a short session that
the user's session or token is still good (a deactivated user or a revoked session is cut off
within one heartbeat).
"""

import json
import threading
import time
from collections import OrderedDict

from flask import current_app, request, session
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from emergency.auth import service as auth_service
from emergency.auth import sessions as auth_sessions
from emergency.auth.permissions import actor, allow
from emergency.auth.roles import EVERYONE
from emergency.auth.web import SID_KEY
from emergency.db import finish_request, get_session
from emergency.errors import Invalid, error_response
from emergency.events.hub import hub_for
from emergency.events.service import can_see, events_after, latest_id, scope_of
from emergency.jsonbody import Blueprint

blp = Blueprint("events", __name__, url_prefix="/api/v1",
                description="Live events (Server-Sent Events) of committed changes")

RETRY_MS = 3000
BACKLOG_PAGE = 500

_STREAM_DOC = {
    "summary": "Live events (Server-Sent Events)",
    "description": (
        "A `text/event-stream` of the committed changes the signed-in user may read. Each "
        "event has `id:` (resume with the `Last-Event-ID` header or `?last_event_id=`; "
        "without either the stream starts now), `event:` (its type) and `data:` (a JSON "
        "object with at least `type`, `id` of the resource and `at`). A `: ping` comment "
        "comes every 15 s. 503 with Retry-After when this worker already serves its most "
        "streams (EVENTS_MAX_STREAMS_PER_WORKER)."),
    "parameters": [
        {"in": "header", "name": "Last-Event-ID", "required": False,
         "schema": {"type": "integer", "minimum": 0}},
        {"in": "query", "name": "last_event_id", "required": False,
         "schema": {"type": "integer", "minimum": 0}},
    ],
    "responses": {
        "200": {"description": "The event stream",
                "content": {"text/event-stream": {"schema": {"type": "string"}}}},
        "401": {"description": "Not signed in"},
        "422": {"description": "Last-Event-ID is not a whole number"},
        "503": {"description": "Too many streams on this worker; retry after Retry-After"},
    },
}


def _last_event_id():
    """The id to resume after (header first, then the query), or None to start now."""
    raw = request.headers.get("Last-Event-ID")
    if raw is None or raw.strip() == "":
        raw = request.args.get("last_event_id")
    if raw is None or raw.strip() == "":
        return None
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 18:
        raise Invalid("Last-Event-ID must be a whole number",
                      {"last_event_id": ["must be a whole number (an event id)"]})
    return int(raw)


def _credential_check(app, user):
    """A function answering, in a short session of its own, whether the credential this
    request came with (bearer token or browser session) still belongs to ``user``."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    sid = session.get(SID_KEY)
    max_hours = app.config["SESSION_MAX_HOURS"]
    dbx = app.extensions["emergency.db"]

    def check(db):
        if token is not None:
            found = auth_service.user_for_token(db, token)
            if found is not None and found.id == user_id:
                return True
        found = auth_sessions.user_for(db, user_id, sid, max_hours)
        return found is not None

    user_id = user.id

    def alive():
        if dbx["session"] is not None:
            return check(dbx["session"])
        with Session(bind=dbx.get("reader") or dbx["engine"]) as db:
            return check(db)

    return alive


class _Frames:
    """Events in the SSE wire format, each made once per hub (one app's database in this
    process) however many streams send it; events never change, the newest FRAMES_KEPT are
    kept. Keyed by the event's id and its other columns, so that a database restored under a
    running process (ids used again) never gets another event's frame."""

    def __init__(self, size):
        self.size = size
        self.frames = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, row):
        key = (row.id, row.type, row.audience, row.area_code, row.org_id, row.grid_code)
        with self.lock:
            frame = self.frames.get(key)
        if frame is None:
            frame = _frame(row)
            with self.lock:
                self.frames[key] = frame
                while len(self.frames) > self.size:
                    self.frames.popitem(last=False)
        return frame


FRAMES_KEPT = 5000


def _frame(row):
    """One event in the SSE wire format."""
    data = json.dumps(row.data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {row.id}\nevent: {row.type}\ndata: {data}\n\n"


def _frames_of(hub):
    """The hub's frame cache, made on first use."""
    frames = getattr(hub, "frames", None)
    if frames is None:
        frames = hub.frames = _Frames(FRAMES_KEPT)
    return frames


class _Stream:
    """The response body: yields SSE frames; ``close()`` (called by the WSGI server when the
    client goes or the stream ends) always counts the stream out of the hub."""

    def __init__(self, app, hub, scope, last_id, alive):
        self.hub = hub
        self.scope = scope
        self.last_id = last_id
        self.alive = alive
        self.heartbeat = app.config["EVENTS_HEARTBEAT_SECONDS"]
        self.max_seconds = app.config["EVENTS_STREAM_MAX_SECONDS"]
        dbx = app.extensions["emergency.db"]
        self.inline = dbx["session"]
        self.bind = dbx.get("reader") or dbx["engine"]
        self.closed = False
        with hub.cond:
            self.seq = hub.seq  # rows buffered after this are new to this stream

    def close(self):
        """Count the stream out once."""
        if not self.closed:
            self.closed = True
            self.hub.leave()

    def _backlog(self, after):
        """One page of visible events after ``after``, read in a short session."""
        if self.inline is not None:
            return events_after(self.inline, self.scope, after, BACKLOG_PAGE)
        with Session(bind=self.bind) as db:
            return events_after(db, self.scope, after, BACKLOG_PAGE)

    def __iter__(self):
        try:
            yield f"retry: {RETRY_MS}\n\n"
            sent = set()
            after = self.last_id
            while after is not None:
                rows = self._backlog(after)
                for row in rows:
                    sent.add(row.id)
                    yield _frame(row)
                after = rows[-1].id if len(rows) == BACKLOG_PAGE else None
            made = _frames_of(self.hub)
            started = time.monotonic()
            next_beat = started + self.heartbeat
            while True:
                rows, self.seq = self.hub.since(self.seq, max(0.05, next_beat - time.monotonic()))
                if self.hub.stopped:
                    return  # the app is shutting down; the client reconnects elsewhere
                if rows is None:
                    return  # fell behind the buffer: the client resumes with Last-Event-ID
                frames = []
                for row in rows:
                    if row.id in sent:
                        sent.discard(row.id)
                    elif can_see(self.scope, row):
                        frames.append(made(row))
                if frames:
                    yield "".join(frames)  # one write for what one wake-up brought
                now = time.monotonic()
                if now >= next_beat:
                    if not self.alive() or now - started >= self.max_seconds:
                        return
                    yield ": ping\n\n"
                    next_beat = now + self.heartbeat
        finally:
            self.close()


@blp.route("/events", methods=["GET"])
@allow(EVERYONE)
@blp.doc(**_STREAM_DOC)
def stream_events():
    """Live events (Server-Sent Events) the signed-in user may read."""
    app = current_app._get_current_object()
    user = actor()
    last_id = _last_event_id()
    scope = scope_of(get_session(), user)
    alive = _credential_check(app, user)
    # Everything the stream needs from the request's session is read: end its transaction
    # now, returning its connection before the hub takes one (two per request would let 200
    # streams opening at once exhaust the pool).
    finish_request(False)
    hub = hub_for(app)
    if not hub.enter(app.config["EVENTS_MAX_STREAMS_PER_WORKER"]):
        response = error_response(503, "unavailable", "too many live streams on this worker; "
                                  "retry shortly")
        response.headers["Retry-After"] = "5"
        return response
    try:
        hub.start()
        body = _Stream(app, hub, scope, last_id, alive)
    except BaseException:
        hub.leave()
        raise
    response = app.response_class(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"
    return response


@blp.app_context_processor
def _live_context():
    """``live_last_event_id()`` for base.html: the newest event id when the page was drawn,
    so the page's stream resumes from there and misses nothing that happened meanwhile."""
    def live_last_event_id():
        # A short session of its own: an error page drawn after a failed statement (its
        # transaction aborted on PostGIS) or with the database gone must still draw; the
        # stream then starts from now.
        dbx = current_app.extensions["emergency.db"]
        try:
            if dbx["session"] is not None:
                return latest_id(dbx["session"])
            with Session(bind=dbx.get("reader") or dbx["engine"]) as db:
                return latest_id(db)
        except SQLAlchemyError:
            return ""
    return {"live_last_event_id": live_last_event_id}
