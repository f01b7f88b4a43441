"""Plans: create, edit, version, publish, evaluate, find the applicable plan. No Flask here."""

from datetime import date, datetime

from sqlalchemy import and_, func, or_, select

from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Forbidden, Invalid, NotFound
from emergency.geo.models import Area
from emergency.geo.service import areas_at
from emergency.vocabulary import LOCAL_ZONE
from plans import content as pc
from plans import filing, incident_types
from plans.content import clean_content, evaluate_levels, forces_by_level  # noqa: F401
from plans.models import PLAN_KINDS, Drill, Plan, PlanVersion

# Chongqing regulation: drills at least yearly for every local plan; the national rule
# (every three years) is the floor for provincial special and department plans.
DRILL_INTERVAL_DEFAULTS = {"province": 36, "city": 12, "district": 12, "street": 12,
                           "community": 12}
# Chongqing regulation: city and district plans revised at least every 5 years, township
# (street) and village (community) plans every 3 years.
REVISION_INTERVAL_DEFAULTS = {"province": 60, "city": 60, "district": 60, "street": 36,
                              "community": 36}
# Allowed transitions of the working version: (from, to).
TRANSITIONS = {("draft", "in_review"), ("in_review", "published"), ("in_review", "draft"),
               ("published", "archived"), ("published", "draft"), ("archived", "draft")}
# Steps that need their reason (the note), kept in the version's history and the audit log:
# withdrawing a plan (废止) and sending one back from review (a rejection).
REASON_NEEDED = {"archived": "required: why the plan is archived (废止)",
                 ("in_review", "draft"): "required: why the plan is sent back"}


def today():
    """Today's date in China Standard Time (deadlines are local calendar days)."""
    return utcnow().astimezone(LOCAL_ZONE).date()


def add_months(day, months):
    """The same day ``months`` later, clipped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for dom in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, dom))
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover - 28 always exists


def _local_date(moment):
    """A timestamp's local calendar day."""
    return moment.astimezone(LOCAL_ZONE).date() if isinstance(moment, datetime) else moment


def refresh_due_dates(plan):
    """Recompute when the next drill and the next revision are due."""
    in_force = plan.published_version is not None and plan.status != "archived"
    reference = plan.last_drill_on or (_local_date(plan.first_published_at)
                                       if plan.first_published_at else None)
    if plan.status == "archived" or reference is None:
        plan.drill_due_on = None
    else:
        plan.drill_due_on = add_months(reference, plan.drill_interval_months)
    plan.revision_due_on = (add_months(_local_date(plan.published_at),
                                       plan.revision_interval_months)
                            if in_force and plan.published_at else None)


def _area_level(session, area_code):
    """The level of an existing area; Invalid when it does not exist."""
    level = session.scalar(select(Area.level).where(Area.code == area_code))
    if level is None:
        raise Invalid(f"unknown area {area_code}", {"area_code": [f"no area {area_code}"]})
    return level


def _check_attributes(session, data, plan=None):
    """Validate the non-versioned attributes of a plan (kind, type, area, parent, intervals)."""
    problems = {}
    if "kind" in data and data["kind"] not in PLAN_KINDS:
        problems["kind"] = [f"must be one of {', '.join(PLAN_KINDS)}"]
    if "incident_type" in data and data["incident_type"] not in incident_types.PLAN_TYPES:
        problems["incident_type"] = ["unknown incident type; see GET /plans/incident-types"]
    for key in ("drill_interval_months", "revision_interval_months"):
        value = data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or not 1 <= value <= 120):
            problems[key] = ["a whole number of months, 1 to 120"]
    if problems:
        raise Invalid("invalid plan", problems)
    parent_id = data.get("parent_id")
    if parent_id is not None:
        parent = session.get(Plan, parent_id)
        if parent is None:
            raise Invalid(f"no plan {parent_id}", {"parent_id": [f"no plan {parent_id}"]})
        ancestor, steps = parent, 0
        while ancestor is not None and steps < 100:
            if plan is not None and ancestor.id == plan.id:
                raise Invalid("a plan cannot be under itself",
                              {"parent_id": ["would make a cycle"]})
            ancestor = session.get(Plan, ancestor.parent_id) if ancestor.parent_id else None
            steps += 1


