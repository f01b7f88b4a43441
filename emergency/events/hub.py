"""The per-process hub that follows the live events table for the streams of
``GET /api/v1/events``.

The table is the truth; wake-ups only say "look now". One hub per app per process runs one
thread. It waits for a wake-up (PostGIS: ``LISTEN`` on a dedicated connection, reconnected on
failure, which also hears this process's own commits; SpatiaLite: the in-process signal that
``publish`` gives after commit), at most ``POLL_SECONDS`` (PostGIS: a safety net should the
listener be down) or ``SQLITE_POLL_SECONDS`` (SpatiaLite: how commits of other processes are
seen), then reads the new rows ONCE for all of this process's streams, appends them to an
in-memory buffer and wakes the streams, which filter them by what their user may read. The
database sees one small query per wake-up per process, not one per stream.

Ordering: on PostgreSQL ids come from a sequence when the row is inserted, but transactions
commit in any order, so after reading id 12 the hub may later see id 11 commit. The hub keeps
the ids below its high-water mark that it has not seen ("gaps") and asks for them again on
every read for ``GAP_SECONDS``; a gap that fills is delivered then (so a stream may see 12
before 11; clients key on ids, not order). We chose this over reading only rows older than the
oldest transaction in flight (``pg_snapshot_xmin``): that would hold back every event while any
long transaction anywhere in the database is open (a risk run), and needs a comparable
transaction id column we do not have. The cost: an event whose transaction commits more than
``GAP_SECONDS`` after a later-numbered one was read (none of ours runs that long after its
insert) is not delivered live; it is still in the table for clients that reload or resume
from an earlier id. Ids that never fill (rolled back) are dropped after the window. On
SpatiaLite one writer at a time holds the lock from its first statement to its commit, so ids
are assigned in commit order and no gap fills.
"""

import logging
import threading
import time
from collections import deque
from itertools import islice

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from emergency.events.models import LiveEvent
from emergency.events.service import AFTER_COMMIT, CHANNEL, COLUMNS, HUBS, prune
from emergency.spatial import notify

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0          # PostGIS: longest wait between two reads (listener down)
SQLITE_POLL_SECONDS = 0.5   # SpatiaLite: other processes' commits are only seen by polling
GAP_SECONDS = 30.0          # how long an id below the high-water mark is asked for again
SEED_IDS = 200              # at start, ids this far below the newest are watched as gaps
BUFFER_SIZE = 5000          # events kept in memory per process for the streams to catch up
PRUNE_EVERY_SECONDS = 60    # at most one prune per process per minute
IDLE_STOP_SECONDS = 60      # a hub with no stream for this long stops its thread
# Reads at most this often: wake-ups coming faster (a commit each, at 100 reports/s) are
# taken together, so the streams wake ~20 times a second with several events each instead
# of once per event (measured: 50 open streams at 100 reports/s on PostGIS took the reports'
# p99 from 28 to 400 ms, every commit waking every stream thread). An event after a quiet
# spell is still read at once.
COALESCE_SECONDS = 0.05


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
        self.last_read = 0.0
        self.stopped = False      # stop(): the thread ends and streams are told to close
        self._wake = threading.Event()
        HUBS.add(self)

    def wake(self):
        """Ask the thread to read now (a commit in this process published events)."""
        self._wake.set()

    def stop(self, timeout=10):
        """End the thread and the streams (app shutdown; tests before dropping a database).

        Streams see ``stopped`` at their next wake-up or heartbeat and end; a later stream
        starts the hub again.
        """
        with self.cond:
            self.stopped = True
            self.cond.notify_all()
            thread = self.thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

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
            rows = conn.execute(select(*COLUMNS).where(condition)
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
            self.stopped = False
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
                listener = notify.listen(self.engine, CHANNEL)
                self.listening = listener is not None
                while True:
                    self._wait(listener)
                    with self.cond:
                        if self.stopped or self.streams == 0 and \
                                time.monotonic() - self.idle_since > IDLE_STOP_SECONDS:
                            self.thread = None
                            return
                    pause = self.last_read + COALESCE_SECONDS - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
                    self.last_read = time.monotonic()
                    with self.reader.connect() as conn:
                        self.refresh(conn)
                    self._maybe_prune()
                    failures = 0
            except Exception:
                failures += 1
                with self.cond:
                    # nobody to serve: the next stream starts us again
                    if self.stopped or self.streams == 0:
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

    def _wait(self, listener):
        """Block until a notification, an in-process wake-up or the poll interval."""
        if listener is not None:
            # Commits of this process notify too, so the listener alone suffices here.
            notify.wait(listener, self.poll_seconds)
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
            # Sequence numbers are consecutive: the newest (self.seq - seq) entries, taken from
            # the right end, so each wake-up costs each stream only what is new to it.
            rows = [row for _, row in islice(reversed(self.buffer), self.seq - seq)]
            rows.reverse()
            return rows, self.seq


_HUB_LOCK = threading.Lock()
_PRUNE_LOCK = threading.Lock()
PRUNE_THREAD = "live-events-prune"  # the name of the thread a publication's pruning runs in
_last_prune = 0.0


def _prune_now_and_then(session):
    """After a commit that published events: prune in a thread of its own, at most once a
    minute per process, so the table stays a day long even where no stream ever opens (the
    hub prunes too while it runs)."""
    global _last_prune
    engine = session.get_bind()
    if not isinstance(engine, Engine):
        return  # a session bound to one connection (tests): nothing to prune with
    with _PRUNE_LOCK:
        now = time.monotonic()
        if now - _last_prune < PRUNE_EVERY_SECONDS:
            return
        _last_prune = now
    threading.Thread(target=_prune_job, args=(engine,), name=PRUNE_THREAD,
                     daemon=True).start()


def _prune_job(engine):
    """Delete events older than a day in a short transaction of its own."""
    try:
        with Session(engine) as session:
            prune(session)
            session.commit()
    except Exception:  # the next publication tries again a minute later
        log.warning("live events: pruning failed", exc_info=True)


AFTER_COMMIT.append(_prune_now_and_then)


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
            poll = POLL_SECONDS if notify.commits_are_announced(dbx["engine"]) \
                else SQLITE_POLL_SECONDS
            hub = Hub(dbx["engine"], dbx.get("reader"), poll_seconds=poll)
        ext["hub"] = hub
        return hub

