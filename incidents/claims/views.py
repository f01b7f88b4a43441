"""HTML pages for requisitions and compensation claims: record a requisition and print its
order, claim for a dispatch or a requisition, review and pay, the ledger."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from urllib.parse import urlencode

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, DISPATCHER, ORG_ADMIN
from emergency.db import get_session
from emergency.errors import Conflict, DomainError, Forbidden, Invalid
from emergency.vocabulary import local_minute
from incidents import compensation as claims
from incidents import dispatch as dispatches
from incidents import forms
from incidents import service as incidents
from incidents.claims import service as pages
from incidents.measures import legal_bases
from incidents.models import COMPENSATION_STATUSES, ITEM_KINDS
from registry.crypto import app_cipher

bp = Blueprint("claim_pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/claims/static")

READERS = BUREAU | {ORG_ADMIN}
WRITERS = (ADMIN, DISPATCHER)
NAV = [("claim_pages.list_page", _l("Compensation"), READERS)]
PER_PAGE = 50

KIND_LABELS = {
    "personnel": _l("Personnel subsidy"), "meals": _l("Meals"), "lodging": _l("Lodging"),
    "transport": _l("Transport"), "fuel": _l("Fuel"),
    "equipment_damage": _l("Equipment damage"), "consumables": _l("Consumables"),
    "property": _l("Requisitioned property"), "other": lazy_pgettext("claim item", "Other"),
}
CLAIM_STATUS_LABELS = {
    "submitted": _l("Submitted"), "approved": _l("Approved"), "rejected": _l("Rejected"),
    "appealed": _l("Appealed"), "paid": _l("Paid"),
}
CONDITION_LABELS = {"intact": _l("Intact"), "damaged": _l("Damaged"), "lost": _l("Lost")}
REQUISITION_STATUS_LABELS = {"requisitioned": _l("Held"), "returned": _l("Returned")}
# Domain errors the pages name in the user's language (the service's text is English).
ERROR_TEXTS = {
    "four_eyes": _l("You submitted this claim: another administrator must review it."),
    "reason_required": _l("Give the reason for the rejection."),
    "claim_exists": _l("A claim is already open for it; here it is."),
    "appeal_same_reviewer": _l("You rejected this claim: another administrator decides its "
                               "appeal."),
    "appealed_once": _l("This claim was appealed already."),
    "not_rejected": _l("Only a rejected claim can be appealed."),
    "not_claimant": _l("Only the claimant may appeal."),
}


@bp.app_template_filter("yuan")
def yuan(value):
    """Money as text with two places ("1280.00"), "" for none."""
    return "" if value is None else f"{claims.money(value):,.2f}"


@bp.context_processor
def _labels():
    """Label tables for every claim template."""
    return {"kind_labels": KIND_LABELS, "claim_status_labels": CLAIM_STATUS_LABELS,
            "condition_labels": CONDITION_LABELS, "local_minute": local_minute,
            "requisition_status_labels": REQUISITION_STATUS_LABELS, "item_kinds": ITEM_KINDS}


def _error_text(exc):
    """A domain error's message for a page: ours when we have one, else the service's."""
    return str(ERROR_TEXTS.get(exc.code, exc.message))


# ---------------------------------------------------------------- requisitions


def _number(text, problems, field, low, high):
    """A Decimal within [low, high] from a form field, recording problems."""
    try:
        number = Decimal((text or "").strip().replace(",", ""))
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not low <= number <= high:
        problems[field] = [_("A number from %(low)s to %(high)s.", low=low, high=high)]
        return None
    return number


def _requisition_fields(form):
    """The requisition form's values and its problems per field."""
    problems, values = {}, {}
    for field, longest in (("legal_basis", 300), ("authority", 200), ("owner_name", 200),
                           ("owner_contact", 100), ("property", 300)):
        values[field] = (form.get(field) or "").strip()
        if not values[field]:
            problems[field] = [_("Required.")]
        elif len(values[field]) > longest:
            problems[field] = [_("At most %(n)s characters.", n=longest)]
    values["quantity"] = _number(form.get("quantity"), problems, "quantity",
                                 Decimal("0.01"), Decimal(10**9))
    values["valuation"] = _number(form.get("valuation"), problems, "valuation", Decimal(0),
                                  Decimal(10**11))
    values["starts_at"] = forms.local_time(form.get("starts_at"), problems, "starts_at")
    values["ends_at"] = forms.local_time(form.get("ends_at"), problems, "ends_at", required=False)
    return values, problems


