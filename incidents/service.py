"""Incidents: creation, the applicable plan and response level, timeline, recommendations.

No Flask here. Dispatches and requisitions live in ``dispatch.py``, claims in
``compensation.py``.
"""

import math
from collections import namedtuple
from datetime import date
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import mapping
from sqlalchemy import Date, and_, bindparam, case, func, select, union_all

from emergency import spatial
from emergency.auth.permissions import require_area_scope
from emergency.auth.roles import BUREAU
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Forbidden, Invalid, NotFound
from emergency.events.service import publish
from emergency.geo.models import Area
from emergency.geo.service import areas_at, in_area
from emergency.spatial import nearest as nn
from emergency.spatial.extents import extent
from incidents.models import ACTIVE_DISPATCH, Dispatch, Incident, IncidentEvent
from incidents.reports import deadline
from plans import service as plans_service
from plans.incident_types import INCIDENT_TYPES
from registry.models import CATEGORIES, Organisation, RescueTeam, TeamMember
from registry.service import district_scoped, insured_on, orgs_in_district

INCIDENT_STEPS = {"open": ("responding", "closed"), "responding": ("closed", "open"),
                  "closed": ()}
# Without radius_km, teams farther than this are not recommended (nor listed as left out).
DEFAULT_REACH_KM = 200.0


def _check_metrics(metrics):
    """Metrics must be a mapping of names to finite, non-negative numbers."""
    bad = {}
    for name, value in (metrics or {}).items():
        if not isinstance(name, str) or not name or len(name) > 40:
            bad[str(name)[:40]] = ["metric names are 1..40 characters"]
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value) or value < 0:
            bad[name] = ["must be a finite number >= 0"]
    if bad:
        raise Invalid("invalid metrics", {"metrics": [bad]})


def _evaluate(session, incident, lon, lat):
    """Find the applicable plan and its response level; returns what changed."""
    plan = plans_service.applicable_plan(session, incident.incident_type, lon, lat)
    before = (incident.plan_id, incident.response_level)
    if plan is None:
        incident.plan_id = incident.plan_version = incident.plan_title = None
        incident.response_level, incident.matched, incident.required_forces = None, [], []
    else:
        result = plans_service.evaluate_levels(plan["response_levels"], incident.metrics)
        level = result["level"]
        forces = plan.get("required_forces") or {}
        incident.plan_id, incident.plan_version = plan["id"], plan.get("version")
        incident.plan_title = plan.get("title")
        incident.response_level, incident.matched = level, result["matched"]
        incident.required_forces = list(forces.get(level) or forces.get(str(level)) or []) \
            if level is not None else []
    return before != (incident.plan_id, incident.response_level)


def _event(session, incident_id, actor, kind, **detail):
    """Append an entry to the incident's timeline."""
    session.add(IncidentEvent(incident_id=incident_id, actor=actor or "", kind=kind,
                              detail=detail, at=utcnow()))


def _area_of(session, lon, lat):
    """The most local area code containing the point, or None."""
    codes = areas_at(session, lon, lat)
    return codes[0] if codes else None


def create_incident(session, user, title, incident_type, location, occurred_at,
                    metrics=None):
    """Open an incident; its plan and response level are found at once."""
    if incident_type not in INCIDENT_TYPES:
        raise Invalid("unknown incident type", {"incident_type": ["not a known type"]})
    _check_metrics(metrics)
    area_code = _area_of(session, location.x, location.y)
    check_district(session, user, area_code)
    incident = Incident(title=title, incident_type=incident_type, status="open",
                        location=from_shape(location, srid=4326), occurred_at=occurred_at,
                        metrics=dict(metrics or {}), created_by=user.username,
                        area_code=area_code)
    _evaluate(session, incident, location.x, location.y)
    session.add(incident)
    session.flush()
    _event(session, incident.id, user.username, "opened", metrics=incident.metrics,
           plan_id=incident.plan_id, response_level=incident.response_level)
    announce(session, incident, "incident.created")
    return incident


def announce(session, incident, type="incident.updated"):
    """A live event for the incident's bureau readers (committed with the change)."""
    publish(session, type, incident.id, audience="bureau", area_code=incident.area_code,
            status=incident.status, response_level=incident.response_level)


