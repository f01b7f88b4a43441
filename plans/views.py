"""HTML pages for plans: list, detail, editor, version diff, printable plan and response cards."""

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale, lazy_pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from emergency.auth.permissions import actor, allow
from emergency.auth.roles import ADMIN, EVERYONE, PLANNER
from emergency.db import get_session
from emergency.errors import NotFound
from emergency.geo import service as geo
from emergency.vocabulary import CATEGORY_LABELS, TEAM_CATEGORIES
from plans import content as pc
from plans import drills, filing, incident_types, service
from plans import metrics as pm
from plans.models import DRILL_KINDS, OPERATORS, PLAN_KINDS, PLAN_STATUSES

bp = Blueprint("plans_pages", __name__, url_prefix="/plans", template_folder="templates",
               static_folder="static", static_url_path="/static")

WRITERS = frozenset({ADMIN, PLANNER})
NAV = [("plans_pages.index", _l("Emergency plans"), None)]

KIND_LABELS = {"overall": _l("Overall plan"), "special": _l("Special plan"),
               "department": _l("Department plan"), "grassroots": _l("Grassroots plan"),
               "event": _l("Major event plan")}
STATUS_LABELS = {"draft": _l("Draft"), "in_review": _l("In review"),
                 "published": lazy_pgettext("plan status", "Published"), "archived": _l("Archived"),
                 "superseded": _l("Superseded")}
DRILL_LABELS = {"tabletop": _l("Tabletop"), "functional": _l("Functional"),
                "full_scale": _l("Full-scale"), "double_blind": _l("Double-blind")}
FINDING_LABELS = {"open": lazy_pgettext("finding status", "Open"), "in_progress": _l("In progress"),
                  "done": _l("Done")}
LEVEL_LABELS = {1: _l("Level I (most severe)"), 2: _l("Level II"), 3: _l("Level III"),
                4: _l("Level IV")}
# Which transitions a page offers for each status (the service enforces the rules).
NEXT_STEPS = {"draft": ("in_review",), "in_review": ("published", "draft"),
              "published": ("archived", "draft"), "archived": ("draft",)}
STEP_LABELS = {"in_review": _l("Submit for review"), "published": _l("Publish"),
               "draft": _l("Back to draft"), "archived": _l("Archive")}
# What the confirmation dialog of each step says; "reason" marks the steps whose note is
# required (the service refuses them without one).
STEP_DIALOGS = {
    "in_review": {"title": _l("Submit the plan for review?"),
                  "text": _l("The plan cannot be edited while it is under review."),
                  "confirm": _l("Submit for review"), "reason": False},
    "published": {"title": _l("Publish this version?"),
                  "text": _l("Publishing freezes this version and puts it in force; later "
                             "edits make a new version."),
                  "confirm": _l("Publish"), "reason": False},
    "draft": {"title": _l("Back to draft?"),
              "text": _l("A new draft version is opened; the version in force stays in force "
                         "until the new one is published."),
              "confirm": _l("Back to draft"), "reason": False},
    "send_back": {"title": _l("Send the plan back?"),
                  "text": _l("The plan goes back to its author as a draft. Say what must "
                             "change."),
                  "confirm": _l("Send back"), "reason": True},
    "archived": {"title": _l("Archive (withdraw) this plan?"),
                 "text": _l("The plan is withdrawn as a whole and no longer applies to "
                            "incidents. The reason is kept in the plan's history and the "
                            "audit log."),
                 "confirm": _l("Archive the plan"), "reason": True},
}


def _lang():
    """The page language, zh or en."""
    return "en" if str(get_locale() or "zh").startswith("en") else "zh"