@bp.route("/incidents/<int:incident_id>/requisitions/new", methods=["GET", "POST"])
@allow(WRITERS)
def new_requisition(incident_id):
    """Record property requisitioned for an incident; then its printable order."""
    session, user = get_session(), actor()
    incident = incidents.get_incident(session, user, incident_id)
    context = {"incident": incident, "bases": legal_bases.choices("requisition")}
    if request.method == "GET":
        form = {"legal_basis": legal_bases.REQUISITION_DEFAULT}
        return render_template("claims/requisition_form.html", errors={}, form=form, **context)
    values, problems = _requisition_fields(request.form)
    try:
        if problems:
            raise Invalid(_("Please correct the marked fields."), problems)
        requisition = dispatches.create_requisition(session, app_cipher(), user, incident_id,
                                                    **values)
    except (Invalid, Conflict) as exc:
        flash(_error_text(exc), "danger")
        return render_template("claims/requisition_form.html", errors=exc.details,
                               form=request.form, **context), exc.status
    flash(_("Requisition %(number)s recorded.", number=requisition.order_number), "success")
    return redirect(url_for("claim_pages.requisition_order", requisition_id=requisition.id))


@bp.route("/requisitions/<int:requisition_id>/order")
@allow(BUREAU)
def requisition_order(requisition_id):
    """The printable requisition order (征用凭证), and the return of the property."""
    order = pages.requisition_order(get_session(), actor(), requisition_id)
    return render_template("claims/requisition_order.html", order=order,
                           can_write=actor().role in WRITERS)


@bp.route("/requisitions/<int:requisition_id>/return", methods=["POST"])
@allow(WRITERS)
def return_requisition(requisition_id):
    """Record that requisitioned property came back, and in what condition."""
    try:
        dispatches.return_requisition(get_session(), actor(), requisition_id,
                                      request.form.get("condition"),
                                      (request.form.get("note") or "").strip()[:2000])
    except (Invalid, Conflict) as exc:
        flash(_error_text(exc), "danger")
    else:
        flash(_("The return is recorded."), "success")
    return redirect(url_for("claim_pages.requisition_order", requisition_id=requisition_id))


# ---------------------------------------------------------------- claim forms


def _form_items(form):
    """Claim lines from the form's parallel fields; rows left wholly empty are skipped."""
    rows = zip(form.getlist("kind"), form.getlist("quantity"), form.getlist("unit_price"),
               form.getlist("note"), strict=False)
    return [{"kind": kind, "quantity": quantity.strip().replace(",", ""),
             "unit_price": price.strip().replace(",", ""), "note": note.strip()}
            for kind, quantity, price, note in rows if quantity.strip() or price.strip()
            or note.strip()]


def _dispatch_notes(prefill):
    """The prefilled lines' notes in the page's language."""
    if prefill["from_checkins"]:
        basis = _("%(n)s person-days from check-ins", n=prefill["person_days"])
    else:
        basis = _("%(members)s members × %(days)s days", members=prefill["members"],
                  days=prefill["days"])
    nights = next((i["quantity"] for i in prefill["items"] if i["kind"] == "lodging"), 0)
    notes = {"personnel": basis, "meals": basis,
             "lodging": _("%(n)s person-nights (maximum rate)", n=nights)}
    for item in prefill["items"]:
        item["note"] = notes.get(item["kind"], item["note"])
    return prefill["items"]


def _requisition_notes(prefill):
    """The prefilled lines of a requisition's claim, with notes in the page's language."""
    notes = [_("%(quantity)s × %(days)s days of use", quantity=prefill["quantity"],
               days=prefill["days"])]
    notes.append(_("Lost: its valuation") if prefill["condition"] == "lost" else
                 _("Damage: the cost of repair"))
    for item, note in zip(prefill["items"], notes, strict=False):
        item["note"] = note
    return prefill["items"]


