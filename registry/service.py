"""Organisations, their scope and review, capacity and readiness. No Flask here."""

import json
from datetime import date, timedelta

from geoalchemy2.shape import from_shape
from sqlalchemy import and_, case, func, literal, or_, select

from emergency import spatial
from emergency.audit import service as audit
from emergency.auth.permissions import require_area_scope
from emergency.auth.roles import ADMIN, BUREAU, ORG_ADMIN
from emergency.db import get_or_404, get_session, utcnow
from emergency.errors import Conflict, Forbidden, Invalid, NotFound
from emergency.geo import service as geo_service
from emergency.vocabulary import TEAM_CATEGORIES
from registry import validators as v
from registry.models import (
    ORG_STATUSES,
    TEAM_STATUSES,
    Certificate,
    InsurancePolicy,
    Organisation,
    RescueTeam,
    TeamMember,
)

REVERIFY_AFTER_DAYS = 365
# ---------------------------------------------------------------- scope


def can_read_org(user, org_id):
    """Bureau roles read every organisation; an org_admin only their own."""
    return user.role in BUREAU or (user.role == ORG_ADMIN and user.org_id == org_id)


def can_write_org(user, org_id):
    """Admins write every organisation; an org_admin only their own."""
    return user.role == ADMIN or (user.role == ORG_ADMIN and user.org_id == org_id)


def district_scoped(user):
    """True for bureau staff limited to a district (``--area``); admins never are."""
    return user.role in BUREAU and user.role != ADMIN and bool(user.area_code)


def check_district(session, user, org_id):
    """Forbidden when a district-scoped user asks for an organisation outside the district.

    An organisation, its teams and their members belong to the district of the
    organisation's registered office (``area_code``, found from its location); inside
    means that area or one below it by parent links.
    """
    if district_scoped(user):
        if session is None:  # callers that predate the district scope: the request's session
            session = get_session()
        area = session.scalar(select(Organisation.area_code).where(Organisation.id == org_id))
        require_area_scope(user, [area], session)


def check_read(user, org_id, session=None):
    """Forbidden unless the user may read this organisation's records."""
    if not can_read_org(user, org_id):
        raise Forbidden("outside your organisation")
    check_district(session, user, org_id)


def check_write(user, org_id, session=None):
    """Forbidden unless the user may change this organisation's records."""
    if not can_write_org(user, org_id):
        raise Forbidden("outside your organisation")
    check_district(session, user, org_id)


def team_org_id(session, team_id):
    """The organisation of a team, or NotFound."""
    org_id = session.scalar(select(RescueTeam.org_id).where(RescueTeam.id == team_id))
    if org_id is None:
        raise NotFound(f"no team {team_id}")
    return org_id


def orgs_in_district(session, user):
    """A subquery of the ids of the organisations in the user's district."""
    o = Organisation.__table__
    return select(o.c.id).where(geo_service.in_area(session, o.c.area_code, user.area_code))


def _scope_filter(session, user, org_column):
    """A WHERE clause limiting lists to what the user may read (own org, district)."""
    if user.role in BUREAU:
        return org_column.in_(orgs_in_district(session, user)) if district_scoped(user) \
            else None
    if user.role == ORG_ADMIN and user.org_id:
        return org_column == user.org_id
    return org_column == -1


# ---------------------------------------------------------------- organisations


def _geojson(text):
    """GeoJSON text from the database as a mapping."""
    return json.loads(text) if text else None


def _org_columns(bind):
    """Columns of an organisation as the API shows it."""
    t = Organisation.__table__
    return [t.c.id, t.c.name, t.c.credit_code, t.c.contact_name, t.c.contact_phone_masked,
            t.c.address, t.c.area_code, t.c.status, t.c.review_note, t.c.reviewed_by,
            t.c.reviewed_at, t.c.verify_by, t.c.submitted_at,
            spatial.as_geojson(bind, t.c.location).label("location")]


def _org_dict(row, today=None):
    """An organisation row as the API shows it (contact phone masked)."""
    today = today or date.today()
    return {"id": row.id, "name": row.name, "credit_code": row.credit_code,
            "contact_name": row.contact_name, "contact_phone": row.contact_phone_masked,
            "address": row.address, "area_code": row.area_code, "status": row.status,
            "review_note": row.review_note, "reviewed_by": row.reviewed_by,
            "reviewed_at": row.reviewed_at, "verify_by": row.verify_by,
            "reverification_due": bool(row.verify_by and row.verify_by <= today),
            "submitted_at": row.submitted_at, "location": _geojson(row.location)}


def _district_of(session, point):
    """The district (by area level, not code shape) containing a point, or None."""
    return geo_service.district_at(session, point.x, point.y)


