"""The disaster reports workbook: the sums per area and the reports behind them, every text
cell formula-safe (emergency.exports). No Flask: the caller passes the translated names."""

import io
from decimal import Decimal

from emergency.audit import service as audit
from emergency.exports import append_row
from emergency.vocabulary import local_minute
from hazards.disasters import service
from hazards.disasters.models import COUNTS
from hazards.listing import names as place_names

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(summary, reports, names):
    """.xlsx bytes: sheet 1 the summary (with a total row), sheet 2 the reports.

    ``names``: {"summary_headers", "report_headers", "total", "kinds", "grid_names",
    "area_names"}.
    """
    from openpyxl import Workbook  # loaded by the spreadsheet exports only

    book = Workbook(write_only=True)
    sheet = book.create_sheet(names.get("summary_sheet", "summary"))
    append_row(sheet, names["summary_headers"])
    for item in [*summary["items"], {**summary["sums"], "area_name": names["total"],
                                     "area_code": ""}]:
        append_row(sheet, [item["area_name"], item["area_code"], item["reports"],
                           *[item[c] for c in COUNTS], Decimal(item["losses_yuan"])])
    sheet = book.create_sheet(names.get("reports_sheet", "reports"))
    append_row(sheet, names["report_headers"])
    for r in reports:
        append_row(sheet, [r["id"], names["kinds"].get(r["kind"], r["kind"]),
                           *[r[c] for c in COUNTS], Decimal(r["losses_yuan"]),
                           names["grid_names"].get(r["grid_code"], r["grid_code"]),
                           names["area_names"].get(r["area_code"], r["area_code"]),
                           r["reporter"], local_minute(r["created_at"]), r["note"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# The export's own bound: a busy city's year of reports.
EXPORT_MAX = 50_000


def export(session, user, level, filters, names):
    """The workbook of the sums and reports the user may see under ``filters`` (at most
    EXPORT_MAX reports), as a file object; the export is written to the audit log."""
    summary = service.summary(session, user, level, **filters)
    reports, _total = service.list_reports(session, user, limit=EXPORT_MAX, **filters)
    grid_names, area_names = place_names(session, [r["grid_code"] for r in reports],
                                         [r["area_code"] for r in reports])
    data = workbook(summary, reports, {**names, "grid_names": grid_names,
                                       "area_names": area_names})
    audit.record(session, "disaster_report.export", "disaster_report", None,
                 {"level": level, **{k: str(v) for k, v in filters.items() if v is not None}})
    return io.BytesIO(data)
