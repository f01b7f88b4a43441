"""HTML pages of warnings (预警发布): the list, the drafting form and a warning's page with
its map and the steps its reader may take (confirmed in dialogs)."""

import json
from datetime import datetime, timedelta

import shapely.geometry
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from geoalchemy2.shape import to_shape
from marshmallow import ValidationError
from sqlalchemy import select

from alerts import listing, schemas, service
from alerts.models import LEVELS, STATUSES, TRANSITIONS, EarlyWarning
from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, DISPATCHER, EVERYONE, PLANNER
from emergency.db import get_session
from emergency.errors import DomainError, Invalid, describe_error
from emergency.geo import service as geo
from emergency.geo.models import Area
from emergency.listing import page_links
from emergency.vocabulary import LOCAL_ZONE
from plans.incident_types import CATEGORIES, SUBTYPES
from plans.incident_types import label as type_label

bp = Blueprint("warning_pages", __name__, template_folder="templates",
               static_folder="static", static_url_path="/static/alerts-pages")

NAV = [("warning_pages.list_page", lazy_pgettext("nav", "Warnings"), None)]
DRAFTERS = (ADMIN, PLANNER, DISPATCHER)
RELEASERS = (ADMIN, PLANNER)
PAGE_SIZES = (20, 50, 100)
LEVEL_NAMES = {"red": _l("Red"), "orange": _l("Orange"), "yellow": _l("Yellow"),
               "blue": _l("Blue")}
STATUS_NAMES = {"draft": lazy_pgettext("warning status", "Draft"),
                "approved": lazy_pgettext("warning status", "Approved"),
                "published": lazy_pgettext("warning status", "Published"),
                "lifted": lazy_pgettext("warning status", "Lifted"),
                "cancelled": lazy_pgettext("warning status", "Cancelled"),
                "expired": lazy_pgettext("warning status", "Expired")}
STEP_NAMES = {"approved": _l("Approve"), "published": _l("Publish"), "lifted": _l("Lift"),
              "cancelled": _l("Cancel warning")}
STEP_QUESTIONS = {
    "approved": _l("Approve this warning for publication?"),
    "published": _l("Publish this warning now? Everyone, the public included, will see it."),
    "lifted": _l("Lift this warning? It no longer applies from now on."),
    "cancelled": _l("Cancel this warning? It will never be published."),
}
KIND_NAMES = {"create": _l("drafted"), "update": _l("changed"), "transition": _l("step"),
              "expiry": _l("expired"), "import": _l("imported")}


def _lang():
    """The page language, zh or en."""
    return "en" if str(get_locale() or "zh").startswith("en") else "zh"


def _type_groups():
    """Hazard types for a select: [(category label, [(key, label)])]."""
    lang = _lang()
    return [(type_label(c, lang), [(k, type_label(k, lang)) for k in
                                   (c, *(s for s, v in SUBTYPES.items() if v[0] == c))])
            for c in CATEGORIES]


def _labels():
    """Label tables of the templates."""
    return {"level_names": {k: str(v) for k, v in LEVEL_NAMES.items()},
            "status_names": {k: str(v) for k, v in STATUS_NAMES.items()},
            "type_label": lambda key: type_label(key, _lang())}


def _int(text, default, lowest, highest):
    """An integer from a query string, clamped, or the default."""
    try:
        return min(max(int(text), lowest), highest)
    except (TypeError, ValueError):
        return default


# ---------------------------------------------------------------- the list

def _filters(args):
    """The list's filters from the query string; unknown values are dropped."""
    limit = _int(args.get("limit"), 20, 1, 100)
    return {"status": args.get("status") if args.get("status") in STATUSES else None,
            "level": args.get("level") if args.get("level") in LEVELS else None,
            "hazard_type": args.get("hazard_type") if args.get("hazard_type") in
            (*CATEGORIES, *SUBTYPES) else None,
            "area_code": (args.get("area_code") or "").strip()[:12] or None,
            "active": True if args.get("active") == "1" else None,
            "q": (args.get("q") or "").strip()[:100] or None,
            "limit": limit if limit in PAGE_SIZES else 20,
            "offset": _int(args.get("offset"), 0, 0, 10_000_000)}


@bp.route("/warnings")
@allow(EVERYONE)
def list_page():
    """Warnings, newest first, filtered and paged; level colours named in words."""
    session, user = get_session(), actor()
    filters = _filters(request.args)
    items, total = listing.list_warnings(session, user, **filters)
    args = {k: v for k, v in request.args.items() if k != "offset" and v}
    pages = page_links(total, filters["limit"], filters["offset"])
    districts, _total = geo.list_areas(session, level="district", limit=1000)
    return render_template(
        "alerts/list.html", items=items, total=total, filters=filters, pages=pages,
        page_url=lambda offset: url_for("warning_pages.list_page", **args, offset=offset),
        districts=[(d["code"], d["name"]) for d in districts], type_groups=_type_groups(),
        page_sizes=PAGE_SIZES, can_draft=user.role in DRAFTERS, **_labels())