def _claim_form(source, items, errors=None, status=200):
    """The claim form with its lines (prefilled, or as submitted)."""
    return render_template("claims/claim_form.html", source=source, items=items,
                           line_errors=errors if isinstance(errors, dict) else {},
                           problems=errors if isinstance(errors, list) else [],
                           kind_choices=ITEM_KINDS), status


def _submit(source, submit):
    """Submit the posted lines; a second submission (a retry) shows the open claim."""
    items = _form_items(request.form)
    try:
        claim = submit(items)
    except Conflict as exc:
        if exc.code != "claim_exists":
            flash(_error_text(exc), "danger")
            return _claim_form(source, items, status=409)
        flash(_error_text(exc), "info")
        existing = claims.open_claim(get_session(), actor(), **source["key"])
        return redirect(url_for("claim_pages.claim_page", claim_id=existing))
    except Invalid as exc:
        flash(_("Please correct the marked lines."), "danger")
        return _claim_form(source, items, exc.details.get("items"), 422)
    flash(_("Claim %(id)s submitted.", id=claim.id), "success")
    return redirect(url_for("claim_pages.claim_page", claim_id=claim.id))


def _existing(session, user, **key):
    """A redirect to the open claim of this source, if there is one."""
    claim_id = claims.open_claim(session, user, **key)
    if claim_id is None:
        return None
    flash(_error_text(Conflict("", code="claim_exists")), "info")
    return redirect(url_for("claim_pages.claim_page", claim_id=claim_id))


@bp.route("/dispatches/<int:dispatch_id>/claim", methods=["GET", "POST"])
@allow(claims.SUBMITTERS)
def dispatch_claim(dispatch_id):
    """A dispatch's claim, prefilled from check-ins and the rate table, edited, submitted."""
    session, user = get_session(), actor()
    dispatch = dispatches.get_dispatch(session, user, dispatch_id)
    source = {"kind": "dispatch", "key": {"dispatch_id": dispatch_id}, "dispatch": dispatch,
              "incident_title": pages.incident_title(session, dispatch["incident_id"]),
              "action": url_for("claim_pages.dispatch_claim", dispatch_id=dispatch_id)}
    if request.method == "POST":
        return _submit(source, lambda items: claims.claim_for_dispatch(
            session, user, dispatch_id, items))
    if (found := _existing(session, user, dispatch_id=dispatch_id)) is not None:
        return found
    rates = current_app.config.get("INCIDENT_COMPENSATION_RATES") or {}
    prefill = claims.prefill(session, user, dispatch_id, rates)
    source["prefill"] = prefill
    return _claim_form(source, _dispatch_notes(prefill))


@bp.route("/requisitions/<int:requisition_id>/claim", methods=["GET", "POST"])
@allow(WRITERS)
def requisition_claim(requisition_id):
    """A requisition's claim, prefilled from its days of use and its return, submitted."""
    session, user = get_session(), actor()
    order = pages.requisition_order(session, user, requisition_id)
    source = {"kind": "requisition", "key": {"requisition_id": requisition_id},
              "requisition": order, "incident_title": order["incident_title"],
              "action": url_for("claim_pages.requisition_claim",
                                requisition_id=requisition_id)}
    if request.method == "POST":
        return _submit(source, lambda items: claims.claim_for_requisition(
            session, user, requisition_id, items))
    if (found := _existing(session, user, requisition_id=requisition_id)) is not None:
        return found
    prefill = claims.requisition_prefill(session, user, requisition_id)
    return _claim_form(source, _requisition_notes(prefill))


# ---------------------------------------------------------------- claims and the ledger


@bp.route("/compensations/<int:claim_id>")
@allow(READERS)
def claim_page(claim_id):
    """One claim: its lines, total, status and history; review and payment for admins."""
    user = actor()
    claim = pages.claim_page(get_session(), user, claim_id)
    return render_template("claims/claim.html", claim=claim, **_roles_on(claim, user))


