"""HTML pages for direct disaster reports: the phone reporting page of grid staff, and the
list with sums per area and period (and its export) for the bureau and grid staff."""

import json
import re
from datetime import date

from flask import Blueprint, current_app, render_template, request, send_file, url_for
from flask_babel import lazy_gettext as _l

from emergency.auth.permissions import actor, allow, public
from emergency.auth.roles import ADMIN, BUREAU, GRID_STAFF
from emergency.db import get_session
from emergency.geo import service as geo
from emergency.listing import PAGE_SIZES, int_arg, page_links, page_size
from emergency.vocabulary import local_minute
from hazards import listing as hazard_listing
from hazards.disasters import exports, labels, service
from hazards.disasters.models import KINDS
from hazards.views import grid_map_data, outbox_texts, report_worker

bp = Blueprint("disasters", __name__, template_folder="templates", static_folder="static",
               static_url_path="/disasters/static")
READERS = BUREAU | {GRID_STAFF}
NAV = [("disasters.list_page", _l("Disaster reports"), READERS)]
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


@bp.route("/disasters/report")
@allow(GRID_STAFF, ADMIN)
def report_page():
    """Phone-first disaster report: a map pin in the user's grids (checked before sending),
    the counts in big number fields, and an offline queue."""
    user = actor()
    return render_template("disasters/report.html", user=user, outbox_texts=outbox_texts(),
                           grid_map=grid_map_data(get_session(), user), kinds=labels.kinds(),
                           counts=labels.counts(), losses=labels.losses())


@bp.route("/disasters/sw.js")
@public
def service_worker():
    """The reporting page's service worker, allowed to control every page under /disasters/."""
    return report_worker("/disasters/")


def _day(text):
    """A YYYY-MM-DD text as a date, or None (anything else is ignored)."""
    if not text or not _DAY.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_filters(args):
    """The page's filters from a query string; unknown or malformed values are dropped."""
    area = args.get("area") or ""
    grid = args.get("grid") or ""
    level = args.get("level")
    return {"area": area if _CODE.match(area) else None,
            "grid": grid if _CODE.match(grid) else None,
            "kind": args.get("kind") if args.get("kind") in KINDS else None,
            "level": level if level in service.LEVELS else service.DEFAULT_LEVEL,
            "date_from": _day(args.get("date_from")), "date_to": _day(args.get("date_to")),
            "limit": page_size(args.get("limit")),
            "offset": int_arg(args.get("offset"), 0, 0, 10_000_000)}


def _service_filters(filters):
    """The service's filters of the page's."""
    since, before = service.period(None, filters["date_from"], filters["date_to"])
    return {"area_code": filters["area"], "grid_code": filters["grid"],
            "kind": filters["kind"], "since": since, "before": before}


def _rows(session, records):
    """The list's rows as the page shows them."""
    kinds = labels.kinds()
    grid_names, area_names = hazard_listing.names(session, [r["grid_code"] for r in records],
                                                  [r["area_code"] for r in records])
    return [{**r, "kind_name": kinds.get(r["kind"], r["kind"]),
             "grid": grid_names.get(r["grid_code"], r["grid_code"]),
             "area": area_names.get(r["area_code"], r["area_code"]),
             "reported": local_minute(r["created_at"])} for r in records]


@bp.route("/disasters")
@allow(READERS)
def list_page():
    """Disaster reports: sums per area for a period, the reports themselves (newest first,
    paged), filters and an .xlsx export; grid staff see their own grids'."""
    session, user = get_session(), actor()
    filters = parse_filters(request.args)
    chosen = _service_filters(filters)
    summary = service.summary(session, user, filters["level"], **chosen)
    records, total = service.list_reports(session, user, limit=filters["limit"],
                                          offset=filters["offset"], **chosen)
    args = {k: v for k, v in request.args.items() if k not in ("offset",) and v}
    return render_template(
        "disasters/list.html", summary=summary, rows=_rows(session, records), total=total,
        filters=filters, kinds=labels.kinds(), counts=labels.counts(),
        losses=labels.losses(), levels={k: str(v) for k, v in labels.LEVEL_NAMES.items()},
        can_report=user.role in (GRID_STAFF, ADMIN),
        districts=hazard_listing.district_choices(session, user),
        grids=hazard_listing.grid_choices(session, user),
        page_links=page_links(total, filters["limit"], filters["offset"]),
        page_url=lambda offset: url_for("disasters.list_page", **args, offset=offset),
        export_url=url_for("disasters.export", **args), page_sizes=PAGE_SIZES)


@bp.route("/disasters/<int:report_id>")
@allow(READERS)
def detail_page(report_id):
    """One report: what happened where, the counts and losses, who reported it and when,
    and its point on a small map with its grid."""
    session, user = get_session(), actor()
    record = _rows(session, [service.get_report(session, user, report_id)])[0]
    grids, _total = geo.list_grids(session, codes=[record["grid_code"]], limit=1)
    grid = json.loads(grids[0]["geometry"]) if grids else None
    return render_template(
        "disasters/detail.html", r=record, counts=labels.counts(), losses=labels.losses(),
        map_data={"location": record["location"], "grid": grid,
                  "tiles": current_app.config["BASEMAP_TILE_URL"],
                  "attribution": current_app.config["BASEMAP_ATTRIBUTION"]})


@bp.route("/disasters/export.xlsx")
@allow(READERS)
def export():
    """The sums and reports of the page's filters as an .xlsx workbook (audited)."""
    session, user = get_session(), actor()
    filters = parse_filters(request.args)
    data = exports.export(session, user, filters["level"], _service_filters(filters),
                          labels.export_names(filters["level"]))
    return send_file(data, mimetype=exports.XLSX, as_attachment=True,
                     download_name="disaster-reports.xlsx")
