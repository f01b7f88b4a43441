"""Rescue teams: registration, their fields and equipment, lists and the forces map. No
Flask here. Organisations, scope and readiness are in registry.service."""

from datetime import date
from decimal import Decimal

from geoalchemy2.shape import from_shape
from sqlalchemy import (
    Date,
    and_,
    bindparam,
    case,
    column,
    delete,
    func,
    literal_column,
    select,
    table,
)

from emergency import spatial
from emergency.audit import service as audit
from emergency.db import get_or_404
from emergency.errors import Conflict, Invalid
from emergency.spatial.extents import extent
from emergency.spatial.tiles import point_xy, points_in_bbox, tile_layer
from emergency.vocabulary import TEAM_CATEGORIES
from registry.models import TEAM_STATUSES, Organisation, RescueTeam, TeamEquipment, TeamMember
from registry.service import (
    _geojson,
    _scope_filter,
    check_location,
    check_read,
    check_write,
    insured_on,
    team_org_id,
    team_readiness,
)

# The dispatch workflow (incidents) owns a team's 'dispatched' status: it sets it
# when the team is booked and clears it when the dispatch ends. The registry sits below
# incidents and may not import it, so it reads the dispatches table as plain Core columns;
# a test holds these states equal to incidents' ACTIVE_DISPATCH.
ACTIVE_DISPATCH_STATES = ("requested", "accepted", "en_route", "on_scene")
_DISPATCHES = table("dispatches", column("id"), column("team_id"), column("incident_id"),
                    column("status"))



def _team_filters(session, user, category=None, status=None):
    """The conditions every team list shares: the user's scope, category and status."""
    t = RescueTeam.__table__
    where = [c for c in [_scope_filter(session, user, t.c.org_id)] if c is not None]
    if category:
        where.append(t.c.category == category)
    if status:
        where.append(t.c.status == status)
    return where


def _team_columns(bind):
    """Columns of a team as the API shows it."""
    t, o = RescueTeam.__table__, Organisation.__table__
    return [t.c.id, t.c.org_id, o.c.name.label("org_name"), o.c.status.label("org_status"),
            t.c.name, t.c.category, t.c.status, t.c.grade, t.c.graded_on,
            t.c.service_radius_km, spatial.as_geojson(bind, t.c.location).label("location")]


def _team_dict(row, equipment=()):
    """A team row as a dict (radius as a number of km)."""
    return {"id": row.id, "org_id": row.org_id, "org_name": row.org_name,
            "org_status": row.org_status, "name": row.name, "category": row.category,
            "status": row.status, "grade": row.grade, "graded_on": row.graded_on,
            "service_radius_km": float(row.service_radius_km), "equipment": list(equipment),
            "location": _geojson(row.location)}


def _equipment_by_team(session, team_ids):
    """Equipment of each team id."""
    found = {tid: [] for tid in team_ids}
    if team_ids:
        rows = session.execute(select(TeamEquipment.team_id, TeamEquipment.type,
                                      TeamEquipment.quantity)
                               .where(TeamEquipment.team_id.in_(team_ids))
                               .order_by(TeamEquipment.id))
        for tid, kind, qty in rows:
            found[tid].append({"type": kind, "quantity": qty})
    return found


def _check_team_fields(changes):
    """Validate a team's category, status, grade and radius."""
    problems = {}
    if changes.get("category") is not None and changes["category"] not in TEAM_CATEGORIES:
        problems["category"] = [f"one of {', '.join(TEAM_CATEGORIES)}"]
    if changes.get("status") is not None and changes["status"] not in TEAM_STATUSES:
        problems["status"] = [f"one of {', '.join(TEAM_STATUSES)}"]
    if changes.get("grade") is not None and changes["grade"] not in (1, 2, 3):
        problems["grade"] = ["1, 2 or 3 (1 is the highest)"]
    if changes.get("grade") is not None and not changes.get("graded_on"):
        problems["graded_on"] = ["required with a grade"]
    radius = changes.get("service_radius_km")
    if radius is not None and not 0 < radius <= 1000:
        problems["service_radius_km"] = ["between 0 and 1000 km"]
    if problems:
        raise Invalid("invalid team", problems)


def _set_equipment(session, team_id, equipment):
    """Replace a team's equipment list."""
    session.execute(delete(TeamEquipment).where(TeamEquipment.team_id == team_id))
    for item in equipment or []:
        session.add(TeamEquipment(team_id=team_id, type=item["type"],
                                  quantity=item["quantity"]))


def create_team(session, user, org_id, name, category, location, service_radius_km=50,
                equipment=(), grade=None, graded_on=None, region=None):
    """Add a team (status available) to an organisation."""
    get_or_404(session, Organisation, org_id, "organisation")
    check_write(user, org_id, session)
    _check_team_fields({"category": category, "grade": grade, "graded_on": graded_on,
                        "service_radius_km": service_radius_km})
    check_location(location, region)
    team = RescueTeam(org_id=org_id, name=name, category=category, status="available",
                      grade=grade, graded_on=graded_on if grade else None,
                      service_radius_km=Decimal(str(service_radius_km)).quantize(Decimal("0.01")),
                      location=from_shape(location, srid=4326))
    session.add(team)
    session.flush()
    _set_equipment(session, team.id, equipment)
    session.flush()
    return team


