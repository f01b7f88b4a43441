"""incident information reports (首报/续报/终报) (issue 18)

Revision ID: 0012_incident_reports
Revises: 0011_warnings
Create Date: 2026-12-03 08:00:00

- ``incident_reports``: an incident's information reports to the higher authority, in order
  (``seq``; 1 is the initial report): kind (initial|follow_up|final), text, dead, missing,
  injured, direct losses in yuan (null while still assessed), reporting unit (报送单位) and
  signer (签发人), who made it and when. The database keeps one initial and one final
  report per incident (partial unique indexes) and one report per place in the series.
"""

from alembic import op
import sqlalchemy as sa


revision = '0012_incident_reports'
down_revision = '0011_warnings'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('incident_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False, comment='initial|follow_up|final'),
    sa.Column('seq', sa.Integer(), nullable=False,
              comment='place in the series: 1 is the initial'),
    sa.Column('body', sa.Text(), nullable=False, comment="the report's text"),
    sa.Column('dead', sa.Integer(), nullable=False),
    sa.Column('missing', sa.Integer(), nullable=False),
    sa.Column('injured', sa.Integer(), nullable=False),
    sa.Column('losses_yuan', sa.Numeric(precision=16, scale=2), nullable=True,
              comment='direct economic losses in yuan; null: still being assessed'),
    sa.Column('unit', sa.String(length=200), nullable=False,
              comment='reporting unit (报送单位)'),
    sa.Column('signer', sa.String(length=100), nullable=False,
              comment='who signed it off (签发人)'),
    sa.Column('reported_by', sa.String(length=64), nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                            name=op.f('fk_incident_reports_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_reports')),
    sa.UniqueConstraint('incident_id', 'seq', name=op.f('uq_incident_reports_incident_id'))
    )
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_reports_incident_id'), ['incident_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_incident_reports_reported_at'), ['reported_at'],
                              unique=False)
        batch_op.create_index('uq_incident_reports_initial', ['incident_id'], unique=True,
                              postgresql_where=sa.text("kind = 'initial'"),
                              sqlite_where=sa.text("kind = 'initial'"))
        batch_op.create_index('uq_incident_reports_final', ['incident_id'], unique=True,
                              postgresql_where=sa.text("kind = 'final'"),
                              sqlite_where=sa.text("kind = 'final'"))


def downgrade():
    with op.batch_alter_table('incident_reports', schema=None) as batch_op:
        batch_op.drop_index('uq_incident_reports_final',
                            postgresql_where=sa.text("kind = 'final'"),
                            sqlite_where=sa.text("kind = 'final'"))
        batch_op.drop_index('uq_incident_reports_initial',
                            postgresql_where=sa.text("kind = 'initial'"),
                            sqlite_where=sa.text("kind = 'initial'"))
        batch_op.drop_index(batch_op.f('ix_incident_reports_reported_at'))
        batch_op.drop_index(batch_op.f('ix_incident_reports_incident_id'))
    op.drop_table('incident_reports')
