"""The /audit page (admin, auditor): the log with filters, paging and an xlsx export."""

import io
from datetime import datetime, time, timedelta

from flask import Blueprint, abort, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook

from emergency.audit import service
from emergency.auth.permissions import allow
from emergency.auth.roles import ADMIN, AUDITOR
from emergency.db import get_session
from emergency.exports import append_row
from emergency.vocabulary import LOCAL_ZONE, local_minute

bp = Blueprint("audit_pages", __name__, template_folder="templates")

NAV = [("audit_pages.index", _l("Audit log"), {ADMIN, AUDITOR})]

PAGE_SIZE = 50
EXPORT_LIMIT = 50_000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

VERBS = {"create": _l("created"), "update": _l("changed"), "delete": _l("deleted"),
         "reveal": _l("revealed personal data of"), "export": _l("exported"),
         "import": _l("imported"), "lookup": _l("looked up")}


def _day(text, end=False):
    """A YYYY-MM-DD filter as the start of that Beijing day (or of the next one for ``end``)."""
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        abort(400)
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, time(), LOCAL_ZONE)


def _filters():
    """The page's filters from the query string (empty ones left out)."""
    args = request.args
    return {"actor": (args.get("actor") or "").strip()[:64] or None,
            "action": (args.get("action") or "").strip()[:64] or None,
            "object_type": (args.get("object_type") or "").strip()[:64] or None,
            "object_id": (args.get("object_id") or "").strip()[:64] or None,
            "since": _day(args.get("from")), "until": _day(args.get("to"), end=True)}


def describe(action):
    """An action such as ``member.reveal`` as words: the verb in the page's language."""
    kind, _dot, verb = action.rpartition(".")
    return str(VERBS[verb]) if verb in VERBS else action, kind or action


def _changes_text(changes):
    """Changed fields as "field: value" lines (personal data is already redacted)."""
    lines = []
    for name, value in (changes or {}).items():
        if isinstance(value, list) and len(value) == 2:
            value = f"{value[0]} → {value[1]}"
        lines.append(f"{name}: {value}")
    return lines


def _row(entry):
    verb, kind = describe(entry.action)
    return {"id": entry.id, "at": local_minute(entry.at), "actor": entry.actor,
            "action": entry.action, "verb": verb, "object_type": entry.object_type or kind,
            "object_id": entry.object_id or "", "changes": _changes_text(entry.changes),
            "remote_addr": entry.remote_addr}


@bp.route("/audit")
@allow(ADMIN, AUDITOR)
def index():
    """The newest entries matching the filters, a page at a time."""
    session = get_session()
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    filters = _filters()
    entries, total = service.list_entries(session, limit=PAGE_SIZE,
                                          offset=(page - 1) * PAGE_SIZE, **filters)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template(
        "audit/index.html", rows=[_row(e) for e in entries], total=total, page=page,
        pages=pages, args=args, actions=service.actions(session),
        prev_url=url_for(".index", page=page - 1, **args) if page > 1 else None,
        next_url=url_for(".index", page=page + 1, **args) if page < pages else None,
        export_url=url_for(".export", **args))


@bp.route("/audit/export.xlsx")
@allow(ADMIN, AUDITOR)
def export():
    """The filtered log as a spreadsheet (at most EXPORT_LIMIT rows); the export is audited."""
    session = get_session()
    filters = _filters()
    entries, total = service.list_entries(session, limit=EXPORT_LIMIT, offset=0, **filters)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("audit")
    append_row(sheet, [str(_l("Time")), str(_l("User")), str(_l("Action")),
                       str(_l("Record type")), str(_l("Record")), str(_l("Changes")),
                       str(_l("Address"))])
    for entry in entries:
        row = _row(entry)
        append_row(sheet, [row["at"], row["actor"], row["action"], row["object_type"],
                           row["object_id"], "\n".join(row["changes"]), row["remote_addr"]])
    buffer = io.BytesIO()
    book.save(buffer)
    service.record(session, "audit.export", "audit_log", None,
                   {"rows": min(total, EXPORT_LIMIT),
                    **{k: str(v) for k, v in filters.items() if v}})
    buffer.seek(0)
    return send_file(buffer, mimetype=XLSX, as_attachment=True, download_name="audit.xlsx")
