"""Periodic hazard bulletins: counts by category, status and area; new, closed, overdue."""

from collections import Counter
from datetime import datetime, time, timedelta

from sqlalchemy import func, or_, select

from emergency.db import get_or_404, utcnow
from emergency.errors import Invalid
from emergency.geo.models import Area
from emergency.vocabulary import LOCAL_ZONE
from hazards.models import (
    CATEGORIES,
    OPEN_STATUSES,
    STATUSES,
    HazardBulletin,
    HazardEvent,
)
from hazards.service import CATEGORY_LABELS, STATUS_LABELS, T, scope_filters
from hazards.workflow import DEFAULT_POLICY

OVERDUE_LIST_LIMIT = 500
DISTRICT_DIGITS = 6


def period_bounds(date_from, date_to):
    """UTC start and end of a period of whole local (Asia/Shanghai) days, both inclusive."""
    if date_to < date_from:
        raise Invalid("the period ends before it starts", {"to": ["must not be before from"]})
    if (date_to - date_from).days > 366:
        raise Invalid("a bulletin covers at most a year", {"to": ["at most 366 days"]})
    start = datetime.combine(date_from, time.min, LOCAL_ZONE)
    end = datetime.combine(date_to + timedelta(days=1), time.min, LOCAL_ZONE)
    return start, end


def _district(row):
    """The district code of a report (the first six digits of its area code)."""
    return row.area_code[:DISTRICT_DIGITS]


def build(session, date_from, date_to, scope=(), now=None, policy=DEFAULT_POLICY):
    """The bulletin of a period, as of its end: no personal data (no reporters, no
    descriptions).

    Statuses, open and overdue reports are those at the end of the period (or now, for a
    period that has not ended), read from each report's recorded steps, so the bulletin of
    a past month does not change as its reports move on. A report was overdue then when its
    stage at that time had passed its deadline (``policy``, as the live workflow sets it).
    """
    now = now or utcnow()
    start, end = period_bounds(date_from, date_to)
    as_of = min(end, now)
    scope = list(scope)
    E = HazardEvent.__table__
    # Each report's last step before ``as_of``: its status then and when that stage began.
    step = E.alias("step")
    last_step = (select(E.c.id).where(E.c.report_id == T.c.id, E.c.kind == "transition",
                                      E.c.at < as_of)
                 .order_by(E.c.at.desc(), E.c.id.desc()).limit(1).scalar_subquery())
    # Every report that existed at the end of the period and was new in it or still open
    # then: one row each with its status and the start of its stage at that time.
    reports = session.execute(
        select(T.c.id, T.c.category, T.c.severity, T.c.grid_code, T.c.area_code,
               T.c.created_at, step.c.to_status.label("status"),
               step.c.at.label("stage_started"))
        .select_from(T.outerjoin(step, step.c.id == last_step))
        .where(T.c.created_at < as_of,
               or_(T.c.created_at >= start, T.c.closed_at.is_(None),
                   T.c.closed_at >= start), *scope)).all()
    new = [r for r in reports if r.created_at >= start]
    open_then = [r for r in reports if r.status in OPEN_STATUSES]
    dues = ((policy.due(r.status, r.severity, r.stage_started), r) for r in open_then)
    overdue = sorted(((due, r) for due, r in dues if due is not None and due < as_of),
                     key=lambda pair: (pair[0], pair[1].id))
    closed = session.execute(
        select(T.c.area_code).where(T.c.closed_at >= start, T.c.closed_at < end,
                                    T.c.closed_at < as_of, T.c.status == "closed", *scope)).all()
    by_category = Counter(r.category for r in new)
    by_status = Counter(r.status for r in new)
    new_by_area = Counter(map(_district, new))
    closed_by_area = Counter(map(_district, closed))
    open_by_area = Counter(map(_district, open_then))
    overdue_by_area = Counter(_district(r) for _due, r in overdue)
    codes = sorted(set(new_by_area) | set(closed_by_area) | set(open_by_area)
                   | set(overdue_by_area))
    names = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all())
    listed = overdue[:OVERDUE_LIST_LIMIT]
    return {
        "from": date_from.isoformat(), "to": date_to.isoformat(),
        "as_of": as_of.isoformat(), "generated_at": now.isoformat(),
        "totals": {"new": len(new), "closed": len(closed), "open": len(open_then),
                   "overdue": len(overdue)},
        "by_category": [{"category": c, "label": CATEGORY_LABELS[c],
                         "count": by_category.get(c, 0)} for c in CATEGORIES],
        "by_status": [{"status": s, "label": STATUS_LABELS[s], "count": by_status.get(s, 0)}
                      for s in STATUSES],
        "by_area": [{"area_code": code, "name": names.get(code, code),
                     "new": new_by_area.get(code, 0), "closed": closed_by_area.get(code, 0),
                     "open": open_by_area.get(code, 0),
                     "overdue": overdue_by_area.get(code, 0)} for code in codes],
        "overdue": [{"id": r.id, "category": r.category,
                     "category_label": CATEGORY_LABELS[r.category], "severity": r.severity,
                     "status": r.status, "status_label": STATUS_LABELS[r.status],
                     "grid_code": r.grid_code, "area_code": r.area_code,
                     "created_at": r.created_at.isoformat(), "due_at": due.isoformat(),
                     "overdue_hours": round((as_of - due).total_seconds() / 3600, 1)}
                    for due, r in listed],
        "overdue_listed": len(listed),
    }


def publish(session, user, date_from, date_to, title="", now=None, policy=DEFAULT_POLICY):
    """Freeze the bulletin of a period so it can be shown publicly; a district-scoped
    planner publishes their district's."""
    content = build(session, date_from, date_to, scope_filters(session, user), now=now,
                    policy=policy)
    bulletin = HazardBulletin(period_from=date_from.isoformat(), period_to=date_to.isoformat(),
                              title=title or f"安全隐患通报 {date_from} 至 {date_to}",
                              content=content, published_by=user.username,
                              published_at=now or utcnow())
    session.add(bulletin)
    session.flush()
    return public_dict(bulletin)


def public_dict(bulletin):
    """A published bulletin as anyone may see it."""
    return {"id": bulletin.id, "title": bulletin.title, "from": bulletin.period_from,
            "to": bulletin.period_to, "published_at": bulletin.published_at.isoformat(),
            "content": bulletin.content}


def get_published(session, bulletin_id):
    """One published bulletin, or NotFound."""
    return public_dict(get_or_404(session, HazardBulletin, bulletin_id, "published bulletin"))


def list_published(session, limit=100, offset=0):
    """Published bulletins, newest first, with the total count."""
    total = session.scalar(select(func.count(HazardBulletin.id)))
    rows = session.scalars(select(HazardBulletin).order_by(HazardBulletin.id.desc())
                           .limit(limit).offset(offset)).all()
    return [{k: v for k, v in public_dict(b).items() if k != "content"} for b in rows], total
