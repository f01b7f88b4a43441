"""Members on scene: who goes on a dispatch, their check-ins and outs, and service hours.

No Flask here. Pages and the API call these plain functions. Hours come from check-in
intervals: an "in" to the next "out" of the same member on the same dispatch (a member
still in counts until now; a dispatch that completes or is cancelled checks everyone out,
see ``dispatch.check_out_everyone``).
"""

from datetime import timedelta

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point, mapping
from sqlalchemy import select

from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER, ORG_ADMIN
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Forbidden, Invalid
from emergency.vocabulary import LOCAL_ZONE
from incidents import dispatch as dispatches
from incidents import service as incidents
from incidents.models import CHECKIN_KINDS, Dispatch, DispatchCheckin, DispatchMember, Incident
from registry import service as registry
from registry.models import RescueTeam, TeamMember

# Members are named once the team has said yes, and until it is back.
NAMING_STATES = ("accepted", "en_route", "on_scene")
# Check-ins are recorded on the way and at the scene; the first "in" of a dispatch still
# en route moves it on scene (the team has arrived).
CHECKIN_STATES = ("en_route", "on_scene")


def _dispatch_for_write(session, user, dispatch_id, roles):
    """The dispatch (locked) if ``user`` may change its members: own org_admin or ``roles``."""
    dispatch = dispatches.dispatch_or_404(session, dispatch_id, lock=True)
    dispatches.check_dispatch_read(session, user, dispatch)
    if user.role != ORG_ADMIN and user.role not in roles:
        raise Forbidden(f"role {user.role} may not record this dispatch's members")
    return dispatch


def _intervals(rows, until):
    """{member_id: [(start, end), ...]} from check-ins ordered by time (open ones end at
    ``until``)."""
    spans, opened = {}, {}
    for row in rows:
        if row.kind == "in":
            opened.setdefault(row.member_id, row.at)
        elif row.member_id in opened:
            spans.setdefault(row.member_id, []).append((opened.pop(row.member_id), row.at))
    for member_id, start in opened.items():
        spans.setdefault(member_id, []).append((start, max(until, start)))
    return spans


def _hours(spans):
    """Hours of a list of intervals, one decimal."""
    return round(sum(((end - start) for start, end in spans), timedelta()) /
                 timedelta(hours=1), 1)


def _checkins(session, dispatch_ids):
    """The check-ins of some dispatches, oldest first."""
    return session.scalars(select(DispatchCheckin).where(
        DispatchCheckin.dispatch_id.in_(list(dispatch_ids)))
        .order_by(DispatchCheckin.at, DispatchCheckin.id)).all()


def _until(dispatch):
    """Where an open check-in ends: the dispatch's end, else now."""
    return dispatch.ended_at or utcnow()


def name_members(session, user, dispatch_id, member_ids):
    """Set who goes on a dispatch (the whole list; naming again is harmless).

    Only the team's own members (else Invalid naming the ids), only while the dispatch is
    accepted, en route or on scene (else Conflict); a member who already checked in cannot
    be taken off the list (Conflict).
    """
    dispatch = _dispatch_for_write(session, user, dispatch_id, (ADMIN,))
    wanted = list(dict.fromkeys(member_ids))
    if dispatch.status not in NAMING_STATES:
        raise Conflict(f"members are named while a dispatch is accepted, en route or on "
                       f"scene; this one is {dispatch.status}", code="wrong_state")
    teams = dict(session.execute(select(TeamMember.id, TeamMember.team_id).where(
        TeamMember.id.in_(wanted))).all()) if wanted else {}
    foreign = [i for i in wanted if teams.get(i) != dispatch.team_id]
    if foreign:
        raise Invalid(f"not members of team {dispatch.team_id}: "
                      f"{', '.join(str(i) for i in foreign)}",
                      {"member_ids": [f"not members of the dispatched team: "
                                      f"{', '.join(str(i) for i in foreign)}"]})
    named = {m.member_id: m for m in session.scalars(select(DispatchMember).where(
        DispatchMember.dispatch_id == dispatch.id))}
    removed = sorted(set(named) - set(wanted))
    came = set(session.scalars(select(DispatchCheckin.member_id).where(
        DispatchCheckin.dispatch_id == dispatch.id,
        DispatchCheckin.member_id.in_(removed)))) if removed else set()
    if came:
        ids = ", ".join(str(i) for i in sorted(came))
        raise Conflict(f"members {ids} already checked in and stay on the list",
                       {"member_ids": [f"checked in already: {ids}"]}, code="checked_in")
    added = [i for i in wanted if i not in named]
    if not added and not removed:
        return members_of(session, user, dispatch.id)
    for member_id in removed:
        session.delete(named[member_id])
    now = utcnow()
    for member_id in added:
        session.add(DispatchMember(dispatch_id=dispatch.id, member_id=member_id,
                                   named_by=user.username, named_at=now))
    session.flush()
    names = dict(session.execute(select(TeamMember.id, TeamMember.name).where(
        TeamMember.id.in_(added + removed))).all())
    incidents._event(session, dispatch.incident_id, user.username, "members",
                     dispatch_id=dispatch.id, team_id=dispatch.team_id,
                     added=[{"member_id": i, "name": names.get(i)} for i in added],
                     removed=[{"member_id": i, "name": names.get(i)} for i in removed],
                     count=len(wanted))
    dispatches.announce(session, dispatch)
    session.flush()
    return members_of(session, user, dispatch.id)


