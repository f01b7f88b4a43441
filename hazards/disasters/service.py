"""Direct disaster reports (灾情直报): idempotent creation in the reporter's own grids, scoped
lists, and sums per area and period.

No Flask here: callers pass the acting user and (for tests) the time.
"""

import json
from datetime import datetime, time, timedelta
from decimal import Decimal

from geoalchemy2.shape import from_shape
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from emergency import spatial
from emergency.auth.models import User
from emergency.auth.roles import ADMIN, BUREAU, GRID_STAFF
from emergency.db import utcnow
from emergency.errors import Conflict, Forbidden, Invalid, NotFound
from emergency.events.service import publish
from emergency.geo import service as geo_service
from emergency.geo.models import Area
from emergency.vocabulary import LOCAL_ZONE
from hazards.disasters.models import COUNTS, KINDS, DisasterReport
from plans import incident_types

T = DisasterReport.__table__
FEN = Decimal("0.01")
LEVELS = ("city", "district", "street", "community")
DEFAULT_LEVEL = "district"


def kind_label(kind, lang="zh"):
    """The Chinese (or English) name of a kind: the incident classification's, else 其他."""
    if kind == "other":
        return "其他" if lang == "zh" else "Other"
    return incident_types.label(kind, lang)


def yuan(fen):
    """Whole fen as the contract's money string ("1280.00")."""
    return str((Decimal(int(fen or 0)) * FEN).quantize(FEN))


def scope_filters(session, user):
    """WHERE clauses limiting reports to what ``user`` may see; Forbidden for other roles.

    Grid staff see their own grids'; bureau staff scoped to an area see that area's and
    those of every area below it.
    """
    if user.role == GRID_STAFF:
        return [T.c.grid_code.in_(list(user.grid_codes or []))]
    if user.role not in BUREAU:
        raise Forbidden("disaster reports are for bureau staff and grid staff")
    if user.role != ADMIN and user.area_code:
        return [geo_service.in_area(session, T.c.area_code, user.area_code)]
    return []


def _select(bind):
    """Reports with their reporter's name and the location as GeoJSON text."""
    return select(*[c for c in T.c if c.name != "geom"], User.username.label("reporter"),
                  spatial.as_geojson(bind, T.c.geom).label("location")) \
        .join(User, User.id == T.c.reporter_id)


def _record(row):
    """A report row as the API shows it."""
    record = {"id": row.id, "client_id": row.client_id, "kind": row.kind,
              "kind_label": kind_label(row.kind), "note": row.note or "",
              "grid_code": row.grid_code, "area_code": row.area_code,
              "reporter": row.reporter, "created_at": row.created_at,
              "losses_yuan": yuan(row.losses_fen),
              "location": json.loads(row.location) if isinstance(row.location, str)
              else row.location}
    record.update({name: getattr(row, name) for name in COUNTS})
    return record


_BY_CLIENT_ID = select(T.c.id, T.c.reporter_id).where(T.c.client_id == bindparam("client_id"))


def _existing(session, user, client_id):
    """The report already stored under ``client_id`` (a retry), or None."""
    found = session.execute(_BY_CLIENT_ID, {"client_id": client_id}).first()
    if found is None:
        return None
    if found.reporter_id != user.id:
        # Another device's id: never reveal or merge someone else's report.
        raise Conflict("client_id already used by another report",
                       {"client_id": ["already used"]})
    return _record(session.execute(_select(session).where(T.c.id == found.id)).one())


def create_report(session, user, client_id, kind, location, losses_yuan, note="", now=None,
                  reader=None, **counts):
    """Store a new report, or return the one stored under the same client_id: (dict, created).

    ``counts`` are the whole numbers of COUNTS; ``losses_yuan`` a Decimal >= 0. ``reader``,
    when given, is a read-only session for the look-ups (as in hazards.service.create_report):
    on SpatiaLite the write lock of ``session`` is then held only for the insert.
    """
    now = now or utcnow()
    reader = reader or session
    existing = _existing(reader, user, client_id)
    if existing is not None:
        return existing, False
    if user.role not in (GRID_STAFF, ADMIN):
        raise Forbidden("only grid staff and administrators report disasters")
    if kind not in KINDS:
        raise Invalid("unknown kind of disaster", {"kind": ["unknown kind of disaster"]})
    bad = {name: ["must be a whole number >= 0"] for name in COUNTS
           if isinstance(counts.get(name), bool) or not isinstance(counts.get(name), int)
           or counts[name] < 0}
    if bad:
        raise Invalid("counts must be whole numbers >= 0", bad)
    lon, lat = location.x, location.y
    grid_code, area_code, assigned = geo_service.assigned_grid_at(reader, lon, lat, user.id)
    if reader is not session:
        reader.rollback()  # read-only: ends the snapshot and returns the connection
    if grid_code is None:
        raise Invalid("the location is outside every management grid",
                      {"location": ["outside every management grid"]})
    if user.role == GRID_STAFF and not assigned:
        raise Forbidden(f"grid {grid_code} is not one of your grids")
    fen = int((Decimal(losses_yuan) / FEN).to_integral_value())
    report = DisasterReport(client_id=client_id, kind=kind, losses_fen=fen, note=note or "",
                            grid_code=grid_code, area_code=area_code, reporter_id=user.id,
                            created_at=now, geom=from_shape(location, srid=4326),
                            **{name: counts[name] for name in COUNTS})
    try:
        # A concurrent retry may insert the same client_id between our read and this write
        # (PostGIS); the savepoint keeps the request's transaction usable when it does.
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        existing = _existing(session, user, client_id)
        if existing is None:
            raise
        return existing, False
    publish(session, "disaster.created", report.id, area_code=area_code, grid_code=grid_code,
            kind=kind, dead=report.dead, missing=report.missing)
    record = {"id": report.id, "client_id": client_id, "kind": kind,
              "kind_label": kind_label(kind), "note": report.note, "grid_code": grid_code,
              "area_code": area_code, "reporter": user.username, "created_at": now,
              "losses_yuan": yuan(fen),
              "location": {"type": "Point", "coordinates": [round(lon, 7), round(lat, 7)]}}
    record.update({name: counts[name] for name in COUNTS})
    return record, True


