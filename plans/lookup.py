"""Registry teams and their members found by name, for the pickers (drill teams, members
named for a dispatch). Scoped as the registry's own lists: bureau roles read every team (a
district-scoped user those of the district), an organisation administrator their own. No Flask.
"""

from sqlalchemy import func, or_, select

from emergency.auth.roles import BUREAU, ORG_ADMIN
from emergency.errors import Forbidden
from emergency.geo import names
from emergency.geo.lookup import LITERAL_MAX, PICK_MAX, SCAN_MAX
from emergency.geo.service import _like
from plans import metrics as pm
from registry import service as registry
from registry.models import Organisation, RescueTeam, TeamMember


def _team_scope(session, user):
    """A WHERE clause of the teams the user may read, or None for all; Forbidden for roles
    that read no teams."""
    if user.role in BUREAU:
        if registry.district_scoped(user):
            return RescueTeam.org_id.in_(registry.orgs_in_district(session, user))
        return None
    if user.role == ORG_ADMIN:  # one with no organisation yet finds nothing, as in GET /teams
        return RescueTeam.org_id == (user.org_id or -1)
    raise Forbidden("your role reads no rescue teams")


def _ranked(query, rows, limit):
    """Rows ranked by their own name, then by their organisation's (``org_name``)."""
    scored = []
    for row in rows:
        scores = [names.rank(query, row["name"], str(row["id"]))]
        if row.get("org_name"):
            scores.append(names.rank(query, row["org_name"]))
        scores = [s for s in scores if s is not None]
        if scores:
            scored.append((min(scores), len(row["name"]), row["id"], row))
    scored.sort(key=lambda item: item[:3])
    return [item[3] for item in scored[:limit]]


def pick_teams(session, user, query="", category=None, limit=10):
    """Teams matching the query by team or organisation name, pinyin initials or id:
    ``{id, name, category, status, org_id, org_name}``, best first."""
    limit = max(1, min(limit, PICK_MAX))
    statement = (select(RescueTeam.id, RescueTeam.name, RescueTeam.category, RescueTeam.status,
                        RescueTeam.org_id, Organisation.name.label("org_name"))
                 .join(Organisation, Organisation.id == RescueTeam.org_id))
    scope = _team_scope(session, user)
    if scope is not None:
        statement = statement.where(scope)
    if category:
        statement = statement.where(RescueTeam.category == category)
    q = names.normalise(query)
    if q and not names.wants_initials(query):
        pattern = _like(q)
        clauses = [func.lower(RescueTeam.name).like(pattern, escape="\\"),
                   func.lower(Organisation.name).like(pattern, escape="\\")]
        if q.isdigit():
            clauses.append(RescueTeam.id == int(q[:12]))
        statement = statement.where(or_(*clauses))
        cap = LITERAL_MAX
    else:
        cap = SCAN_MAX
    rows = [dict(r._mapping) for r in session.execute(statement.order_by(RescueTeam.id)
                                                      .limit(cap))]
    return _ranked(query, rows, limit)


def pick_metrics(query="", lang="zh", limit=20):
    """Metrics whose key, name (either language), unit or alias matches the query."""
    found = []
    for order, item in enumerate(pm.catalogue(lang)):
        scores = [names.rank(query, text) for text in (item["label"], *item["aliases"])]
        scores.append(names.rank(query, "", item["key"]))
        scores = [s for s in scores if s is not None]
        if scores:
            found.append((min(scores), order, item))
    found.sort(key=lambda entry: entry[:2])
    return [entry[2] for entry in found[:limit]]


def pick_members(session, user, team_id, query="", limit=10):
    """Members of one team matching the query by name or pinyin initials: ``{id, name,
    skills}`` (no personal data), best first; the team's scope as the registry checks it."""
    limit = max(1, min(limit, PICK_MAX))
    registry.check_read(user, registry.team_org_id(session, team_id), session)
    rows = [{"id": r.id, "name": r.name, "skills": list(r.skills or [])}
            for r in session.execute(select(TeamMember.id, TeamMember.name, TeamMember.skills)
                                     .where(TeamMember.team_id == team_id)
                                     .order_by(TeamMember.id).limit(SCAN_MAX))]
    return _ranked(query, rows, limit)
