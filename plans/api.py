"""JSON API for plans, their versions, response-level evaluation and drills, and the
pickers of metrics, teams and members (names, not keys or ids)."""

from flask_babel import get_locale

from emergency.auth.permissions import actor, allow, require_area_scope
from emergency.auth.roles import ADMIN, BUREAU, EVERYONE, ORG_ADMIN, PLANNER
from emergency.db import get_session
from emergency.jsonbody import Blueprint
from emergency.schemas import items_schema
from emergency.vocabulary import CATEGORY_LABELS
from plans import drills, filing, incident_types, lookup, schemas, service
from plans import metrics as pm

blp = Blueprint("plans", __name__, url_prefix="/api/v1",
                description="Emergency plans, response levels, versions and drills")

WRITERS = (ADMIN, PLANNER)


def _lang():
    """The language of the answer's words: zh or en."""
    return "en" if str(get_locale() or "zh").startswith("en") else "zh"


def _username():
    """The signed-in user's name for transition history."""
    user = actor()
    return user.username if user else None


def _plan_out(plan_id):
    """The plan as returned after a change."""
    session = get_session()
    return service.plan_dict(session, service.get_plan(session, plan_id))


def _scope(area_codes):
    """District-scoped bureau staff write only plans of their district."""
    require_area_scope(actor(), [c for c in area_codes if c])


@blp.route("/plans/incident-types", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, items_schema(schemas.PlanIncidentTypeOut, "PlanIncidentTypeList"))
def list_incident_types():
    """Incident types (national four categories and subtypes) with Chinese labels."""
    items = incident_types.catalogue()
    return {"items": items, "total": len(items)}


@blp.route("/plans", methods=["POST"])
@allow(*WRITERS)
@blp.arguments(schemas.PlanIn)
@blp.response(201, schemas.PlanOut)
def create_plan(body):
    """Create a plan: draft, version 1."""
    _scope([body["area_code"]])
    plan = service.create_plan(get_session(), **body, actor=_username())
    return _plan_out(plan.id)


@blp.route("/plans", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.PlanQuery, location="query")
@blp.response(200, items_schema(schemas.PlanOut, "PlanList"))
def list_plans(query):
    """Plans (filters kind, incident_type, area_code, status, drill_overdue, ...)."""
    session = get_session()
    plans, total = service.list_plans(session, **query)
    filings = filing.filings_for(session, plans)
    return {"items": [service.plan_dict(session, p, with_content=False, filings=filings)
                      for p in plans], "total": total}


@blp.route("/plans/<int:plan_id>", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, schemas.PlanOut)
def get_plan(plan_id):
    """One plan with the working version's content."""
    return _plan_out(plan_id)


@blp.route("/plans/<int:plan_id>", methods=["PATCH"])
@allow(*WRITERS)
@blp.arguments(schemas.PlanPatch)
@blp.response(200, schemas.PlanOut)
def update_plan(body, plan_id):
    """Edit a plan; a published plan gets a new draft version, the old stays in force."""
    session = get_session()
    _scope([service.get_plan(session, plan_id).area_code, body.get("area_code")])
    service.update_plan(session, plan_id, body, actor=_username())
    return _plan_out(plan_id)


@blp.route("/plans/<int:plan_id>/versions", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, items_schema(schemas.PlanVersionOut, "PlanVersionList"))
def list_versions(plan_id):
    """Every version of the plan, the current draft included."""
    versions = service.list_versions(get_session(), plan_id)
    return {"items": [service.version_dict(v) for v in versions], "total": len(versions)}


@blp.route("/plans/<int:plan_id>/versions/<int:version>", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, schemas.PlanVersionOut)
def get_version(plan_id, version):
    """One version of the plan."""
    return service.version_dict(service.get_version(get_session(), plan_id, version))


@blp.route("/plans/<int:plan_id>/diff", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.PlanDiffQuery, location="query")
@blp.response(200, schemas.PlanDiffOut)
def diff_versions(query, plan_id):
    """Side-by-side difference of two versions (default: in force vs working)."""
    session = get_session()
    plan = service.get_plan(session, plan_id)
    right = query.get("to") or plan.version
    left = query.get("from_") or plan.published_version or max(1, right - 1)
    result = service.version_diff(session, plan_id, left, right, lang=_lang())
    return {**result, "from_": result.pop("from")}


@blp.route("/plans/<int:plan_id>/transition", methods=["POST"])
@allow(*WRITERS)
@blp.arguments(schemas.PlanTransitionIn)
@blp.response(200, schemas.PlanOut)
def transition(body, plan_id):
    """Move the plan along draft → in_review → published → archived, or back to draft."""
    session = get_session()
    _scope([service.get_plan(session, plan_id).area_code])
    service.transition(session, plan_id, body["to"], body["note"], actor=_username())
    return _plan_out(plan_id)


@blp.route("/plans/<int:plan_id>/filing", methods=["POST"])
@allow(*WRITERS)
@blp.arguments(schemas.PlanFilingIn)
@blp.response(201, schemas.PlanOut)
@blp.alt_response(200, schema=schemas.PlanOut, description="the same filing again: the plan "
                  "as it is")
def record_filing(body, plan_id):
    """Record the filing (备案) of the version in force with the higher authority; only a
    published plan (409 otherwise); filed_on between publication and today (422 otherwise)."""
    session = get_session()
    plan = service.get_plan(session, plan_id, lock=True)
    _scope([plan.area_code])
    _row, created = filing.record_filing(session, plan, **body, today=service.today(),
                                         actor=_username())
    return _plan_out(plan_id), 201 if created else 200


