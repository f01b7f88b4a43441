"""Writing live events in the transaction of the change they announce, who may read them, and
the per-process hub that follows the table for the streams of ``GET /api/v1/events``.

The table is the truth; wake-ups only say "look now":

- ``publish`` adds a row in the caller's transaction and marks the session; when it commits
  (SQLAlchemy ``after_commit``) every hub of this process is woken. On PostgreSQL ``publish``
  also runs ``pg_notify('live_events', '')``, which PostgreSQL delivers at commit (and only
  then) to every ``LISTEN`` of every process, so other workers and hosts wake too.
- One hub per app per process runs one thread. It waits for a wake-up (PostgreSQL: ``LISTEN``
  on a dedicated connection, reconnected on failure; both backends: the in-process signal),
  at most ``POLL_SECONDS`` (PostgreSQL: a safety net should the listener be down) or
  ``SQLITE_POLL_SECONDS`` (SpatiaLite: how commits of other processes are seen), then
  reads the new rows ONCE for all of this process's streams, appends them to an in-memory
  buffer and wakes the streams, which filter them by what their user may read. The database
  sees one small query per wake-up per process, not one per stream.

Ordering: on PostgreSQL ids come from a sequence when the row is inserted, but transactions
commit in any order, so after reading id 12 the hub may later see id 11 commit. The hub keeps
the ids below its high-water mark that it has not seen ("gaps") and asks for them again on
every read for ``GAP_SECONDS``; a gap that fills is delivered then (so a stream may see 12
before 11; clients key on ids, not order). We chose this over reading only rows older than the
oldest transaction in flight (``pg_snapshot_xmin``): that would hold back every event while any
long transaction anywhere in the database is open (a risk run), and needs a comparable
transaction id column we do not have. The cost: a transaction that commits more than
``GAP_SECONDS`` after a later one's commit (none of ours runs that long after its insert) is
not delivered live; it is still in the table for clients that reload. Ids that never fill
(rolled back) are dropped after the window. On SpatiaLite one writer at a time holds the lock
from its first statement to its commit, so ids are assigned in commit order and no gap fills.
"""

import logging
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, event, false, func, or_, select, text
from sqlalchemy.orm import Session

from emergency.auth.roles import ADMIN, BUREAU, GRID_STAFF, ORG_ADMIN
from emergency.db import utcnow
from emergency.events.models import EVENT_TYPES, LiveEvent
from emergency.geo.service import area_descendants

log = logging.getLogger(__name__)

CHANNEL = "live_events"
POLL_SECONDS = 1.0          # longest wait between two reads of the table (safety net)
SQLITE_POLL_SECONDS = 0.5   # SpatiaLite: other processes' commits are only seen by polling
GAP_SECONDS = 30.0          # how long an id below the high-water mark is asked for again
SEED_IDS = 200              # at start, ids this far below the newest are watched as gaps
BUFFER_SIZE = 5000          # events kept in memory per process for the streams to catch up
PRUNE_EVERY_SECONDS = 60    # at most one prune per process per minute
KEEP = timedelta(hours=24)  # events are kept at least this long (Last-Event-ID resumes)
IDLE_STOP_SECONDS = 60      # a hub with no stream for this long stops its thread

# Hubs of this process, woken after a commit that published events.
_HUBS = weakref.WeakSet()
_PENDING = "live_events_published"


def publish(session, type, resource_id, *, audience="bureau", area_code=None, org_id=None,
            grid_code=None, **data):
    """Add an event for a change made in ``session``; it is announced when that commits.

    ``data`` is merged into the payload, which always holds ``type``, ``id`` and ``at``.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if audience not in ("bureau", "public"):
        raise ValueError(f"unknown audience {audience!r}")
    at = utcnow()
    payload = {"type": type, "id": resource_id, "at": at.isoformat(), **data}
    event_row = LiveEvent(type=type, resource_id=resource_id, at=at, data=payload,
                          audience=audience, area_code=area_code, org_id=org_id,
                          grid_code=grid_code)
    session.add(event_row)
    if not session.info.get(_PENDING):
        session.info[_PENDING] = True
        if session.get_bind().dialect.name == "postgresql":
            # Delivered by PostgreSQL at commit, to every listener; identical notifications of
            # one transaction are folded into one.
            session.execute(text(f"SELECT pg_notify('{CHANNEL}', '')"))
    return event_row


@event.listens_for(Session, "after_commit")
def _announce(session):
    """Wake this process's hubs once a transaction that published events has committed."""
    if session.info.pop(_PENDING, None):
        for hub in list(_HUBS):
            hub.wake()


@event.listens_for(Session, "after_rollback")
def _forget(session):
    """A rolled-back transaction announces nothing (its NOTIFY is dropped by PostgreSQL)."""
    session.info.pop(_PENDING, None)


# ---------------------------------------------------------------------------------------------
# Who may read what

@dataclass(frozen=True)
class Scope:
    """What one user may read, resolved once (a stream keeps it for its life)."""

    role: str
    org_id: int | None = None
    areas: frozenset | None = None   # bureau staff with a district: its area codes
    grids: frozenset = frozenset()


