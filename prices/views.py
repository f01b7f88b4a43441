"""HTML pages of prices in emergencies (价格异常预警): the alerts with their workflow, the
series chart of a commodity in an area, observation entry and import, complaints on a map,
and the commodity catalogue with its thresholds."""

import re
from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from marshmallow import ValidationError

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU
from emergency.db import get_session
from emergency.errors import DomainError, Invalid, describe_error
from emergency.geo import service as geo
from emergency.listing import PAGE_SIZES, int_arg, page_links, page_size
from prices import catalogue, complaints, filejobs, importer, schemas, service
from prices.api import ALERT_STEPPERS, COMPLAINT_WRITERS, OBSERVERS, commodity_dict, defaults, lang
from prices.models import COMPLAINT_KINDS, STATUSES

bp = Blueprint("prices", __name__, template_folder="templates", static_folder="static",
               static_url_path="/prices/static")
NAV = [("prices.alerts_page", lazy_pgettext("nav", "Prices"), BUREAU)]
_CODE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
STATUS_NAMES = {"open": lazy_pgettext("price alert", "Open"),
                "acknowledged": lazy_pgettext("price alert", "Acknowledged"),
                "referred": lazy_pgettext("price alert", "Referred to market regulation"),
                "closed": lazy_pgettext("price alert", "Closed")}
STEP_NAMES = {"acknowledged": _l("Acknowledge"), "referred": _l("Refer to market regulation"),
              "closed": _l("Close alert")}
STEP_QUESTIONS = {"acknowledged": _l("Acknowledge this price alert?"),
                  "referred": _l("Refer this price alert to market regulation?"),
                  "closed": _l("Close this price alert?")}
KIND_NAMES = {"gouging": _l("Price gouging"), "hoarding": _l("Hoarding"),
              "rumour": _l("Price rumour"), "fake": _l("Fake or substandard goods"),
              "other": _l("Other")}
SOURCE_NAMES = {"hotline": _l("Hotline (12345/12315)"), "online": _l("Online"),
                "visit": _l("In person"), "inspection": _l("Inspection"),
                "other": _l("Other")}


def _code(text):
    """A code from a query string, or None."""
    return text if text and _CODE.match(text) else None