def evaluate_incident(session, user, incident_type, location, metrics=None):
    """The plan and response level that would apply to such an incident; nothing stored.

    Validated as creating is (type, metrics, the user's district).
    """
    if incident_type not in INCIDENT_TYPES:
        raise Invalid("unknown incident type", {"incident_type": ["not a known type"]})
    _check_metrics(metrics)
    area_code = _area_of(session, location.x, location.y)
    check_district(session, user, area_code)
    # A plain object, not an Incident: nothing may reach the session.
    probe = SimpleNamespace(incident_type=incident_type, metrics=dict(metrics or {}),
                            plan_id=None, response_level=None)
    _evaluate(session, probe, location.x, location.y)
    area_name = session.scalar(select(Area.name).where(Area.code == area_code)) \
        if area_code else None
    return {"plan_id": probe.plan_id, "plan_title": probe.plan_title,
            "plan_version": probe.plan_version, "response_level": probe.response_level,
            "matched": probe.matched, "required_forces": probe.required_forces,
            "area_code": area_code, "area_name": area_name}


def incident_or_404(session, incident_id, lock=False):
    """The incident, or NotFound."""
    return get_or_404(session, Incident, incident_id, "incident", lock=lock)


def check_read(user):
    """Incidents are for bureau roles (org_admins see only their dispatches)."""
    if user.role not in BUREAU:
        raise Forbidden("incidents are read by bureau staff")


def in_district(session, user):
    """WHERE clauses keeping incidents in a district-scoped user's district.

    An incident belongs to the most local area containing its location; inside the
    district means that area or any below it by parent links.
    """
    if not district_scoped(user):
        return []
    return [in_area(session, Incident.__table__.c.area_code, user.area_code)]


def incidents_in_district(session, user):
    """A subquery of the ids of the incidents in the user's district, or None unscoped."""
    if not district_scoped(user):
        return None
    t = Incident.__table__
    return select(t.c.id).where(*in_district(session, user))


def check_district(session, user, area_code):
    """Forbidden when an incident in ``area_code`` lies outside the user's district."""
    if district_scoped(user):
        require_area_scope(user, [area_code], session)


def incident_in_scope(session, user, incident_id):
    """The incident if the user may see it: NotFound, or Forbidden outside the district."""
    check_read(user)
    incident = incident_or_404(session, incident_id)
    check_district(session, user, incident.area_code)
    return incident


def check_incident_id(session, user, incident_id):
    """Forbidden when the incident ``incident_id`` lies outside the user's district."""
    if district_scoped(user):
        area = session.scalar(select(Incident.area_code).where(Incident.id == incident_id))
        require_area_scope(user, [area], session)


def _lonlat(incident):
    """The incident's lon/lat."""
    point = to_shape(incident.location)
    return point.x, point.y


def update_incident(session, user, incident_id, title=None, metrics=None, status=None,
                    note=""):
    """Change title, metrics (re-evaluating the level) or status; each change is logged.

    New metrics need a ``note`` (the reason, kept in the timeline with the level change).
    Closing is not a status change here: it needs the after-action record (``close``).
    """
    note = (note or "").strip()
    if status == "closed":
        raise Invalid("close an incident with POST /api/v1/incidents/{id}/close and its "
                      "after-action record", {"status": [USE_CLOSE]}, code="use_close")
    if metrics is not None and not note:
        raise Invalid("a reason is required when metrics change",
                      {"note": ["required: why the metrics change"]})
    incident = incident_or_404(session, incident_id, lock=True)
    check_district(session, user, incident.area_code)
    if incident.status == "closed":
        raise Conflict("the incident is closed", code="closed")
    if title is not None:
        incident.title = title
    if metrics is not None:
        _check_metrics(metrics)
        old_level = incident.response_level
        incident.metrics = {**incident.metrics, **metrics}
        lon, lat = _lonlat(incident)
        _evaluate(session, incident, lon, lat)
        _event(session, incident.id, user.username, "metrics", metrics=metrics,
               all_metrics=incident.metrics, reason=note)
        if incident.response_level != old_level:
            _event(session, incident.id, user.username, "level", before=old_level,
                   after=incident.response_level, matched=incident.matched,
                   plan_id=incident.plan_id, reason=note)
    if title is not None and metrics is None:
        _event(session, incident.id, user.username, "title", title=title, note=note)
    if status is not None and status != incident.status:
        set_status(session, user, incident, status, note)
    session.flush()
    announce(session, incident)
    return incident


