"""Hazard reports: idempotent creation, scoped reads, the workflow, deadlines, escalation.

No Flask here: callers pass the acting user, the due-time policy and (for tests) the time.
"""

import json
from types import SimpleNamespace

from geoalchemy2.shape import from_shape
from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from emergency import spatial
from emergency.audit import service as audit
from emergency.auth.models import User
from emergency.auth.permissions import require_area_scope
from emergency.auth.roles import ADMIN, BUREAU, GRID_STAFF, PLANNER
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Forbidden, Invalid, NotFound
from emergency.events.service import publish
from emergency.geo import service as geo_service
from emergency.spatial.extents import extent
from emergency.spatial.tiles import tile_layer
from hazards.models import OPEN_STATUSES, HazardEvent, HazardPhoto, HazardReport
from hazards.workflow import DEFAULT_POLICY, FINAL, TRANSITIONS, may_step

CATEGORY_LABELS = {
    "geological": "地质灾害", "flood": "洪涝", "fire": "火灾", "gas": "燃气",
    "hazardous_chemicals": "危险化学品", "building": "房屋建筑", "traffic": "道路交通",
    "other": "其他",
}
SEVERITY_LABELS = {"major": "重大隐患", "general": "一般隐患"}
STATUS_LABELS = {"reported": "已上报", "verified": "已核实", "rectifying": "整改中",
                 "rectified": "已整改", "closed": "已销号", "rejected": "已驳回"}

T = HazardReport.__table__


def _photo_url(report_id, photo_id, thumb=False):
    """The API URL a photo is served from (to those who may see the report)."""
    return f"/api/v1/hazards/{report_id}/photos/{photo_id}" + ("?thumb=1" if thumb else "")


def scope_filters(session, user):
    """WHERE clauses limiting reports to what ``user`` may see; Forbidden for other roles.

    A bureau account scoped to an area sees the reports of that area and of every area
    below it by parent links (a city's code is no prefix of its districts' codes).
    """
    if user.role == GRID_STAFF:
        return [T.c.grid_code.in_(user.grid_codes)]
    if user.role not in BUREAU:
        raise Forbidden("hazard reports are for bureau staff and grid staff")
    if user.role != ADMIN and user.area_code:
        return [geo_service.in_area(session, T.c.area_code, user.area_code)]
    return []


def _check_visible(session, user, grid_code, area_code):
    """Forbidden when the user may not see a report in that grid and area."""
    if user.role == GRID_STAFF:
        if grid_code not in user.grid_codes:
            raise Forbidden("outside your grids")
        return
    if user.role not in BUREAU:
        raise Forbidden("hazard reports are for bureau staff and grid staff")
    require_area_scope(user, [area_code], session)


def _columns(bind):
    """Columns of a report as the API shows it (location as GeoJSON text)."""
    return [T.c.id, T.c.client_id, T.c.category, T.c.severity, T.c.description, T.c.status,
            T.c.grid_code, T.c.area_code, T.c.created_at, T.c.updated_at, T.c.due_at,
            T.c.closed_at, T.c.escalated_at, T.c.escalated_stage,
            User.username.label("reporter"),
            spatial.as_geojson(bind, T.c.geom).label("location")]


def _select(bind):
    """The base query of reports with their reporter."""
    return select(*_columns(bind)).join(User, User.id == T.c.reporter_id)


def _record(row, now):
    """A report row as a plain dict."""
    overdue = row.due_at is not None and row.status in OPEN_STATUSES and row.due_at < now
    return {"id": row.id, "client_id": row.client_id, "category": row.category,
            "category_label": CATEGORY_LABELS[row.category], "severity": row.severity,
            "severity_label": SEVERITY_LABELS[row.severity], "description": row.description,
            "status": row.status, "status_label": STATUS_LABELS[row.status],
            "grid_code": row.grid_code, "area_code": row.area_code, "reporter": row.reporter,
            "created_at": row.created_at, "updated_at": row.updated_at, "due_at": row.due_at,
            "closed_at": row.closed_at, "overdue": overdue,
            "escalated": row.escalated_at is not None and row.escalated_stage == row.status,
            "escalated_at": row.escalated_at,
            "location": json.loads(row.location)}


def _load(session, report_id):
    """The report row, or NotFound."""
    row = session.execute(_select(session).where(T.c.id == report_id)).first()
    if row is None:
        raise NotFound(f"no hazard report {report_id}")
    return row


