"""HTML pages of the registry: registration, review queue, team and member management, map."""

from datetime import date

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from shapely.geometry import Point

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, BUREAU, ORG_ADMIN
from emergency.db import get_session
from emergency.errors import Conflict, Invalid, describe_error
from emergency.geo import chinacrs
from emergency.geo import service as geo
from emergency.i18n import translate_message
from emergency.vocabulary import CATEGORY_LABELS, TEAM_CATEGORIES
from maps import forces
from maps.pages import page_parts
from registry import crypto, filejobs, members, roster, service
from registry import teams as team_service
from registry import validators as v
from registry.models import TEAM_STATUSES

bp = Blueprint("registry_pages", __name__, template_folder="templates")

READERS = BUREAU | {ORG_ADMIN}
WRITERS = frozenset({ADMIN, ORG_ADMIN})

NAV = [("registry_pages.forces_map", _l("Forces map"), READERS)]


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
    flash(translate_message(exc.message), "danger")
    errors = {field: [translate_message(m) for m in messages] if isinstance(messages, list)
              else messages for field, messages in exc.details.items()}
    return render_template(template, errors=errors, form=request.form, **context), status


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
            "job_mb": current_app.config["IMPORT_JOB_MIN_BYTES"] // 1048576,
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
    """Import an .xlsx roster from the team page: every row or none; as a background job
    when asked, or when the file is larger than IMPORT_JOB_MIN_BYTES."""
    session, user = get_session(), actor()
    upload = request.files.get("file")
    stream = upload.stream if upload and upload.filename else None
    try:
        if request.form.get("background") == "1" or (
                request.content_length or 0) > current_app.config["IMPORT_JOB_MIN_BYTES"]:
            record = filejobs.queue_import(session, user, team_id, stream,
                                           upload.filename if stream else "")
            flash(_("Roster import queued as job %(id)s: follow it on the jobs page.",
                    id=record.id), "success")
            return redirect(url_for("jobs_pages.index"))
        count = roster.import_roster(session, crypto.app_cipher(), user, team_id, stream)
    except Invalid as exc:
        context = _team_context(session, user, team_id)
        return render_template("registry/team.html", errors={}, form={},
                               import_errors=exc.details, **context), 422
    flash(_("%(count)d members imported.", count=count), "success")
    return redirect(url_for("registry_pages.team", team_id=team_id))


@bp.route("/registry/teams/<int:team_id>/export", methods=["POST"])
@allow(READERS)
def export_members(team_id):
    """Queue the roster's .xlsx export (masked) as a background job; the file is then
    downloaded from the jobs page."""
    record = filejobs.queue_export(get_session(), actor(), team_id)
    flash(_("Roster export queued as job %(id)s: follow it on the jobs page.", id=record.id),
          "success")
    return redirect(url_for("jobs_pages.index"))


def _team_refused(session, user, team_id, message, status=422, errors=None, form=None):
    """The team page again with the refusal's message and what was typed (nothing stored)."""
    flash(message, "danger")
    context = _team_context(session, user, team_id)
    return render_template("registry/team.html", errors=errors or {}, form=form or {},
                           **context), status


@bp.route("/registry/teams/<int:team_id>/status", methods=["POST"])
@allow(WRITERS)
def team_status(team_id):
    """Change a team's availability; making it unavailable needs a reason (audited)."""
    session, user = get_session(), actor()
    status, reason = request.form.get("status"), request.form.get("note", "").strip()
    current = team_service.get_team(session, user, team_id)["status"]
    if status == "unavailable" and current != "unavailable" and not reason:
        return _team_refused(session, user, team_id,
                             _("Give the reason for making the team unavailable."))
    try:
        team_service.update_team(session, user, team_id, status=status, reason=reason)
    except (Invalid, Conflict) as exc:
        return _team_refused(session, user, team_id, describe_error(exc), exc.status)
    flash(_("Status changed."), "success")
    return redirect(url_for("registry_pages.team", team_id=team_id))