@bp.app_context_processor
def _plan_labels():
    """Label tables for the plans templates."""
    return {"plan_kind_labels": KIND_LABELS, "plan_status_labels": STATUS_LABELS,
            "drill_kind_labels": DRILL_LABELS, "force_labels": CATEGORY_LABELS,
            "finding_labels": FINDING_LABELS, "level_labels": LEVEL_LABELS,
            "incident_label": lambda key: incident_types.label(key, _lang()),
            "metric_label": lambda key: pm.label(key, _lang()),
            "criterion_text": lambda criterion: pc.criterion_text(criterion, _lang()),
            "picker_texts": picker_texts}


def picker_texts():
    """The picker's texts (picker.js) as its data attributes, in the page's language."""
    return {"data-text-none": _("No matches"), "data-text-count": _("{n} results"),
            "data-text-remove": _("Remove")}


def _dialogs(status):
    """The confirmation dialog of each step offered from ``status``, keyed by target status
    (sending back from review is the dialog that asks why)."""
    dialogs = {}
    for step in NEXT_STEPS.get(status, ()):
        spec = STEP_DIALOGS["send_back" if (status, step) == ("in_review", "draft") else step]
        dialogs[step] = {k: v if k == "reason" else str(v) for k, v in spec.items()}
    return dialogs


def _can_write():
    """True when the signed-in user may edit plans."""
    user = actor()
    return user is not None and user.role in WRITERS


def _filters():
    """List filters from the query string, invalid values dropped."""
    args = request.args
    filters = {}
    if args.get("kind") in PLAN_KINDS:
        filters["kind"] = args["kind"]
    if args.get("incident_type") in incident_types.PLAN_TYPES:
        filters["incident_type"] = args["incident_type"]
    if args.get("status") in PLAN_STATUSES:
        filters["status"] = args["status"]
    if args.get("area_code", "").isdigit():
        filters["area_code"] = args["area_code"]
    for key in ("drill_overdue", "revision_overdue", "filing_overdue"):
        if args.get(key) == "true":
            filters[key] = True
    if args.get("filed") in ("true", "false"):
        filters["filed"] = args["filed"] == "true"
    if args.get("q"):
        filters["q"] = args["q"][:100]
    return filters


def _area_names(session, codes):
    """Names of areas by code."""
    names = {}
    for code in set(codes):
        try:
            names[code] = geo.get_area(session, code)["name"]
        except NotFound:
            names[code] = code
    return names


@bp.route("/")
@allow(EVERYONE)
def index():
    """Plan list with filters and overdue badges."""
    session = get_session()
    filters = _filters()
    page = max(0, request.args.get("page", 0, type=int))
    plans, total = service.list_plans(session, limit=50, offset=page * 50, **filters)
    filings = filing.filings_for(session, plans)
    records = [service.plan_dict(session, p, with_content=False, filings=filings)
               for p in plans]
    return render_template("plans/list.html", plans=records, total=total, page=page,
                           filters=filters, kinds=PLAN_KINDS, statuses=PLAN_STATUSES,
                           types=incident_types.catalogue(),
                           areas=_area_names(session, [r["area_code"] for r in records]),
                           can_write=_can_write())


def _plan_or_404(session, plan_id):
    """The plan's record or a 404 page."""
    try:
        return service.plan_dict(session, service.get_plan(session, plan_id))
    except NotFound:
        abort(404)


@bp.route("/<int:plan_id>")
@allow(EVERYONE)
def detail(plan_id):
    """A plan: content, versions, lifecycle buttons, drills and findings."""
    session = get_session()
    plan = _plan_or_404(session, plan_id)
    versions = [service.version_dict(v) for v in service.list_versions(session, plan_id)]
    found, _total = drills.list_drills(session, plan_id=plan_id, limit=200)
    parent = (service.plan_dict(session, service.get_plan(session, plan["parent_id"]), False)
              if plan["parent_id"] else None)
    children = [service.plan_dict(session, p, False)
                for p in service.plan_children(session, plan_id)]
    user = actor()
    submitter = (service.submitted_by(service.working_version(session, service.get_plan(
        session, plan_id))) if plan["status"] == "in_review" else None)
    return render_template("plans/detail.html", plan=plan, versions=versions,
                           drills=drills.drill_dicts(session, found), parent=parent,
                           children=children, can_write=_can_write(),
                           next_steps=NEXT_STEPS.get(plan["status"], ()),
                           own_submission=bool(user and submitter == user.username),
                           filings=[filing.filing_dict(f)
                                    for f in filing.list_filings(session, plan_id)],
                           filing_days=filing.filing_days(), today=service.today(),
                           published_on=filing.published_on(service.get_plan(session,
                                                                             plan_id)),
                           dialogs=_dialogs(plan["status"]),
                           step_labels=STEP_LABELS, drill_kinds=DRILL_KINDS,
                           area=_area_names(session, [plan["area_code"]])[plan["area_code"]])


