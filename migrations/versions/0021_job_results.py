"""job results (issue 21): what an import or export job produced

- ``jobs.result``: a JSON report of what the job made (an import's counts, the new record's
  id; an export's file: its key in the file store, name, type and size). Set in the same
  transaction as the job's effect, so a job retried after its worker died finds it there and
  does not do its work twice.

Revision ID: 0021_job_results
Revises: 0019_risk_cell_indexes
Create Date: 2026-12-03 17:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0021_job_results'
down_revision = '0019_risk_cell_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobs') as batch_op:
        batch_op.add_column(sa.Column(
            'result', sa.JSON(), nullable=True,
            comment="what the job produced: an import's report, an export's file"))


def downgrade():
    with op.batch_alter_table('jobs') as batch_op:
        batch_op.drop_column('result')