@bp.route("/registry/teams/<int:team_id>/members/<int:member_id>/remove", methods=["POST"])
@allow(WRITERS)
def remove_member(team_id, member_id):
    """Remove (erase) a member of the team, with the reason kept in the audit log."""
    session, user = get_session(), actor()
    reason = request.form.get("note", "").strip()
    if not reason:
        return _team_refused(session, user, team_id, _("Give the reason for removing the member."))
    members.remove_member(session, user, member_id, reason=reason, team_id=team_id)
    flash(_("Member removed."), "success")
    return redirect(url_for("registry_pages.team", team_id=team_id))


INSURANCE_LABELS = {"member": _l("Member"), "insurer": _l("Insurer"),
                    "policy_number": _l("Policy number"), "starts_on": _l("Starts on"),
                    "ends_on": _l("Ends on"), "coverage_amount": _l("Coverage (yuan)")}
# The service's rules on a policy, as the page says them.
INSURANCE_PROBLEMS = {"ends_on": _l("The policy ends before it starts."),
                      "coverage_amount": _l("The coverage must be more than 0 yuan.")}


@bp.route("/registry/teams/<int:team_id>/insurance", methods=["POST"])
@allow(WRITERS)
def add_insurance(team_id):
    """Record an insurance policy of one of the team's members from the team page; a bad
    field is named by its label and nothing is stored."""
    session, user = get_session(), actor()
    form = request.form
    problems = {k: [_("Required.")] for k in INSURANCE_LABELS if not form.get(k, "").strip()}
    starts, ends = _date(form.get("starts_on")), _date(form.get("ends_on"))
    for key, day in (("starts_on", starts), ("ends_on", ends)):
        if form.get(key) and day is None:
            problems[key] = [_("A date (YYYY-MM-DD).")]
    member_ids = {str(m["id"]) for m in _team_context(session, user, team_id)["members"]}
    if form.get("member") and form["member"] not in member_ids:
        problems["member"] = [_("Choose a member of this team.")]
    try:
        if not problems:
            members.add_insurance(session, user, int(form["member"]), form["insurer"].strip(),
                                  form["policy_number"].strip(), starts, ends,
                                  form["coverage_amount"].strip())
    except Invalid as exc:
        problems = {k: [INSURANCE_PROBLEMS.get(k, translate_message(exc.message))]
                    for k in exc.details}
    except (ArithmeticError, ValueError):
        problems = {"coverage_amount": [_("An amount in yuan, such as 500000.")]}
    if problems:
        names = "、".join(str(INSURANCE_LABELS.get(k, k)) for k in problems)
        return _team_refused(session, user, team_id,
                             _("Please correct: %(fields)s.", fields=names),
                             errors=problems, form=form)
    flash(_("Insurance recorded."), "success")
    return redirect(url_for("registry_pages.team", team_id=team_id))


@bp.route("/maps/forces")
@allow(READERS)
def forces_map():
    """Teams on a map: coloured by category, clustered, filterable, a popup per team. The
    page embeds no team: its layers load the visible ones by viewport (maps/forces.py)."""
    session, user = get_session(), actor()
    category = request.args.get("category")
    category = category if category in TEAM_CATEGORIES else None
    overview = team_service.map_overview(session, user)
    districts = geo.district_outlines(session) if current_app.config["BASEMAP_TILE_URL"] \
        else None
    labels = {"categories": category_labels(), "statuses": status_labels(),
              "grades": {1: _("Grade 1"), 2: _("Grade 2"), 3: _("Grade 3")},
              "organisation": _("Organisation"), "category": _("Category"),
              "status": _("Status"), "grade": _("Grade"), "radius": _("Service radius"),
              "members": _("Members / insured"), "teams": _("Teams"),
              "districts": _("Districts"), "legend": _("Legend"),
              "unavailable": _("Busy or unavailable"),
              "in_view": _("%(count)s teams in view"),
              "in_squares": _("%(count)s teams in view, counted in squares: zoom in to see "
                              "each team"),
              "square": _("%(count)s teams here, %(available)s available"),
              "zoom_in": _("Zoom in")}
    fmap = forces.forces_map(overview, labels, category,
                             current_app.config["BASEMAP_TILE_URL"],
                             current_app.config["BASEMAP_ATTRIBUTION"], districts)
    return render_template("maps/map.html", title=_("Forces map"), **page_parts(fmap))
