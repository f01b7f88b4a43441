"""teams' covering index for the maps' squares (issue 23)

The forces map and the operations map count a category's teams in squares at low zoom, and
the forces page counts every category's teams and their extent: on SQLite each of those read
the whole category through ``ix_teams_category`` and then every row of the table. A B-tree
over (category, status, org_id, location) holds everything those queries read (the point's
coordinates come from the blob's header), so SQLite answers them from the index alone
(measured at 10^5 teams: six categories' squares 155-198 ms -> 92-109 ms). It is partial,
``WHERE category <> ''`` (true of every team): only the queries that state it use it, and
every other query keeps its plan (a small bbox's teams through the spatial index; a plain
index took those too, reading a whole category instead of the spatial index's few rows).
PostgreSQL has no use for a B-tree over a geometry: there the index is declared empty
(``WHERE false``).

Revision ID: 0022_team_map_index
Revises: 0021_job_results
Create Date: 2026-12-03 23:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0022_team_map_index'
down_revision = '0021_job_results'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_teams_map', 'teams', ['category', 'status', 'org_id', 'location'],
                    unique=False, sqlite_where=sa.text("category <> ''"),
                    postgresql_where=sa.text('false'))


def downgrade():
    op.drop_index('ix_teams_map', table_name='teams')
