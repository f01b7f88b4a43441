"""Dispatches of teams to incidents (no double-booking) and requisitions of property."""

import json
from datetime import timedelta
from decimal import Decimal

from geoalchemy2.shape import to_shape
from pyproj import Geod
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from emergency import spatial
from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER, ORG_ADMIN
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Forbidden, Invalid
from emergency.events.service import publish
from incidents import service as incidents
from incidents.models import (
    ACTIVE_DISPATCH,
    Dispatch,
    DispatchCheckin,
    DispatchMember,
    Incident,
    Requisition,
)
from registry import service as registry
from registry.models import Organisation, RescueTeam

GEOD = Geod(ellps="WGS84")
TRANSITIONS = {
    "requested": ("accepted", "declined", "cancelled"),
    "accepted": ("en_route", "cancelled"),
    "en_route": ("on_scene", "cancelled"),
    "on_scene": ("completed", "cancelled"),
    "declined": (), "completed": (), "cancelled": (),
}
# Steps an organisation admin may take for their own teams: answer and advance.
ORG_STEPS = ("accepted", "declined", "en_route", "on_scene", "completed")
# Answers that end a dispatch before its work need a reason (the organisation and the
# dispatcher read it in the timeline).
NEED_REASON = ("declined", "cancelled")
STAMPS = {"accepted": "accepted_at", "en_route": "en_route_at", "on_scene": "on_scene_at",
          "declined": "ended_at", "completed": "ended_at", "cancelled": "ended_at"}
RETURN_CONDITIONS = ("intact", "damaged", "lost")


def _is_unique_violation(exc):
    """True when an IntegrityError comes from a unique index (not a foreign key)."""
    text = str(exc.orig).lower()
    return "unique" in text or "duplicate" in text


def create_dispatch(session, user, incident_id, team_id, task="", members_requested=1,
                    require_insured=False):
    """Request a team for an incident; a team on an active dispatch cannot be booked again.

    A district-scoped dispatcher sends only their district's teams to their district's
    incidents; help from another district is sent by a dispatcher above both.
    """
    incident = incidents.incident_or_404(session, incident_id)
    incidents.check_district(session, user, incident.area_code)
    if incident.status == "closed":
        raise Conflict("the incident is closed")
    # Lock the team row (PostGIS) so concurrent requests queue here; the partial unique
    # index on dispatches(team_id) is what guarantees one winner on both backends.
    team = session.get(RescueTeam, team_id, with_for_update=True, populate_existing=True)
    if team is None:
        raise Invalid("no such team", {"team_id": [f"team {team_id} does not exist"]})
    registry.check_district(session, user, team.org_id)
    org_status = session.scalar(select(Organisation.status).where(Organisation.id ==
                                                                  team.org_id))
    if org_status != "approved":
        raise Conflict(f"the team's organisation is {org_status}, not approved",
                       code="not_approved")
    active = session.scalar(select(Dispatch.id).where(Dispatch.team_id == team_id,
                                                      Dispatch.status.in_(ACTIVE_DISPATCH)))
    if active or team.status != "available":
        raise Conflict(f"team {team_id} is {team.status}" +
                       (f" (dispatch {active})" if active else ""), code="team_busy")
    counts = registry.team_readiness(session, [team_id]).get(team_id, {})
    members, insured = counts.get("members", 0), counts.get("insured_members", 0)
    warnings = []
    if insured < members or members == 0:
        message = f"{members - insured} of {members} members are not insured"
        if require_insured:
            raise Conflict(message, {"team_id": [message]}, code="uninsured")
        warnings.append(message)
    if members_requested > members:
        warnings.append(f"{members_requested} members requested, the team has {members}")
    ilon, ilat = incidents._lonlat(incident)
    tpoint = to_shape(team.location)
    _, _, metres = GEOD.inv(ilon, ilat, tpoint.x, tpoint.y)
    dispatch = Dispatch(incident_id=incident.id, team_id=team_id, org_id=team.org_id,
                        task=task or "", members_requested=members_requested,
                        status="requested", warnings=warnings, requested_by=user.username,
                        requested_at=utcnow(),
                        distance_km=Decimal(str(round(metres / 1000.0, 2))))
    try:
        with session.begin_nested():
            session.add(dispatch)
            session.flush()
    except IntegrityError as exc:
        if _is_unique_violation(exc):
            raise Conflict(f"team {team_id} is already on an active dispatch",
                           code="team_busy") from None
        raise
    team.status = "dispatched"
    if incident.status == "open":
        incidents.set_status(session, user, incident, "responding", "first dispatch")
        incidents.announce(session, incident)
    incidents._event(session, incident.id, user.username, "dispatch", dispatch_id=dispatch.id,
                     team_id=team_id, team=team.name, status="requested", warnings=warnings,
                     task=dispatch.task, members_requested=members_requested)
    announce(session, dispatch, "dispatch.created", incident.area_code)
    session.flush()
    return dispatch


