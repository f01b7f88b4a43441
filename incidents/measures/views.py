"""HTML pages of emergency measures: the register (/measures, filters, expired ones flagged,
lifting with a note in a dialog), the form that issues a measure from an incident (scope
drawn on a map), and the printable decision (决定书)."""

import json
import math

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from shapely.geometry import shape

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER
from emergency.db import get_session
from emergency.errors import Conflict, Invalid
from emergency.geo import service as geo
from emergency.i18n import translate_message
from emergency.listing import page_links
from emergency.vocabulary import local_minute
from incidents import forms
from incidents import service as incidents
from incidents.measures import legal_bases
from incidents.measures import service as measures
from incidents.measures.models import LISTED_STATUSES, MEASURE_KINDS

bp = Blueprint("measure_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/measures/static")

WRITERS = (ADMIN, DISPATCHER)
NAV = [("measure_pages.list_page", _l("Measures"), BUREAU)]
PER_PAGE = 50

KIND_LABELS = {
    "requisition": _l("Requisition"), "traffic_control": _l("Traffic control"),
    "evacuation": _l("Evacuation"), "closure": _l("Closure of places"),
    "suspension": _l("Suspension of activities"),
    "price_intervention": _l("Price intervention"),
    "other": lazy_pgettext("measure kind", "Other"),
}
STATUS_LABELS = {"in_force": _l("In force"), "lifted": _l("Lifted"),
                 "expired": _l("Expired, not lifted")}
ERROR_TEXTS = {"already_lifted": _l("This measure is already lifted."),
               "incident_closed": _l("The incident is closed: no new measures.")}


@bp.context_processor
def _labels():
    """Label tables for every measure template."""
    return {"measure_kind_labels": KIND_LABELS, "measure_status_labels": STATUS_LABELS,
            "local_minute": local_minute}


def scope_svg(geometry, width=360, height=240, pad=8):
    """An SVG path outlining a (multi)polygon, for the printed decision (pure arithmetic:
    lon scaled by cos(lat) so the outline keeps its shape)."""
    geom = shape(geometry)
    minx, miny, maxx, maxy = geom.bounds
    kx = math.cos(math.radians((miny + maxy) / 2))
    span = max((maxx - minx) * kx, maxy - miny) or 1e-9
    scale = min(width - 2 * pad, height - 2 * pad) / span
    parts = []
    polygons = geom.geoms if geom.geom_type == "MultiPolygon" else [geom]
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            points = [f"{pad + (x - minx) * kx * scale:.1f},"
                      f"{pad + (maxy - y) * scale:.1f}" for x, y in ring.coords]
            parts.append("M" + " L".join(points) + " Z")
    return {"path": " ".join(parts), "width": width, "height": height,
            "bounds": [round(v, 5) for v in geom.bounds],
            "centre": [round(geom.centroid.x, 5), round(geom.centroid.y, 5)]}


def decision_context(session, user, measure):
    """What the printable decision shows: number, incident, basis, authority, scope, period."""
    record = measures.measure_dict(measure)
    incident = incidents.get_incident(session, user, measure.incident_id)
    return {"measure": record, "incident": incident,
            "kind_label": KIND_LABELS.get(record["kind"], record["kind"]),
            "status_label": STATUS_LABELS.get(record["status"], record["status"]),
            "outline": scope_svg(record["scope"]), "measure_kind_labels": KIND_LABELS,
            "local_minute": local_minute}


@bp.route("/measures/<int:measure_id>")
@allow(BUREAU)
def decision_page(measure_id):
    """The printable decision (决定书) of a measure."""
    session, user = get_session(), actor()
    measure = measures.get_measure(session, user, measure_id)
    return render_template("measures/decision.html", **decision_context(session, user, measure))


def _filters(args):
    """The register's filters from the query string; anything malformed is dropped."""
    found = {}
    if args.get("status") in LISTED_STATUSES:
        found["status"] = args["status"]
    if args.get("kind") in MEASURE_KINDS:
        found["kind"] = args["kind"]
    if (args.get("incident_id") or "").isdigit():
        found["incident_id"] = int(args["incident_id"])
    return found


