"""HTML pages of the registry: registration, review queue, team and member management, map."""

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from shapely.geometry import Point

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, ORG_ADMIN
from emergency.db import get_session
from emergency.errors import Conflict, Invalid
from emergency.geo import chinacrs
from emergency.geo import service as geo
from emergency.vocabulary import CATEGORY_LABELS, TEAM_CATEGORIES
from maps import forces
from maps.pages import page_parts
from registry import crypto, members, roster, service
from registry import teams as team_service
from registry import validators as v
from registry.models import TEAM_STATUSES

bp = Blueprint("registry_pages", __name__, template_folder="templates")

READERS = BUREAU | {ORG_ADMIN}
WRITERS = frozenset({ADMIN, ORG_ADMIN})

NAV = [
    ("registry_pages.orgs", _l("Rescue forces"), READERS),
    ("registry_pages.review_queue", _l("Registration review"), {ADMIN}),
    ("registry_pages.forces_map", _l("Forces map"), READERS),
]


def category_labels():
    """Translated names of the team categories."""
    return {category: str(label) for category, label in CATEGORY_LABELS.items()}


def status_labels():
    """Translated names of team and organisation statuses."""
    return {"available": _("Available"), "dispatched": _("Dispatched"),
            "unavailable": _("Unavailable"), "submitted": _("Submitted"),
            "approved": _("Approved"), "rejected": _("Rejected")}


@bp.app_context_processor
def _labels():
    """Label tables for every registry template."""
    return {"category_labels": category_labels, "status_labels": status_labels}


def _region():
    """The served region (SERVED_BBOX) that team and organisation locations must lie in."""
    return current_app.config["SERVED_BBOX"]


def _point(form, problems):
    """A WGS-84 point from the form's lon/lat (and crs), recording problems."""
    try:
        lon, lat = float(form.get("lon", "")), float(form.get("lat", ""))
    except ValueError:
        problems["location"] = [_("Give a longitude and latitude, or use your location.")]
        return None
    if v.looks_swapped(lon, lat, _region()):
        problems["location"] = [_("Latitude and longitude look swapped: give the longitude "
                                  "first.")]
        return None
    if not v.in_region(lon, lat, _region()):
        problems["location"] = [_("The location is outside the served region.")]
        return None
    crs = form.get("crs", "wgs84")
    if crs in ("gcj02", "bd09"):
        return chinacrs.transform_geometry(Point(lon, lat), crs)
    return Point(lon, lat)


def _form_error(exc, template, status, **context):
    """Re-render a form with a domain error's field messages."""
    flash(exc.message, "danger")
    return render_template(template, errors=exc.details, form=request.form, **context), status


@bp.route("/registry/register", methods=["GET", "POST"])
@allow(WRITERS)
def register():
    """The organisation registration form (works on a phone)."""
    user = actor()
    if user.role == ORG_ADMIN and user.org_id:
        return redirect(url_for("registry_pages.org", org_id=user.org_id))
    if request.method == "GET":
        return render_template("registry/register.html", errors={}, form={})
    problems = {}
    location = _point(request.form, problems)
    if problems:
        return _form_error(Invalid(_("Please correct the marked fields."), problems),
                           "registry/register.html", 422)
    fields = {k: (request.form.get(k) or "").strip() for k in
              ("name", "credit_code", "contact_name", "contact_phone", "address")}
    missing = {k: [_("Required.")] for k in ("name", "contact_name") if not fields[k]}
    if missing:
        return _form_error(Invalid(_("Please correct the marked fields."), missing),
                           "registry/register.html", 422)
    try:
        org = service.register_org(get_session(), crypto.app_cipher(), user, location=location,
                                   region=_region(), **fields)
    except Invalid as exc:
        return _form_error(exc, "registry/register.html", 422)
    except Conflict as exc:
        return _form_error(exc, "registry/register.html", 409)
    flash(_("Registration submitted. The bureau will review it."), "success")
    return redirect(url_for("registry_pages.org", org_id=org.id))