def _details(session, row, now):
    """A report with its photos and recorded steps."""
    record = _record(row, now)
    photos = session.scalars(select(HazardPhoto).where(HazardPhoto.report_id == row.id)
                             .order_by(HazardPhoto.id)).all()
    record["photos"] = [photo_dict(p) for p in photos]
    events = session.scalars(select(HazardEvent).where(HazardEvent.report_id == row.id)
                             .order_by(HazardEvent.id)).all()
    record["history"] = [{"kind": e.kind, "from": e.from_status, "to": e.to_status,
                          "actor": e.actor, "at": e.at, "note": e.note,
                          "photo_ids": [p.id for p in photos if p.event_id == e.id]}
                         for e in events]
    return record


def photo_dict(photo):
    """A photo as the API shows it."""
    return {"id": photo.id, "url": _photo_url(photo.report_id, photo.id),
            "thumb_url": _photo_url(photo.report_id, photo.id, thumb=True),
            "content_type": photo.content_type, "size": photo.size, "width": photo.width,
            "height": photo.height, "sha256": photo.sha256, "stage": photo.stage,
            "event_id": photo.event_id, "uploaded_by": photo.uploaded_by,
            "created_at": photo.created_at}


def get_report(session, user, report_id, now=None):
    """One report the user may see, with photos and history."""
    row = _load(session, report_id)
    _check_visible(session, user, row.grid_code, row.area_code)
    return _details(session, row, now or utcnow())


_INSERT_REPORT = spatial.InsertUnlessPresent(T, "client_id")
_INSERT_STEP = insert(HazardEvent.__table__)
_BY_CLIENT_ID = select(T.c.id, T.c.reporter_id).where(T.c.client_id == bindparam("client_id"))


def _existing(session, user, client_id, now):
    """The report already stored under ``client_id`` (a retry), or None."""
    found = session.execute(_BY_CLIENT_ID, {"client_id": client_id}).first()
    if found is None:
        return None
    if found.reporter_id != user.id:
        # Another device's id: never reveal or merge someone else's report.
        raise Conflict("client_id already used by another report",
                       {"client_id": ["already used"]})
    return _details(session, _load(session, found.id), now)


def reporter(user):
    """What a new report (a hazard, a disaster's losses) needs of the signed-in user,
    independent of any session: a grid staff member's grids are asked with the report's grid
    look-up (``geo_service.assigned_grid_at``)."""
    return SimpleNamespace(id=user.id, username=user.username, role=user.role,
                           area_code=user.area_code)


def create_report(session, user, client_id, category, severity, location, description="",
                  policy=DEFAULT_POLICY, now=None, reader=None):
    """Store a new report, or return the one stored under the same client_id: (dict, created).

    ``reader``, when given, is a read-only session for the look-ups, so that on SpatiaLite
    the write lock of ``session`` is held only for the insert itself; its transaction is
    ended before the insert, so a request never holds two connections at once.
    """
    now = now or utcnow()
    reader = reader or session
    existing = _existing(reader, user, client_id, now)
    if existing is not None:
        return existing, False
    if user.role not in (GRID_STAFF, ADMIN):
        raise Forbidden("only grid staff and administrators report hazards")
    lon, lat = location.x, location.y
    # Grid staff report in their own grids: whether the grid is theirs comes with it.
    grid_code, area_code, assigned = geo_service.assigned_grid_at(reader, lon, lat, user.id)
    if reader is not session:
        reader.rollback()  # read-only: ends the snapshot and returns the connection
    if grid_code is None:
        raise Invalid("the location is outside every management grid",
                      {"location": ["outside every management grid"]})
    if user.role == GRID_STAFF and not assigned:
        raise Forbidden(f"grid {grid_code} is not one of your grids")
    due_at = policy.due("reported", severity, now)
    report = {"client_id": client_id, "category": category, "severity": severity,
              "description": description or "", "status": "reported", "grid_code": grid_code,
              "area_code": area_code, "reporter_id": user.id, "created_at": now,
              "updated_at": now, "stage_started_at": now, "due_at": due_at,
              "geom": from_shape(location, srid=4326)}
    step = {"kind": "transition", "from_status": None, "to_status": "reported",
            "actor": user.username, "at": now, "note": ""}
    # The busiest write of all (every phone's reports): Core inserts and the audit entries
    # they would get from a flush, without the unit of work (a third of a report's CPU).
    conn = session.connection()
    # A concurrent retry may have stored the same client_id since the look-up (PostGIS: it
    # may still be committing; the insert waits for it): then nothing is inserted.
    report["id"] = _INSERT_REPORT(conn, report)
    if report["id"] is None:
        return _existing(session, user, client_id, now), False
    step["report_id"] = report["id"]
    step["id"] = conn.execute(_INSERT_STEP, step).inserted_primary_key[0]
    audit.write(session, [audit.created(HazardReport, report), audit.created(HazardEvent, step)])
    publish(session, "hazard.created", report["id"], area_code=area_code, grid_code=grid_code,
            status="reported", severity=severity)
    # Built from what was just written: the hot path of phones makes no further reads.
    return {"id": report["id"], "client_id": client_id, "category": category,
            "category_label": CATEGORY_LABELS[category], "severity": severity,
            "severity_label": SEVERITY_LABELS[severity],
            "description": report["description"], "status": "reported",
            "status_label": STATUS_LABELS["reported"],
            "grid_code": grid_code, "area_code": area_code, "reporter": user.username,
            "created_at": now, "updated_at": now, "due_at": due_at, "closed_at": None,
            "overdue": False, "escalated": False, "escalated_at": None,
            "location": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]},
            "photos": [],
            "history": [{"kind": "transition", "from": None, "to": "reported",
                         "actor": user.username, "at": now, "note": "", "photo_ids": []}]}, True


