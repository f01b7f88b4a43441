"""Writing live events in the transaction of the change they announce, who may read them,
and pruning. The streams that deliver them: emergency/events/hub.py and api.py.

``publish`` inserts a row in the caller's transaction and marks the session; when it commits
(SQLAlchemy ``after_commit``) every hub of this process is woken. On PostGIS it also queues a
NOTIFY (emergency/spatial/notify.py), which PostgreSQL delivers at commit, and only then, to
the listener of every process on every host.
"""

import weakref
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, event, false, func, insert, or_, select
from sqlalchemy.orm import Session

from emergency.auth.roles import ADMIN, BUREAU, GRID_STAFF, ORG_ADMIN
from emergency.db import utcnow
from emergency.events.models import EVENT_TYPES, LiveEvent
from emergency.geo.models import Area
from emergency.geo.service import area_descendants
from emergency.spatial import notify

CHANNEL = "live_events"
KEEP = timedelta(hours=24)  # events are kept at least this long (Last-Event-ID resumes)

# Hubs of this process (emergency/events/hub.py), woken after a commit that published events.
HUBS = weakref.WeakSet()
# Functions called with the session after such a commit (hub.py adds the pruning).
AFTER_COMMIT = []
_PENDING = "live_events_published"


def publish(session, type, resource_id, *, audience="bureau", area_code=None, org_id=None,
            grid_code=None, **data):
    """Insert an event for a change made in ``session``, in its transaction; it is announced
    when that commits. Returns the event's id.

    ``data`` is merged into the payload, which always holds ``type``, ``id`` and ``at``. The
    row is inserted at once (a Core insert: a flush of one more object cost a tenth of a
    hazard report's CPU); callers publish as their last step, so its id is taken as late as a
    flush would have taken it.
    """
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if audience not in ("bureau", "public"):
        raise ValueError(f"unknown audience {audience!r}")
    at = utcnow()
    payload = {"type": type, "id": resource_id, "at": at.isoformat(), **data}
    statement = _INSERT
    if not session.info.get(_PENDING):
        # The transaction's first event announces it at commit (later ones fold into that).
        statement = notify.announcing(session, _INSERT, CHANNEL)
    event_id = session.connection().execute(statement, {
        "type": type, "resource_id": resource_id, "at": at, "data": payload,
        "audience": audience, "area_code": area_code, "org_id": org_id,
        "grid_code": grid_code}).first()[0]
    session.info[_PENDING] = True
    return event_id


_INSERT = insert(LiveEvent.__table__).returning(LiveEvent.__table__.c.id)


@event.listens_for(Session, "after_commit")
def _announce(session):
    """Wake this process's hubs once a transaction that published events has committed."""
    if session.info.pop(_PENDING, None):
        for hub in list(HUBS):
            hub.wake()
        for hook in AFTER_COMMIT:
            hook(session)


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


def _district(code):
    """SQL: the codes of area ``code`` and every area below it (recursive, both backends)."""
    tree = select(Area.code).where(Area.code == code).cte("district", recursive=True)
    tree = tree.union_all(select(Area.code).where(Area.parent_code == tree.c.code))
    return select(tree.c.code)


def visible_filter(user, session=None):
    """SQL condition on ``LiveEvent``: the events ``user`` (a User or a Scope) may read.

    Bureau roles read "bureau" and "public" events; bureau staff scoped to a district only
    those whose area is inside it or that have no area. An org_admin reads the events of
    their organisation and "public" ones; grid staff those of their grids and "public" ones.
    ``can_see`` is the same rule in Python, for the streams; keep the two together. For a
    User the district's areas are a subquery (no session needed; ``session`` is accepted for
    compatibility); a Scope carries them resolved.
    """
    scope = user if isinstance(user, Scope) else Scope(
        user.role, user.org_id, None,
        frozenset(user.grid_codes) if user.role == GRID_STAFF else frozenset())
    public = LiveEvent.audience == "public"
    if scope.role in BUREAU:
        district = None
        if scope.areas is not None:
            district = sorted(scope.areas)
        elif not isinstance(user, Scope) and user.role != ADMIN and user.area_code:
            district = _district(user.area_code)
        if district is None:
            return LiveEvent.audience.in_(("bureau", "public"))
        return or_(public, (LiveEvent.audience == "bureau")
                   & or_(LiveEvent.area_code.is_(None), LiveEvent.area_code.in_(district)))
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


COLUMNS = (LiveEvent.id, LiveEvent.type, LiveEvent.data, LiveEvent.audience,
            LiveEvent.area_code, LiveEvent.org_id, LiveEvent.grid_code)


def events_after(session, scope, after_id, limit=500):
    """Up to ``limit`` events visible to ``scope`` with ids above ``after_id``, by id."""
    return session.execute(select(*COLUMNS).where(LiveEvent.id > after_id,
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