USE_CLOSE = "closing needs the after-action record: POST /api/v1/incidents/{id}/close"


def transition_incident(session, user, incident_id, to, note=""):
    """Move an incident between open and responding (closing goes through ``close``)."""
    if to == "closed":
        raise Invalid("close an incident with POST /api/v1/incidents/{id}/close and its "
                      "after-action record", {"to": [USE_CLOSE]}, code="use_close")
    return update_incident(session, user, incident_id, status=to, note=note)


def set_status(session, user, incident, to, note="", kind="status", **detail):
    """Move an incident along open → responding → closed (the caller checks the record)."""
    if to not in INCIDENT_STEPS[incident.status]:
        raise Conflict(f"an incident cannot go from {incident.status} to {to}",
                       {"status": [f"allowed: {', '.join(INCIDENT_STEPS[incident.status])}"]})
    if to == "closed":
        active = session.execute(
            select(Dispatch.id, Dispatch.status, RescueTeam.name)
            .join(RescueTeam, RescueTeam.id == Dispatch.team_id)
            .where(Dispatch.incident_id == incident.id,
                   Dispatch.status.in_(ACTIVE_DISPATCH)).order_by(Dispatch.id)).all()
        if active:
            named = "; ".join(f"dispatch {i} ({name}, {state})" for i, state, name in active)
            raise Conflict(f"still active: {named}; complete or cancel them first",
                           {"dispatches": [i for i, _s, _n in active]},
                           code="active_dispatch")
        incident.closed_at = utcnow()
    before, incident.status = incident.status, to
    _event(session, incident.id, user.username if user else "", kind, before=before,
           after=to, note=note, **detail)


AFTER_ACTION_TEXTS = ("summary", "lessons")
AFTER_ACTION_COUNTS = ("dead", "missing", "injured")
MAX_LOSSES = Decimal("1e13")


