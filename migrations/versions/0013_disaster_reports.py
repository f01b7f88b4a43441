"""direct disaster reports (灾情直报) by grid staff (issue 18)

Revision ID: 0013_disaster_reports
Revises: 0012_incident_reports
Create Date: 2026-12-03 08:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0013_disaster_reports'
down_revision = '0012_incident_reports'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