def announce(session, dispatch, type="dispatch.updated", area_code=None):
    """A live event for the bureau (in the incident's area) and the team's organisation."""
    if area_code is None:
        area_code = session.scalar(select(Incident.area_code).where(
            Incident.id == dispatch.incident_id))
    publish(session, type, dispatch.id, audience="bureau", org_id=dispatch.org_id,
            area_code=area_code, status=dispatch.status, incident_id=dispatch.incident_id,
            team_id=dispatch.team_id)


def dispatch_or_404(session, dispatch_id, lock=False):
    """The dispatch, or NotFound."""
    return get_or_404(session, Dispatch, dispatch_id, "dispatch", lock=lock)


def check_dispatch_read(session, user, dispatch):
    """Bureau roles read the dispatches of the incidents in their district (all when not
    scoped); an org_admin those of their own teams."""
    if user.role in BUREAU:
        incidents.check_incident_id(session, user, dispatch.incident_id)
        return
    if user.role == ORG_ADMIN and user.org_id == dispatch.org_id:
        return
    raise Forbidden("not your organisation's dispatch")


def transition(session, user, dispatch_id, to, note=""):
    """Move a dispatch along its workflow; the team's status follows.

    Declining and cancelling need a ``note`` (the reason). When a dispatch completes or is
    cancelled, members still checked in are checked out at that moment (their hours end).
    """
    dispatch = dispatch_or_404(session, dispatch_id, lock=True)
    check_dispatch_read(session, user, dispatch)
    if user.role == ORG_ADMIN:
        if to not in ORG_STEPS:
            raise Forbidden("organisation admins answer and advance dispatches only")
    elif user.role not in (ADMIN, DISPATCHER):
        raise Forbidden(f"role {user.role} may not change dispatches")
    allowed = TRANSITIONS.get(dispatch.status, ())
    if to not in allowed:
        raise Conflict(f"a dispatch cannot go from {dispatch.status} to {to}",
                       {"to": [f"allowed: {', '.join(allowed) or 'none'}"]})
    note = (note or "").strip()
    if to in NEED_REASON and not note:
        raise Invalid(f"a reason is required to mark a dispatch {to}",
                      {"note": ["required: the reason"]})
    now = utcnow()
    before, dispatch.status = dispatch.status, to
    setattr(dispatch, STAMPS[to], now)
    team = session.get(RescueTeam, dispatch.team_id, with_for_update=True)
    if to in ("declined", "completed", "cancelled") and team.status == "dispatched":
        team.status = "available"
    incidents._event(session, dispatch.incident_id, user.username, "dispatch",
                     dispatch_id=dispatch.id, team_id=dispatch.team_id, team=team.name,
                     before=before, status=to, note=note)
    if to in ("completed", "cancelled"):
        check_out_everyone(session, user, dispatch, now)
    announce(session, dispatch)
    session.flush()
    return dispatch


def open_checkins(session, dispatch_id):
    """{member_id: the open "in" check-in} of a dispatch (members on scene now)."""
    rows = session.scalars(select(DispatchCheckin).where(
        DispatchCheckin.dispatch_id == dispatch_id)
        .order_by(DispatchCheckin.at, DispatchCheckin.id))
    last = {}
    for row in rows:
        last[row.member_id] = row
    return {member: row for member, row in last.items() if row.kind == "in"}


def check_out_everyone(session, user, dispatch, at):
    """Check out the members still on scene when the dispatch ends (at that time)."""
    still_in = open_checkins(session, dispatch.id)
    for member_id in sorted(still_in):
        session.add(DispatchCheckin(dispatch_id=dispatch.id, member_id=member_id, kind="out",
                                    at=at, recorded_by=user.username))
    if still_in:
        incidents._event(session, dispatch.incident_id, user.username, "checkin",
                         dispatch_id=dispatch.id, member_ids=sorted(still_in), direction="out",
                         automatic=True, note=f"dispatch {dispatch.status}")


