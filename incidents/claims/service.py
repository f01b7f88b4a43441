"""What the requisition and compensation pages show beyond the claims service: a claim's
history and source, what awaits a claim, the ledger's filter choices, a requisition order."""

from sqlalchemy import select

from emergency.auth.roles import BUREAU, ORG_ADMIN
from emergency.geo.models import Area
from emergency.geo.service import district_at
from incidents import compensation as claims
from incidents import dispatch as dispatches
from incidents import service as incidents
from incidents.models import Compensation, Dispatch, Incident, IncidentEvent, Requisition
from registry.models import RescueTeam


def claim_history(session, claim):
    """The claim's steps (submitted, approved or rejected, paid), oldest first, from the
    incident's timeline: [{at, actor, status, note}]."""
    events = session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == claim.incident_id, IncidentEvent.kind == "compensation")
        .order_by(IncidentEvent.at, IncidentEvent.id))
    return [{"at": e.at, "actor": e.actor, "status": e.detail.get("status"),
             "note": e.detail.get("note") or ""}
            for e in events if e.detail.get("compensation_id") == claim.id]


def incident_title(session, incident_id):
    """The title of an incident (for a claim's or a dispatch's page)."""
    return session.scalar(select(Incident.title).where(Incident.id == incident_id)) or ""


def claim_source(session, claim):
    """What a claim is for, to show beside it: incident title, team or requisition."""
    incident = session.get(Incident, claim.incident_id)
    source = {"incident_title": incident.title if incident else "", "team_name": None,
              "order_number": None, "property": None}
    if claim.dispatch_id:
        dispatch = session.get(Dispatch, claim.dispatch_id)
        source["team_name"] = claims.team_name(session, dispatch.team_id)
    if claim.requisition_id:
        requisition = session.get(Requisition, claim.requisition_id)
        source["order_number"] = requisition.order_number
        source["property"] = requisition.property
    return source


def claim_page(session, user, claim_id):
    """One claim in scope, with what it is for and its history."""
    claim = claims.claim_or_404(session, claim_id)
    claims.check_claim_read(session, user, claim)
    return {**claims.claim_dict(session, claim), **claim_source(session, claim),
            "history": claim_history(session, claim)}


def _no_open_claim(reference, column):
    """A clause: no claim that is not rejected refers (by its ``reference`` column,
    ``dispatch_id`` or ``requisition_id``) to this dispatch or requisition."""
    c = Compensation.__table__
    return ~select(c.c.id).where(c.c[reference] == column,
                                 c.c.status != "rejected").exists()


def awaiting_claims(session, user, limit=50):
    """What may be claimed and has no open claim yet: completed dispatches (the user's own
    organisation's for an org_admin) and requisitions, held or returned (bureau)."""
    if user.role not in claims.SUBMITTERS:
        return {"dispatches": [], "requisitions": []}
    d, i = Dispatch.__table__, Incident.__table__
    where = [d.c.status == "completed", _no_open_claim("dispatch_id", d.c.id)]
    if user.role == ORG_ADMIN:
        where.append(d.c.org_id == (user.org_id or -1))
    elif incidents.district_scoped(user):
        where.append(d.c.incident_id.in_(incidents.incidents_in_district(session, user)))
    rows = session.execute(
        select(d.c.id, d.c.incident_id, i.c.title, RescueTeam.name, d.c.ended_at)
        .join(i, i.c.id == d.c.incident_id).join(RescueTeam, RescueTeam.id == d.c.team_id)
        .where(*where).order_by(d.c.ended_at.desc(), d.c.id.desc()).limit(limit)).all()
    found = {"dispatches": [{"id": r[0], "incident_id": r[1], "incident_title": r[2],
                             "team_name": r[3], "ended_at": r[4]} for r in rows],
             "requisitions": []}
    if user.role == ORG_ADMIN:
        return found
    r = Requisition.__table__
    where = [_no_open_claim("requisition_id", r.c.id)]
    if incidents.district_scoped(user):
        where.append(r.c.incident_id.in_(incidents.incidents_in_district(session, user)))
    rows = session.execute(
        select(r.c.id, r.c.incident_id, i.c.title, r.c.order_number, r.c.property,
               r.c.owner_name, r.c.status, r.c.return_condition)
        .join(i, i.c.id == r.c.incident_id).where(*where)
        .order_by(r.c.id.desc()).limit(limit)).all()
    found["requisitions"] = [dict(row._mapping) for row in rows]
    return found


def ledger_choices(session, user, incident_id=None):
    """The organisations and incidents the user's claims name, for the ledger's filters;
    with ``incident_id`` (the console links here with its incident) that incident too, if it
    is one a bureau user may read."""
    c, i = Compensation.__table__, Incident.__table__
    where = claims.ledger_scope(session, user)
    orgs = session.execute(select(c.c.org_id, c.c.claimant).where(
        *where, c.c.org_id.is_not(None)).distinct().order_by(c.c.claimant)).all()
    named = i.c.id.in_(select(c.c.incident_id).where(*where))
    if incident_id is not None and user.role in BUREAU:
        named = named | (i.c.id == incident_id)
        if incidents.district_scoped(user):
            named = named & i.c.id.in_(incidents.incidents_in_district(session, user))
    seen = session.execute(select(i.c.id, i.c.title).where(named)
                           .order_by(i.c.id.desc())).all()
    return {"organisations": [{"id": k, "name": v} for k, v in orgs],
            "incidents": [{"id": k, "title": v} for k, v in seen]}


def requisition_order(session, user, requisition_id):
    """A requisition with what its printed order (征用凭证) names: the incident and the
    district whose bureau issues it (None outside every district)."""
    requisition = dispatches.get_requisition(session, user, requisition_id)
    incident = session.get(Incident, requisition.incident_id)
    lon, lat = incidents._lonlat(incident)
    district = district_at(session, lon, lat)
    name = session.scalar(select(Area.name).where(Area.code == district)) if district else None
    return {**dispatches.requisition_dict(requisition), "incident_title": incident.title,
            "incident_occurred_at": incident.occurred_at, "district_name": name,
            "open_claim": claims.open_claim_id(session, requisition_id=requisition.id)}