def after_action_record(summary, dead, missing, injured, losses_yuan, lessons):
    """The checked after-action record, or Invalid naming every bad field."""
    bad, record = {}, {}
    for name, value in (("summary", summary), ("lessons", lessons)):
        if not isinstance(value, str) or not value.strip():
            bad[name] = ["required: a non-empty text"]
        elif len(value) > 20000:
            bad[name] = ["at most 20000 characters"]
        else:
            record[name] = value.strip()
    for name, value in (("dead", dead), ("missing", missing), ("injured", injured)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**8:
            bad[name] = ["required: a whole number >= 0"]
        else:
            record[name] = value
    losses = None
    if not isinstance(losses_yuan, bool) and isinstance(losses_yuan, (int, float, str,
                                                                      Decimal)):
        try:
            losses = Decimal(str(losses_yuan).strip())
        except (InvalidOperation, ValueError):
            losses = None
    if losses is None or not losses.is_finite() or not 0 <= losses < MAX_LOSSES:
        bad["losses_yuan"] = ["required: an amount in yuan >= 0, e.g. \"1280.00\""]
    else:
        record["losses_yuan"] = str(losses.quantize(Decimal("0.01")))
    if bad:
        raise Invalid("the after-action record is incomplete: " + ", ".join(sorted(bad)), bad)
    return record


def close_incident(session, user, incident_id, summary=None, dead=None, missing=None,
                   injured=None, losses_yuan=None, lessons=None):
    """Close an incident with its after-action record; refused while a dispatch is active."""
    record = after_action_record(summary, dead, missing, injured, losses_yuan, lessons)
    incident = incident_or_404(session, incident_id, lock=True)
    check_district(session, user, incident.area_code)
    if incident.status == "closed":
        raise Conflict("the incident is already closed", code="closed")
    set_status(session, user, incident, "closed", record["summary"], kind="closed",
               after_action=record)
    incident.after_action = {**record, "recorded_by": user.username,
                             "recorded_at": incident.closed_at.isoformat()}
    session.flush()
    announce(session, incident)
    return incident


def incident_dict(session, incident):
    """An incident as the API shows it."""
    point = to_shape(incident.location)
    return {
        "id": incident.id, "title": incident.title, "incident_type": incident.incident_type,
        "status": incident.status, "location": mapping(point), "area_code": incident.area_code,
        "occurred_at": incident.occurred_at, "metrics": incident.metrics,
        "plan_id": incident.plan_id, "plan_title": incident.plan_title,
        "plan_version": incident.plan_version, "response_level": incident.response_level,
        "matched": incident.matched, "required_forces": incident.required_forces,
        "forces": forces_status(session, incident),
        "created_by": incident.created_by, "created_at": incident.created_at,
        "updated_at": incident.updated_at, "closed_at": incident.closed_at,
        "after_action": incident.after_action,
    }


def forces_status(session, incident):
    """Required forces of the level against what is dispatched, per category."""
    return _forces(session, incident.id, incident.required_forces)


# The dispatches that count towards the required forces: active ones and completed ones.
_COUNTED = (*ACTIVE_DISPATCH, "completed")


def _dispatched_by_category():
    """Per category, the counted dispatches of the incident ``:incident_id``: a subquery
    (``incident_id``, ``category``, ``dispatched``), built once."""
    t, d = RescueTeam.__table__, Dispatch.__table__
    return (select(d.c.incident_id, t.c.category, func.count(d.c.id).label("dispatched"))
            .join(t, t.c.id == d.c.team_id)
            .where(d.c.incident_id == bindparam("incident_id"), d.c.status.in_(_COUNTED))
            .group_by(d.c.incident_id, t.c.category).subquery("counted"))


_DISPATCHED = _dispatched_by_category()
_FORCES = select(_DISPATCHED.c.category, _DISPATCHED.c.dispatched)


def _forces(session, incident_id, required_forces, dispatched=None):
    """Required forces against the active and completed dispatches of the incident
    (``dispatched``, {category: count}, when the caller read them already)."""
    if dispatched is None:
        dispatched = dict(session.execute(_FORCES, {"incident_id": incident_id}).all())
    result = []
    for need in required_forces or []:
        have = dispatched.get(need.get("category"), 0)
        count = int(need.get("count") or 0)
        result.append({"category": need.get("category"), "required": count,
                       "dispatched": have, "missing": max(count - have, 0)})
    return result


def get_incident(session, user, incident_id):
    """One incident as a dict."""
    return incident_dict(session, incident_in_scope(session, user, incident_id))


def list_incidents(session, user, status=None, since=None, bbox=None, incident_type=None,
                   limit=100, offset=0, report_overdue=None,
                   report_minutes=deadline.DEFAULT_MINUTES, until=None):
    """Incidents, newest first, as (records, total); records carry GeoJSON text and whether
    the initial report is overdue (``report_overdue`` filters on it)."""
    check_read(user)
    t = Incident.__table__
    where = in_district(session, user)
    now = utcnow()
    if report_overdue is True:
        where.append(deadline.overdue_clause(t, report_minutes, now))
    elif report_overdue is False:
        where.append(deadline.not_overdue_clause(t, report_minutes, now))
    if status:
        where.append(t.c.status == status)
    if since:
        where.append(t.c.occurred_at >= since)
    if until:
        where.append(t.c.occurred_at <= until)
    if incident_type:
        where.append(t.c.incident_type == incident_type)
    if bbox:
        where.append(spatial.bbox_filter(session, t, bbox, column="location"))
    total = session.scalar(select(func.count()).select_from(t).where(*where))
    rows = session.execute(
        select(t.c.id, t.c.title, t.c.incident_type, t.c.status, t.c.area_code,
               t.c.occurred_at, t.c.response_level, t.c.plan_id, t.c.metrics, t.c.created_at,
               deadline.initial_reported_at(t.c.id).label("initial_report_at"),
               spatial.as_geojson(session, t.c.location).label("geometry"))
        .where(*where).order_by(t.c.occurred_at.desc(), t.c.id.desc())
        .limit(limit).offset(offset)).mappings().all()
    records = []
    for row in rows:
        record = dict(row)
        record["report_overdue"] = deadline.state(
            record.pop("created_at"), record.pop("initial_report_at"), report_minutes,
            now)["report_overdue"]
        records.append(record)
    return records, total


def incidents_extent(session, user):
    """Where and when the incidents the user may see happened: ``{"bbox", "interval"}``."""
    check_read(user)
    t = Incident.__table__
    return extent(session, t.c.location, in_district(session, user), (t.c.occurred_at,))


def timeline(session, user, incident_id):
    """The incident's timeline, oldest first."""
    incident_in_scope(session, user, incident_id)
    events = session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id ==
                                                         incident_id)
                             .order_by(IncidentEvent.at, IncidentEvent.id))
    return [{"id": e.id, "at": e.at, "actor": e.actor, "kind": e.kind, "detail": e.detail}
            for e in events]