def _inbox_query():
    """Dispatches with what an inbox shows: team name, incident, members named."""
    i = Incident.__table__
    named = (select(func.count(DispatchMember.id))
             .where(DispatchMember.dispatch_id == Dispatch.id).scalar_subquery())
    return (select(Dispatch, RescueTeam.name.label("team_name"),
                   i.c.title.label("incident_title"), i.c.incident_type,
                   i.c.response_level, i.c.status.label("incident_status"),
                   func.ST_X(i.c.location).label("lon"), func.ST_Y(i.c.location).label("lat"),
                   named.label("members_named"))
            .join(RescueTeam, RescueTeam.id == Dispatch.team_id)
            .join(i, i.c.id == Dispatch.incident_id))


def dispatch_dict(session, dispatch, row=None):
    """A dispatch as the API shows it, with its team, incident and members named."""
    if row is None:
        row = session.execute(_inbox_query().where(Dispatch.id == dispatch.id)).first()
    return {"id": dispatch.id, "incident_id": dispatch.incident_id,
            "incident_title": row.incident_title, "incident_type": row.incident_type,
            "incident_status": row.incident_status, "response_level": row.response_level,
            "incident_location": {"type": "Point", "coordinates": [row.lon, row.lat]},
            "team_id": dispatch.team_id, "team_name": row.team_name, "org_id": dispatch.org_id,
            "task": dispatch.task, "members_requested": dispatch.members_requested,
            "members_named": row.members_named,
            "status": dispatch.status, "distance_km": dispatch.distance_km,
            "warnings": dispatch.warnings, "requested_by": dispatch.requested_by,
            "requested_at": dispatch.requested_at, "accepted_at": dispatch.accepted_at,
            "en_route_at": dispatch.en_route_at, "on_scene_at": dispatch.on_scene_at,
            "ended_at": dispatch.ended_at, "updated_at": dispatch.updated_at,
            "next": list(TRANSITIONS[dispatch.status])}


def get_dispatch(session, user, dispatch_id):
    """One dispatch, within the user's scope."""
    dispatch = dispatch_or_404(session, dispatch_id)
    check_dispatch_read(session, user, dispatch)
    return dispatch_dict(session, dispatch)


def list_dispatches(session, user, incident_id=None, status=None, team_id=None, active=None,
                    limit=100, offset=0):
    """Dispatches in the user's scope, newest first, as (dicts, total).

    ``active`` true keeps those still requested, accepted, en route or on scene; false
    those that ended.
    """
    where = []
    if user.role == ORG_ADMIN:
        where.append(Dispatch.org_id == (user.org_id or -1))
    elif user.role not in BUREAU:
        raise Forbidden("dispatches are read by bureau staff and organisation admins")
    elif incidents.district_scoped(user):
        where.append(Dispatch.incident_id.in_(incidents.incidents_in_district(session, user)))
    if incident_id is not None:
        where.append(Dispatch.incident_id == incident_id)
    if status:
        where.append(Dispatch.status == status)
    if team_id is not None:
        where.append(Dispatch.team_id == team_id)
    if active is not None:
        where.append(Dispatch.status.in_(ACTIVE_DISPATCH) if active
                     else Dispatch.status.not_in(ACTIVE_DISPATCH))
    total = session.scalar(select(func.count(Dispatch.id)).where(*where))
    rows = session.execute(_inbox_query().where(*where)
                           .order_by(Dispatch.requested_at.desc(), Dispatch.id.desc())
                           .limit(limit).offset(offset)).all()
    return [dispatch_dict(session, row[0], row) for row in rows], total