def scope_of(session, user):
    """The reading scope of ``user`` (looks up the areas below a district-scoped user's)."""
    areas = None
    if user.role in BUREAU and user.role != ADMIN and user.area_code:
        areas = frozenset(area_descendants(session, user.area_code))
    grids = frozenset(user.grid_codes) if user.role == GRID_STAFF else frozenset()
    return Scope(user.role, user.org_id, areas, grids)


def visible_filter(user, session=None):
    """SQL condition on ``LiveEvent``: the events ``user`` (a User or a Scope) may read.

    Bureau roles read "bureau" and "public" events; bureau staff scoped to a district only
    those whose area is inside it or that have no area. An org_admin reads the events of
    their organisation and "public" ones; grid staff those of their grids and "public" ones.
    ``can_see`` is the same rule in Python, for the streams; keep the two together.
    """
    scope = user if isinstance(user, Scope) else scope_of(session, user)
    public = LiveEvent.audience == "public"
    if scope.role in BUREAU:
        if scope.areas is None:
            return LiveEvent.audience.in_(("bureau", "public"))
        return or_(public, (LiveEvent.audience == "bureau")
                   & or_(LiveEvent.area_code.is_(None),
                         LiveEvent.area_code.in_(sorted(scope.areas))))
    if scope.role == ORG_ADMIN:
        return or_(public, LiveEvent.org_id == scope.org_id) if scope.org_id else public
    if scope.role == GRID_STAFF:
        return or_(public, LiveEvent.grid_code.in_(sorted(scope.grids))) if scope.grids \
            else public
    return public if scope.role else false()


def can_see(scope, row):
    """Whether a read event row (with audience, area_code, org_id, grid_code) is visible."""
    if row.audience == "public":
        return True
    if scope.role in BUREAU:
        return row.audience == "bureau" and (
            scope.areas is None or row.area_code is None or row.area_code in scope.areas)
    if scope.role == ORG_ADMIN:
        return scope.org_id is not None and row.org_id == scope.org_id
    if scope.role == GRID_STAFF:
        return row.grid_code is not None and row.grid_code in scope.grids
    return False


_COLUMNS = (LiveEvent.id, LiveEvent.type, LiveEvent.data, LiveEvent.audience,
            LiveEvent.area_code, LiveEvent.org_id, LiveEvent.grid_code)


def events_after(session, scope, after_id, limit=500):
    """Up to ``limit`` events visible to ``scope`` with ids above ``after_id``, by id."""
    return session.execute(select(*_COLUMNS).where(LiveEvent.id > after_id,
                                                   visible_filter(scope))
                           .order_by(LiveEvent.id).limit(limit)).all()


def latest_id(session):
    """The newest event id (0 when there is none)."""
    return session.scalar(select(func.max(LiveEvent.id))) or 0


def prune(session, older_than=KEEP):
    """Delete events older than ``older_than`` (never the newest one, so ids keep growing
    on SQLite, which reuses the highest id once it is deleted); returns how many."""
    newest = select(func.max(LiveEvent.id)).scalar_subquery()
    result = session.execute(delete(LiveEvent).where(LiveEvent.at < utcnow() - older_than,
                                                     LiveEvent.id < newest))
    return result.rowcount


# ---------------------------------------------------------------------------------------------
# The per-process hub

