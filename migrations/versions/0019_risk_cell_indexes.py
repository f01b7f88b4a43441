"""risk cells: drop the indexes on area_code and grid_code (issue 23)

No query reads risk cells by area or grid code across runs: the summaries group one run's
cells (found through ``ix_risk_cells_run_cell``, whose first column is the run). The two
B-trees were only paid for: every one of a 500 m city run's 334,161 cells updated both.

Revision ID: 0019_risk_cell_indexes
Revises: 0018_file_store
Create Date: 2026-12-03 17:10:00
"""

from alembic import op


revision = '0019_risk_cell_indexes'
down_revision = '0018_file_store'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('risk_cells', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_risk_cells_grid_code'))
        batch_op.drop_index(batch_op.f('ix_risk_cells_area_code'))


def downgrade():
    with op.batch_alter_table('risk_cells', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_risk_cells_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_risk_cells_grid_code'), ['grid_code'], unique=False)