def duration_days(dispatch, now=None):
    """Whole days (at least one) from the start of work to its end (or now)."""
    start = dispatch.accepted_at or dispatch.requested_at
    end = dispatch.ended_at or now or utcnow()
    hours = max((end - start) / timedelta(hours=1), 0)
    return max(1, -(-int(hours * 60) // (24 * 60)))


# ---------------------------------------------------------------- requisitions


def _mask_contact(text):
    """Keep the first three and last four characters of a contact."""
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


def create_requisition(session, cipher, user, incident_id, owner_name, owner_contact,
                       property, quantity, starts_at, valuation, ends_at=None,
                       legal_basis=None, authority=None):
    """Requisition property for an incident under a numbered written order, on a legal
    basis and by an authority (both required: it is a measure of kind requisition)."""
    incident = incidents.incident_or_404(session, incident_id)
    incidents.check_district(session, user, incident.area_code)
    problems = {}
    legal_basis = legal_basis.strip() if isinstance(legal_basis, str) else ""
    authority = authority.strip() if isinstance(authority, str) else ""
    for field, value, longest in (("legal_basis", legal_basis, 300),
                                  ("authority", authority, 200)):
        if not value:
            problems[field] = ["required"]
        elif len(value) > longest:
            problems[field] = [f"at most {longest} characters"]
    if problems:
        raise Invalid("a requisition needs its legal basis and authority", problems)
    if incident.status == "closed":
        raise Conflict("the incident is closed")
    if ends_at is not None and ends_at < starts_at:
        raise Invalid("the period ends before it starts", {"ends_at": ["before starts_at"]})
    count = session.scalar(select(func.count(Requisition.id)).where(
        Requisition.incident_id == incident_id))
    order = f"ZY-{incident_id:06d}-{count + 1:03d}"
    requisition = Requisition(
        incident_id=incident_id, order_number=order, legal_basis=legal_basis,
        authority=authority, owner_name=owner_name, owner_contact_enc=cipher.encrypt(owner_contact),
        owner_contact_masked=_mask_contact(owner_contact), property=property,
        quantity=quantity, starts_at=starts_at, ends_at=ends_at, valuation=valuation,
        status="requisitioned", created_by=user.username)
    session.add(requisition)
    session.flush()
    incidents._event(session, incident_id, user.username, "requisition",
                     requisition_id=requisition.id, order_number=order, property=property)
    return requisition


def requisition_or_404(session, requisition_id):
    """The requisition, or NotFound."""
    return get_or_404(session, Requisition, requisition_id, "requisition")


def get_requisition(session, user, requisition_id):
    """One requisition, if its incident is in the user's district."""
    incidents.check_read(user)
    requisition = requisition_or_404(session, requisition_id)
    incidents.check_incident_id(session, user, requisition.incident_id)
    return requisition


def return_requisition(session, user, requisition_id, condition, note="", returned_at=None):
    """Record the return of requisitioned property and its condition."""
    requisition = requisition_or_404(session, requisition_id)
    incidents.check_incident_id(session, user, requisition.incident_id)
    if requisition.status == "returned":
        raise Conflict("already returned")
    if condition not in RETURN_CONDITIONS:
        raise Invalid("unknown condition", {"condition": [", ".join(RETURN_CONDITIONS)]})
    requisition.status, requisition.return_condition = "returned", condition
    requisition.return_note = note or ""
    requisition.returned_at = returned_at or utcnow()
    if requisition.ends_at is None:
        requisition.ends_at = requisition.returned_at
    incidents._event(session, requisition.incident_id, user.username, "requisition_return",
                     requisition_id=requisition.id, condition=condition)
    session.flush()
    return requisition


def requisition_dict(requisition):
    """A requisition as the API shows it (contact masked)."""
    return {"id": requisition.id, "incident_id": requisition.incident_id,
            "order_number": requisition.order_number,
            "legal_basis": requisition.legal_basis, "authority": requisition.authority,
            "owner_name": requisition.owner_name,
            "owner_contact": requisition.owner_contact_masked,
            "property": requisition.property, "quantity": requisition.quantity,
            "starts_at": requisition.starts_at, "ends_at": requisition.ends_at,
            "valuation": requisition.valuation, "status": requisition.status,
            "returned_at": requisition.returned_at,
            "return_condition": requisition.return_condition,
            "return_note": requisition.return_note, "created_by": requisition.created_by,
            "created_at": requisition.created_at}


def list_requisitions(session, user, incident_id):
    """Requisitions of an incident in the user's district."""
    incidents.incident_in_scope(session, user, incident_id)
    rows = session.scalars(select(Requisition).where(Requisition.incident_id == incident_id)
                           .order_by(Requisition.id))
    return [requisition_dict(r) for r in rows]


def team_locations(session, team_ids):
    """{team_id: GeoJSON point} for a few teams (for the console map)."""
    if not team_ids:
        return {}
    t = RescueTeam.__table__
    rows = session.execute(select(t.c.id, spatial.as_geojson(session, t.c.location))
                           .where(t.c.id.in_(list(team_ids)))).all()
    return {tid: json.loads(text) for tid, text in rows}