def _editor(plan):
    """Render the editor for a plan dict (or a blank one)."""
    session = get_session()
    parents, _total = service.list_plans(session, kind="overall", limit=200)
    options = {
        "kinds": [[k, str(KIND_LABELS[k])] for k in PLAN_KINDS],
        "types": [[t["key"], t["label_zh"] if _lang() == "zh" else t["label_en"]]
                  for t in incident_types.catalogue()],
        "area_name": (_area_names(session, [plan["area_code"]])[plan["area_code"]]
                      if plan else ""),
        "parents": [[p.id, p.title] for p in parents if not plan or p.id != plan.get("id")],
        "ops": list(OPERATORS),
        "categories": [[c, str(CATEGORY_LABELS[c])] for c in TEAM_CATEGORIES],
        "metrics": {m["key"]: m["label"] for m in pm.catalogue(_lang())},
        "levels": {str(k): str(v) for k, v in LEVEL_LABELS.items()},
    }
    return render_template("plans/editor.html", plan=plan, plan_data=plan or {},
                           options=options)


@bp.route("/new")
@allow(WRITERS)
def new():
    """The editor for a new plan."""
    return _editor(None)


@bp.route("/<int:plan_id>/edit")
@allow(WRITERS)
def edit(plan_id):
    """The plan editor: sections, response-level table, duties, required forces."""
    return _editor(_plan_or_404(get_session(), plan_id))


@bp.route("/<int:plan_id>/diff")
@allow(EVERYONE)
def diff(plan_id):
    """Two versions side by side."""
    session = get_session()
    plan = _plan_or_404(session, plan_id)
    right = request.args.get("to", type=int) or plan["version"]
    left = (request.args.get("from", type=int) or plan["published_version"]
            or max(1, right - 1))
    try:
        result = service.version_diff(session, plan_id, left, right, lang=_lang())
    except NotFound:
        abort(404)
    versions = [v.version for v in service.list_versions(session, plan_id)]
    return render_template("plans/diff.html", plan=plan, diff=result, versions=versions)


def _printable(session, plan_id):
    """The plan and the content of the requested (or in-force, or working) version."""
    plan = _plan_or_404(session, plan_id)
    number = (request.args.get("version", type=int) or plan["published_version"]
              or plan["version"])
    try:
        version = service.version_dict(service.get_version(session, plan_id, number))
    except NotFound:
        abort(404)
    return plan, version


@bp.route("/<int:plan_id>/print")
@allow(EVERYONE)
def printable(plan_id):
    """The plan as a printable document."""
    session = get_session()
    plan, version = _printable(session, plan_id)
    return render_template("plans/print.html", plan=plan, version=version,
                           area=_area_names(session, [plan["area_code"]])[plan["area_code"]])


@bp.route("/<int:plan_id>/card/<int:level>")
@allow(EVERYONE)
def card(plan_id, level):
    """The printable response card (响应卡) of one level."""
    session = get_session()
    plan, version = _printable(session, plan_id)
    found = [lv for lv in version["content"]["response_levels"] if lv["level"] == level]
    if not found:
        abort(404)
    return render_template("plans/card.html", plan=plan, version=version, level=found[0],
                           area=_area_names(session, [plan["area_code"]])[plan["area_code"]])
