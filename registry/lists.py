"""The registry's lists the bureau works through: organisations, the registration review queue
(with batch decisions) and teams; each searchable, filtered, paged and exported (audited)."""

import io

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from emergency import listing as paging
from emergency.audit import service as audit
from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, ORG_ADMIN
from emergency.db import get_session, replica_session
from emergency.errors import Conflict, Invalid, NotFound
from emergency.i18n import translate_message
from emergency.vocabulary import TEAM_CATEGORIES, local_minute
from registry import listing, service
from registry.models import ORG_STATUSES, TEAM_STATUSES
from registry.views import READERS, category_labels, status_labels

bp = Blueprint("registry_lists", __name__, template_folder="templates", static_folder="static",
               static_url_path="/registry/static")

NAV = [
    ("registry_lists.orgs", _l("Rescue forces"), READERS),
    ("registry_lists.review_queue", _l("Registration review"), {ADMIN}),
    ("registry_lists.teams", _l("Teams"), BUREAU),
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _list_context(filters, total, endpoint, **extra):
    """What every registry list page shares: the pager, the filter choices, the export."""
    session, user = get_session(), actor()
    args = {k: v for k, v in request.args.items() if k != "offset" and v}
    return {"filters": filters, "total": total, "page_sizes": paging.PAGE_SIZES,
            "districts": listing.districts(session, user),
            "categories": TEAM_CATEGORIES, "expiring_days": listing.EXPIRING_DAYS,
            "page_links": paging.page_links(total, filters["limit"], filters["offset"]),
            "page_url": lambda offset: url_for(endpoint, **args, offset=offset),
            "clear_url": url_for(endpoint), **extra}


def _org_rows_for_page(session, records):
    """Organisation records with their district's name and Beijing submission time."""
    places = listing.area_names(session, [r["area_code"] for r in records])
    for record in records:
        record["district"] = places.get(record["area_code"], record["area_code"] or "")
        record["submitted_local"] = local_minute(record["submitted_at"])
    return records


@bp.route("/registry/orgs")
@allow(READERS)
def orgs():
    """Organisations: the bureau's searchable, filtered, paged list; an org admin's own one."""
    session, user = get_session(), actor()
    if user.role == ORG_ADMIN:
        if user.org_id:
            return redirect(url_for("registry_pages.org", org_id=user.org_id))
        return redirect(url_for("registry_pages.register"))
    filters = listing.parse_filters(request.args)
    records, total = listing.org_page(session, user, filters)
    args = {k: v for k, v in request.args.items() if k != "offset" and v}
    return render_template(
        "registry/orgs.html", orgs=_org_rows_for_page(session, records), statuses=ORG_STATUSES,
        export_url=url_for("registry_lists.export_orgs", **args),
        **_list_context(filters, total, "registry_lists.orgs"))


def _org_sheet(session, records):
    """Headers and rows of an organisation workbook (phone masked, Beijing time)."""
    labels = status_labels()
    headers = ["#", _("Organisation"), _("Credit code"), _("Contact person"),
               _("Contact mobile (masked)"), _("District"), _("Status"), _("Teams"),
               _("Submitted (Beijing time)"), _("Reviewed by"), _("Review note"),
               _("Re-verify by")]
    rows = ([r["id"], r["name"], r["credit_code"], r["contact_name"], r["contact_phone"],
             r["district"], labels.get(r["status"], r["status"]), r["teams"],
             r["submitted_local"], r["reviewed_by"] or "", r["review_note"] or "",
             r["verify_by"]] for r in _org_rows_for_page(session, records))
    return headers, rows


def _send_xlsx(headers, rows, name, sheet):
    """An .xlsx download of the rows."""
    return send_file(io.BytesIO(paging.xlsx_bytes(headers, rows, sheet)), mimetype=XLSX,
                     as_attachment=True, download_name=name)


def _audit_export(session, action, object_type, filters, count):
    """The audit entry of a list export: who took which filtered list, and how many rows."""
    details = {k: str(v) for k, v in filters.items()
               if v not in (None, False) and k not in ("limit", "offset")}
    audit.record(session, action, object_type, None, {**details, "rows": count})


@bp.route("/registry/orgs/export.xlsx")
@allow(BUREAU)
def export_orgs():
    """The filtered organisation list as an .xlsx workbook (the export is audited)."""
    session, user = get_session(), actor()
    filters = listing.parse_filters(request.args)
    records = listing.org_export(session, user, filters)
    _audit_export(session, "organisation.export", "organisation", filters, len(records))
    headers, rows = _org_sheet(session, records)
    return _send_xlsx(headers, rows, "organisations.xlsx", "organisations")


# ---------------------------------------------------------------- review queue

# Messages of the review's domain errors by code, in the page's language.
REVIEW_ERRORS = {
    "reason_required": _l("Give the reason for the rejection."),
    "already_decided": _l("Nothing was decided: already decided by someone else: %(names)s."),
    "not_found": _l("Nothing was decided: a chosen registration no longer exists."),
    "invalid": _l("Choose at least one registration."),
}


def _review_text():
    """The review dialog's sentences, filled in by its script (textContent)."""
    return {"approve_title": _("Approve %(n)s registrations?"),
            "reject_title": _("Reject %(n)s registrations?"),
            "approve": _("Approve"), "reject": _("Reject"),
            "none_chosen": _("Choose at least one registration."),
            "chosen": _("%(n)s selected"),
            "reason_label": _("Reason for rejection (required)"),
            "note_label": _("Note (optional)"),
            "reason_required": str(REVIEW_ERRORS["reason_required"])}


def _review_page(filters=None, error=None, status=200, form=None):
    """The review queue (submitted registrations, oldest first), with an error if any."""
    session, user = get_session(), actor()
    filters = filters or listing.parse_filters(request.args)
    filters["status"] = "submitted"
    records, total = listing.org_page(session, user, filters, oldest_first=True)
    args = {k: v for k, v in request.args.items() if k not in ("offset", "status") and v}
    return render_template(
        "registry/review.html", orgs=_org_rows_for_page(session, records), error=error,
        chosen=set(form.getlist("ids")) if form else set(),
        note=form.get("note", "") if form else "", text=_review_text(),
        action=url_for("registry_lists.review_batch", **args),
        export_url=url_for("registry_lists.export_orgs", **args, status="submitted"),
        **_list_context(filters, total, "registry_lists.review_queue")), status


@bp.route("/registry/review")
@allow(ADMIN)
def review_queue():
    """The bureau's queue of registrations waiting for review: filters, paging, batch."""
    return _review_page()


def _review_error(exc):
    """The page's message for a review's domain error."""
    if exc.code == "already_decided":
        return str(REVIEW_ERRORS["already_decided"]) % {
            "names": "、".join(exc.details.get("names", []))}
    message = REVIEW_ERRORS.get(exc.code)
    if message is None and "note" in exc.details:
        message = REVIEW_ERRORS["reason_required"]
    return str(message) if message is not None else translate_message(exc.message)


def _decide(ids):
    """Decide the registrations ``ids`` from the form; the queue again on an error."""
    decision = request.form.get("decision")
    note = request.form.get("note", "")
    try:
        decided = service.review_orgs(get_session(), actor(), ids, decision, note)
    except (Invalid, Conflict, NotFound) as exc:
        return _review_page(error=_review_error(exc), status=exc.status, form=request.form)
    if decision == "approve":
        flash(ngettext("%(num)d registration approved.", "%(num)d registrations approved.",
                       len(decided)), "success")
    else:
        flash(ngettext("%(num)d registration rejected.", "%(num)d registrations rejected.",
                       len(decided)), "success")
    # Back to the queue as it was filtered (the form posts to the queue's own query).
    args = {k: v for k, v in request.args.items() if k != "offset" and v}
    return redirect(url_for("registry_lists.review_queue", **args))


@bp.route("/registry/review", methods=["POST"])
@allow(ADMIN)
def review_batch():
    """Approve or reject the chosen registrations in one step: all or none."""
    only = request.form.get("only")
    ids = [only] if only else request.form.getlist("ids")
    try:
        ids = [int(i) for i in ids]
    except ValueError:
        ids = []
    return _decide(ids)


@bp.route("/registry/orgs/<int:org_id>/review", methods=["POST"])
@allow(ADMIN)
def review(org_id):
    """Approve or reject one registration (a rejection with its reason)."""
    return _decide([org_id])


# ---------------------------------------------------------------- teams


@bp.route("/registry/teams")
@allow(READERS)
def teams():
    """Teams: searchable by team or organisation name, filtered, paged, with readiness
    (read from the replica when there is one)."""
    session, user = replica_session(), actor()
    filters = listing.parse_filters(request.args, TEAM_STATUSES)
    records, total = listing.team_page(session, user, filters)
    places = listing.area_names(session, [r["area_code"] for r in records])
    args = {k: v for k, v in request.args.items() if k != "offset" and v}
    return render_template(
        "registry/teams.html", teams=records, places=places, statuses=TEAM_STATUSES,
        export_url=url_for("registry_lists.export_teams", **args),
        **_list_context(filters, total, "registry_lists.teams"))


@bp.route("/registry/teams/export.xlsx")
@allow(READERS)
def export_teams():
    """The filtered team list as an .xlsx workbook (the export is audited)."""
    session, user = get_session(), actor()
    filters = listing.parse_filters(request.args, TEAM_STATUSES)
    records = listing.team_export(session, user, filters)
    _audit_export(session, "team.export", "team", filters, len(records))
    places = listing.area_names(session, [r["area_code"] for r in records])
    labels, categories = status_labels(), category_labels()
    headers = ["#", _("Team"), _("Organisation"), _("Category"), _("Status"), _("Grade"),
               _("District"), _("Service radius (km)"), _("Members"), _("Insured today"),
               _("Valid certificates")]
    rows = ([r["id"], r["name"], r["org_name"], categories.get(r["category"], r["category"]),
             labels.get(r["status"], r["status"]), r["grade"] or "",
             places.get(r["area_code"], r["area_code"] or ""), r["service_radius_km"],
             r["members"], r["insured_members"], r["valid_certificates"]] for r in records)
    return _send_xlsx(headers, rows, "teams.xlsx", "teams")