class Hub:
    """Follows the table for all streams of one app in this process (see the module doc)."""

    def __init__(self, engine, reader=None, inline=None, poll_seconds=POLL_SECONDS):
        self.engine = engine
        self.reader = reader if reader is not None else engine
        self.inline = inline  # tests: a shared session read by the streams themselves
        self.poll_seconds = poll_seconds
        self.cond = threading.Condition()
        self.refresh_lock = threading.Lock()
        self.buffer = deque(maxlen=BUFFER_SIZE)  # (seq, row)
        self.seq = 0
        self.high = None          # highest id read
        self.gaps = {}            # id -> monotonic time it was first missed
        self.streams = 0
        self.idle_since = time.monotonic()
        self.thread = None
        self.listening = False    # PostgreSQL: LISTEN is up
        self.last_prune = 0.0
        self._wake = threading.Event()
        _HUBS.add(self)

    @property
    def postgres(self):
        """Whether the hub follows a PostgreSQL database."""
        return self.engine.dialect.name == "postgresql"

    def wake(self):
        """Ask the thread to read now (a commit in this process published events)."""
        self._wake.set()

    # -- reading -------------------------------------------------------------------------

    def refresh(self, conn):
        """Read rows above the high-water mark and the watched gaps; buffer them and wake the
        streams. Returns how many rows were new."""
        with self.refresh_lock:
            now = time.monotonic()
            if self.high is None:
                self.high = conn.execute(select(func.max(LiveEvent.id))).scalar() or 0
                present = set(conn.execute(select(LiveEvent.id).where(
                    LiveEvent.id > self.high - SEED_IDS)).scalars())
                self.gaps = {i: now for i in range(max(1, self.high - SEED_IDS + 1), self.high)
                             if i not in present}
                return 0
            self.gaps = {i: t for i, t in self.gaps.items() if now - t < GAP_SECONDS}
            condition = LiveEvent.id > self.high
            if self.gaps:
                condition = or_(condition, LiveEvent.id.in_(sorted(self.gaps)))
            rows = conn.execute(select(*_COLUMNS).where(condition)
                                .order_by(LiveEvent.id)).all()
            if not rows:
                return 0
            ids = {row.id for row in rows}
            top = max(ids)
            if top > self.high:
                # Ids skipped over are watched; after a jump (a restore) only the last ones.
                for missing in range(max(self.high + 1, top - SEED_IDS * 10), top):
                    if missing not in ids:
                        self.gaps[missing] = now
                self.high = top
            for found in ids:
                self.gaps.pop(found, None)
            with self.cond:
                for row in rows:
                    self.seq += 1
                    self.buffer.append((self.seq, row))
                self.cond.notify_all()
            return len(rows)

    def start(self):
        """Make sure the hub is initialised and following (called as a stream opens)."""
        if self.inline is not None:
            self.refresh(self.inline.connection())
            return
        # Read what has committed so far before the stream takes its place in the buffer, so
        # "start now" means now and not "from the hub's last read".
        with self.reader.connect() as conn:
            self.refresh(conn)
        with self.cond:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="live-events",
                                               daemon=True)
                self.thread.start()

    def _run(self):
        """The hub's thread: wait for a wake-up or the poll interval, read, repeat; stop after
        a minute without streams (the next stream starts it again)."""
        failures = 0
        while True:
            listener = None
            try:
                if self.postgres:
                    listener = self._listen()
                while True:
                    self._wait(listener)
                    with self.cond:
                        if self.streams == 0 and time.monotonic() - self.idle_since \
                                > IDLE_STOP_SECONDS:
                            self.thread = None
                            return
                    with self.reader.connect() as conn:
                        self.refresh(conn)
                    self._maybe_prune()
                    failures = 0
            except Exception:
                failures += 1
                with self.cond:
                    if self.streams == 0:  # nobody to serve: the next stream starts us again
                        self.thread = None
                        log.warning("live events: following the table failed; stopped",
                                    exc_info=True)
                        return
                log.exception("live events: following the table failed; retrying")
                time.sleep(min(30, 0.5 * 2 ** min(failures, 6)))
            finally:
                self.listening = False
                if listener is not None:
                    try:
                        listener.close()
                    except Exception:
                        pass

    def _listen(self):
        """A dedicated PostgreSQL connection (out of the pool) that LISTENs."""
        raw = self.engine.raw_connection()
        conn = raw.driver_connection
        raw.detach()  # ours now: the pool neither hands it out nor counts it
        conn.rollback()
        conn.autocommit = True
        conn.execute(f"LISTEN {CHANNEL}")
        self.listening = True
        return conn

    def _wait(self, listener):
        """Block until a notification, an in-process wake-up or the poll interval."""
        if listener is not None:
            # Commits of this process notify too, so the listener alone suffices here.
            for _ in listener.notifies(timeout=self.poll_seconds, stop_after=1):
                pass
            self._wake.clear()
        else:
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def _maybe_prune(self):
        """Prune old events at most once a minute per process."""
        now = time.monotonic()
        if now - self.last_prune < PRUNE_EVERY_SECONDS:
            return
        self.last_prune = now
        with Session(self.engine) as session:
            prune(session)
            session.commit()

    # -- streams -------------------------------------------------------------------------

    def enter(self, limit):
        """Count a new stream in; False when this process already serves ``limit``."""
        with self.cond:
            if self.streams >= limit:
                return False
            self.streams += 1
            return True

    def leave(self):
        """Count a stream out."""
        with self.cond:
            self.streams -= 1
            if self.streams == 0:
                self.idle_since = time.monotonic()

    def since(self, seq, timeout):
        """Wait up to ``timeout`` s for rows after ``seq``: (rows, new seq); rows is None when
        the buffer no longer holds everything after ``seq`` (the stream fell behind)."""
        if self.inline is not None:
            self.refresh(self.inline.connection())
        with self.cond:
            if self.seq == seq:
                self.cond.wait(timeout if self.inline is None else min(timeout, 0.2))
            if self.seq == seq:
                return [], seq
            if not self.buffer or self.buffer[0][0] > seq + 1:
                return None, self.seq
            return [row for s, row in self.buffer if s > seq], self.seq


_HUB_LOCK = threading.Lock()


def hub_for(app):
    """The hub of ``app`` in this process (created on first use)."""
    ext = app.extensions.setdefault("emergency.events", {})
    hub = ext.get("hub")
    if hub is not None:
        return hub
    with _HUB_LOCK:
        hub = ext.get("hub")
        if hub is not None:
            return hub
        dbx = app.extensions["emergency.db"]
        if dbx["session"] is not None:
            hub = Hub(dbx["engine"], inline=dbx["session"])
        else:
            poll = POLL_SECONDS if dbx["engine"].dialect.name == "postgresql" \
                else SQLITE_POLL_SECONDS
            hub = Hub(dbx["engine"], dbx.get("reader"), poll_seconds=poll)
        ext["hub"] = hub
        return hub