def _history_entry(to, actor, note):
    """One transition record."""
    return {"to": to, "at": utcnow().isoformat(), "by": actor or "system", "note": note or ""}


def create_plan(session, title, kind, incident_type, area_code, owner="", sections=None,
                response_levels=None, drill_interval_months=None,
                revision_interval_months=None, parent_id=None, actor=None):
    """Create a plan as draft version 1."""
    attrs = {"kind": kind, "incident_type": incident_type, "parent_id": parent_id,
             "drill_interval_months": drill_interval_months,
             "revision_interval_months": revision_interval_months}
    _check_attributes(session, attrs)
    level = _area_level(session, area_code)
    content = clean_content({"title": title, "owner": owner, "sections": sections,
                             "response_levels": response_levels})
    plan = Plan(title=content["title"], kind=kind, incident_type=incident_type,
                area_code=area_code, owner=content["owner"], parent_id=parent_id,
                status="draft", version=1,
                drill_interval_months=drill_interval_months or DRILL_INTERVAL_DEFAULTS[level],
                revision_interval_months=(revision_interval_months
                                          or REVISION_INTERVAL_DEFAULTS[level]))
    session.add(plan)
    session.flush()
    session.add(PlanVersion(plan_id=plan.id, version=1, status="draft", content=content,
                            history=[_history_entry("draft", actor, "created")]))
    session.flush()
    return plan


def get_plan(session, plan_id, lock=False):
    """The plan or NotFound."""
    return get_or_404(session, Plan, plan_id, "plan", lock=lock)


def get_version(session, plan_id, version):
    """One version of a plan or NotFound."""
    row = session.scalar(select(PlanVersion).where(PlanVersion.plan_id == plan_id,
                                                   PlanVersion.version == version))
    if row is None:
        raise NotFound(f"plan {plan_id} has no version {version}")
    return row


def working_version(session, plan):
    """The version being worked on (the latest)."""
    return get_version(session, plan.id, plan.version)


def in_force_version(session, plan):
    """The published version in force, or None."""
    if plan.published_version is None or plan.status == "archived":
        return None
    return get_version(session, plan.id, plan.published_version)


def update_plan(session, plan_id, changes, actor=None):
    """Edit a plan; editing a published plan opens a new draft version, the old stays in force."""
    plan = get_plan(session, plan_id, lock=True)
    attrs = {k: v for k, v in changes.items() if k not in pc.CONTENT_FIELDS}
    edits = {k: v for k, v in changes.items() if k in pc.CONTENT_FIELDS}
    if plan.status == "archived":
        raise Conflict("an archived plan cannot be edited; move it back to draft first")
    _check_attributes(session, attrs, plan)
    if "area_code" in attrs:
        _area_level(session, attrs["area_code"])
    current = working_version(session, plan)
    if edits:
        content = clean_content({**current.content, **edits})
        if content != current.content:
            if plan.status == "in_review":
                raise Conflict("the plan is under review; send it back to draft to edit it")
            if plan.status == "published":
                current = _new_draft(session, plan, current, content, actor, "edited")
            else:
                current.content = content
            plan.title, plan.owner = content["title"], content["owner"]
    for key, value in attrs.items():
        setattr(plan, key, value)
    refresh_due_dates(plan)
    session.flush()
    return plan


def _new_draft(session, plan, source, content, actor, note):
    """Open the next version as a draft copy of ``content``."""
    version = PlanVersion(plan_id=plan.id, version=plan.version + 1, status="draft",
                          content=content, history=[_history_entry("draft", actor, note)])
    session.add(version)
    plan.version, plan.status = version.version, "draft"
    session.flush()
    return version