def get_team(session, user, team_id):
    """One team with its equipment and readiness, within the user's scope."""
    check_read(user, team_org_id(session, team_id), session)
    t, o = RescueTeam.__table__, Organisation.__table__
    row = session.execute(select(*_team_columns(session)).join(o, o.c.id == t.c.org_id)
                          .where(t.c.id == team_id)).one()
    record = _team_dict(row, _equipment_by_team(session, [team_id])[team_id])
    record["readiness"] = team_readiness(session, [team_id])[team_id]
    return record


def list_teams(session, user, category=None, status=None, org_id=None, bbox=None,
               limit=100, offset=0, after_id=None):
    """Teams the user may see (filters category, status, org, bbox), by id, with the total;
    ``after_id`` starts the page after that team (a keyset page: no rows skipped)."""
    t, o = RescueTeam.__table__, Organisation.__table__
    where = _team_filters(session, user, category, status)
    if org_id:
        where.append(t.c.org_id == org_id)
    if bbox:
        where.append(spatial.bbox_filter(session, t, bbox, column="location"))
    total = session.scalar(select(func.count()).select_from(t).where(*where))
    if after_id is not None:
        where.append(t.c.id > after_id)
    rows = session.execute(select(*_team_columns(session)).join(o, o.c.id == t.c.org_id)
                           .where(*where).order_by(t.c.id).limit(limit).offset(offset)).all()
    equipment = _equipment_by_team(session, [r.id for r in rows])
    return [_team_dict(r, equipment[r.id]) for r in rows], total


def teams_extent(session, user):
    """The bounding box of the teams the user may see: ``{"bbox", "interval": None}``."""
    t = RescueTeam.__table__
    return extent(session, t.c.location, _team_filters(session, user))


def _check_status_change(session, team, status):
    """A team on an active dispatch keeps 'dispatched'; only a dispatch makes a team so."""
    if status is None or status == team.status:
        return
    active = session.execute(select(_DISPATCHES.c.id, _DISPATCHES.c.incident_id)
                             .where(_DISPATCHES.c.team_id == team.id,
                                    _DISPATCHES.c.status.in_(ACTIVE_DISPATCH_STATES))
                             .order_by(_DISPATCHES.c.id).limit(1)).first()
    if active:
        message = (f"the team is on dispatch {active.id} (incident {active.incident_id}); "
                   "its status follows the dispatch until it ends")
        raise Conflict(message, {"status": [message]}, code="team_dispatched")
    if status == "dispatched":
        raise Invalid("only a dispatch makes a team dispatched",
                      {"status": ["set by a dispatch: choose available or unavailable"]})


def update_team(session, user, team_id, region=None, reason="", **changes):
    """Change a team's fields (own org or admin); equipment, when given, is replaced.
    ``reason``, when given with a status change, is kept in the audit log (``team.status``)."""
    team = get_or_404(session, RescueTeam, team_id, "team")
    check_write(user, team.org_id, session)
    merged = {"grade": team.grade, "graded_on": team.graded_on, **changes}
    _check_team_fields(merged)
    if changes.get("location") is not None:
        check_location(changes["location"], region)
    _check_status_change(session, team, changes.get("status"))
    if reason and changes.get("status") and changes["status"] != team.status:
        audit.record(session, "team.status", "team", team.id,
                     {"from": team.status, "to": changes["status"], "reason": reason})
    for key in ("name", "category", "status", "grade", "graded_on"):
        if key in changes:
            setattr(team, key, changes[key])
    if changes.get("service_radius_km") is not None:
        team.service_radius_km = Decimal(str(changes["service_radius_km"])).quantize(
            Decimal("0.01"))
    if changes.get("location") is not None:
        team.location = from_shape(changes["location"], srid=4326)
    if "equipment" in changes:
        _set_equipment(session, team.id, changes["equipment"])
    session.flush()
    return team


def map_teams(session, user, category=None, status=None, limit=5000):
    """Teams for the forces map (lon/lat and readiness), capped; returns (teams, total)."""
    t, o = RescueTeam.__table__, Organisation.__table__
    where = _team_filters(session, user, category, status)
    total = session.scalar(select(func.count()).select_from(t).where(*where))
    rows = session.execute(select(t.c.id, t.c.name, t.c.category, t.c.status, t.c.grade,
                                  t.c.service_radius_km, o.c.name.label("org_name"),
                                  func.ST_X(t.c.location).label("lon"),
                                  func.ST_Y(t.c.location).label("lat"))
                           .join(o, o.c.id == t.c.org_id).where(*where)
                           .order_by(t.c.id).limit(limit)).all()
    ready = team_readiness(session, [r.id for r in rows])
    return [{"id": r.id, "name": r.name, "category": r.category, "status": r.status,
             "grade": r.grade, "service_radius_km": float(r.service_radius_km),
             "org_name": r.org_name, "lon": float(r.lon), "lat": float(r.lat),
             **ready[r.id]} for r in rows], total