def _filters(session, user, area_code=None, since=None, before=None, kind=None,
             grid_code=None, bbox=None):
    """The user's scope and the filters as WHERE clauses (``before`` excluded)."""
    where = scope_filters(session, user)
    if area_code:
        where.append(geo_service.in_area(session, T.c.area_code, area_code))
    if since:
        where.append(T.c.created_at >= since)
    if before:
        where.append(T.c.created_at < before)
    if kind:
        where.append(T.c.kind == kind)
    if grid_code:
        where.append(T.c.grid_code == grid_code)
    if bbox:
        where.append(spatial.bbox_filter(session, T, bbox))
    return where


def list_reports(session, user, limit=100, offset=0, **filters):
    """Reports the user may see, newest first, with the total count."""
    where = _filters(session, user, **filters)
    total = session.scalar(select(func.count()).select_from(T).where(*where))
    if not total:
        return [], 0
    rows = session.execute(_select(session).where(*where)
                           .order_by(T.c.created_at.desc(), T.c.id.desc())
                           .limit(limit).offset(offset)).all()
    return [_record(r) for r in rows], total


def get_report(session, user, report_id):
    """One report the user may see (404 for one outside their scope, as for a missing one:
    its existence is not revealed)."""
    where = scope_filters(session, user)
    row = session.execute(_select(session).where(T.c.id == report_id, *where)).first()
    if row is None:
        raise NotFound(f"no disaster report {report_id}")
    return _record(row)


def _groups(session, codes, level):
    """{area code: (code, name) of the area it is counted under}: its ancestor at ``level``
    by parent links, or itself when it has none there (an area above that level)."""
    a = Area.__table__
    known, frontier = {}, set(codes)
    while frontier:
        rows = session.execute(select(a.c.code, a.c.name, a.c.level, a.c.parent_code)
                               .where(a.c.code.in_(sorted(frontier)))).all()
        known.update({r.code: r for r in rows})
        frontier = {r.parent_code for r in rows if r.parent_code and r.level != level
                    and r.parent_code not in known}
    groups = {}
    for code in codes:
        node, seen = known.get(code), set()
        while node is not None and node.level != level and node.parent_code in known \
                and node.code not in seen:
            seen.add(node.code)
            node = known[node.parent_code]
        if node is None or node.level != level:
            node = known.get(code)
        groups[code] = (code, code) if node is None else (node.code, node.name)
    return groups


SUMS = (*COUNTS, "losses_fen")


def summary(session, user, level=DEFAULT_LEVEL, **filters):
    """Sums per area at ``level`` (district by default) of the reports the user may see
    that match the filters: {level, items: [{area_code, area_name, reports, counts...,
    losses_yuan}], total (areas), sums (all of them)}."""
    if level not in LEVELS:
        raise Invalid("unknown area level",
                      {"level": ["one of city, district, street, community"]})
    where = _filters(session, user, **filters)
    rows = session.execute(
        select(T.c.area_code, func.count().label("reports"),
               *[func.coalesce(func.sum(T.c[name]), 0).label(name) for name in SUMS])
        .where(*where).group_by(T.c.area_code)).all()
    groups = _groups(session, [r.area_code for r in rows], level)
    items = {}
    for row in rows:
        code, name = groups[row.area_code]
        item = items.setdefault(code, {"area_code": code, "area_name": name, "reports": 0,
                                       **{s: 0 for s in SUMS}})
        item["reports"] += row.reports
        for s in SUMS:
            item[s] += int(getattr(row, s))
    ordered = [items[code] for code in sorted(items)]
    sums = {"reports": sum(i["reports"] for i in ordered),
            **{s: sum(i[s] for i in ordered) for s in SUMS}}
    for entry in (*ordered, sums):
        entry["losses_yuan"] = yuan(entry.pop("losses_fen"))
    return {"level": level, "items": ordered, "total": len(ordered), "sums": sums}


def period(since=None, from_=None, to=None):
    """(since, before) of a period given as an instant and/or local (Beijing) days, ``to``
    inclusive; the later start wins."""
    starts = [t for t in (since, from_ and _local_start(from_)) if t is not None]
    before = _local_start(to + timedelta(days=1)) if to else None
    return (max(starts) if starts else None), before


def _local_start(day):
    """The first instant of a local (Beijing) day."""
    return datetime.combine(day, time(0), LOCAL_ZONE)
