"""Members with protected personal data, certificates, insurance and training. No Flask here."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, delete, func, or_, select

from emergency.audit import service as audit
from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER, ORG_ADMIN
from emergency.db import get_or_404
from emergency.errors import Conflict, Forbidden, Invalid, NotFound
from registry import validators as v
from registry.models import (
    Certificate,
    InsurancePolicy,
    RescueTeam,
    TeamMember,
    Training,
    TrainingMember,
    TrainingTeam,
)
from registry.service import (
    check_read,
    check_write,
    district_scoped,
    orgs_in_district,
    team_org_id,
)

REVEAL_ROLES = frozenset({ADMIN, DISPATCHER})


def _district_filter(session, user, org_column):
    """WHERE clauses keeping only organisations in a district-scoped user's district."""
    if user is not None and district_scoped(user):
        return [org_column.in_(orgs_in_district(session, user))]
    return []


def check_reveal(user, org_id):
    """Only admin, dispatcher and the member's own org_admin may see personal data unmasked."""
    if user.role in REVEAL_ROLES or (user.role == ORG_ADMIN and user.org_id == org_id):
        return
    raise Forbidden("your role may not reveal personal data")


def person_problems(id_number, phone):
    """{field: [message]} for a bad ID number or phone; empty when both are valid."""
    problems = {}
    problem = v.id_number_problem(id_number)
    if problem:
        problems["id_number"] = [problem]
    problem = v.phone_problem(phone)
    if problem:
        problems["phone"] = [problem]
    return problems


def sealed_person(cipher, id_number, phone, person_hash=None):
    """The stored columns of a person's ID number and phone (sealed, masked, hashed)."""
    id_number, phone = v.normalise_id(id_number), phone.strip()
    return {"id_number_enc": cipher.encrypt(id_number), "id_number_masked": v.mask_id(id_number),
            "phone_enc": cipher.encrypt(phone), "phone_masked": v.mask_phone(phone),
            "person_hash": person_hash or cipher.lookup_hash(id_number)}


def _check_certificates(certificates):
    """Certificates need a name; problems are reported under certificates."""
    bad = [i for i, c in enumerate(certificates or []) if not (c.get("name") or "").strip()]
    if bad:
        raise Invalid("invalid certificate", {"certificates": [f"item {i}: name required"
                                                               for i in bad]})


def add_member(session, cipher, user, team_id, name, id_number, phone, skills=(),
               certificates=()):
    """Add a member to a team; the same person twice in one team is a conflict."""
    org_id = team_org_id(session, team_id)
    check_write(user, org_id, session)
    problems = person_problems(id_number, phone)
    if problems:
        raise Invalid("invalid member", problems)
    _check_certificates(certificates)
    sealed = sealed_person(cipher, id_number, phone)
    if session.scalar(select(TeamMember.id).where(TeamMember.team_id == team_id,
                                                  TeamMember.person_hash == sealed["person_hash"])):
        raise Conflict("this person is already a member of the team",
                       {"id_number": ["already in this team"]})
    member = TeamMember(team_id=team_id, name=name.strip(), skills=list(skills or []), **sealed)
    session.add(member)
    session.flush()
    for cert in certificates or []:
        session.add(Certificate(member_id=member.id, name=cert["name"],
                                number=cert.get("number") or "",
                                expires_on=cert.get("expires_on")))
    session.flush()
    return member


def update_member(session, cipher, user, member_id, name=None, id_number=None, phone=None,
                  skills=None):
    """Correct a member's data (PIPL art. 46); a new ID number or phone is verified and sealed."""
    member = get_or_404(session, TeamMember, member_id, "member")
    check_write(user, team_org_id(session, member.team_id), session)
    if id_number is not None or phone is not None:
        new_id = id_number if id_number is not None else cipher.decrypt(member.id_number_enc)
        new_phone = phone if phone is not None else cipher.decrypt(member.phone_enc)
        problems = person_problems(new_id, new_phone)
        if problems:
            raise Invalid("invalid member", problems)
        sealed = sealed_person(cipher, new_id, new_phone)
        if sealed["person_hash"] != member.person_hash and session.scalar(
                select(TeamMember.id).where(TeamMember.team_id == member.team_id,
                                            TeamMember.person_hash == sealed["person_hash"])):
            raise Conflict("this person is already a member of the team",
                           {"id_number": ["already in this team"]})
        for column, value in sealed.items():
            setattr(member, column, value)
    if name is not None:
        member.name = name.strip()
    if skills is not None:
        member.skills = list(skills)
    session.flush()
    return member