def members_of(session, user, dispatch_id):
    """The members named on a dispatch: name, masked phone, on scene now, hours there."""
    dispatch = dispatches.dispatch_or_404(session, dispatch_id)
    dispatches.check_dispatch_read(session, user, dispatch)
    rows = session.execute(
        select(TeamMember.id, TeamMember.name, TeamMember.phone_masked, DispatchMember.named_at,
               DispatchMember.named_by)
        .join(DispatchMember, DispatchMember.member_id == TeamMember.id)
        .where(DispatchMember.dispatch_id == dispatch.id).order_by(TeamMember.id)).all()
    checkins = _checkins(session, [dispatch.id])
    spans = _intervals(checkins, _until(dispatch))
    last = {}
    for row in checkins:
        last[row.member_id] = row.kind
    return [{"member_id": mid, "name": name, "phone_masked": phone,
             "checked_in": last.get(mid) == "in", "hours": _hours(spans.get(mid, [])),
             "named_at": named_at, "named_by": named_by}
            for mid, name, phone, named_at, named_by in rows]


def check(session, user, dispatch_id, member_id, kind, lon=None, lat=None):
    """Record a member's arrival ("in") or departure ("out") at the scene.

    Refused: a member not of the team or not named on the dispatch (Invalid), an "in"
    while in or an "out" while not in (Conflict), a dispatch not en route or on scene
    (Conflict). The first "in" on a dispatch en route moves it on scene.
    """
    dispatch = _dispatch_for_write(session, user, dispatch_id, (ADMIN, DISPATCHER))
    if kind not in CHECKIN_KINDS:
        raise Invalid("kind is in or out", {"kind": ["in or out"]})
    if (lon is None) != (lat is None):
        raise Invalid("a location needs both lon and lat", {"location": ["lon and lat"]})
    member = session.get(TeamMember, member_id)
    if member is None or member.team_id != dispatch.team_id:
        raise Invalid(f"member {member_id} is not of the dispatched team",
                      {"member_id": [f"not a member of team {dispatch.team_id}"]})
    if dispatch.status not in CHECKIN_STATES:
        raise Conflict(f"check-ins are recorded while a dispatch is en route or on scene; "
                       f"this one is {dispatch.status}", code="wrong_state")
    named = session.scalar(select(DispatchMember.id).where(
        DispatchMember.dispatch_id == dispatch.id, DispatchMember.member_id == member_id))
    if named is None:
        raise Invalid(f"member {member_id} is not named on dispatch {dispatch.id}",
                      {"member_id": ["not named on this dispatch: name the members first"]})
    is_in = member_id in dispatches.open_checkins(session, dispatch.id)
    if kind == "in" and is_in:
        raise Conflict(f"{member.name} is already checked in", code="already_in")
    if kind == "out" and not is_in:
        raise Conflict(f"{member.name} has no open check-in to close", code="not_in")
    if kind == "in" and dispatch.status == "en_route":
        dispatches.transition(session, user, dispatch.id, "on_scene", "first check-in")
    row = DispatchCheckin(dispatch_id=dispatch.id, member_id=member_id, kind=kind,
                          at=utcnow(), recorded_by=user.username,
                          location=from_shape(Point(lon, lat), srid=4326)
                          if lon is not None else None)
    session.add(row)
    session.flush()
    incidents._event(session, dispatch.incident_id, user.username, "checkin",
                     dispatch_id=dispatch.id, member_id=member_id, name=member.name,
                     direction=kind, location=[lon, lat] if lon is not None else None)
    dispatches.announce(session, dispatch)
    session.flush()
    return _checkin_dict(row, member.name)