# ---------------------------------------------------------------- drafting

def _local_input(moment):
    """An aware time as a datetime-local input's value (Beijing time)."""
    return moment.astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M")


def _form_body(form):
    """A POST /warnings body from the form: times in Beijing time, areas comma-joined, the
    drawing as GeoJSON text."""
    body = {key: form.get(key, "") for key in ("title", "hazard_type", "level",
                                               "description", "instruction")}
    body["area_codes"] = [c for c in form.get("area_codes", "").split(",") if c.strip()]
    for key in ("onset", "expires"):
        text = form.get(key, "").strip()
        body[key] = text + ":00+08:00" if len(text) == 16 else text
    drawing = form.get("geometry", "").strip()
    if drawing:
        try:
            body["geometry"] = json.loads(drawing)
        except ValueError:
            body["geometry"] = "?"
    return body


def _form_page(form, errors=None, status=200, editing=None):
    """The drafting form (or, with ``editing``, the form changing that warning), with the
    given input kept and its refusals shown."""
    session = get_session()
    codes = [c for c in (form.get("area_codes") or "").split(",") if c.strip()]
    names = _area_names(session, codes)
    chosen = [{"value": c, "label": names.get(c, c)} for c in codes]
    outlines = geo.district_outlines(session)
    return render_template("alerts/new.html", form=form, errors=errors or {}, chosen=chosen,
                           editing=editing,
                           type_groups=_type_groups(), levels=LEVELS, map_data={
                               "outlines": outlines, "drawing": form.get("geometry") or "",
                               "tiles": current_app.config["BASEMAP_TILE_URL"],
                               "attribution": current_app.config["BASEMAP_ATTRIBUTION"],
                               "texts": {"points": _("%(n)s points", n="%(n)s"),
                                         "closed": _("Area drawn: %(n)s points",
                                                     n="%(n)s")}},
                           picker_texts={"data-text-none": _("No matches"),
                                         "data-text-count": _("{n} results"),
                                         "data-text-remove": _("Remove")},
                           **_labels()), status


def _area_names(session, codes):
    """Area names by code (for the chosen areas kept on a refused form)."""
    if not codes:
        return {}
    return dict(session.execute(select(Area.code, Area.name).where(
        Area.code.in_(codes[:500]))).all())


@bp.route("/warnings/new")
@allow(DRAFTERS)
def new_page():
    """The drafting form: title, type, level, areas (picker) or a drawn area, period,
    description and instruction."""
    now = datetime.now(LOCAL_ZONE).replace(second=0, microsecond=0)
    return _form_page({"onset": _local_input(now),
                       "expires": _local_input(now + timedelta(hours=24)), "level": "blue"})


@bp.route("/warnings/new", methods=["POST"])
@allow(DRAFTERS)
def create():
    """Draft the warning from the form; a refusal shows the form again with the input kept
    and every bad field named (422, nothing stored)."""
    session, user = get_session(), actor()
    try:
        try:
            body = schemas.WarningIn().load(_form_body(request.form))
        except ValidationError as exc:
            raise Invalid("invalid warning: " + ", ".join(sorted(exc.messages)),
                          exc.messages) from None
        warning = service.create_warning(session, user,
                                         region=current_app.config["SERVED_BBOX"], **body)
    except DomainError as exc:
        errors = {key: describe_error(Invalid("", {key: value}))
                  for key, value in (exc.details or {}).items()}
        flash(describe_error(exc), "danger")
        return _form_page(request.form, errors, 422 if exc.status == 422 else exc.status)
    flash(_("Warning drafted. Another administrator or planner approves and publishes it."),
          "success")
    return redirect(url_for("warning_pages.detail_page", warning_id=warning.id))


# ---------------------------------------------------------------- changing a warning

EDITABLE = ("draft", "approved", "published")


def _may_edit(user, record):
    """Whether the page offers the user to change the warning (the service decides)."""
    if record["status"] not in EDITABLE or user.role not in DRAFTERS:
        return False
    if record["status"] == "published":
        return user.role in RELEASERS
    return user.role != DISPATCHER or record["author"] == user.username


def _edit_form(session, record):
    """The form's fields from the warning; the drawn area only when it was drawn (a
    published warning's outline that is just its areas' union is not kept as a drawing, so
    that choosing other areas redraws it)."""
    form = {key: record[key] or "" for key in ("title", "hazard_type", "level",
                                                "description", "instruction")}
    form["area_codes"] = ",".join(record["area_codes"])
    form["onset"], form["expires"] = (_local_input(record["onset"]),
                                      _local_input(record["expires"]))
    stored = session.get(EarlyWarning, record["id"]).geometry
    if stored is not None:
        drawn = to_shape(stored)
        union = (service.areas_union(session, record["area_codes"])
                 if record["status"] == "published" else None)
        if union is None or drawn.symmetric_difference(union).area > 1e-6 * union.area:
            form["geometry"] = json.dumps(shapely.geometry.mapping(drawn))
    return form