def check_location(point, region=None):
    """Invalid unless a point lies in the served region (SERVED_BBOX; a swap is named)."""
    problem = v.location_problem(point.x, point.y, region or v.CHINA_BBOX)
    if problem:
        raise Invalid("location outside the served region", {"location": [problem]})


def _check_org_fields(data):
    """Validate credit code and phone; raise Invalid naming every bad field."""
    problems = {}
    if "credit_code" in data:
        data["credit_code"] = (data["credit_code"] or "").strip().upper()
        problem = v.credit_code_problem(data["credit_code"])
        if problem:
            problems["credit_code"] = [problem]
    if "contact_phone" in data:
        data["contact_phone"] = (data["contact_phone"] or "").strip()
        problem = v.phone_problem(data["contact_phone"])
        if problem:
            problems["contact_phone"] = [problem]
    if problems:
        raise Invalid("invalid organisation", problems)


def register_org(session, cipher, user, name, credit_code, contact_name, contact_phone,
                 location, address="", region=None):
    """Register an organisation (status submitted); an org_admin without one becomes its admin."""
    data = {"credit_code": credit_code, "contact_phone": contact_phone}
    _check_org_fields(data)
    check_location(location, region)
    if user.role == ORG_ADMIN and user.org_id:
        raise Conflict("you already administer an organisation",
                       {"org_id": [str(user.org_id)]})
    if session.scalar(select(Organisation.id).where(
            Organisation.credit_code == data["credit_code"])):
        raise Conflict("an organisation with this credit code is registered",
                       {"credit_code": ["already registered"]})
    org = Organisation(name=name, credit_code=data["credit_code"], contact_name=contact_name,
                       contact_phone_enc=cipher.encrypt(data["contact_phone"]),
                       contact_phone_masked=v.mask_phone(data["contact_phone"]),
                       address=address or "", area_code=_district_of(session, location),
                       location=from_shape(location, srid=4326), status="submitted",
                       review_note="", submitted_at=utcnow())
    session.add(org)
    session.flush()
    if user.role == ORG_ADMIN:
        user.org_id = org.id
        session.flush()
    return org


def get_org(session, user, org_id):
    """One organisation as a dict, within the user's scope."""
    get_or_404(session, Organisation, org_id, "organisation")
    check_read(user, org_id, session)
    row = session.execute(select(*_org_columns(session))
                          .where(Organisation.id == org_id)).one()
    record = _org_dict(row)
    record["team_count"] = session.scalar(select(func.count(RescueTeam.id))
                                          .where(RescueTeam.org_id == org_id))
    return record


def list_orgs(session, user, status=None, q=None, area_code=None, reverification_due=None,
              limit=100, offset=0):
    """Organisations the user may see, newest submission first, with the total."""
    t = Organisation.__table__
    where = [c for c in [_scope_filter(session, user, t.c.id)] if c is not None]
    if status:
        where.append(t.c.status == status)
    if q:
        where.append(or_(t.c.name.contains(q, autoescape=True), t.c.credit_code == q.upper()))
    if area_code:
        where.append(geo_service.in_area(session, t.c.area_code, area_code))
    if reverification_due:
        where.append(and_(t.c.status == "approved", t.c.verify_by <= date.today()))
    total = session.scalar(select(func.count()).select_from(t).where(*where))
    rows = session.execute(select(*_org_columns(session)).where(*where)
                           .order_by(t.c.submitted_at.desc(), t.c.id.desc())
                           .limit(limit).offset(offset))
    return [_org_dict(r) for r in rows], total


def update_org(session, cipher, user, org_id, region=None, **changes):
    """Edit an organisation's details (own org or admin); the credit code stays checked."""
    org = get_or_404(session, Organisation, org_id, "organisation")
    check_write(user, org_id, session)
    _check_org_fields(changes)
    if changes.get("location") is not None:
        check_location(changes["location"], region)
    if "credit_code" in changes and changes["credit_code"] != org.credit_code:
        if session.scalar(select(Organisation.id).where(
                Organisation.credit_code == changes["credit_code"])):
            raise Conflict("an organisation with this credit code is registered",
                           {"credit_code": ["already registered"]})
    for key in ("name", "credit_code", "contact_name", "address"):
        if key in changes:
            setattr(org, key, changes[key])
    if "contact_phone" in changes:
        org.contact_phone_enc = cipher.encrypt(changes["contact_phone"])
        org.contact_phone_masked = v.mask_phone(changes["contact_phone"])
    if changes.get("location") is not None:
        org.location = from_shape(changes["location"], srid=4326)
        org.area_code = _district_of(session, changes["location"])
    session.flush()
    return org