def list_reports(session, user, status=None, category=None, grid_code=None, area_code=None,
                 overdue=None, since=None, bbox=None, escalated=None, limit=100, offset=0,
                 now=None, until=None):
    """Reports the user may see, newest first, with the total count (``since`` and
    ``until`` bound the time reported, both included)."""
    now = now or utcnow()
    where = scope_filters(session, user)
    if status:
        where.append(T.c.status == status)
    if category:
        where.append(T.c.category == category)
    if grid_code:
        where.append(T.c.grid_code == grid_code)
    if area_code:
        where.append(geo_service.in_area(session, T.c.area_code, area_code))
    if overdue is True:
        where += [T.c.status.in_(OPEN_STATUSES), T.c.due_at < now]
    elif overdue is False:
        where.append(or_(T.c.due_at.is_(None), T.c.due_at >= now))
    if escalated:
        where += [T.c.escalated_at.is_not(None), T.c.escalated_stage == T.c.status]
    if since:
        where.append(T.c.created_at >= since)
    if until:
        where.append(T.c.created_at <= until)
    if bbox:
        where.append(spatial.bbox_filter(session, T, bbox))
    total = session.scalar(select(func.count()).select_from(T).where(*where))
    rows = session.execute(_select(session).where(*where)
                           .order_by(T.c.created_at.desc(), T.c.id.desc())
                           .limit(limit).offset(offset)).all()
    records = [_record(r, now) for r in rows]
    thumbs = _thumbs(session, [r["id"] for r in records])
    for record in records:
        record["photos"] = thumbs.get(record["id"], [])
    return records, total


def report_tile(session, user, z, x, y, limit=5000):
    """Open reports the user may see meeting web-mercator tile z/x/y as a vector tile layer
    ``hazards`` (id, status, category, severity; never the reporter), the newest ``limit``
    (``spatial.tiles.tile_layer``: MVT bytes on PostGIS, rows on SpatiaLite)."""
    where = scope_filters(session, user) + [T.c.status.in_(OPEN_STATUSES)]
    return tile_layer(session, T, z, x, y, [T.c.id, T.c.status, T.c.category, T.c.severity],
                      where=where, layer="hazards", limit=limit,
                      order_by=[T.c.created_at.desc(), T.c.id.desc()])


def reports_extent(session, user):
    """Where and when the reports the user may see lie: ``{"bbox", "interval"}`` (the
    first and last time reported); Forbidden for roles that read no reports."""
    return extent(session, T.c.geom, scope_filters(session, user), (T.c.created_at,))


def _thumbs(session, report_ids):
    """Thumbnail URLs of the photos of each report (one query for a page of reports)."""
    found = {}
    if not report_ids:
        return found
    rows = session.execute(select(HazardPhoto.report_id, HazardPhoto.id)
                           .where(HazardPhoto.report_id.in_(report_ids))
                           .order_by(HazardPhoto.id))
    for report_id, photo_id in rows:
        found.setdefault(report_id, []).append(_photo_url(report_id, photo_id, thumb=True))
    return found


