"""team readiness summary for recommendations; category + location index on PostGIS

Revision ID: 0008_team_readiness
Revises: 0007_idempotency
Create Date: 2026-11-28 06:30:00

Recommendations (issue 7) need, for every team the nearest-neighbour query returns, its
member count and how many members are insured today. Counting them per request cost a
second query with a probe per member; this keeps a summary on the team row instead:

- ``member_count`` and ``insured_members`` (members with a policy covering a day), and
- ``insured_from`` .. ``insured_until``: the days on which that insured count holds (the
  span between the policy start/end boundaries around the day it was computed). Outside
  it (or when NULL) readers must count live, so the summary never has to be refreshed
  on time to be right.

Database triggers on ``members`` and ``insurance_policies`` recompute the summary of the
teams a write touches, whatever writes (the registry, the roster import, bulk loads,
restores). PostgreSQL uses statement-level triggers with transition tables (one set-based
update per statement, so a COPY of a million rows stays fast); SQLite row-level ones.

An index on ``teams (category, service_radius_km)`` answers the largest service radius of
a category (where the search may stop) without reading the table. PostGIS also gets a GiST
index on ``teams (category, location)`` (btree_gist), so the KNN search of a rare category
walks only that category's teams. On SQLite that index is declared empty (``WHERE 0``):
the R*Tree ``SpatialIndex`` does the spatial work there.
"""

from alembic import op
import sqlalchemy as sa


revision = '0008_team_readiness'
down_revision = '0007_idempotency'
branch_labels = None
depends_on = None

# One team's summary: members, insured today, and the span of days that count holds.
# ``{today}``, ``{plus1}``/``{minus1}`` and ``{where}`` are filled per backend.
_SUMMARY = """
SELECT tt.id AS team_id,
       count(DISTINCT m.id) AS members,
       count(DISTINCT CASE WHEN p.starts_on <= {today} AND p.ends_on >= {today}
                           THEN m.id END) AS insured,
       coalesce(max(CASE WHEN p.ends_on < {today} THEN {end_plus1}
                         WHEN p.starts_on <= {today} THEN p.starts_on END),
                {first_day}) AS since,
       coalesce(min(CASE WHEN p.starts_on > {today} THEN {start_minus1}
                         WHEN p.ends_on >= {today} THEN p.ends_on END),
                {last_day}) AS until
FROM teams tt
LEFT JOIN members m ON m.team_id = tt.id
LEFT JOIN insurance_policies p ON p.member_id = m.id
WHERE {where}
GROUP BY tt.id
"""

_PG = dict(today="CURRENT_DATE", end_plus1="p.ends_on + 1", start_minus1="p.starts_on - 1",
           first_day="DATE '0001-01-01'", last_day="DATE '9999-12-31'")
_LITE = dict(today="date('now')", end_plus1="date(p.ends_on, '+1 day')",
             start_minus1="date(p.starts_on, '-1 day')", first_day="'0001-01-01'",
             last_day="'9999-12-31'")

_PG_REFRESH = """
CREATE OR REPLACE FUNCTION teams_refresh_readiness(ids integer[]) RETURNS void
LANGUAGE sql AS $$
UPDATE teams t SET member_count = s.members, insured_members = s.insured,
                   insured_from = s.since, insured_until = s.until
FROM ({summary}) s
WHERE t.id = s.team_id
$$
""".format(summary=_SUMMARY.format(where="tt.id = ANY(ids)", **_PG))

_PG_MEMBERS = """
CREATE OR REPLACE FUNCTION members_readiness() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    -- A new member has no policy yet (policies reference members): only the count moves.
    -- Recomputing the team instead made a roster import quadratic in the team's size.
    UPDATE teams t SET member_count = t.member_count + n.added
    FROM (SELECT team_id, count(*) AS added FROM new_rows GROUP BY team_id) n
    WHERE t.id = n.team_id;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    PERFORM teams_refresh_readiness(ARRAY(SELECT DISTINCT team_id FROM new_rows));
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM teams_refresh_readiness(ARRAY(SELECT DISTINCT team_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$
"""

_PG_POLICIES = """
CREATE OR REPLACE FUNCTION insurance_readiness() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM teams_refresh_readiness(ARRAY(
      SELECT DISTINCT m.team_id FROM new_rows n JOIN members m ON m.id = n.member_id));
  END IF;
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM teams_refresh_readiness(ARRAY(
      SELECT DISTINCT m.team_id FROM old_rows o JOIN members m ON m.id = o.member_id));
  END IF;
  RETURN NULL;
END $$
"""

_REFERENCING = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows",
                "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}