def resubmit_org(session, user, org_id, note=""):
    """Send a rejected (or re-verification due) organisation back to the review queue."""
    org = get_or_404(session, Organisation, org_id, "organisation")
    check_write(user, org_id, session)
    due = org.status == "approved" and org.verify_by and org.verify_by <= date.today()
    if org.status != "rejected" and not due:
        raise Conflict(f"an organisation that is {org.status} cannot be resubmitted",
                       {"status": [org.status]})
    org.status, org.submitted_at = "submitted", utcnow()
    org.review_note = note or ""
    session.flush()
    return org


REVIEW_DECISIONS = {"approve": "approved", "reject": "rejected"}
# One batch decides at most this many registrations (a page of the queue is at most 100).
BATCH_MAX = 200


def _check_decision(user, decision, note):
    """Forbidden, Invalid: only an admin decides; a rejection needs its reason."""
    if user.role != ADMIN:
        raise Forbidden("only the bureau's admin reviews registrations")
    if decision not in REVIEW_DECISIONS:
        raise Invalid("unknown decision", {"decision": ["approve or reject"]})
    if decision == "reject" and not note:
        raise Invalid("a rejection needs its reason", {"note": ["required when rejecting"]},
                      code="reason_required")


def _decide(session, user, org, decision, note, batch=None):
    """Record one decision on a submitted registration and its audit entry."""
    org.status = REVIEW_DECISIONS[decision]
    org.review_note, org.reviewed_by, org.reviewed_at = note, user.username, utcnow()
    org.verify_by = date.today() + timedelta(days=REVERIFY_AFTER_DAYS) if (
        org.status == "approved") else None
    details = {"decision": decision, "status": org.status, "note": note}
    if batch:
        details["batch_size"] = batch
    audit.record(session, "organisation.review", "organisation", org.id, details)


def review_org(session, user, org_id, decision, note=""):
    """Approve or reject a submitted registration; approval sets the re-verification date.
    A rejection needs its reason (the organisation reads it and may resubmit)."""
    note = (note or "").strip()
    org = get_or_404(session, Organisation, org_id, "organisation", lock=True)
    _check_decision(user, decision, note)
    if org.status != "submitted":
        raise Conflict(f"organisation is {org.status}, not submitted", {"status": [org.status]})
    _decide(session, user, org, decision, note)
    session.flush()
    return org


def review_orgs(session, user, org_ids, decision, note=""):
    """Approve or reject several submitted registrations in one step, all or none.

    Each organisation is locked and checked first; when any is missing or no longer
    submitted (decided by someone else meanwhile) nothing is decided and the Conflict
    names every such organisation. Each decision gets its own audit entry.
    """
    note = (note or "").strip()
    _check_decision(user, decision, note)
    ids = sorted(set(org_ids))
    if not ids or len(ids) > BATCH_MAX:
        raise Invalid("choose the registrations to decide",
                      {"ids": [f"between 1 and {BATCH_MAX} organisations"]})
    # Locked in id order, so two batches over the same rows cannot deadlock.
    orgs = {o.id: o for o in session.scalars(
        select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.id)
        .with_for_update())}
    missing = [i for i in ids if i not in orgs]
    if missing:
        raise NotFound(f"no organisation {', '.join(map(str, missing))}",
                       {"ids": [str(i) for i in missing]})
    decided = [orgs[i] for i in ids if orgs[i].status != "submitted"]
    if decided:
        names = "、".join(o.name for o in decided)
        raise Conflict(f"already decided, nothing was changed: {names}",
                       {"ids": [str(o.id) for o in decided],
                        "names": [o.name for o in decided],
                        "statuses": [o.status for o in decided]},
                       code="already_decided")
    for org_id in ids:
        _decide(session, user, orgs[org_id], decision, note, batch=len(ids))
    session.flush()
    return [orgs[i] for i in ids]


# ---------------------------------------------------------------- capacity and readiness


def capacity_teams(session, bbox=None):
    """Available teams of approved organisations: id, lon, lat, radius, grade, category."""
    t, o = RescueTeam.__table__, Organisation.__table__
    where = [t.c.status == "available", o.c.status == "approved"]
    if bbox:
        where.append(spatial.bbox_filter(session, t, bbox, column="location"))
    rows = session.execute(select(t.c.id, func.ST_X(t.c.location).label("lon"),
                                  func.ST_Y(t.c.location).label("lat"),
                                  t.c.service_radius_km, t.c.grade, t.c.category)
                           .join(o, o.c.id == t.c.org_id).where(*where).order_by(t.c.id))
    return [{"id": r.id, "lon": float(r.lon), "lat": float(r.lat),
             "service_radius_km": float(r.service_radius_km), "grade": r.grade,
             "category": r.category} for r in rows]