@bp.route("/warnings/<int:warning_id>/edit")
@allow(DRAFTERS)
def edit_page(warning_id):
    """The drafting form filled with the warning, to change it (a published warning's
    change needs a reason and goes out at once as a new version)."""
    session, user = get_session(), actor()
    record = listing.get_warning(session, user, warning_id)
    if not _may_edit(user, record):
        flash(_("This warning cannot be changed by you in its present state."), "danger")
        return redirect(url_for("warning_pages.detail_page", warning_id=warning_id))
    return _form_page(_edit_form(session, record), editing=record)


@bp.route("/warnings/<int:warning_id>/edit", methods=["POST"])
@allow(DRAFTERS)
def update(warning_id):
    """Change the warning from the form; a refusal shows the form again with the input kept
    and every bad field named (nothing stored)."""
    session, user = get_session(), actor()
    record = listing.get_warning(session, user, warning_id)
    try:
        body = _form_body(request.form)
        note = request.form.get("note", "")
        try:
            changes = schemas.WarningPatch().load(body)
        except ValidationError as exc:
            raise Invalid("invalid warning: " + ", ".join(sorted(exc.messages)),
                          exc.messages) from None
        changes.pop("note", None)
        service.update_warning(session, user, warning_id, changes,
                               region=current_app.config["SERVED_BBOX"], note=note,
                               release=service.Release(
                                   sender=current_app.config["CAP_SENDER"],
                                   prefix=current_app.config["CAP_IDENTIFIER_PREFIX"]))
    except DomainError as exc:
        errors = {key: describe_error(Invalid("", {key: value}))
                  for key, value in (exc.details or {}).items()}
        flash(describe_error(exc), "danger")
        return _form_page(request.form, errors, exc.status, editing=record)
    flash(_("Changes saved."), "success")
    return redirect(url_for("warning_pages.detail_page", warning_id=warning_id))


# ---------------------------------------------------------------- one warning

def _steps_for(session, user, record):
    """The steps offered to the user: [{to, label, question, note_required, disabled,
    reason}] (four-eyes steps shown disabled, with the reason, to the author)."""
    offered = []
    status = record["status"]
    authors = service.content_authors(session, record["id"])
    own = user.username in authors or record["author"] == user.username
    for to in TRANSITIONS.get(status, ()):
        if to in ("approved", "published", "lifted") and user.role not in RELEASERS:
            continue
        if to == "cancelled" and user.role not in RELEASERS and not own:
            continue
        if user.role not in DRAFTERS:
            continue
        disabled = to in ("approved", "published") and own
        offered.append({"to": to, "label": str(STEP_NAMES[to]),
                        "question": str(STEP_QUESTIONS[to]),
                        "note_required": to in service.NOTE_NEEDED, "disabled": disabled,
                        "reason": _("You drafted or changed this warning: another "
                                    "administrator or planner must approve and publish it.")
                        if disabled else ""})
    return offered


@bp.route("/warnings/<int:warning_id>")
@allow(EVERYONE)
def detail_page(warning_id):
    """A warning: level, type, areas, period, text, its map, its steps and what the reader
    may do next."""
    session, user = get_session(), actor()
    record = listing.get_warning(session, user, warning_id)
    return render_template(
        "alerts/detail.html", w=record, steps=_steps_for(session, user, record),
        can_edit=_may_edit(user, record),
        kind_names={k: str(v) for k, v in KIND_NAMES.items()},
        map_data={"geometry": record["geometry"], "level": record["level"],
                  "tiles": current_app.config["BASEMAP_TILE_URL"],
                  "attribution": current_app.config["BASEMAP_ATTRIBUTION"]},
        dialog_texts={"missing": _("Please give the reason."),
                      "reason": _("Reason (required)"), "note": _("Note (optional)")},
        **_labels())


@bp.route("/warnings/<int:warning_id>/step", methods=["POST"])
@allow(DRAFTERS)
def take_step(warning_id):
    """Take the step confirmed in the dialog; a refusal is shown on the warning's page."""
    session = get_session()
    to = request.form.get("to", "")
    try:
        try:
            body = schemas.WarningTransitionIn().load(
                {"to": to, "note": request.form.get("note", "")})
        except ValidationError as exc:
            raise Invalid("invalid warning: " + ", ".join(sorted(exc.messages)),
                          exc.messages) from None
        service.transition(session, actor(), warning_id, to, body["note"],
                           release=service.Release(
                               sender=current_app.config["CAP_SENDER"],
                               prefix=current_app.config["CAP_IDENTIFIER_PREFIX"]))
    except DomainError as exc:
        flash(describe_error(exc), "danger")
        return detail_page(warning_id), exc.status
    flash(_("Done: %(step)s.", step=STEP_NAMES[to]), "success")
    return redirect(url_for("warning_pages.detail_page", warning_id=warning_id))