def transition(session, user, report_id, to, note="", photo_ids=(), policy=DEFAULT_POLICY,
               now=None):
    """Move a report one step along the workflow, recording actor, time, note and photos."""
    now = now or utcnow()
    report = get_or_404(session, HazardReport, report_id, "hazard report", lock=True)
    _check_visible(session, user, report.grid_code, report.area_code)
    if not may_step(user.role, to):
        raise Forbidden(f"role {user.role} may not move a report to {to}")
    if to not in TRANSITIONS.get(report.status, ()):
        raise Conflict(f"a {report.status} report cannot become {to}",
                       {"to": [f"allowed from {report.status}: "
                               f"{', '.join(TRANSITIONS[report.status]) or 'none'}"]})
    photos = []
    if photo_ids:
        photos = session.scalars(select(HazardPhoto).where(
            HazardPhoto.id.in_(list(photo_ids)), HazardPhoto.report_id == report.id)).all()
        if len(photos) != len(set(photo_ids)):
            raise Invalid("unknown photo", {"photo_ids": ["not photos of this report"]})
    event = HazardEvent(report_id=report.id, kind="transition", from_status=report.status,
                        to_status=to, actor=user.username, at=now, note=note or "")
    session.add(event)
    report.status = to
    report.stage_started_at = now
    report.updated_at = now
    report.due_at = policy.due(to, report.severity, now)
    if to in FINAL:
        report.closed_at = now
    session.flush()
    for photo in photos:
        photo.event_id = event.id
    publish(session, "hazard.updated", report.id, area_code=report.area_code,
            grid_code=report.grid_code, status=to)
    session.flush()
    return _details(session, _load(session, report.id), now)


def escalate_overdue(session, now=None, actor="system"):
    """Escalate (督办) every open report past its deadline to its district; returns the count.

    Each stage is escalated once: a report escalated while 'reported' is escalated again
    only if it later misses the deadline of another stage.
    """
    now = now or utcnow()
    due = select(T.c.id, T.c.status, T.c.area_code, T.c.due_at).where(
        T.c.status.in_(OPEN_STATUSES), T.c.due_at < now,
        or_(T.c.escalated_stage.is_(None), T.c.escalated_stage != T.c.status))
    rows = session.execute(due).all()
    if not rows:
        return 0
    session.execute(update(T).where(T.c.id.in_([r.id for r in rows]))
                    .values(escalated_at=now, escalated_stage=T.c.status))
    session.add_all([HazardEvent(
        report_id=r.id, kind="escalation", from_status=r.status, to_status=r.status,
        actor=actor, at=now,
        note=f"overdue since {r.due_at.isoformat()}; escalated to district {r.area_code[:6]}")
        for r in rows])
    session.flush()
    return len(rows)


def task_filters(user):
    """WHERE clauses of the reports waiting for the user's next step, or None when the
    user's role takes no step (dispatchers, auditors)."""
    if user.role == GRID_STAFF:
        return [T.c.status.in_(("verified", "rectifying"))]
    if user.role in (ADMIN, PLANNER):
        return [or_(T.c.status.in_(("reported", "rectified")),
                    and_(T.c.escalated_stage == T.c.status, T.c.status.in_(OPEN_STATUSES)))]
    return None


def query_reports(session, user, where=(), order="newest", limit=100, offset=0, now=None):
    """Reports the user may see that match ``where``: (records, total). ``order`` is
    "newest" (created, newest first) or "due" (deadline, most urgent first)."""
    now = now or utcnow()
    where = [*scope_filters(session, user), *where]
    total = session.scalar(select(func.count()).select_from(T).where(*where))
    if not total:
        return [], 0
    ordering = ((T.c.due_at.asc(), T.c.id) if order == "due"
                else (T.c.created_at.desc(), T.c.id.desc()))
    rows = session.execute(_select(session).where(*where).order_by(*ordering)
                           .limit(limit).offset(offset)).all()
    return [_record(r, now) for r in rows], total


def my_tasks(session, user, limit=200, now=None):
    """What this user must act on next, most urgent first: (records, total)."""
    where = task_filters(user)
    if where is None:
        scope_filters(session, user)  # Forbidden for roles that may not read reports
        return [], 0
    records, total = query_reports(session, user, where, "due", limit, 0, now)
    for record in records:
        record["next_steps"] = [s for s in TRANSITIONS[record["status"]]
                                if may_step(user.role, s)]
    return records, total


def my_reports(session, user, limit=20, now=None):
    """The reports this user made (within what they may still see), newest first:
    (records, total)."""
    return query_reports(session, user, [T.c.reporter_id == user.id], "newest", limit, 0, now)
