"""Reading warnings: one with its steps, or a filtered page of them, as plain dicts.

Everyone signed in reads warnings; bureau roles see every status, other roles (grid staff,
organisation administrators) only what was released: published, lifted and expired ones.
A published warning past its expiry reads as expired before the expiry job has run.
"""

import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import and_, func, not_, or_, select

from alerts.models import EarlyWarning, WarningArea, WarningStep
from alerts.service import areas_union, effective_status
from emergency import spatial
from emergency.auth.models import User
from emergency.auth.roles import BUREAU
from emergency.db import get_or_404, utcnow
from emergency.errors import NotFound
from emergency.geo.models import Area
from emergency.geo.service import area_descendants
from emergency.spatial.extents import extent
from plans.incident_types import label as type_label

RELEASED = ("published", "lifted", "expired")
LEVEL_LABELS = {"red": "红色", "orange": "橙色", "yellow": "黄色", "blue": "蓝色"}
LEVEL_ORDER = {"red": 1, "orange": 2, "yellow": 3, "blue": 4}
LIST_AREAS = 10  # areas named per warning in a list (the detail names them all)
W = EarlyWarning


def _released_only(user):
    """True when the user sees only released warnings (not drafts, approvals, cancels)."""
    return user.role not in BUREAU


def status_filter(status, now):
    """SQL: warnings whose status as read is ``status`` (expiry applied)."""
    if status == "expired":
        return or_(W.status == "expired", and_(W.status == "published", W.expires <= now))
    if status == "published":
        return and_(W.status == "published", W.expires > now)
    return W.status == status


def active_filter(now):
    """SQL: warnings in force (published, not past their expiry)."""
    return status_filter("published", now)


def _ancestors(session, code):
    """The codes of the areas above ``code`` by parent links."""
    found, current = [], code
    for _ in range(10):
        current = session.scalar(select(Area.parent_code).where(Area.code == current))
        if not current:
            break
        found.append(current)
    return found


def area_filter(session, code):
    """SQL: warnings covering the area, an area inside it, or an area containing it."""
    codes = area_descendants(session, code) + _ancestors(session, code)
    return W.id.in_(select(WarningArea.warning_id).where(WarningArea.area_code.in_(codes)))


def _names(session, user_ids):
    """User names by id."""
    ids = [i for i in set(user_ids) if i]
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.username).where(User.id.in_(ids))).all())


def _area_names(session, codes):
    """Area names by code."""
    found = {}
    codes = list(dict.fromkeys(codes))
    for start in range(0, len(codes), 500):
        found.update(session.execute(select(Area.code, Area.name).where(
            Area.code.in_(codes[start:start + 500]))).all())
    return found


def _geometry(session, warning):
    """The warned area as a GeoJSON mapping: the stored one, else the areas' union."""
    if warning.geometry is not None:
        geom = to_shape(warning.geometry)
    else:
        geom = areas_union(session, list(warning.area_codes or []))
    return shapely.geometry.mapping(geom) if geom is not None else None


def record(session, warning, now, users, names, all_areas=True):
    """A warning as the API shows it."""
    status = effective_status(warning.status, warning.expires, now)
    codes = list(warning.area_codes or [])
    shown = codes if all_areas else codes[:LIST_AREAS]
    return {
        "id": warning.id, "title": warning.title, "hazard_type": warning.hazard_type,
        "hazard_type_label": type_label(warning.hazard_type), "level": warning.level,
        "level_label": LEVEL_LABELS.get(warning.level, warning.level), "status": status,
        "active": status == "published", "area_codes": codes,
        "areas": [{"code": c, "name": names.get(c, c)} for c in shown],
        "area_count": len(codes), "onset": warning.onset, "expires": warning.expires,
        "description": warning.description, "instruction": warning.instruction,
        "author": users.get(warning.author_id), "approved_by": users.get(warning.approved_by),
        "published_by": users.get(warning.published_by), "approved_at": warning.approved_at,
        "published_at": warning.published_at, "lifted_at": warning.lifted_at,
        "cancelled_at": warning.cancelled_at, "note": warning.note,
        "version": warning.version, "cap_identifier": warning.cap_identifier,
        "references": list(warning.references or []), "source": warning.source,
        "source_identifier": warning.source_identifier, "created_at": warning.created_at,
        "updated_at": warning.updated_at, "geometry": _geometry(session, warning),
    }


def steps(session, warning_id):
    """The recorded steps of a warning, oldest first."""
    rows = session.scalars(select(WarningStep).where(WarningStep.warning_id == warning_id)
                           .order_by(WarningStep.id)).all()
    return [{"kind": s.kind, "from": s.from_status, "to": s.to_status, "version": s.version,
             "actor": s.actor, "at": s.at, "note": s.note} for s in rows]


def load(session, user, warning_id, now=None):
    """The warning row the user may read, or NotFound."""
    now = now or utcnow()
    warning = get_or_404(session, W, warning_id, "warning")
    if _released_only(user) and \
            effective_status(warning.status, warning.expires, now) not in RELEASED:
        raise NotFound(f"no warning {warning_id}")
    return warning


def get_warning(session, user, warning_id, now=None):
    """One warning with every area named and its steps."""
    now = now or utcnow()
    warning = load(session, user, warning_id, now)
    users = _names(session, [warning.author_id, warning.approved_by, warning.published_by])
    result = record(session, warning, now, users, _area_names(session, warning.area_codes))
    result["steps"] = steps(session, warning.id)
    return result


def _visible(user, now):
    """WHERE clauses keeping the warnings the user may read."""
    if _released_only(user):
        return [or_(*(status_filter(s, now) for s in RELEASED))]
    return []


def warnings_extent(session, user, now=None):
    """Where and when the warnings the user may read apply: ``{"bbox", "interval"}`` (the
    box of the drawn warned areas; the first onset and the last expiry)."""
    return extent(session, W.geometry, _visible(user, now or utcnow()), (W.onset, W.expires))


def list_warnings(session, user, status=None, level=None, area_code=None, active=None,
                  hazard_type=None, bbox=None, q=None, limit=100, offset=0, now=None,
                  period=None):
    """Warnings matching the filters, newest first: (records, total). ``period`` (start,
    end; either may be None for open) keeps those in force at some moment of it."""
    now = now or utcnow()
    where = _visible(user, now)
    if period:
        start, end = period
        if end is not None:
            where.append(W.onset <= end)
        if start is not None:
            where.append(W.expires >= start)
    if status:
        where.append(status_filter(status, now))
    if level:
        where.append(W.level == level)
    if hazard_type:
        where.append(W.hazard_type == hazard_type)
    if active is True:
        where.append(active_filter(now))
    elif active is False:
        where.append(not_(active_filter(now)))
    if area_code:
        where.append(area_filter(session, area_code))
    if bbox:
        where.append(spatial.bbox_filter(session, W.__table__, bbox, column="geometry"))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(W.title.like(pattern, escape="\\"))
    total = session.scalar(select(func.count()).select_from(W).where(*where))
    rows = session.scalars(select(W).where(*where).order_by(W.created_at.desc(), W.id.desc())
                           .limit(limit).offset(offset)).all()
    users = _names(session, [i for w in rows for i in (w.author_id, w.approved_by,
                                                       w.published_by)])
    names = _area_names(session, [c for w in rows for c in (w.area_codes or [])[:LIST_AREAS]])
    return [record(session, w, now, users, names, all_areas=False) for w in rows], total