def _day(text):
    """A YYYY-MM-DD text as a date, or None."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _choices(session):
    """Commodities and districts for the selects."""
    goods = catalogue.catalogue(session, defaults())
    districts, _total = geo.list_areas(session, level="district", limit=1000)
    return ([(c.code, c.label(lang()), c.unit) for c in goods.values()],
            [(d["code"], d["name"]) for d in districts])


def _texts(mapping):
    """A label table as plain strings."""
    return {k: str(v) for k, v in mapping.items()}


def _fail_page(exc, render):
    """Flash a refusal and render the page again with its status."""
    flash(describe_error(exc), "danger")
    return render(), exc.status


# ---------------------------------------------------------------------------- alerts

@bp.route("/prices")
@allow(BUREAU)
def alerts_page():
    """Price alerts, active first, with filters and the workflow buttons."""
    session, user = get_session(), actor()
    args = request.args
    filters = {"status": args.get("status") if args.get("status") in STATUSES else None,
               "area_code": _code(args.get("area_code")),
               "commodity": _code(args.get("commodity"))}
    limit = page_size(args.get("limit"))
    offset = int_arg(args.get("offset"), 0, 0, 10_000_000)
    items, total = service.list_alerts(session, user, limit=limit, offset=offset,
                                       defaults=defaults(), lang=lang(), **filters)
    commodities, districts = _choices(session)
    kept = {k: v for k, v in args.items() if k != "offset" and v}
    steps = [{"to": to, "label": str(STEP_NAMES[to]), "question": str(STEP_QUESTIONS[to]),
              "note_required": to in ("referred", "closed")} for to in STEP_NAMES]
    return render_template(
        "prices/alerts.html", items=items, total=total, filters=filters, limit=limit,
        commodities=commodities, districts=districts, status_names=_texts(STATUS_NAMES),
        steps={s["to"]: s for s in steps}, can_step=user.role in ALERT_STEPPERS,
        can_observe=user.role in OBSERVERS, page_sizes=PAGE_SIZES,
        page_links=page_links(total, limit, offset),
        page_url=lambda o: url_for("prices.alerts_page", **kept, offset=o),
        dialog_texts={"note": _("Note (optional)"), "reason": _("Note (required)"),
                      "missing": _("Please write a note for this step.")})


@bp.route("/prices/alerts/<int:alert_id>/step", methods=["POST"])
@allow(*ALERT_STEPPERS)
def take_step(alert_id):
    """Take the step confirmed in the dialog, then show the list again."""
    to = request.form.get("to", "")
    back = request.form.get("back") or url_for("prices.alerts_page")
    if not back.startswith("/prices"):
        back = url_for("prices.alerts_page")
    try:
        try:
            body = schemas.TransitionIn().load({"to": to, "note": request.form.get("note", "")})
        except ValidationError as exc:
            raise Invalid("invalid step", exc.messages) from None
        service.transition(get_session(), actor(), alert_id, body["to"], body["note"])
    except DomainError as exc:
        flash(describe_error(exc), "danger")
        return redirect(back)
    flash(_("Done: %(step)s.", step=STEP_NAMES[to]), "success")
    return redirect(back)


# ---------------------------------------------------------------------------- series

@bp.route("/prices/series")
@allow(BUREAU)
def series_page():
    """A commodity's daily prices in an area with the baseline and alert line (chart and
    table)."""
    session, user = get_session(), actor()
    commodities, districts = _choices(session)
    commodity = _code(request.args.get("commodity")) or (commodities[0][0] if commodities
                                                         else None)
    area_code = _code(request.args.get("area_code")) or (districts[0][0] if districts
                                                         else None)
    data, error = None, None
    if commodity and area_code:
        try:
            data = service.series(session, user, commodity, area_code,
                                  _day(request.args.get("from")), _day(request.args.get("to")),
                                  defaults(), lang())
        except DomainError as exc:
            error = describe_error(exc)
    chart = None
    if data:
        chart = {"days": [d["day"].isoformat() for d in data["days"]],
                 "price": [d["price"] for d in data["days"]],
                 "baseline": [d["baseline"] for d in data["days"]],
                 "limit": [d["limit"] for d in data["days"]],
                 "texts": {"price": _("Daily price (median of markets)"),
                           "baseline": _("Baseline"), "limit": _("Alert line"),
                           "yuan": _("yuan per %(unit)s", unit=data["unit"])}}
    return render_template("prices/series.html", data=data, chart=chart, error=error,
                           commodity=commodity, area_code=area_code,
                           commodities=commodities, districts=districts,
                           period={"from": request.args.get("from", ""),
                                   "to": request.args.get("to", "")})


# ---------------------------------------------------------------------------- entry, import

def _entry_page(form=None, errors=None, import_result=None):
    """The entry and import forms."""
    commodities, districts = _choices(get_session())
    return render_template("prices/entry.html", form=form or {"observed_on":
                                                             service.today().isoformat()},
                           errors=errors or {}, result=import_result,
                           commodities=commodities, districts=districts)


def _alert_message(alerts):
    """Flash what stored prices did to alerts."""
    raised = [a for a in alerts if a["raised"]]
    if raised:
        flash(_("%(n)s price alert(s) raised.", n=len(raised)), "warning")
    elif alerts:
        flash(_("%(n)s price alert(s) brought up to date.", n=len(alerts)), "warning")


@bp.route("/prices/observations/new")
@allow(*OBSERVERS)
def entry_page():
    """Enter one price, or import a sheet of prices."""
    return _entry_page()


@bp.route("/prices/observations/new", methods=["POST"])
@allow(*OBSERVERS)
def enter():
    """Store the price from the form; a refusal shows the form with each bad field."""
    form = {k: request.form.get(k, "") for k in ("commodity", "market", "area_code",
                                                 "observed_on", "price")}
    try:
        try:
            body = schemas.ObservationIn().load({**form, "unit": ""})
        except ValidationError as exc:
            raise Invalid("invalid price observation", exc.messages) from None
        record, _created = service.add_observation(get_session(), actor(), body, defaults())
    except DomainError as exc:
        errors = {k: describe_error(Invalid("", {k: v})) for k, v in
                  (exc.details or {}).items()}
        return _fail_page(exc, lambda: _entry_page(form, errors))
    flash(_("Price stored: %(price)s yuan.", price=record["price"]), "success")
    _alert_message(record["alerts"])
    return redirect(url_for("prices.entry_page"))


@bp.route("/prices/observations/import", methods=["POST"])
@allow(*OBSERVERS)
def import_page():
    """Import the uploaded sheet (all rows or none); bad rows are listed on the page. As a
    background job when asked, or when the file is larger than IMPORT_JOB_MIN_BYTES."""
    config = current_app.config
    upload = request.files.get("file")
    stream = upload.stream if upload is not None and upload.filename else None
    try:
        if request.form.get("background") == "1" or (
                request.content_length or 0) > config["IMPORT_JOB_MIN_BYTES"]:
            record = filejobs.queue_import(get_session(), actor(),
                                           upload.filename if stream else "", stream,
                                           defaults(), config["PRICE_IMPORT_MAX_BYTES"],
                                           config["PRICE_IMPORT_MAX_ROWS"])
            flash(_("Price import queued as job %(id)s: follow it on the jobs page.",
                    id=record.id), "success")
            return redirect(url_for("jobs_pages.index"))
        result = importer.import_file(get_session(), actor(),
                                      upload.filename if stream else "", stream, defaults(),
                                      config["PRICE_IMPORT_MAX_BYTES"],
                                      config["PRICE_IMPORT_MAX_ROWS"])
    except DomainError as exc:
        rows = (exc.details or {}).get("rows") or []
        labelled = [{"row": r["row"], "problems": describe_error(Invalid("", r["fields"]))}
                    for r in rows]
        flash(describe_error(exc), "danger")
        commodities, districts = _choices(get_session())
        return render_template("prices/entry.html", form={}, errors={}, bad_rows=labelled,
                               result=None, commodities=commodities,
                               districts=districts), exc.status
    flash(_("Imported %(rows)s rows: %(created)s new, %(updated)s changed, %(unchanged)s "
            "unchanged.", **{k: result[k] for k in ("rows", "created", "updated",
                                                     "unchanged")}), "success")
    _alert_message(result["alerts"])
    return redirect(url_for("prices.alerts_page"))


# ---------------------------------------------------------------------------- complaints

@bp.route("/prices/complaints")
@allow(BUREAU)
def complaints_page(form=None, errors=None):
    """Complaints (newest first) on a small map and in a list, and the form to record one."""
    session, user = get_session(), actor()
    args = request.args
    kind = args.get("kind") if args.get("kind") in COMPLAINT_KINDS else None
    area_code = _code(args.get("area_code"))
    limit = page_size(args.get("limit"))
    offset = int_arg(args.get("offset"), 0, 0, 10_000_000)
    records, total = complaints.list_complaints(session, user, kind=kind, area_code=area_code,
                                                limit=limit, offset=offset)
    commodities, districts = _choices(session)
    names = dict((c[0], c[1]) for c in commodities)
    points = [{"id": r["id"], "kind": str(KIND_NAMES[r["kind"]]),
               "coordinates": r["location"]["coordinates"] if r["location"] else None,
               "place": r["place"], "commodity": names.get(r["commodity"], "")}
              for r in records]
    kept = {k: v for k, v in args.items() if k != "offset" and v}
    return render_template(
        "prices/complaints.html", records=records, total=total, kind=kind,
        area_code=area_code, kinds=_texts(KIND_NAMES), sources=_texts(SOURCE_NAMES),
        commodity_names=names, commodities=commodities, districts=districts,
        can_write=user.role in COMPLAINT_WRITERS, form=form or {}, errors=errors or {},
        map_data={"points": points, "outlines": geo.district_outlines(session),
                  "tiles": current_app.config["BASEMAP_TILE_URL"],
                  "attribution": current_app.config["BASEMAP_ATTRIBUTION"],
                  "texts": {"chosen": _("Location chosen: %(lon)s, %(lat)s",
                                        lon="%(lon)s", lat="%(lat)s")}},
        page_links=page_links(total, limit, offset),
        page_url=lambda o: url_for("prices.complaints_page", **kept, offset=o))


@bp.route("/prices/complaints", methods=["POST"])
@allow(*COMPLAINT_WRITERS)
def record_complaint():
    """Record the complaint from the form (location picked on the map)."""
    form = {k: request.form.get(k, "") for k in ("kind", "source", "commodity", "place",
                                                 "description", "received_on", "lon", "lat")}
    body = {k: form[k] for k in ("kind", "source", "place", "description")}
    body["commodity"] = form["commodity"] or None
    if form["received_on"]:
        body["received_on"] = form["received_on"]
    try:
        body["location"] = {"type": "Point",
                            "coordinates": [float(form["lon"]), float(form["lat"])]}
    except ValueError:
        body["location"] = None
    try:
        try:
            data = schemas.ComplaintIn().load(body)
        except ValidationError as exc:
            raise Invalid("invalid complaint", exc.messages) from None
        complaints.create_complaint(get_session(), actor(),
                                    region=current_app.config["SERVED_BBOX"], **data)
    except DomainError as exc:
        errors = {k: describe_error(Invalid("", {k: v})) for k, v in
                  (exc.details or {}).items()}
        return _fail_page(exc, lambda: complaints_page(form, errors))
    flash(_("Complaint recorded."), "success")
    return redirect(url_for("prices.complaints_page"))


# ---------------------------------------------------------------------------- catalogue

@bp.route("/prices/commodities")
@allow(BUREAU)
def commodities_page():
    """The commodity catalogue with the thresholds in force (administrators change them)."""
    session, user = get_session(), actor()
    goods = catalogue.catalogue(session, defaults(), include_inactive=True)
    config = current_app.config
    return render_template("prices/commodities.html",
                           items=[commodity_dict(g) for g in goods.values()],
                           can_edit=user.role == ADMIN,
                           default_days=config["PRICE_BASELINE_DAYS"],
                           default_ratio=config["PRICE_ALERT_RATIO"])


@bp.route("/prices/commodities/<code>", methods=["POST"])
@allow(ADMIN)
def save_commodity(code):
    """Store a commodity's thresholds (empty: the configured defaults)."""
    session = get_session()
    current = catalogue.catalogue(session, defaults(), include_inactive=True).get(code)
    days = request.form.get("baseline_days", "").strip()
    ratio = request.form.get("alert_percent", "").strip()
    try:
        try:
            body = schemas.CommodityIn().load({
                "baseline_days": int(days) if days.isdigit() else (None if not days else -1),
                "alert_ratio": round(float(ratio) / 100, 6) if ratio else None,
                "name": request.form.get("name") or (current.name if current else None),
                "unit": request.form.get("unit") or (current.unit if current else None)})
        except ValueError:
            raise Invalid("invalid commodity", {"alert_ratio": ["not a number"]}) from None
        except ValidationError as exc:
            raise Invalid("invalid commodity", exc.messages) from None
        service.save_commodity(session, code, **body)
    except DomainError as exc:
        flash(describe_error(exc), "danger")
        return redirect(url_for("prices.commodities_page"))
    flash(_("Thresholds saved."), "success")
    return redirect(url_for("prices.commodities_page"))