def _checkin_dict(row, name):
    """A check-in as the API shows it."""
    return {"id": row.id, "dispatch_id": row.dispatch_id, "member_id": row.member_id,
            "name": name, "kind": row.kind, "at": row.at,
            "location": mapping(to_shape(row.location)) if row.location is not None else None,
            "recorded_by": row.recorded_by}


def checkins_of(session, user, dispatch_id):
    """The check-ins and outs of a dispatch, oldest first."""
    dispatch = dispatches.dispatch_or_404(session, dispatch_id)
    dispatches.check_dispatch_read(session, user, dispatch)
    rows = session.execute(select(DispatchCheckin, TeamMember.name)
                           .join(TeamMember, TeamMember.id == DispatchCheckin.member_id)
                           .where(DispatchCheckin.dispatch_id == dispatch.id)
                           .order_by(DispatchCheckin.at, DispatchCheckin.id)).all()
    return [_checkin_dict(row, name) for row, name in rows]


def service_hours(session, user, member_id):
    """A member's volunteer service hours from check-ins, in all and per dispatch.

    Read by bureau roles (a district-scoped one: members of organisations in the
    district) and the org_admin of the member's organisation.
    """
    member = get_or_404(session, TeamMember, member_id, "member")
    org_id = session.scalar(select(RescueTeam.org_id).where(RescueTeam.id == member.team_id))
    if user.role in BUREAU:
        registry.check_district(session, user, org_id)
    elif not (user.role == ORG_ADMIN and user.org_id == org_id):
        raise Forbidden("service hours are read by the bureau and the member's organisation")
    ids = list(session.scalars(select(DispatchCheckin.dispatch_id).where(
        DispatchCheckin.member_id == member_id).distinct()))
    rows = session.execute(select(Dispatch, Incident.title).join(
        Incident, Incident.id == Dispatch.incident_id).where(Dispatch.id.in_(ids))
        .order_by(Dispatch.requested_at, Dispatch.id)).all() if ids else []
    checkins = [c for c in _checkins(session, ids) if c.member_id == member_id] if ids else []
    items, seconds = [], timedelta()
    for dispatch, title in rows:
        spans = _intervals([c for c in checkins if c.dispatch_id == dispatch.id],
                           _until(dispatch)).get(member_id, [])
        seconds += sum(((end - start) for start, end in spans), timedelta())
        items.append({"dispatch_id": dispatch.id, "incident_id": dispatch.incident_id,
                      "incident_title": title, "status": dispatch.status,
                      "hours": _hours(spans)})
    return {"member_id": member.id, "name": member.name,
            "hours": round(seconds / timedelta(hours=1), 1), "dispatches": items}


def person_days(session, dispatch):
    """Person-days on scene from a dispatch's check-ins, or None when there are none.

    Each member counts every Beijing calendar day on which they were on scene at all (an
    interval across midnight counts both days), the way daily subsidies are paid.
    """
    checkins = _checkins(session, [dispatch.id])
    if not checkins:
        return None
    days = 0
    for spans in _intervals(checkins, _until(dispatch)).values():
        dates = set()
        for start, end in spans:
            day, last = start.astimezone(LOCAL_ZONE).date(), end.astimezone(LOCAL_ZONE).date()
            while day <= last:
                dates.add(day)
                day += timedelta(days=1)
        days += len(dates)
    return days
