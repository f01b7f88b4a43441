"""Upkeep of the summaries the database keeps with triggers (backend-specific SQL).

Migration 0008 keeps each team's readiness (members, insured members and the span of days
that insured count holds for) with triggers on ``members`` and ``insurance_policies``.
Nothing moves a span when days pass without writes; :func:`refresh_team_readiness`
recomputes it through the database's own definition, so the triggers stay the only one.
"""

from sqlalchemy import bindparam, text

from emergency.spatial.engine import backend_name

_POSTGIS = text("SELECT teams_refresh_readiness(CAST(:ids AS integer[]))")
# SQLite has no stored functions: writing each member's team back to itself fires the row
# trigger (``members_readiness_upd``) that recomputes the team's summary.
_SPATIALITE = text("UPDATE members SET team_id = team_id WHERE team_id IN :ids").bindparams(
    bindparam("ids", expanding=True))


def refresh_team_readiness(session, team_ids):
    """Recompute the readiness summary of the teams ``team_ids`` as of the database's today."""
    ids = [int(i) for i in team_ids]
    if not ids:
        return
    statement = _POSTGIS if backend_name(session) == "postgis" else _SPATIALITE
    session.execute(statement, {"ids": ids})
