"""The incident list of the pages: filters from a query string, one page and its total, the
districts a user may filter by, and the filtered list as an .xlsx workbook.

No Flask here: the view parses nothing itself and passes ``request.args``; labels in the
page's language come from the view.
"""

import io
import re
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from emergency.db import utcnow
from emergency.exports import append_row
from emergency.geo import service as geo
from emergency.geo.models import Area
from emergency.vocabulary import LOCAL_ZONE
from incidents.models import INCIDENT_STATUSES, Incident
from incidents.reports import deadline
from incidents.service import check_read, in_district
from plans.incident_types import INCIDENT_TYPES
from registry.service import district_scoped

PAGE_SIZES = (20, 50, 100)
DEFAULT_PAGE_SIZE = 50
# The export's own bound: a year of a busy city is a few thousand incidents.
EXPORT_MAX = 50_000
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE = re.compile(r"^[0-9A-Za-z]{1,12}$")


def _day(text):
    """A YYYY-MM-DD text as a date, or None (anything else is ignored, never an error)."""
    if not text or not _DAY.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _int(text, default, lowest, highest):
    """An integer from a query string, clamped, or the default."""
    try:
        return min(max(int(text), lowest), highest)
    except (TypeError, ValueError):
        return default


def parse_filters(args):
    """The list's filters from a query string; unknown or malformed values are dropped.

    Keys: q (words of the title), status, incident_type, district (an area code),
    date_from and date_to (local days, inclusive), report_overdue (1: only incidents whose
    initial information report is overdue), limit and offset.
    """
    q = (args.get("q") or "").strip()[:100]
    status = args.get("status") if args.get("status") in INCIDENT_STATUSES else None
    kind = args.get("incident_type") if args.get("incident_type") in INCIDENT_TYPES else None
    district = args.get("district") if _CODE.match(args.get("district") or "") else None
    limit = _int(args.get("limit"), DEFAULT_PAGE_SIZE, 1, max(PAGE_SIZES))
    if limit not in PAGE_SIZES:
        limit = DEFAULT_PAGE_SIZE
    return {"q": q or None, "status": status, "incident_type": kind, "district": district,
            "date_from": _day(args.get("date_from")), "date_to": _day(args.get("date_to")),
            "report_overdue": args.get("report_overdue") in ("1", "true") or None,
            "limit": limit, "offset": _int(args.get("offset"), 0, 0, 10_000_000)}


def _local_start(day):
    """The first instant of a local (Beijing) day, as an aware time."""
    return datetime.combine(day, time(0), LOCAL_ZONE)


def _like(text):
    """A LIKE pattern matching ``text`` anywhere, wildcards escaped."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(session, user, filters):
    """The WHERE clauses of the filters, inside the user's district."""
    t = Incident.__table__
    where = in_district(session, user)
    if filters.get("q"):
        where.append(t.c.title.like(_like(filters["q"]), escape="\\"))
    if filters.get("status"):
        where.append(t.c.status == filters["status"])
    if filters.get("incident_type"):
        where.append(t.c.incident_type == filters["incident_type"])
    if filters.get("district"):
        where.append(geo.in_area(session, t.c.area_code, filters["district"]))
    if filters.get("date_from"):
        where.append(t.c.occurred_at >= _local_start(filters["date_from"]))
    if filters.get("date_to"):
        where.append(t.c.occurred_at < _local_start(filters["date_to"] + timedelta(days=1)))
    if filters.get("report_overdue"):
        where.append(deadline.overdue_clause(t, _minutes(filters)))
    return where


def _minutes(filters):
    """The report deadline in minutes the view put in the filters (INCIDENT_REPORT_MINUTES)."""
    return filters.get("report_minutes") or deadline.DEFAULT_MINUTES


_COLUMNS = ("id", "title", "incident_type", "status", "area_code", "occurred_at",
            "response_level", "plan_title")


def _rows(session, where, limit, offset, minutes=deadline.DEFAULT_MINUTES):
    """Rows of the list, newest first (served by the occurred_at index), each with whether
    its initial report is overdue."""
    t = Incident.__table__
    statement = (select(*(t.c[name] for name in _COLUMNS), t.c.created_at,
                        deadline.initial_reported_at(t.c.id).label("initial_report_at"))
                 .where(*where)
                 .order_by(t.c.occurred_at.desc(), t.c.id.desc()).limit(limit).offset(offset))
    rows, now = [], utcnow()
    for row in session.execute(statement).mappings():
        record = dict(row)
        record["report_overdue"] = deadline.state(
            record.pop("created_at"), record.pop("initial_report_at"), minutes,
            now)["report_overdue"]
        rows.append(record)
    return rows


def list_page(session, user, filters):
    """One page of the filtered list and the total: (records, total)."""
    check_read(user)
    where = _where(session, user, filters)
    t = Incident.__table__
    total = session.scalar(select(func.count(t.c.id)).where(*where))
    records = _rows(session, where, filters["limit"], filters["offset"],
                    _minutes(filters)) if total else []
    return records, total


def export_records(session, user, filters):
    """Every incident of the filtered list (at most EXPORT_MAX), newest first."""
    check_read(user)
    return _rows(session, _where(session, user, filters), EXPORT_MAX, 0, _minutes(filters))


def districts(session, user):
    """(code, name) of the districts the user may filter by: a district-scoped user's own
    (those under their area), everyone else's all."""
    t = Area.__table__
    # Codes and names only: the areas' outlines (list_areas) would cost more than the page.
    rows = session.execute(select(t.c.code, t.c.name).where(t.c.level == "district")
                           .order_by(t.c.code)).all()
    if district_scoped(user):
        inside = set(geo.area_descendants(session, user.area_code))
        rows = [r for r in rows if r.code in inside]
    return [(r.code, r.name) for r in rows]


def area_names(session, codes):
    """Names of areas by code (for the rows' place column)."""
    codes = sorted({c for c in codes if c})
    if not codes:
        return {}
    t = Area.__table__
    return dict(session.execute(select(t.c.code, t.c.name).where(t.c.code.in_(codes))).all())


def page_links(total, limit, offset, window=2):
    """The pager: [(number, offset, current)] around the current page, with the first and
    last pages; None marks a gap."""
    pages = max((total + limit - 1) // limit, 1)
    current = min(offset // limit, pages - 1)
    shown = sorted({0, pages - 1, *range(max(current - window, 0),
                                         min(current + window, pages - 1) + 1)})
    links, previous = [], None
    for number in shown:
        if previous is not None and number > previous + 1:
            links.append(None)
        links.append((number + 1, number * limit, number == current))
        previous = number
    return links


def xlsx_bytes(headers, rows):
    """A one-sheet .xlsx workbook; every text cell formula-safe (emergency.exports)."""
    from openpyxl import Workbook  # loaded by the spreadsheet exports only

    book = Workbook(write_only=True)
    sheet = book.create_sheet("incidents")
    sheet.append(list(headers))
    for row in rows:
        append_row(sheet, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