# ---------------------------------------------------------------- recommendations


def _candidates(with_category):
    """The nearest teams as candidates for recommendations (see nearest.NearestSearch).

    Each row carries what classifying the team needs: its columns, its organisation's
    status, its member count and how many members are insured today. The insured count is
    the summary the database keeps on the team (triggers of migration 0008) when today lies
    in the span it holds for, else counted live for that team only.
    """
    t, o = RescueTeam.__table__, Organisation.__table__
    m = TeamMember.__table__
    today = bindparam("today", type_=Date)
    live = (select(func.count(m.c.id)).where(m.c.team_id == t.c.id, insured_on(m.c.id, today))
            .scalar_subquery())
    insured = case((and_(t.c.insured_from <= today, t.c.insured_until >= today),
                    t.c.insured_members), else_=live).label("insured")
    org_status = (select(o.c.status).where(o.c.id == t.c.org_id).scalar_subquery()
                  .label("org_status"))
    columns = (t.c.id, t.c.org_id, t.c.name, t.c.category, t.c.status, t.c.grade,
               t.c.service_radius_km, org_status, t.c.member_count.label("members"), insured)
    where = [t.c.category == bindparam("category")] if with_category else []
    return nn.NearestSearch(t, columns, where, reach=_largest_radius(with_category),
                            make_row=_Candidate._make)


def _largest_radius(with_category):
    """The largest service radius (km) of the category's teams, or of any team's.

    No team can qualify beyond it, so the search stops there. One index lookup per
    category (``ix_teams_category_radius``); the search remembers the answer a minute.
    """
    t = RescueTeam.__table__

    def largest(category):
        return select(func.max(t.c.service_radius_km).label("km")).where(
            t.c.category == category)

    if with_category:
        return largest(bindparam("category"))
    each = union_all(*(largest(name) for name in CATEGORIES)).subquery()
    return select(func.max(each.c.km))


# A candidate as a plain named tuple: its fields are read a dozen times per row, and a
# SQLAlchemy Row's attribute access costs ten times a tuple's.
_Candidate = namedtuple("_Candidate", "id org_id name category status grade service_radius_km "
                                      "org_status members insured lon lat deg")
_CANDIDATES = {True: _candidates(True), False: _candidates(False)}


def recommend_teams(session, lon, lat, category=None, limit=10, radius_km=None,
                    require_insured=False, today=None, stats=None, org_ids=None):
    """The nearest eligible teams by geodesic distance, and nearby teams left out with why.

    Eligible: approved organisation, available, category matching, within the team's own
    service radius, at least one member insured (every member when ``require_insured``).
    ``org_ids``, when a set, keeps only those organisations' teams (a district's); others
    are neither offered nor listed as left out.
    ``stats``, a dict, receives the rows read and the round trips (for the benchmark).
    """
    reach_km = radius_km if radius_km is not None else DEFAULT_REACH_KM
    params = {"today": today or date.today(), "category": category}
    candidates = _CANDIDATES[bool(category)](session, lon, lat, params, within_km=reach_km,
                                             key=category, expect=limit, stats=stats)
    # (km, row, reason) triples, nearest first: the output records (with their
    # explanations) are built only for the rows returned.
    eligible, excluded = [], []
    for metres, row in candidates:
        if org_ids is not None and row.org_id not in org_ids:
            continue
        km = round(metres / 1000.0, 3)
        reason = _reason(row, km, require_insured)
        (excluded if reason else eligible).append((km, row, reason))
        if len(eligible) == limit:
            break
    items = [_record(*team) for team in eligible if team[0] <= reach_km]
    reach = items[-1]["distance_km"] if len(items) == limit else reach_km
    nearby = [_record(*team) for team in excluded[:max(limit, 20)] if team[0] <= reach]
    return {"items": items, "excluded": nearby}


def clear_caches():
    """Forget what the recommendation searches learnt (after bulk changes to teams, and
    between tests)."""
    for search in _CANDIDATES.values():
        search.forget()


