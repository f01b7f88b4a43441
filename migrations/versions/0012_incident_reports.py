"""incident information reports (首报/续报/终报) (issue 18)

Revision ID: 0012_incident_reports
Revises: 0011_warnings
Create Date: 2026-12-03 08:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0012_incident_reports'
down_revision = '0011_warnings'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
