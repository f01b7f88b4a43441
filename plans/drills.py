"""Drills of plans, their participating teams and findings with corrective actions."""

from datetime import date

from sqlalchemy import column, func, inspect, select, table

from emergency.db import get_or_404
from emergency.errors import Conflict, Invalid, NotFound
from plans import service
from plans.models import DRILL_KINDS, FINDING_STATUSES, Drill, DrillFinding, DrillTeam

# The registry's table, read without importing its models (the registry may be absent).
TEAMS = table("teams", column("id"), column("name"), column("category"))


def _registry_present(session):
    """True when the registry's teams table exists in this database."""
    return inspect(session.connection()).has_table("teams")


def _teams(session, ids):
    """``{id: {id, name, category}}`` of the registry teams among ``ids``."""
    if not ids or not _registry_present(session):
        return {}
    rows = session.execute(select(TEAMS.c.id, TEAMS.c.name, TEAMS.c.category)
                           .where(TEAMS.c.id.in_(list(ids))))
    return {r.id: {"id": r.id, "name": r.name, "category": r.category} for r in rows}


def _check_teams(session, team_ids):
    """Unique team ids that exist in the registry (when it is installed)."""
    problems = {}
    unique = []
    for i, team_id in enumerate(team_ids or []):
        if not isinstance(team_id, int) or isinstance(team_id, bool) or team_id < 1:
            problems[f"team_ids.{i}"] = ["must be a team id"]
        elif team_id not in unique:
            unique.append(team_id)
    if not problems and unique and _registry_present(session):
        known = _teams(session, unique)
        for i, team_id in enumerate(team_ids):
            if team_id not in known:
                problems[f"team_ids.{i}"] = [f"no team {team_id}"]
    if problems:
        raise Invalid("unknown teams", problems)
    return unique


def normalise_findings(findings):
    """Findings as a list of dicts; a plain string or strings become descriptions."""
    if findings is None or findings == "":
        return []
    if isinstance(findings, str):
        return [{"description": findings}]
    if not isinstance(findings, list):
        raise Invalid("findings must be text or a list", {"findings": ["text or a list"]})
    return [{"description": f} if isinstance(f, str) else f for f in findings]


def _check_finding(raw, key, problems):
    """One finding, checked: description, corrective action, owner, status, due date."""
    if not isinstance(raw, dict):
        problems[key] = ["must be text or an object"]
        return None
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        problems[f"{key}.description"] = ["required"]
    status = raw.get("status") or "open"
    if status not in FINDING_STATUSES:
        problems[f"{key}.status"] = [f"must be one of {', '.join(FINDING_STATUSES)}"]
    due_on = raw.get("due_on")
    if isinstance(due_on, str):
        try:
            due_on = date.fromisoformat(due_on)
        except ValueError:
            problems[f"{key}.due_on"] = ["a date YYYY-MM-DD"]
    elif due_on is not None and not isinstance(due_on, date):
        problems[f"{key}.due_on"] = ["a date YYYY-MM-DD"]
    texts = {}
    for name, maximum in (("corrective_action", 4000), ("owner", 200)):
        value = raw.get(name) or ""
        if not isinstance(value, str) or len(value) > maximum:
            problems[f"{key}.{name}"] = [f"text of at most {maximum} characters"]
        texts[name] = value.strip() if isinstance(value, str) else ""
    return {"description": (description or "").strip() if isinstance(description, str)
            else "", "status": status, "due_on": due_on, **texts}