# ---- the forces map by viewport (maps.providers "forces") ------------------------------------


# Stated by the maps' scans of many teams: it selects the covering index ``ix_teams_map``
# (partial on this condition, which every team meets: its category is required and named),
# so SQLite reads that index alone. A literal, not a parameter: SQLite matches a partial
# index's condition only against the same text.
ON_MAP = RescueTeam.__table__.c.category != literal_column("''")


def map_overview(session, user):
    """Per category, how many teams the user may see and their extent, in one scan:
    ``{category: {"count", "bbox": [minlon, minlat, maxlon, maxlat]}}`` (the forces map's
    legend counts and first view)."""
    t = RescueTeam.__table__
    x, y = point_xy(session, t.c.location)
    rows = session.execute(select(t.c.category, func.count(), func.min(x), func.min(y),
                                  func.max(x), func.max(y))
                           .where(ON_MAP, *_team_filters(session, user))
                           .group_by(t.c.category))
    return {r[0]: {"count": r[1], "bbox": [float(v) for v in r[2:]]} for r in rows}


def map_bins(session, user, size_deg, category=None, bbox=None, scan=False):
    """Teams the user may see (one category or all) counted in squares of ``size_deg``
    degrees, for the forces map at low zoom: ``[{"x", "y", "count", "available", "lon",
    "lat"}]``, (x, y) naming the square and (lon, lat) the mean position of its teams.
    ``scan``: the bbox holds most teams (low zoom), compare coordinates without the index."""
    t = RescueTeam.__table__
    where = _team_filters(session, user, category)
    if bbox:
        where.append(points_in_bbox(session, t, bbox, column="location", scan=scan))
    if scan or not bbox:
        where.append(ON_MAP)
    x, y = point_xy(session, t.c.location)
    size = float(size_deg)
    bx, by = func.floor(x / size), func.floor(y / size)
    available = func.sum(case((t.c.status == "available", 1), else_=0))
    rows = session.execute(select(bx, by, func.count(), available, func.avg(x), func.avg(y))
                           .where(*where).group_by(bx, by))
    return [{"x": int(r[0]), "y": int(r[1]), "count": r[2], "available": int(r[3] or 0),
             "lon": float(r[4]), "lat": float(r[5])} for r in rows]


def map_teams_in(session, user, bbox, category=None, limit=2000, today=None):
    """Teams in a bbox for the forces map's points: position, what a popup shows (name,
    organisation, category, status, grade, service radius) and readiness (members, and
    members insured today: the summary kept on the team when it holds for today, else
    counted live for that team only), at most ``limit`` by id."""
    t, o, m = RescueTeam.__table__, Organisation.__table__, TeamMember.__table__
    day = bindparam("today", today or date.today(), type_=Date)
    live = (select(func.count(m.c.id)).where(m.c.team_id == t.c.id, insured_on(m.c.id, day))
            .scalar_subquery())
    insured = case((and_(t.c.insured_from <= day, t.c.insured_until >= day),
                    t.c.insured_members), else_=live)
    where = _team_filters(session, user, category)
    where.append(points_in_bbox(session, t, bbox, column="location"))
    rows = session.execute(
        select(t.c.id, t.c.name, t.c.category, t.c.status, t.c.grade, t.c.service_radius_km,
               o.c.name.label("org_name"), t.c.member_count, insured.label("insured"),
               func.ST_X(t.c.location).label("lon"), func.ST_Y(t.c.location).label("lat"))
        .join(o, o.c.id == t.c.org_id).where(*where).order_by(t.c.id).limit(limit))
    return [{"id": r.id, "name": r.name, "category": r.category, "status": r.status,
             "grade": r.grade, "service_radius_km": float(r.service_radius_km),
             "org_name": r.org_name, "members": int(r.member_count or 0),
             "insured_members": int(r.insured or 0), "lon": float(r.lon), "lat": float(r.lat)}
            for r in rows]


def team_tile(session, user, z, x, y, category=None, limit=5000):
    """Teams the user may see meeting web-mercator tile z/x/y as a vector tile layer
    ``teams`` (id, name, category, status; no personal data), at most ``limit`` by id
    (``spatial.tiles.tile_layer``: MVT bytes on PostGIS, rows on SpatiaLite)."""
    t = RescueTeam.__table__
    return tile_layer(session, t, z, x, y, [t.c.id, t.c.name, t.c.category, t.c.status],
                      where=_team_filters(session, user, category), column="location",
                      layer="teams", order_by=[t.c.id], limit=limit)