_TRIGGERS = {"members": "members_readiness", "insurance_policies": "insurance_readiness"}


def _lite_refresh(team):
    """SQLite: recompute the summary of the team ``team`` (an SQL expression)."""
    summary = _SUMMARY.format(where=f"tt.id = ({team})", **_LITE)
    return (f"UPDATE teams SET (member_count, insured_members, insured_from, insured_until) = "
            f"(SELECT members, insured, since, until FROM ({summary})) "
            f"WHERE id = ({team});")


def _lite_triggers():
    """SQLite row-level triggers: (name, table, event, statements)."""
    of_member = "SELECT team_id FROM members WHERE id = {}.member_id"
    return [
        # A new member has no policy yet (policies reference members): only the count moves.
        # Recomputing the team instead made a roster import quadratic in the team's size.
        ("members_readiness_ins", "members", "INSERT",
         "UPDATE teams SET member_count = member_count + 1 WHERE id = NEW.team_id;"),
        ("members_readiness_del", "members", "DELETE", _lite_refresh("OLD.team_id")),
        ("members_readiness_upd", "members", "UPDATE OF team_id",
         _lite_refresh("OLD.team_id") + _lite_refresh("NEW.team_id")),
        ("insurance_readiness_ins", "insurance_policies", "INSERT",
         _lite_refresh(of_member.format("NEW"))),
        ("insurance_readiness_del", "insurance_policies", "DELETE",
         _lite_refresh(of_member.format("OLD"))),
        ("insurance_readiness_upd", "insurance_policies",
         "UPDATE OF member_id, starts_on, ends_on",
         _lite_refresh(of_member.format("OLD")) + _lite_refresh(of_member.format("NEW"))),
    ]


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column('teams', sa.Column('member_count', sa.Integer(), server_default='0',
                                     nullable=False, comment='kept by triggers (0008)'))
    op.add_column('teams', sa.Column('insured_members', sa.Integer(), server_default='0',
                                     nullable=False,
                                     comment='members insured on each day of insured_from..'
                                             'insured_until (kept by triggers)'))
    # A new team has no members: nothing is insured on any day until a member is added.
    op.add_column('teams', sa.Column('insured_from', sa.Date(), nullable=True,
                                     server_default=sa.text("'0001-01-01'"),
                                     comment='first day insured_members holds; NULL: count live'))
    op.add_column('teams', sa.Column('insured_until', sa.Date(), nullable=True,
                                     server_default=sa.text("'9999-12-31'"),
                                     comment='last day insured_members holds; NULL: count live'))
    op.create_index('ix_teams_category_radius', 'teams', ['category', 'service_radius_km'],
                    unique=False)
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.create_index('ix_teams_category_location', 'teams', ['category', 'location'],
                        unique=False, postgresql_using='gist')
        op.execute(_PG_REFRESH)
        op.execute(_PG_MEMBERS)
        op.execute(_PG_POLICIES)
        for table, function in _TRIGGERS.items():
            for event, referencing in _REFERENCING.items():
                op.execute(f"CREATE TRIGGER {function}_{event[:3].lower()} AFTER {event} ON "
                           f"{table} REFERENCING {referencing} FOR EACH STATEMENT "
                           f"EXECUTE FUNCTION {function}()")
        op.execute("SELECT teams_refresh_readiness(ARRAY(SELECT id FROM teams))")
    else:
        op.create_index('ix_teams_category_location', 'teams', ['category', 'location'],
                        unique=False, sqlite_where=sa.text('0'))
        for name, table, event, body in _lite_triggers():
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body} END")
        summary = _SUMMARY.format(where="1", **_LITE)
        op.execute(f"UPDATE teams SET member_count = s.members, insured_members = s.insured, "
                   f"insured_from = s.since, insured_until = s.until FROM ({summary}) AS s "
                   f"WHERE teams.id = s.team_id")

def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for table, function in _TRIGGERS.items():
            for event in _REFERENCING:
                op.execute(f"DROP TRIGGER IF EXISTS {function}_{event[:3].lower()} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
        op.execute("DROP FUNCTION IF EXISTS teams_refresh_readiness(integer[])")
    else:
        for name, _, _, _ in _lite_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_teams_category_location', table_name='teams')
    op.drop_index('ix_teams_category_radius', table_name='teams')
    for column in ('insured_until', 'insured_from', 'insured_members', 'member_count'):
        if postgres:
            op.drop_column('teams', column)
        else:
            # SQLite >= 3.35 drops a column in place (a batch copy would lose SpatiaLite's
            # registration of the geometry column).
            op.execute(f"ALTER TABLE teams DROP COLUMN {column}")
