"""Periodic hazard bulletins: counts by category, status and area; new, closed, overdue."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from emergency.db import utcnow
from emergency.errors import Invalid, NotFound
from emergency.geo.models import Area
from emergency.hazards.models import CATEGORIES, OPEN_STATUSES, STATUSES, HazardBulletin
from emergency.hazards.service import CATEGORY_LABELS, STATUS_LABELS, T

LOCAL = ZoneInfo("Asia/Shanghai")
OVERDUE_LIST_LIMIT = 500
DISTRICT_DIGITS = 6


def period_bounds(date_from, date_to):
    """UTC start and end of a period of whole local (Asia/Shanghai) days, both inclusive."""
    if date_to < date_from:
        raise Invalid("the period ends before it starts", {"to": ["must not be before from"]})
    if (date_to - date_from).days > 366:
        raise Invalid("a bulletin covers at most a year", {"to": ["at most 366 days"]})
    start = datetime.combine(date_from, time.min, LOCAL)
    end = datetime.combine(date_to + timedelta(days=1), time.min, LOCAL)
    return start, end


def _counts(session, column, *where):
    """{value: count} of reports grouped by a column."""
    rows = session.execute(select(column, func.count()).where(*where).group_by(column))
    return {key: n for key, n in rows}


def build(session, date_from, date_to, scope=(), now=None):
    """The bulletin of a period: no personal data (no reporters, no descriptions)."""
    now = now or utcnow()
    start, end = period_bounds(date_from, date_to)
    scope = list(scope)
    in_period = [T.c.created_at >= start, T.c.created_at < end, *scope]
    closed_in = [T.c.closed_at >= start, T.c.closed_at < end, T.c.status == "closed", *scope]
    overdue = [T.c.status.in_(OPEN_STATUSES), T.c.due_at < now, *scope]
    by_category = _counts(session, T.c.category, *in_period)
    by_status = _counts(session, T.c.status, *in_period)
    district = func.substr(T.c.area_code, 1, DISTRICT_DIGITS)
    new_by_area = _counts(session, district, *in_period)
    closed_by_area = _counts(session, district, *closed_in)
    open_by_area = _counts(session, district, T.c.status.in_(OPEN_STATUSES), *scope)
    overdue_by_area = _counts(session, district, *overdue)
    codes = sorted(set(new_by_area) | set(closed_by_area) | set(open_by_area)
                   | set(overdue_by_area))
    names = dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(codes))).all())
    overdue_total = sum(overdue_by_area.values())
    overdue_rows = session.execute(
        select(T.c.id, T.c.category, T.c.severity, T.c.status, T.c.grid_code, T.c.area_code,
               T.c.created_at, T.c.due_at).where(*overdue)
        .order_by(T.c.due_at, T.c.id).limit(OVERDUE_LIST_LIMIT)).all()
    return {
        "from": date_from.isoformat(), "to": date_to.isoformat(),
        "generated_at": now.isoformat(),
        "totals": {"new": sum(by_category.values()),
                   "closed": sum(closed_by_area.values()),
                   "open": sum(open_by_area.values()), "overdue": overdue_total},
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
                     "created_at": r.created_at.isoformat(), "due_at": r.due_at.isoformat(),
                     "overdue_hours": round((now - r.due_at).total_seconds() / 3600, 1)}
                    for r in overdue_rows],
        "overdue_listed": len(overdue_rows),
    }


def publish(session, user, date_from, date_to, title="", now=None):
    """Freeze the bulletin of a period so it can be shown publicly."""
    content = build(session, date_from, date_to, now=now)
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
    bulletin = session.get(HazardBulletin, bulletin_id)
    if bulletin is None:
        raise NotFound(f"no published bulletin {bulletin_id}")
    return public_dict(bulletin)


def list_published(session, limit=100, offset=0):
    """Published bulletins, newest first, with the total count."""
    total = session.scalar(select(func.count(HazardBulletin.id)))
    rows = session.scalars(select(HazardBulletin).order_by(HazardBulletin.id.desc())
                           .limit(limit).offset(offset)).all()
    return [{k: v for k, v in public_dict(b).items() if k != "content"} for b in rows], total
