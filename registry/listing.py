"""The registry's lists as the bureau works through them: organisations (and the review queue,
their submitted part) and teams, with search, filters, paging and .xlsx rows.

No Flask here: the views pass ``request.args`` to ``parse_filters`` and labels in the page's
language. Unknown or malformed filter values are dropped, never an error.
"""

import re
from datetime import date, timedelta

from sqlalchemy import exists, func, or_, select

from emergency.geo import names
from emergency.geo import service as geo
from emergency.geo.lookup import LITERAL_MAX, PICK_MAX, SCAN_MAX
from emergency.geo.models import Area
from emergency.listing import int_arg, like_pattern, page_size
from emergency.vocabulary import TEAM_CATEGORIES
from registry.models import (
    ORG_STATUSES,
    InsurancePolicy,
    Organisation,
    RescueTeam,
    TeamMember,
)
from registry.service import _scope_filter, district_scoped, team_readiness

# "Insurance expiring": a member's policy ends within this many days from today.
EXPIRING_DAYS = 30
# The exports' own bound: the city registers 10^4-10^5 teams.
EXPORT_MAX = 100_000
_CODE = re.compile(r"^[0-9A-Za-z]{1,12}$")


def parse_filters(args, statuses=ORG_STATUSES):
    """The list's filters from a query string.

    Keys: q (name, credit code or contact; for teams also the organisation's name), status
    (one of ``statuses``), district (an area code), category (a team category), expiring
    (any value but "" and "0": a member's insurance ends within EXPIRING_DAYS), limit, offset.
    """
    q = (args.get("q") or "").strip()[:100]
    district = args.get("district") if _CODE.match(args.get("district") or "") else None
    return {"q": q or None,
            "status": args.get("status") if args.get("status") in statuses else None,
            "district": district,
            "category": args.get("category") if args.get("category") in TEAM_CATEGORIES
            else None,
            "expiring": (args.get("expiring") or "0") != "0",
            "limit": page_size(args.get("limit")),
            "offset": int_arg(args.get("offset"), 0, 0, 10_000_000)}


def _expiring_policy(team_id_column, today):
    """EXISTS a policy of a member of the team that ends within EXPIRING_DAYS."""
    m, p = TeamMember.__table__, InsurancePolicy.__table__
    return exists(select(p.c.id).join(m, m.c.id == p.c.member_id).where(
        m.c.team_id == team_id_column, p.c.ends_on >= today,
        p.c.ends_on <= today + timedelta(days=EXPIRING_DAYS)))


# ---------------------------------------------------------------- organisations


def _org_where(session, user, filters, today):
    """WHERE clauses of the organisation list, inside the user's scope."""
    o, t = Organisation.__table__, RescueTeam.__table__
    where = [c for c in [_scope_filter(session, user, o.c.id)] if c is not None]
    if filters.get("q"):
        q = filters["q"]
        where.append(or_(o.c.name.like(like_pattern(q), escape="\\"),
                         o.c.contact_name.like(like_pattern(q), escape="\\"),
                         o.c.credit_code.like(like_pattern(q.upper()), escape="\\")))
    if filters.get("status"):
        where.append(o.c.status == filters["status"])
    if filters.get("district"):
        where.append(geo.in_area(session, o.c.area_code, filters["district"]))
    if filters.get("category"):
        where.append(exists(select(t.c.id).where(t.c.org_id == o.c.id,
                                                 t.c.category == filters["category"])))
    if filters.get("expiring"):
        where.append(exists(select(t.c.id).where(t.c.org_id == o.c.id,
                                                 _expiring_policy(t.c.id, today))))
    return where


_ORG_COLUMNS = ("id", "name", "credit_code", "contact_name", "contact_phone_masked",
                "area_code", "status", "review_note", "reviewed_by", "reviewed_at",
                "submitted_at", "verify_by")


def _org_rows(session, where, limit, offset, oldest_first, today):
    """Rows of the organisation list with their team counts."""
    o, t = Organisation.__table__, RescueTeam.__table__
    teams = (select(func.count(t.c.id)).where(t.c.org_id == o.c.id)
             .scalar_subquery().label("teams"))
    order = ((o.c.submitted_at.asc(), o.c.id.asc()) if oldest_first
             else (o.c.submitted_at.desc(), o.c.id.desc()))
    rows = session.execute(select(*(o.c[n] for n in _ORG_COLUMNS), teams).where(*where)
                           .order_by(*order).limit(limit).offset(offset)).mappings()
    records = []
    for row in rows:
        record = dict(row)
        record["contact_phone"] = record.pop("contact_phone_masked")
        record["reverification_due"] = bool(row["status"] == "approved" and row["verify_by"]
                                            and row["verify_by"] <= today)
        records.append(record)
    return records