def create_drill(session, plan_id, held_on, kind, team_ids=None, findings=None, title="",
                 scenario="", location="", participants=None):
    """Record a drill of a plan; the plan's drill deadline moves on."""
    plan = service.get_plan(session, plan_id, lock=True)
    if plan.status == "archived":
        raise Conflict("an archived plan is not drilled")
    problems = {}
    if kind not in DRILL_KINDS:
        problems["kind"] = [f"must be one of {', '.join(DRILL_KINDS)}"]
    if held_on > service.today():
        problems["held_on"] = ["a drill that was held: not in the future"]
    items = normalise_findings(findings)
    checked = [_check_finding(f, f"findings.{i}", problems) for i, f in enumerate(items)]
    if problems:
        raise Invalid("invalid drill", problems)
    teams = _check_teams(session, team_ids)
    # A retried submission (same plan, day, kind, title and place) returns the first record.
    same = session.scalar(select(Drill).where(
        Drill.plan_id == plan.id, Drill.held_on == held_on, Drill.kind == kind,
        Drill.title == (title or ""), Drill.location == (location or "")))
    if same is not None:
        same.replayed = True
        return same
    drill = Drill(plan_id=plan.id, plan_version=plan.published_version, held_on=held_on,
                  kind=kind, title=title or "", scenario=scenario or "",
                  location=location or "", participants=participants)
    session.add(drill)
    session.flush()
    session.add_all([DrillTeam(drill_id=drill.id, team_id=t) for t in teams])
    session.add_all([DrillFinding(drill_id=drill.id, **f) for f in checked])
    if plan.last_drill_on is None or held_on > plan.last_drill_on:
        plan.last_drill_on = held_on
    service.refresh_due_dates(plan)
    session.flush()
    return drill


def get_drill(session, drill_id):
    """A drill or NotFound."""
    return get_or_404(session, Drill, drill_id, "drill")


def list_drills(session, plan_id=None, team_id=None, limit=100, offset=0):
    """Drills, latest first, of a plan or with a team, with the total count."""
    where = []
    if plan_id is not None:
        service.get_plan(session, plan_id)
        where.append(Drill.plan_id == plan_id)
    if team_id is not None:
        where.append(Drill.id.in_(select(DrillTeam.drill_id).where(DrillTeam.team_id == team_id)))
    total = session.scalar(select(func.count()).select_from(Drill).where(*where))
    drills = session.scalars(select(Drill).where(*where)
                             .order_by(Drill.held_on.desc(), Drill.id.desc())
                             .limit(limit).offset(offset))
    return list(drills), total


def finding_dict(finding):
    """A finding as the API shows it."""
    return {"id": finding.id, "drill_id": finding.drill_id, "description": finding.description,
            "corrective_action": finding.corrective_action, "owner": finding.owner,
            "status": finding.status, "due_on": finding.due_on,
            "updated_at": finding.updated_at}


def drill_dicts(session, drills):
    """Drills with their teams and findings."""
    ids = [d.id for d in drills]
    team_ids, findings = {i: [] for i in ids}, {i: [] for i in ids}
    if ids:
        for row in session.scalars(select(DrillTeam).where(DrillTeam.drill_id.in_(ids))
                                   .order_by(DrillTeam.team_id)):
            team_ids[row.drill_id].append(row.team_id)
        for row in session.scalars(select(DrillFinding).where(DrillFinding.drill_id.in_(ids))
                                   .order_by(DrillFinding.id)):
            findings[row.drill_id].append(finding_dict(row))
    known = _teams(session, {t for ts in team_ids.values() for t in ts})
    return [{"id": d.id, "plan_id": d.plan_id, "plan_version": d.plan_version,
             "held_on": d.held_on, "kind": d.kind, "title": d.title, "scenario": d.scenario,
             "location": d.location, "participants": d.participants,
             "team_ids": team_ids[d.id],
             "teams": [known.get(t, {"id": t, "name": None, "category": None})
                       for t in team_ids[d.id]],
             "findings": findings[d.id], "created_at": d.created_at} for d in drills]


def add_finding(session, drill_id, data):
    """Add a finding to a drill."""
    get_drill(session, drill_id)
    problems = {}
    checked = _check_finding(data, "finding", problems)
    if problems:
        raise Invalid("invalid finding", {k.removeprefix("finding."): v
                                          for k, v in problems.items()})
    finding = DrillFinding(drill_id=drill_id, **checked)
    session.add(finding)
    session.flush()
    return finding


def update_finding(session, drill_id, finding_id, changes):
    """Update a finding's corrective action, owner, status or due date."""
    finding = session.get(DrillFinding, finding_id)
    if finding is None or finding.drill_id != drill_id:
        raise NotFound(f"drill {drill_id} has no finding {finding_id}")
    current = finding_dict(finding)
    problems = {}
    checked = _check_finding({**current, **changes}, "finding", problems)
    if problems:
        raise Invalid("invalid finding", {k.removeprefix("finding."): v
                                          for k, v in problems.items()})
    for key, value in checked.items():
        setattr(finding, key, value)
    session.flush()
    return finding