def _reason(row, km, require_insured):
    """Why a team is left out (a reason code), or None when it qualifies."""
    if row.org_status != "approved":
        return "not_approved"
    if row.status == "dispatched":
        return "busy"
    if row.status != "available":
        return "unavailable"
    if km > float(row.service_radius_km or 0):
        return "out_of_radius"
    insured = int(row.insured or 0)
    if insured == 0 or (require_insured and insured < row.members):
        return "uninsured"
    return None


def _record(km, row, reason):
    """A team as recommendations return it: with why it qualifies, or why it is left out
    (``reason``, from :func:`_reason`)."""
    members, insured = row.members, int(row.insured or 0)
    radius = float(row.service_radius_km or 0)
    record = {"team_id": row.id, "name": row.name, "category": row.category,
              "distance_km": km, "grade": row.grade, "members": members,
              "insured_members": insured, "status": row.status, "org_id": row.org_id,
              "service_radius_km": radius, "location": {"type": "Point",
                                                        "coordinates": [row.lon, row.lat]}}
    if reason:
        record["reason"] = reason
        if reason == "not_approved":
            record["detail"] = f"organisation is {row.org_status}"
        elif reason == "busy":
            record["detail"] = "on another dispatch"
        elif reason == "unavailable":
            record["detail"] = f"team is {row.status}"
        elif reason == "out_of_radius":
            record["detail"] = f"{km:.1f} km is beyond its service radius of {radius:g} km"
        else:
            record["detail"] = f"{insured} of {members} members insured"
        return record
    why = ["organisation approved", "team available",
           f"{km:.1f} km, within its service radius of {radius:g} km",
           f"{insured} of {members} members insured"]
    if row.grade:
        why.append(f"official grade {row.grade}")
    record["why"] = why
    record["warnings"] = [f"{members - insured} members uninsured"] if insured < members else []
    return record


def district_orgs(session, user):
    """The ids of the organisations in a district-scoped user's district, or None."""
    if not district_scoped(user):
        return None
    return set(session.scalars(orgs_in_district(session, user)))


def incident_recommendations(session, user, incident_id, category=None, limit=10,
                             radius_km=None, require_insured=False):
    """Recommendations for an incident: teams of categories still missing first.

    Each qualifying team carries ``fills_gap``: its category is one the response level
    requires and the incident's active or completed dispatches do not yet cover. Without
    a category filter, the nearest teams of each missing category are searched as well,
    so a gap is offered even when other teams are nearer.
    """
    check_read(user)
    # Only the place, the required forces and the dispatches per category, in one round
    # trip: Core rows (one per dispatched category, at least one), not the whole incident.
    rows = session.execute(_INCIDENT_PLACE, {"incident_id": incident_id}).all()
    if not rows:
        raise NotFound(f"incident {incident_id} not found")
    place = rows[0]
    check_district(session, user, place.area_code)
    dispatched = {row.category: row.dispatched for row in rows if row.category is not None}
    missing = {f["category"] for f in _forces(session, incident_id, place.required_forces,
                                              dispatched) if f["missing"] > 0}
    orgs = district_orgs(session, user)
    result = recommend_teams(session, place.lon, place.lat, category, limit, radius_km,
                             require_insured, org_ids=orgs)
    items = {team["team_id"]: team for team in result["items"]}
    if category is None:
        for gap in sorted(missing):
            for team in recommend_teams(session, place.lon, place.lat, gap, limit, radius_km,
                                        require_insured, org_ids=orgs)["items"]:
                items.setdefault(team["team_id"], team)
    for team in items.values():
        team["fills_gap"] = team["category"] in missing
    ranked = sorted(items.values(), key=lambda t: (not t["fills_gap"], t["distance_km"]))
    return {"incident_id": incident_id, "category": category, "limit": limit,
            "radius_km": radius_km, "missing_categories": sorted(missing),
            "items": ranked[:limit], "excluded": result["excluded"]}


_INCIDENT_PLACE = (
    select(func.ST_X(Incident.__table__.c.location).label("lon"),
           func.ST_Y(Incident.__table__.c.location).label("lat"),
           Incident.__table__.c.area_code, Incident.__table__.c.required_forces,
           _DISPATCHED.c.category, _DISPATCHED.c.dispatched)
    .outerjoin(_DISPATCHED, _DISPATCHED.c.incident_id == Incident.__table__.c.id)
    .where(Incident.__table__.c.id == bindparam("incident_id")))