def _roles_on(claim, user):
    """What the user may do on the claim's page."""
    record = SimpleNamespace(**claim)
    return {"is_admin": user.role == ADMIN, "own": claim["submitted_by"] == user.username,
            "username": user.username,
            "can_appeal": claim["status"] == "rejected" and not claim["appealed_at"]
            and claims.may_appeal(user, record)}


@bp.route("/compensations/<int:claim_id>/appeal", methods=["POST"])
@allow(claims.SUBMITTERS)
def appeal(claim_id):
    """Appeal a rejected claim with a reason."""
    try:
        claims.appeal(get_session(), actor(), claim_id,
                      (request.form.get("reason") or "").strip()[:4000])
    except (Invalid, Conflict, Forbidden) as exc:
        flash(_("Give the reason for the appeal.") if exc.code == "reason_required"
              else _error_text(exc), "danger")
    else:
        flash(_("The appeal is sent."), "success")
    return redirect(url_for("claim_pages.claim_page", claim_id=claim_id))


@bp.route("/compensations/<int:claim_id>/review", methods=["POST"])
@allow(ADMIN)
def review(claim_id):
    """Approve, or reject with a reason."""
    decision = request.form.get("decision")
    note = (request.form.get("note") or "").strip()[:2000]
    try:
        claims.review(get_session(), actor(), claim_id, decision, note)
    except (Invalid, Conflict, Forbidden) as exc:
        flash(_error_text(exc), "danger")
        claim = pages.claim_page(get_session(), actor(), claim_id)
        return render_template("claims/claim.html", claim=claim, **_roles_on(claim, actor()),
                               errors=exc.details, form=request.form), exc.status
    flash(_("The claim is approved.") if decision == "approve" else
          _("The claim is rejected."), "success")
    return redirect(url_for("claim_pages.claim_page", claim_id=claim_id))


@bp.route("/compensations/<int:claim_id>/pay", methods=["POST"])
@allow(ADMIN)
def pay(claim_id):
    """Record the payment of an approved claim."""
    try:
        claims.pay(get_session(), actor(), claim_id,
                   (request.form.get("note") or "").strip()[:2000])
    except DomainError as exc:
        flash(_error_text(exc), "danger")
    else:
        flash(_("The payment is recorded."), "success")
    return redirect(url_for("claim_pages.claim_page", claim_id=claim_id))


def _filters(args):
    """The ledger's filters from the query string; anything malformed is dropped."""
    found = {}
    if args.get("status") in COMPENSATION_STATUSES:
        found["status"] = args["status"]
    for field, key in (("from", "date_from"), ("to", "date_to")):
        try:
            found[key] = datetime.strptime(args.get(field) or "", "%Y-%m-%d").date()
        except ValueError:
            pass
    for field in ("org_id", "incident_id"):
        if (args.get(field) or "").isdigit():
            found[field] = int(args[field])
    return found


def _query(filters):
    """The filters as the ledger API's query string (its names: from, to)."""
    names = {"date_from": "from", "date_to": "to"}
    return {names.get(k, k): str(v) for k, v in filters.items()}


@bp.route("/compensations")
@allow(READERS)
def list_page():
    """The ledger: claims with filters, paging, totals and the export; what awaits a claim."""
    session, user = get_session(), actor()
    filters = _filters(request.args)
    page = int(request.args["page"]) if (request.args.get("page") or "").isdigit() else 1
    page = max(page, 1)
    book = claims.ledger(session, user, limit=PER_PAGE, offset=(page - 1) * PER_PAGE,
                         **filters)
    query = _query(filters)
    page_count = max(1, -(-book["total"] // PER_PAGE))
    return render_template(
        "claims/ledger.html", book=book, filters=query, page=page, pages=page_count,
        awaiting=pages.awaiting_claims(session, user),
        choices=pages.ledger_choices(session, user, filters.get("incident_id")),
        export=url_for("incidents.ledger") + "?" + urlencode({**query, "format": "xlsx"}),
        page_url=lambda n: url_for("claim_pages.list_page", **query, page=n),
        can_claim=user.role in claims.SUBMITTERS)