@blp.route("/plans/<int:plan_id>/filings", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, items_schema(schemas.PlanFilingOut, "PlanFilingList"))
def list_filings(plan_id):
    """Every filing of the plan, one per filed version, newest version first."""
    session = get_session()
    service.get_plan(session, plan_id)
    rows = filing.list_filings(session, plan_id)
    return {"items": [filing.filing_dict(r) for r in rows], "total": len(rows)}


@blp.route("/plans/<int:plan_id>/evaluate", methods=["POST"])
@allow(EVERYONE)
@blp.arguments(schemas.PlanEvaluateIn)
@blp.response(200, schemas.PlanEvaluateOut)
def evaluate(body, plan_id):
    """The response level the metrics trigger (null when none)."""
    return service.evaluate_plan(get_session(), plan_id, body["metrics"])


@blp.route("/plans/<int:plan_id>/drills", methods=["POST"])
@allow(*WRITERS)
@blp.arguments(schemas.DrillIn)
@blp.response(201, schemas.DrillOut)
def create_drill(body, plan_id):
    """Record a drill of the plan (a retried identical submission gives 200 and the same drill)."""
    session = get_session()
    _scope([service.get_plan(session, plan_id).area_code])
    drill = drills.create_drill(session, plan_id, **body)
    record = drills.drill_dicts(session, [drill])[0]
    return record, 200 if getattr(drill, "replayed", False) else 201


@blp.route("/plans/<int:plan_id>/drills", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.DrillQuery, location="query")
@blp.response(200, items_schema(schemas.DrillOut, "DrillList"))
def list_drills(query, plan_id):
    """Drills of the plan, latest first."""
    session = get_session()
    found, total = drills.list_drills(session, plan_id=plan_id, **query)
    return {"items": drills.drill_dicts(session, found), "total": total}


@blp.route("/drills/<int:drill_id>", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, schemas.DrillOut)
def get_drill(drill_id):
    """One drill with its teams and findings."""
    session = get_session()
    return drills.drill_dicts(session, [drills.get_drill(session, drill_id)])[0]


@blp.route("/drills/<int:drill_id>/findings", methods=["POST"])
@allow(*WRITERS)
@blp.arguments(schemas.DrillFindingIn)
@blp.response(201, schemas.DrillFindingOut)
def add_finding(body, drill_id):
    """Add a finding with its corrective action to a drill."""
    session = get_session()
    drill = drills.get_drill(session, drill_id)
    _scope([service.get_plan(session, drill.plan_id).area_code])
    return drills.finding_dict(drills.add_finding(session, drill_id, body))


@blp.route("/drills/<int:drill_id>/findings/<int:finding_id>", methods=["PATCH"])
@allow(*WRITERS)
@blp.arguments(schemas.DrillFindingPatch)
@blp.response(200, schemas.DrillFindingOut)
def update_finding(body, drill_id, finding_id):
    """Update a corrective action: owner, status, due date."""
    session = get_session()
    drill = drills.get_drill(session, drill_id)
    _scope([service.get_plan(session, drill.plan_id).area_code])
    return drills.finding_dict(drills.update_finding(session, drill_id, finding_id, body))


@blp.route("/plans/metrics", methods=["GET"])
@allow(EVERYONE)
@blp.response(200, items_schema(schemas.PickChoice, "PlanMetricList"))
def list_metrics():
    """The metrics triggers use: key, name and unit in the user's language, other names."""
    items = pm.catalogue(_lang())
    return {"items": items, "total": len(items)}


@blp.route("/pick/metrics", methods=["GET"])
@allow(EVERYONE)
@blp.arguments(schemas.PickQuery, location="query")
@blp.response(200, items_schema(schemas.PickChoice, "MetricPickList"))
def pick_metrics(query):
    """Metrics for a picker: by Chinese or English name (死亡人数), pinyin initials or key."""
    items = lookup.pick_metrics(query["q"], _lang(), query["limit"])
    return {"items": items, "total": len(items)}


@blp.route("/pick/teams", methods=["GET"])
@allow(BUREAU | {ORG_ADMIN})
@blp.arguments(schemas.TeamPickQuery, location="query")
@blp.response(200, items_schema(schemas.PickChoice, "TeamPickList"))
def pick_teams(query):
    """Rescue teams for a picker ("organisation · team"): by team or organisation name,
    pinyin initials or id; only the teams the user may read."""
    found = lookup.pick_teams(get_session(), actor(), query["q"], category=query.get("category"),
                              limit=query["limit"])
    items = [{**t, "value": str(t["id"]), "label": f"{t['org_name']} · {t['name']}",
              "hint": str(CATEGORY_LABELS.get(t["category"], t["category"]))} for t in found]
    return {"items": items, "total": len(items)}


@blp.route("/pick/teams/<int:team_id>/members", methods=["GET"])
@allow(BUREAU | {ORG_ADMIN})
@blp.arguments(schemas.PickQuery, location="query")
@blp.response(200, items_schema(schemas.PickChoice, "MemberPickList"))
def pick_members(query, team_id):
    """Members of a team for a picker: by name or pinyin initials (no personal data)."""
    found = lookup.pick_members(get_session(), actor(), team_id, query["q"], query["limit"])
    items = [{**m, "value": str(m["id"]), "label": m["name"], "hint": "、".join(m["skills"])}
             for m in found]
    return {"items": items, "total": len(items)}