def remove_member(session, user, member_id, reason="", team_id=None):
    """Erase a member with their certificates, insurance and training attendance (PIPL art. 47).

    ``reason``, when given, is kept in the audit log (``member.remove``) beside the deletion;
    ``team_id``, when given, must be the member's team (NotFound otherwise).
    """
    member = get_or_404(session, TeamMember, member_id, "member")
    if team_id is not None and member.team_id != team_id:
        raise NotFound(f"no member {member_id} in team {team_id}")
    check_write(user, team_org_id(session, member.team_id), session)
    if reason:
        audit.record(session, "member.remove", "member", member_id,
                     {"team_id": member.team_id, "reason": reason})
    session.execute(delete(TrainingMember).where(TrainingMember.member_id == member_id))
    session.execute(delete(Certificate).where(Certificate.member_id == member_id))
    session.execute(delete(InsurancePolicy).where(InsurancePolicy.member_id == member_id))
    session.delete(member)
    session.flush()


def add_certificate(session, user, member_id, name, number="", expires_on=None):
    """Record a certificate for a member."""
    member = get_or_404(session, TeamMember, member_id, "member")
    check_write(user, team_org_id(session, member.team_id), session)
    cert = Certificate(member_id=member_id, name=name, number=number or "",
                       expires_on=expires_on)
    session.add(cert)
    session.flush()
    return cert


def add_insurance(session, user, member_id, insurer, policy_number, starts_on, ends_on,
                  coverage_amount):
    """Record an accident insurance policy covering a member from starts_on to ends_on."""
    member = get_or_404(session, TeamMember, member_id, "member")
    check_write(user, team_org_id(session, member.team_id), session)
    if ends_on < starts_on:
        raise Invalid("policy ends before it starts", {"ends_on": ["before starts_on"]})
    amount = Decimal(str(coverage_amount))
    if amount <= 0:
        raise Invalid("coverage must be positive", {"coverage_amount": ["must be > 0"]})
    policy = InsurancePolicy(member_id=member_id, insurer=insurer, policy_number=policy_number,
                             starts_on=starts_on, ends_on=ends_on,
                             coverage_amount=amount.quantize(Decimal("0.01")))
    session.add(policy)
    session.flush()
    return policy


def _details(session, member_ids, today):
    """Certificates and insurance of each member, with validity derived for today."""
    certs, policies = defaultdict(list), defaultdict(list)
    if not member_ids:
        return certs, policies
    for c in session.scalars(select(Certificate).where(Certificate.member_id.in_(member_ids))
                             .order_by(Certificate.id)):
        certs[c.member_id].append({"id": c.id, "name": c.name, "number": c.number,
                                   "expires_on": c.expires_on,
                                   "valid": c.expires_on is None or c.expires_on >= today})
    for p in session.scalars(select(InsurancePolicy)
                             .where(InsurancePolicy.member_id.in_(member_ids))
                             .order_by(InsurancePolicy.starts_on)):
        policies[p.member_id].append({
            "id": p.id, "insurer": p.insurer, "policy_number": p.policy_number,
            "starts_on": p.starts_on, "ends_on": p.ends_on,
            "coverage_amount": f"{p.coverage_amount:.2f}",
            "active": p.starts_on <= today <= p.ends_on})
    return certs, policies


def _other_memberships(session, user, members):
    """For each member, the other teams (and orgs) the same person serves in, within the
    user's district when scoped."""
    hashes = {m.person_hash for m in members}
    found = defaultdict(list)
    if not hashes:
        return found
    rows = session.execute(select(TeamMember.id, TeamMember.person_hash, TeamMember.team_id,
                                  RescueTeam.org_id)
                           .join(RescueTeam, RescueTeam.id == TeamMember.team_id)
                           .where(TeamMember.person_hash.in_(hashes),
                                  *_district_filter(session, user, RescueTeam.org_id)))
    by_hash = defaultdict(list)
    for mid, phash, tid, oid in rows:
        by_hash[phash].append((mid, tid, oid))
    for m in members:
        found[m.id] = [{"team_id": tid, "org_id": oid} for mid, tid, oid in by_hash[m.person_hash]
                       if mid != m.id]
    return found


