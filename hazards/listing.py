"""The hazard task list of the pages: filters from a query string, one page and its total,
and the choices of its grid and district filters.

No Flask here: the view passes ``request.args``; labels in the page's language come from the
view. Scope (own grids, own district) is the service's (``service.query_reports``).
"""

import re
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select

from emergency.auth.roles import ADMIN, GRID_STAFF
from emergency.geo import service as geo
from emergency.geo.models import Area, Grid
from emergency.listing import int_arg, like_pattern, page_size
from emergency.vocabulary import LOCAL_ZONE
from hazards import service
from hazards.models import CATEGORIES, SEVERITIES, STATUSES

VIEWS = ("waiting", "all")
# The export's own bound: a busy district's year of reports.
EXPORT_MAX = 50_000
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
_ID = re.compile(r"^#?(\d{1,9})$")
T = service.T


def _day(text):
    """A YYYY-MM-DD text as a date, or None (anything else is ignored, never an error)."""
    if not text or not _DAY.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _choice(value, allowed):
    """The value when it is one of ``allowed``, else None."""
    return value if value in allowed else None


def default_view(user):
    """What the list shows first: the user's next steps, or every report for roles that
    take no step."""
    return "waiting" if service.task_filters(user) is not None else "all"


def parse_filters(args, user):
    """The list's filters from a query string; unknown or malformed values are dropped.

    Keys: view (waiting|all), q (words of the description, or a report number), status,
    category, severity, grid (a grid code), district (an area code), date_from and date_to
    (local days of reporting, inclusive), limit and offset.
    """
    view = _choice(args.get("view"), VIEWS) or default_view(user)
    if view == "waiting" and service.task_filters(user) is None:
        view = "all"
    code = args.get("grid") or ""
    district = args.get("district") or ""
    return {"view": view, "q": (args.get("q") or "").strip()[:100] or None,
            "status": _choice(args.get("status"), STATUSES),
            "category": _choice(args.get("category"), CATEGORIES),
            "severity": _choice(args.get("severity"), SEVERITIES),
            "grid": code if _CODE.match(code) else None,
            "district": district if _CODE.match(district) else None,
            "date_from": _day(args.get("date_from")), "date_to": _day(args.get("date_to")),
            "limit": page_size(args.get("limit")),
            "offset": int_arg(args.get("offset"), 0, 0, 10_000_000)}


def _local_start(day):
    """The first instant of a local (Beijing) day, as an aware time."""
    return datetime.combine(day, time(0), LOCAL_ZONE)


def _where(session, user, filters):
    """WHERE clauses of the filters (the service adds the user's scope)."""
    where = []
    if filters["view"] == "waiting":
        where += service.task_filters(user) or []
    if filters.get("q"):
        words = [T.c.description.like(like_pattern(filters["q"]), escape="\\")]
        number = _ID.match(filters["q"])
        if number:
            words.append(T.c.id == int(number.group(1)))
        where.append(or_(*words))
    for key in ("status", "category", "severity"):
        if filters.get(key):
            where.append(T.c[key] == filters[key])
    if filters.get("grid"):
        where.append(T.c.grid_code == filters["grid"])
    if filters.get("district"):
        where.append(geo.in_area(session, T.c.area_code, filters["district"]))
    if filters.get("date_from"):
        where.append(T.c.created_at >= _local_start(filters["date_from"]))
    if filters.get("date_to"):
        where.append(T.c.created_at < _local_start(filters["date_to"] + timedelta(days=1)))
    return where


def _order(filters):
    """Next steps most urgent first; every report newest first."""
    return "due" if filters["view"] == "waiting" else "newest"


def list_page(session, user, filters):
    """One page of the filtered list and the total: (records, total)."""
    return service.query_reports(session, user, _where(session, user, filters),
                                 _order(filters), filters["limit"], filters["offset"])


def export_records(session, user, filters):
    """Every report of the filtered list (at most EXPORT_MAX), in the list's order."""
    return service.query_reports(session, user, _where(session, user, filters),
                                 _order(filters), EXPORT_MAX, 0)[0]


def grid_choices(session, user):
    """(code, name) of the grids a grid staff member may filter by (their own); none for
    other roles, who filter by district."""
    if user.role != GRID_STAFF or not user.grid_codes:
        return []
    t = Grid.__table__
    rows = session.execute(select(t.c.code, t.c.name).where(t.c.code.in_(user.grid_codes))
                           .order_by(t.c.code)).all()
    return [(r.code, r.name) for r in rows]


def district_choices(session, user):
    """(code, name) of the districts a bureau user may filter by (a district-scoped user's
    own, everyone else's all); none for grid staff."""
    if user.role == GRID_STAFF:
        return []
    t = Area.__table__
    rows = session.execute(select(t.c.code, t.c.name).where(t.c.level == "district")
                           .order_by(t.c.code)).all()
    if user.role != ADMIN and user.area_code:  # as service.scope_filters
        inside = set(geo.area_descendants(session, user.area_code))
        rows = [r for r in rows if r.code in inside]
    return [(r.code, r.name) for r in rows]


def names(session, grid_codes, area_codes):
    """({grid code: name}, {area code: name}) for the rows shown."""
    grids, areas = sorted(set(grid_codes)), sorted(set(area_codes))
    g, a = Grid.__table__, Area.__table__
    grid_names = dict(session.execute(select(g.c.code, g.c.name)
                                      .where(g.c.code.in_(grids))).all()) if grids else {}
    area_names = dict(session.execute(select(a.c.code, a.c.name)
                                      .where(a.c.code.in_(areas))).all()) if areas else {}
    return grid_names, area_names
