"""emergency measures and their legal basis, requisitions' basis, compensation appeals (issue 19)

Reserved in the chain so that work in parallel keeps one head; filled by the work it names.

Revision ID: 0014_measures
Revises: 0013_disaster_reports
Create Date: 2026-12-03 10:15:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0014_measures'
down_revision = '0013_disaster_reports'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