@bp.route("/measures")
@allow(BUREAU)
def list_page():
    """The register of measures and requisitions, newest first; expired ones flagged."""
    session, user = get_session(), actor()
    filters = _filters(request.args)
    page = int(request.args["page"]) if (request.args.get("page") or "").isdigit() else 1
    page = max(page, 1)
    records, total = measures.list_measures(session, user, limit=PER_PAGE,
                                            offset=(page - 1) * PER_PAGE, **filters)
    for record in records:
        record["url"] = url_for("measure_pages.decision_page", measure_id=record["id"]) \
            if record["source"] == "measure" else \
            url_for("claim_pages.requisition_order", requisition_id=record["id"])
        record["incident_url"] = url_for("incident_pages.console_page",
                                         incident_id=record["incident_id"])
    query = {k: str(v) for k, v in filters.items()}
    return render_template(
        "measures/list.html", records=records, total=total, filters=query, page=page,
        pages=page_links(total, PER_PAGE, (page - 1) * PER_PAGE),
        per_page=PER_PAGE, page_url=lambda offset: url_for(
            "measure_pages.list_page", **query, page=offset // PER_PAGE + 1),
        can_write=user.role in WRITERS, kinds=MEASURE_KINDS, statuses=LISTED_STATUSES,
        lift_texts={"missing": _("Give a note on the lifting.")})


def _scope(text, problems):
    """The drawn scope (GeoJSON text from the map) as a shapely geometry, or None."""
    try:
        geom = shape(json.loads(text)) if (text or "").strip() else None
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        geom = None
    if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
        problems["scope"] = [_("Draw the scope on the map (at least three corners).")]
        return None
    if not geom.is_valid:
        problems["scope"] = [_("The drawn scope crosses itself: draw it again.")]
        return None
    return geom


def _form(incident, form, errors=None, status=200):
    """The measure form, empty or as submitted."""
    session = get_session()
    return render_template(
        "measures/form.html", incident=incident, form=form, errors=errors or {},
        kinds=MEASURE_KINDS, bases=legal_bases.choices(form.get("kind") or None),
        source=legal_bases.SOURCE,
        map_data={"outlines": geo.district_outlines(session),
                  "incident": incident["location"], "drawing": form.get("scope") or "",
                  "tiles": current_app.config["BASEMAP_TILE_URL"],
                  "attribution": current_app.config["BASEMAP_ATTRIBUTION"],
                  "texts": {"points": _("%(n)s corners: tap on, then close the scope."),
                            "closed": _("Scope closed with %(n)s corners.")}}), status


@bp.route("/incidents/<int:incident_id>/measures/new", methods=["GET", "POST"])
@allow(WRITERS)
def new_measure(incident_id):
    """Issue a measure for an incident; then its printable decision."""
    session, user = get_session(), actor()
    incident = incidents.get_incident(session, user, incident_id)
    if request.method == "GET":
        return _form(incident, {"kind": request.args.get("kind") or ""})
    form, problems = request.form, {}
    values = {"kind": form.get("kind") or "", "legal_basis": form.get("legal_basis") or "",
              "authority": form.get("authority") or "", "note": form.get("note") or "",
              "starts_at": forms.local_time(form.get("starts_at"), problems, "starts_at"),
              "ends_at": forms.local_time(form.get("ends_at"), problems, "ends_at", False),
              "scope": _scope(form.get("scope"), problems)}
    try:
        try:
            measure = measures.create_measure(
                session, user, incident_id, prefix=current_app.config["MEASURE_ORDER_PREFIX"],
                **values)
        except Invalid as exc:  # the service names the other fields' problems too
            raise Invalid(exc.message, {**exc.details, **problems}) from None
        if problems:
            raise Invalid("some fields are not valid", problems)
    except Invalid as exc:
        flash(_("Please correct the marked fields."), "danger")
        errors = {k: [translate_message(str(m)) for m in v] for k, v in exc.details.items()}
        return _form(incident, form, errors, 422)
    except Conflict as exc:
        flash(str(ERROR_TEXTS.get(exc.code, translate_message(exc.message))), "danger")
        return _form(incident, form, {}, 409)
    flash(_("Measure %(number)s issued.", number=measure.order_number), "success")
    return redirect(url_for("measure_pages.decision_page", measure_id=measure.id))


@bp.route("/measures/<int:measure_id>/lift", methods=["POST"])
@allow(WRITERS)
def lift(measure_id):
    """Lift a measure with a note; back to where the dialog was opened."""
    try:
        measure = measures.lift_measure(get_session(), actor(), measure_id,
                                        (request.form.get("note") or "").strip()[:2000])
    except (Invalid, Conflict) as exc:
        flash(str(ERROR_TEXTS.get(exc.code, translate_message(exc.message))), "danger")
    else:
        flash(_("Measure %(number)s lifted.", number=measure.order_number), "success")
    back = request.form.get("next") or ""
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("measure_pages.list_page")
    return redirect(back)


def console_panel(session, user, incident_id):
    """What the console's measures panel shows (the incident's measures and requisitions,
    links, lifting) and the scopes its map draws."""
    records = measures.incident_measures(session, user, incident_id)
    for record in records:
        kind = KIND_LABELS.get(record["kind"], record["kind"])
        record["label"] = f"{record['order_number']} · {kind}"
        record["status_label"] = STATUS_LABELS.get(record["status"], record["status"])
        record["url"] = url_for("measure_pages.decision_page", measure_id=record["id"]) \
            if record["source"] == "measure" else \
            url_for("claim_pages.requisition_order", requisition_id=record["id"])
        record["lift_url"] = url_for("measure_pages.lift", measure_id=record["id"]) \
            if record["source"] == "measure" and record["status"] != "lifted" else None
    live = {"incident_id": incident_id, "can_write": user.role in WRITERS,
            "api": url_for("measures.list_measures", incident_id=incident_id, limit=1000),
            "decision": url_for("measure_pages.decision_page", measure_id=0),
            "order": url_for("claim_pages.requisition_order", requisition_id=0),
            "lift": url_for("measure_pages.lift", measure_id=0),
            "kinds": {k: str(v) for k, v in KIND_LABELS.items()},
            "statuses": {k: str(v) for k, v in STATUS_LABELS.items()},
            "lift_label": _("Lift"), "none": _("No measures.")}
    return {"items": records, "can_write": user.role in WRITERS, "live": live,
            "new_url": url_for("measure_pages.new_measure", incident_id=incident_id),
            "list_url": url_for("measure_pages.list_page", incident_id=incident_id),
            "scopes": [r for r in records if r["scope"] and r["status"] != "lifted"]}