def org_page(session, user, filters, oldest_first=False, today=None):
    """One page of the filtered organisations and the total: (records, total)."""
    today = today or date.today()
    where = _org_where(session, user, filters, today)
    total = session.scalar(select(func.count()).select_from(Organisation.__table__)
                           .where(*where))
    records = (_org_rows(session, where, filters["limit"], filters["offset"], oldest_first,
                         today) if total else [])
    return records, total


def org_export(session, user, filters, oldest_first=False, today=None):
    """Every organisation of the filtered list (at most EXPORT_MAX)."""
    today = today or date.today()
    return _org_rows(session, _org_where(session, user, filters, today), EXPORT_MAX, 0,
                     oldest_first, today)


# ---------------------------------------------------------------- teams


def _team_where(session, user, filters, today):
    """WHERE clauses of the team list, inside the user's scope (joined to organisations)."""
    t, o = RescueTeam.__table__, Organisation.__table__
    where = [c for c in [_scope_filter(session, user, t.c.org_id)] if c is not None]
    if filters.get("q"):
        pattern = like_pattern(filters["q"])
        where.append(or_(t.c.name.like(pattern, escape="\\"),
                         o.c.name.like(pattern, escape="\\")))
    if filters.get("status"):
        where.append(t.c.status == filters["status"])
    if filters.get("district"):
        where.append(geo.in_area(session, o.c.area_code, filters["district"]))
    if filters.get("category"):
        where.append(t.c.category == filters["category"])
    if filters.get("expiring"):
        where.append(_expiring_policy(t.c.id, today))
    return where


def _team_rows(session, where, limit, offset, today):
    """Rows of the team list (by organisation, then team name) with readiness counts."""
    t, o = RescueTeam.__table__, Organisation.__table__
    rows = session.execute(
        select(t.c.id, t.c.name, t.c.category, t.c.status, t.c.grade, t.c.service_radius_km,
               t.c.org_id, o.c.name.label("org_name"), o.c.status.label("org_status"),
               o.c.area_code)
        .join(o, o.c.id == t.c.org_id).where(*where)
        .order_by(o.c.name, t.c.name, t.c.id).limit(limit).offset(offset)).mappings()
    records = [dict(r) for r in rows]
    ready = team_readiness(session, [r["id"] for r in records], today)
    for record in records:
        record["service_radius_km"] = float(record["service_radius_km"])
        record.update(ready[record["id"]])
    return records


def team_page(session, user, filters, today=None):
    """One page of the filtered teams and the total: (records, total)."""
    today = today or date.today()
    where = _team_where(session, user, filters, today)
    t, o = RescueTeam.__table__, Organisation.__table__
    total = session.scalar(select(func.count(t.c.id)).select_from(
        t.join(o, o.c.id == t.c.org_id)).where(*where))
    records = (_team_rows(session, where, filters["limit"], filters["offset"], today)
               if total else [])
    return records, total


def team_export(session, user, filters, today=None):
    """Every team of the filtered list (at most EXPORT_MAX)."""
    today = today or date.today()
    return _team_rows(session, _team_where(session, user, filters, today), EXPORT_MAX, 0,
                      today)


# ---------------------------------------------------------------- names


def districts(session, user):
    """(code, name) of the districts the user may filter by (a district-scoped user's own)."""
    a = Area.__table__
    rows = session.execute(select(a.c.code, a.c.name).where(a.c.level == "district")
                           .order_by(a.c.code)).all()
    if district_scoped(user):
        inside = set(geo.area_descendants(session, user.area_code))
        rows = [r for r in rows if r.code in inside]
    return [(r.code, r.name) for r in rows]


def area_names(session, codes):
    """Names of areas by code."""
    codes = sorted({c for c in codes if c})
    if not codes:
        return {}
    a = Area.__table__
    return dict(session.execute(select(a.c.code, a.c.name).where(a.c.code.in_(codes))).all())



def pick_orgs(session, user, query="", limit=10):
    """Organisations for a picker, within the user's scope: by name, pinyin initials, credit
    code or id; ``{id, name, credit_code, status}``, best first."""
    o = Organisation.__table__
    limit = max(1, min(limit, PICK_MAX))
    statement = select(o.c.id, o.c.name, o.c.credit_code, o.c.status)
    scope = _scope_filter(session, user, o.c.id)
    if scope is not None:
        statement = statement.where(scope)
    q = names.normalise(query)
    if q and not names.wants_initials(query):
        clauses = [func.lower(o.c.name).like(like_pattern(q), escape="\\"),
                   o.c.credit_code == q.upper()]
        if q.isdigit():
            clauses.append(o.c.id == int(q[:12]))
        statement, cap = statement.where(or_(*clauses)), LITERAL_MAX
    else:
        cap = SCAN_MAX
    scored = []
    for row in session.execute(statement.order_by(o.c.id).limit(cap)).mappings():
        scores = [s for s in (names.rank(query, row["name"], str(row["id"])),
                              names.rank(query, "", row["credit_code"])) if s is not None]
        if scores:
            scored.append((min(scores), len(row["name"]), row["id"], dict(row)))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored[:limit]]