def transition(session, plan_id, to, note="", actor=None):
    """Move the working version along draft → in_review → published → archived (or to draft)."""
    plan = get_plan(session, plan_id, lock=True)
    current = working_version(session, plan)
    start = plan.status
    # A plan whose version in force has a pending draft may still be withdrawn as a whole.
    withdraw = (to == "archived" and start in ("draft", "in_review")
                and plan.published_version is not None)
    if (start, to) not in TRANSITIONS and not withdraw:
        raise Conflict(f"a plan cannot go from {start} to {to}",
                       {"to": [f"not allowed from {start}"]}, code="illegal_transition")
    _check_reason(start, to, note)
    if to == "published":
        _check_four_eyes(current, actor)
    entry = _history_entry(to, actor, note)
    now = utcnow()
    if to == "published":
        if plan.published_version is not None:
            previous = get_version(session, plan.id, plan.published_version)
            previous.status = "superseded"
        current.status, current.published_at = "published", now
        plan.published_version, plan.published_at = current.version, now
        plan.first_published_at = plan.first_published_at or now
        plan.status = "published"
        current.history = [*current.history, entry]
    elif to == "archived":
        for version in session.scalars(select(PlanVersion).where(
                PlanVersion.plan_id == plan.id,
                PlanVersion.status.in_(("published", "draft", "in_review")))):
            version.status = "archived"
        current.history = [*current.history, entry]
        plan.status = "archived"
    elif start in ("published", "archived"):
        # Back to draft from a frozen version: a new version, the frozen one untouched.
        if start == "archived":
            plan.published_version, plan.published_at = None, None
        _new_draft(session, plan, current, current.content, actor, note or f"from {start}")
    else:
        current.status = to
        current.history = [*current.history, entry]
        plan.status = to
    refresh_due_dates(plan)
    session.flush()
    return plan


def _check_reason(start, to, note):
    """Invalid when the step needs a reason and the note gives none."""
    needed = REASON_NEEDED.get((start, to)) or REASON_NEEDED.get(to)
    if needed and not (note or "").strip():
        raise Invalid("a reason is required for this step", {"note": [needed]},
                      code="reason_required")


def submitted_by(version):
    """Who last submitted the version for review (its latest in_review entry), or None."""
    for entry in reversed(version.history or []):
        if entry.get("to") == "in_review":
            return entry.get("by")
    return None


def _check_four_eyes(version, actor):
    """Forbidden when the one who submitted the version for review would publish it."""
    if actor and submitted_by(version) == actor:
        raise Forbidden("you submitted this plan for review: another planner or administrator "
                        "must publish it", {"to": ["four eyes: not by who submitted it"]},
                        code="four_eyes")


def list_versions(session, plan_id):
    """Every version of a plan, oldest first."""
    get_plan(session, plan_id)
    return list(session.scalars(select(PlanVersion).where(PlanVersion.plan_id == plan_id)
                                .order_by(PlanVersion.version)))


def version_diff(session, plan_id, left, right, lang="zh"):
    """Side-by-side difference between two versions of a plan, as sentences in ``lang``."""
    a, b = get_version(session, plan_id, left), get_version(session, plan_id, right)
    return {"plan_id": plan_id, "from": left, "to": right,
            "rows": pc.diff_rows(a.content, b.content, lang)}


def _plan_filters(query_args):
    """SQL conditions of the list filters."""
    where = []
    for key in ("kind", "incident_type", "area_code", "status", "parent_id"):
        if query_args.get(key) is not None:
            where.append(getattr(Plan, key) == query_args[key])
    if query_args.get("q"):
        where.append(Plan.title.contains(query_args["q"]))
    day = today()
    overdue = query_args.get("drill_overdue")
    if overdue is True:
        where.append(and_(Plan.drill_due_on.is_not(None), Plan.drill_due_on < day))
    elif overdue is False:
        where.append(or_(Plan.drill_due_on.is_(None), Plan.drill_due_on >= day))
    overdue = query_args.get("revision_overdue")
    if overdue is True:
        where.append(and_(Plan.revision_due_on.is_not(None), Plan.revision_due_on < day))
    elif overdue is False:
        where.append(or_(Plan.revision_due_on.is_(None), Plan.revision_due_on >= day))
    if query_args.get("in_force") is True:
        where.append(and_(Plan.published_version.is_not(None), Plan.status != "archived"))
    overdue = query_args.get("filing_overdue")
    if overdue is not None:
        where.append(filing.overdue_filter(day, filing.filing_days(), overdue))
    if query_args.get("filed") is not None:
        where.append(filing.filed_filter(query_args["filed"]))
    return where