def member_dicts(session, cipher, user, members, org_id, reveal=False, today=None):
    """Members as the API shows them: masked unless revealed (and then audited)."""
    today = today or date.today()
    ids = [m.id for m in members]
    certs, policies = _details(session, ids, today)
    others = _other_memberships(session, user, members) if user.role in BUREAU else {}
    hours = training_hours(session, ids, today.year)
    out = []
    for m in members:
        record = {"id": m.id, "team_id": m.team_id, "org_id": org_id, "name": m.name,
                  "id_number": m.id_number_masked, "phone": m.phone_masked,
                  "skills": list(m.skills or []), "certificates": certs[m.id],
                  "insurance": policies[m.id],
                  "insured_today": any(p["active"] for p in policies[m.id]),
                  "valid_certificates": sum(1 for c in certs[m.id] if c["valid"]),
                  "training_hours_this_year": hours.get(m.id, "0.0"),
                  "revealed": bool(reveal)}
        if user.role in BUREAU:
            record["also_serves"] = others.get(m.id, [])
            record["duplicate_person"] = bool(others.get(m.id))
        if reveal:
            record["id_number"] = cipher.decrypt(m.id_number_enc)
            record["phone"] = cipher.decrypt(m.phone_enc)
        out.append(record)
    if reveal and ids:
        for mid in ids:
            audit.record(session, "member.reveal", "member", mid,
                         {"fields": ["id_number", "phone"]})
    return out


def get_member(session, cipher, user, member_id, reveal=False):
    """One member, within scope; ``reveal`` unmasks for allowed roles and is audited."""
    member = get_or_404(session, TeamMember, member_id, "member")
    org_id = team_org_id(session, member.team_id)
    check_read(user, org_id, session)
    if reveal:
        check_reveal(user, org_id)
    return member_dicts(session, cipher, user, [member], org_id, reveal)[0]


def list_members(session, cipher, user, team_id, reveal=False, limit=100, offset=0):
    """A team's members, within scope; ``reveal`` as for one member."""
    org_id = team_org_id(session, team_id)
    check_read(user, org_id, session)
    if reveal:
        check_reveal(user, org_id)
    where = TeamMember.team_id == team_id
    total = session.scalar(select(func.count(TeamMember.id)).where(where))
    members = list(session.scalars(select(TeamMember).where(where).order_by(TeamMember.id)
                                   .limit(limit).offset(offset)))
    return member_dicts(session, cipher, user, members, org_id, reveal), total


def find_person(session, cipher, id_number, user=None):
    """Every membership of one person across organisations (within the user's district when
    scoped), found by the keyed hash."""
    problem = v.id_number_problem(id_number)
    if problem:
        raise Invalid("invalid ID number", {"id_number": [problem]})
    phash = cipher.lookup_hash(v.normalise_id(id_number))
    rows = session.execute(select(TeamMember.id, TeamMember.team_id, RescueTeam.org_id)
                           .join(RescueTeam, RescueTeam.id == TeamMember.team_id)
                           .where(TeamMember.person_hash == phash,
                                  *_district_filter(session, user, RescueTeam.org_id))
                           .order_by(TeamMember.id))
    found = [{"member_id": mid, "team_id": tid, "org_id": oid} for mid, tid, oid in rows]
    # A search by a personal identifier is audited like a reveal, with the number masked.
    audit.record(session, "member.lookup", "member", None,
                 {"id_number": v.mask_id(v.normalise_id(id_number)), "matches": len(found),
                  "member_ids": [f["member_id"] for f in found]})
    return found


# ---------------------------------------------------------------- training


