"""warnings (预警): warnings, their areas and CAP sources (issue 18)

Revision ID: 0011_warnings
Revises: 0010_incident_command
Create Date: 2026-12-03 08:00:00
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0011_warnings'
down_revision = '0010_incident_command'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