@bp.route("/registry/orgs")
@allow(READERS)
def orgs():
    """Organisations: all for the bureau (filter by status), the own one for an org admin."""
    user = actor()
    if user.role == ORG_ADMIN:
        if user.org_id:
            return redirect(url_for("registry_pages.org", org_id=user.org_id))
        return redirect(url_for("registry_pages.register"))
    status = request.args.get("status") or None
    status = status if status in ("submitted", "approved", "rejected") else None
    items, total = service.list_orgs(get_session(), user, status=status,
                                     q=request.args.get("q") or None, limit=200)
    return render_template("registry/orgs.html", orgs=items, total=total, status=status)


@bp.route("/registry/review")
@allow(ADMIN)
def review_queue():
    """The bureau's queue of registrations waiting for review, oldest first."""
    items, total = service.list_orgs(get_session(), actor(), status="submitted", limit=500)
    return render_template("registry/review.html", orgs=list(reversed(items)), total=total)


@bp.route("/registry/orgs/<int:org_id>/review", methods=["POST"])
@allow(ADMIN)
def review(org_id):
    """Approve or reject from the queue."""
    decision = request.form.get("decision")
    try:
        service.review_org(get_session(), actor(), org_id, decision,
                           request.form.get("note", ""))
    except (Invalid, Conflict) as exc:
        flash(exc.message, "danger")
        return redirect(url_for("registry_pages.review_queue"))
    flash(_("Review recorded."), "success")
    return redirect(url_for("registry_pages.review_queue"))


@bp.route("/registry/orgs/<int:org_id>", methods=["GET", "POST"])
@allow(READERS)
def org(org_id):
    """An organisation with its teams; writers add teams here (POST)."""
    session, user = get_session(), actor()
    record = service.get_org(session, user, org_id)
    teams, _total = team_service.list_teams(session, user, org_id=org_id, limit=1000)
    ready = service.team_readiness(session, [t["id"] for t in teams])
    context = {"org": record, "teams": teams, "ready": ready,
               "expiring": service.expiring(session, user, 30, org_id=org_id),
               "can_write": service.can_write_org(user, org_id), "categories": TEAM_CATEGORIES}
    if request.method == "GET":
        return render_template("registry/org.html", errors={}, form={}, **context)
    if not context["can_write"]:
        return render_template("registry/org.html", errors={}, form={}, **context), 403
    problems = {}
    location = _point(request.form, problems)
    try:
        radius = float(request.form.get("service_radius_km") or 50)
    except ValueError:
        problems["service_radius_km"] = [_("A number of kilometres.")]
    if problems:
        return _form_error(Invalid(_("Please correct the marked fields."), problems),
                           "registry/org.html", 422, **context)
    try:
        name = request.form.get("name", "").strip() or _("Team")
        team = team_service.create_team(session, user, org_id, name,
                                        request.form.get("category", ""), location, radius,
                                        region=_region())
    except Invalid as exc:
        return _form_error(exc, "registry/org.html", 422, **context)
    flash(_("Team added."), "success")
    return redirect(url_for("registry_pages.team", team_id=team.id))


def _team_context(session, user, team_id):
    """Everything the team page shows."""
    record = team_service.get_team(session, user, team_id)
    items, total = members.list_members(session, crypto.app_cipher(), user, team_id, limit=1000)
    return {"team": record, "members": items, "total": total,
            "can_write": service.can_write_org(user, record["org_id"]),
            # 'dispatched' comes and goes with a dispatch: offered only to keep it.
            "statuses": [s for s in TEAM_STATUSES
                         if s != "dispatched" or record["status"] == "dispatched"]}


@bp.route("/registry/teams/<int:team_id>")
@allow(READERS)
def team(team_id):
    """A team: readiness, equipment, members (masked), forms for org admins."""
    context = _team_context(get_session(), actor(), team_id)
    return render_template("registry/team.html", errors={}, form={}, **context)