def list_plans(session, limit=100, offset=0, **filters):
    """Plans matching the filters, newest first, with the total count."""
    where = _plan_filters(filters)
    total = session.scalar(select(func.count()).select_from(Plan).where(*where))
    plans = session.scalars(select(Plan).where(*where).order_by(Plan.area_code, Plan.id)
                            .limit(limit).offset(offset))
    return list(plans), total


def plan_dict(session, plan, with_content=True, filings=None):
    """A plan as the API shows it: attributes, deadlines, filing and the working content
    (``filings``: the lists' prefetched ``filing.filings_for``)."""
    day = today()
    record = {
        "id": plan.id, "title": plan.title, "kind": plan.kind,
        "incident_type": plan.incident_type,
        "incident_type_label": incident_types.label(plan.incident_type),
        "area_code": plan.area_code, "owner": plan.owner, "parent_id": plan.parent_id,
        "status": plan.status, "version": plan.version,
        "published_version": plan.published_version,
        "in_force": plan.published_version is not None and plan.status != "archived",
        "drill_interval_months": plan.drill_interval_months,
        "revision_interval_months": plan.revision_interval_months,
        "first_published_at": plan.first_published_at, "published_at": plan.published_at,
        "last_drill_on": plan.last_drill_on, "drill_due_on": plan.drill_due_on,
        "drill_overdue": bool(plan.drill_due_on and plan.drill_due_on < day),
        "revision_due_on": plan.revision_due_on,
        "revision_overdue": bool(plan.revision_due_on and plan.revision_due_on < day),
        "created_at": plan.created_at, "updated_at": plan.updated_at,
        **filing.fields(session, plan, day, filings),
    }
    if with_content:
        content = working_version(session, plan).content
        record["sections"] = content["sections"]
        record["response_levels"] = content["response_levels"]
    return record


def version_dict(version):
    """A version as the API shows it."""
    return {"version": version.version, "status": version.status, "content": version.content,
            "history": version.history, "created_at": version.created_at,
            "published_at": version.published_at}


def evaluate_plan(session, plan_id, metrics):
    """Evaluate metrics against the version in force (or the working one if none is)."""
    plan = get_plan(session, plan_id)
    version = in_force_version(session, plan) or working_version(session, plan)
    result = evaluate_levels(version.content["response_levels"], metrics)
    level = result["level"]
    forces = forces_by_level(version.content["response_levels"]).get(level, [])
    return {**result, "plan_id": plan.id, "version": version.version,
            "required_forces": forces}


def applicable_plan(session, incident_type, lon, lat):
    """The published plan for the type whose area is the most local containing the point.

    Exact type matches win over category plans, which win over general (overall) plans;
    within each, the most local area wins. Returns a dict or None.
    """
    codes = areas_at(session, lon, lat)
    if not codes:
        return None
    types = incident_types.matching_plan_types(incident_type)
    plans = list(session.scalars(select(Plan).where(
        Plan.incident_type.in_(types), Plan.area_code.in_(codes),
        Plan.published_version.is_not(None), Plan.status != "archived")))
    if not plans:
        return None
    plans.sort(key=lambda p: (types.index(p.incident_type), codes.index(p.area_code),
                              p.kind != "special", p.id))
    plan = plans[0]
    version = in_force_version(session, plan)
    content = version.content
    return {"id": plan.id, "title": content["title"], "version": version.version,
            "kind": plan.kind, "incident_type": plan.incident_type,
            "area_code": plan.area_code, "owner": content["owner"],
            "response_levels": content["response_levels"],
            "required_forces": forces_by_level(content["response_levels"])}


def plan_children(session, plan_id):
    """Plans directly under a plan."""
    return list(session.scalars(select(Plan).where(Plan.parent_id == plan_id)
                                .order_by(Plan.area_code, Plan.id)))


def last_drill_on(session, plan_id):
    """The date of the latest drill of a plan, or None."""
    return session.scalar(select(func.max(Drill.held_on)).where(Drill.plan_id == plan_id))
