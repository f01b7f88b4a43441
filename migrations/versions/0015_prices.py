"""price observations, baselines, alerts and complaints (issue 19)

Reserved in the chain so that work in parallel keeps one head; filled by the work it names.

Revision ID: 0015_prices
Revises: 0014_measures
Create Date: 2026-12-03 10:15:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0015_prices'
down_revision = '0014_measures'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