@bp.route("/registry/teams/<int:team_id>/members", methods=["POST"])
@allow(WRITERS)
def add_member(team_id):
    """Add one member from the team page."""
    session, user = get_session(), actor()
    skills = [s.strip() for s in roster.SKILL_SPLIT.split(request.form.get("skills", ""))
              if s.strip()]
    certificates = []
    if request.form.get("certificate_name", "").strip():
        certificates.append({"name": request.form["certificate_name"].strip(),
                             "number": request.form.get("certificate_number", ""),
                             "expires_on": _date(request.form.get("certificate_expires_on"))})
    try:
        members.add_member(session, crypto.app_cipher(), user, team_id,
                           request.form.get("name", "").strip() or "?",
                           request.form.get("id_number", ""), request.form.get("phone", ""),
                           skills, certificates)
    except (Invalid, Conflict) as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return _form_error(exc, "registry/team.html", status,
                           **_team_context(session, user, team_id))
    flash(_("Member added."), "success")
    return redirect(url_for("registry_pages.team", team_id=team_id))


def _date(text):
    """A date from an ISO form value, or None."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.route("/registry/teams/<int:team_id>/import", methods=["POST"])
@allow(WRITERS)
def import_members(team_id):
    """Import an .xlsx roster from the team page: every row or none."""
    session, user = get_session(), actor()
    upload = request.files.get("file")
    try:
        count = roster.import_roster(session, crypto.app_cipher(), user, team_id,
                                     upload.stream if upload and upload.filename else None)
    except Invalid as exc:
        context = _team_context(session, user, team_id)
        return render_template("registry/team.html", errors={}, form={},
                               import_errors=exc.details, **context), 422
    flash(_("%(count)d members imported.", count=count), "success")
    return redirect(url_for("registry_pages.team", team_id=team_id))


@bp.route("/registry/teams/<int:team_id>/status", methods=["POST"])
@allow(WRITERS)
def team_status(team_id):
    """Change a team's availability."""
    try:
        team_service.update_team(get_session(), actor(), team_id,
                            status=request.form.get("status"))
    except (Invalid, Conflict) as exc:
        flash(exc.message, "danger")
    return redirect(url_for("registry_pages.team", team_id=team_id))


@bp.route("/registry/teams/<int:team_id>/insurance", methods=["POST"])
@allow(WRITERS)
def add_insurance(team_id):
    """Record an insurance policy of one of the team's members from the team page."""
    session, user = get_session(), actor()
    back = redirect(url_for("registry_pages.team", team_id=team_id))
    try:
        member_id = int(request.form.get("member", ""))
        member = members.get_member(session, crypto.app_cipher(), user, member_id)
        starts, ends = _date(request.form.get("starts_on")), _date(request.form.get("ends_on"))
        if member["team_id"] != team_id or not starts or not ends:
            raise Invalid(_("Choose a member of this team and give both dates."), {})
        members.add_insurance(session, user, member_id, request.form.get("insurer") or "?",
                              request.form.get("policy_number") or "?", starts, ends,
                              request.form.get("coverage_amount") or "0")
    except Invalid as exc:
        flash(exc.message, "danger")
        return back
    except (ArithmeticError, ValueError):
        flash(_("Invalid amount."), "danger")
        return back
    flash(_("Insurance recorded."), "success")
    return back


@bp.route("/maps/forces")
@allow(READERS)
def forces_map():
    """Teams on a map: coloured by category, clustered, filterable, a popup per team."""
    session, user = get_session(), actor()
    category = request.args.get("category")
    category = category if category in TEAM_CATEGORIES else None
    teams, total = team_service.map_teams(session, user, category=category)
    for t in teams:
        t["url"] = url_for("registry_pages.team", team_id=t["id"])
    districts = geo.district_outlines(session)
    labels = {"categories": category_labels(), "statuses": status_labels(),
              "grades": {1: _("Grade 1"), 2: _("Grade 2"), 3: _("Grade 3")},
              "organisation": _("Organisation"), "category": _("Category"),
              "status": _("Status"), "grade": _("Grade"), "radius": _("Service radius"),
              "members": _("Members / insured"), "teams": _("Teams"),
              "districts": _("Districts"), "legend": _("Legend"),
              "unavailable": _("Busy or unavailable")}
    fmap = forces.forces_map(teams, labels, current_app.config["BASEMAP_TILE_URL"],
                             current_app.config["BASEMAP_ATTRIBUTION"], districts)
    if total > len(teams):
        flash(_("Showing %(shown)d of %(total)d teams; filter by category to see the rest.",
                shown=len(teams), total=total), "warning")
    return render_template("maps/map.html", title=_("Forces map"), **page_parts(fmap))