def insured_on(member_id, day):
    """True where a policy of the member ``member_id`` (a column) covers ``day``.

    A correlated scalar subquery, not EXISTS: PostgreSQL may turn EXISTS into a hashed
    subplan that reads every policy (measured 50+ ms); this one probes the member's index.
    """
    p = InsurancePolicy.__table__
    covering = select(literal(1)).where(p.c.member_id == member_id, p.c.starts_on <= day,
                                        p.c.ends_on >= day).limit(1).scalar_subquery()
    return covering.is_not(None)


def team_readiness(session, team_ids, today=None):
    """{team_id: {members, insured_members, valid_certificates}} as of today.

    Insured members are counted with one probe of each member's policies through their
    index, not by collecting every policy valid today (that read every policy: 100+ ms at
    10^5 policies; this is about a millisecond for the few teams a page or a dispatch asks).
    """
    today = today or date.today()
    team_ids = list(team_ids)
    result = {tid: {"members": 0, "insured_members": 0, "valid_certificates": 0}
              for tid in team_ids}
    if not team_ids:
        return result
    m = TeamMember.__table__
    rows = session.execute(
        select(m.c.team_id, func.count(m.c.id),
               func.sum(case((insured_on(m.c.id, today), 1), else_=0)))
        .where(m.c.team_id.in_(team_ids)).group_by(m.c.team_id))
    for tid, members, insured_count in rows:
        result[tid]["members"] = members
        result[tid]["insured_members"] = int(insured_count or 0)
    certs = session.execute(
        select(m.c.team_id, func.count(Certificate.id))
        .join(Certificate, Certificate.member_id == m.c.id)
        .where(m.c.team_id.in_(team_ids),
               or_(Certificate.expires_on.is_(None), Certificate.expires_on >= today))
        .group_by(m.c.team_id))
    for tid, count in certs:
        result[tid]["valid_certificates"] = count
    return result


def refresh_readiness(session, everything=False, batch=1000):
    """Re-centre the stored readiness summary of teams; returns how many were refreshed.

    The summary on each team (migration 0008) holds its insured count for a span of days;
    readers count live outside it, so answers stay right, but recommendations get slower
    as spans lapse. Run daily (``emergency registry refresh-readiness``): it refreshes the
    teams whose span no longer holds the database's today, or every team with
    ``everything`` (after restoring a backup taken with another clock, say).
    """
    t = RescueTeam.__table__
    query = select(t.c.id).order_by(t.c.id)
    if not everything:
        today = func.current_date()
        query = query.where(or_(t.c.insured_from.is_(None), t.c.insured_until.is_(None),
                                t.c.insured_from > today, t.c.insured_until < today))
    ids = session.scalars(query).all()
    for start in range(0, len(ids), batch):
        spatial.refresh_team_readiness(session, ids[start:start + batch])
    return len(ids)


def expiring(session, user, days=30, org_id=None, today=None):
    """Insurance policies and certificates ending within ``days``, in the user's scope."""
    today = today or date.today()
    until = today + timedelta(days=days)
    m, t = TeamMember.__table__, RescueTeam.__table__
    scope = [c for c in [_scope_filter(session, user, t.c.org_id)] if c is not None]
    if org_id:
        scope.append(t.c.org_id == org_id)
    base = [m.c.id.label("member_id"), m.c.name.label("member_name"), m.c.team_id,
            t.c.name.label("team_name"), t.c.org_id]
    policies = session.execute(
        select(*base, InsurancePolicy.id, InsurancePolicy.insurer,
               InsurancePolicy.policy_number, InsurancePolicy.ends_on)
        .join(m, m.c.id == InsurancePolicy.member_id).join(t, t.c.id == m.c.team_id)
        .where(InsurancePolicy.ends_on >= today, InsurancePolicy.ends_on <= until, *scope)
        .order_by(InsurancePolicy.ends_on, InsurancePolicy.id).limit(1000))
    certificates = session.execute(
        select(*base, Certificate.id, Certificate.name, Certificate.number,
               Certificate.expires_on)
        .join(m, m.c.id == Certificate.member_id).join(t, t.c.id == m.c.team_id)
        .where(Certificate.expires_on >= today, Certificate.expires_on <= until, *scope)
        .order_by(Certificate.expires_on, Certificate.id).limit(1000))
    return {"days": days,
            "insurance": [dict(r._mapping) for r in policies],
            "certificates": [dict(r._mapping) for r in certificates]}


def statuses():
    """The choices used by forms: organisation statuses, team categories and statuses."""
    return {"org": ORG_STATUSES, "category": TEAM_CATEGORIES, "team": TEAM_STATUSES}