def create_training(session, user, held_on, hours, topic, team_ids=(), member_ids=(),
                    with_professional=False, note=""):
    """Record a training session or joint drill with its teams and attending members."""
    team_ids, member_ids = sorted(set(team_ids or [])), sorted(set(member_ids or []))
    if not team_ids:
        raise Invalid("a training needs at least one team", {"team_ids": ["required"]})
    if not Decimal("0") < Decimal(str(hours)) <= Decimal("24"):
        raise Invalid("hours out of range", {"hours": ["between 0 and 24"]})
    teams = dict(session.execute(select(RescueTeam.id, RescueTeam.org_id)
                                 .where(RescueTeam.id.in_(team_ids))).all())
    missing = [t for t in team_ids if t not in teams]
    if missing:
        raise Invalid("unknown teams", {"team_ids": [f"no team {t}" for t in missing]})
    for org_id in set(teams.values()):
        check_write(user, org_id, session)
    member_teams = dict(session.execute(select(TeamMember.id, TeamMember.team_id)
                                        .where(TeamMember.id.in_(member_ids))).all())
    bad = [m for m in member_ids if member_teams.get(m) not in teams]
    if bad:
        raise Invalid("members must belong to a participating team",
                      {"member_ids": [f"member {m} is not in a listed team" for m in bad]})
    training = Training(held_on=held_on, hours=Decimal(str(hours)).quantize(Decimal("0.1")),
                        topic=topic, with_professional=bool(with_professional), note=note or "",
                        created_by=user.username)
    session.add(training)
    session.flush()
    session.add_all([TrainingTeam(training_id=training.id, team_id=t) for t in team_ids])
    session.add_all([TrainingMember(training_id=training.id, member_id=m) for m in member_ids])
    session.flush()
    return training


def _member_scope(session, user):
    """WHERE clauses on RescueTeam keeping the members a user may read (none: every one)."""
    where = _district_filter(session, user, RescueTeam.org_id)
    if user is not None and user.role not in BUREAU:
        where.append(RescueTeam.org_id == (user.org_id or -1))
    return where


def training_dict(session, training, user=None):
    """A training session as the API shows it: attending members only those the user may read."""
    teams = session.scalars(select(TrainingTeam.team_id)
                            .where(TrainingTeam.training_id == training.id)).all()
    # A joint drill lists the teams of every organisation, but another organisation's
    # members stay out of sight (their ids lead to personal data).
    members = session.scalars(select(TrainingMember.member_id)
                              .join(TeamMember, TeamMember.id == TrainingMember.member_id)
                              .join(RescueTeam, RescueTeam.id == TeamMember.team_id)
                              .where(TrainingMember.training_id == training.id,
                                     *_member_scope(session, user))).all()
    return {"id": training.id, "held_on": training.held_on, "hours": f"{training.hours:.1f}",
            "topic": training.topic, "with_professional": training.with_professional,
            "note": training.note, "team_ids": sorted(teams), "member_ids": sorted(members)}


def list_trainings(session, user, team_id=None, year=None, limit=100, offset=0):
    """Training sessions in scope (filters team, year), newest first."""
    query = select(Training)
    if user.role not in BUREAU:
        own = select(TrainingTeam.training_id).join(
            RescueTeam, RescueTeam.id == TrainingTeam.team_id).where(
            RescueTeam.org_id == (user.org_id or -1))
        query = query.where(Training.id.in_(own))
    elif district_scoped(user):  # sessions with at least one team of the district
        near = select(TrainingTeam.training_id).join(
            RescueTeam, RescueTeam.id == TrainingTeam.team_id).where(
            RescueTeam.org_id.in_(orgs_in_district(session, user)))
        query = query.where(Training.id.in_(near))
    if team_id:
        query = query.where(Training.id.in_(select(TrainingTeam.training_id)
                                            .where(TrainingTeam.team_id == team_id)))
    if year:
        query = query.where(and_(Training.held_on >= date(year, 1, 1),
                                 Training.held_on <= date(year, 12, 31)))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Training.held_on.desc(), Training.id.desc())
                           .limit(limit).offset(offset)).all()
    return [training_dict(session, t, user) for t in rows], total


def training_hours(session, member_ids, year):
    """{member_id: "hours"} attended in a calendar year."""
    if not member_ids:
        return {}
    rows = session.execute(select(TrainingMember.member_id, func.sum(Training.hours))
                           .join(Training, Training.id == TrainingMember.training_id)
                           .where(TrainingMember.member_id.in_(list(member_ids)),
                                  or_(Training.held_on.between(date(year, 1, 1),
                                                               date(year, 12, 31))))
                           .group_by(TrainingMember.member_id))
    return {mid: f"{Decimal(str(total)):.1f}" for mid, total in rows}
