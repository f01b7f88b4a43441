"""emergency measures and their legal basis, requisitions' basis, compensation appeals (issue 19)

- ``measures``: measures taken in an incident (requisition, traffic control, evacuation,
  closure, suspension, price intervention, other) under a numbered decision (决定书): its
  number (unique; one per ``order_year`` and ``order_seq``), legal basis, issuing authority,
  scope (multipolygon), period and lifting.
- ``requisitions``: ``legal_basis`` and ``authority`` (empty for requisitions made before).
- ``compensations``: the appeal (救济) of a rejected claim: the first rejection kept
  (``rejected_by``, ``rejected_at``, ``rejection_note``) and the appeal (``appeal_reason``,
  ``appealed_by``, ``appealed_at``); ``status`` gains ``appealed``.

Revision ID: 0014_measures
Revises: 0013_disaster_reports
Create Date: 2026-12-03 10:15:00
"""

from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry


revision = '0014_measures'
down_revision = '0013_disaster_reports'
branch_labels = None
depends_on = None

STATUS_BEFORE = 'submitted|approved|rejected|paid'
STATUS_AFTER = 'submitted|approved|rejected|appealed|paid'
APPEAL_COLUMNS = (
    ('rejected_by', sa.String(length=64), 'who rejected it before the appeal'),
    ('rejected_at', sa.DateTime(timezone=True), None),
    ('rejection_note', sa.Text(), None),
    ('appeal_reason', sa.Text(), "the claimant's reason"),
    ('appealed_by', sa.String(length=64), None),
    ('appealed_at', sa.DateTime(timezone=True), None),
)


def _comment_status(comment, existing):
    """Set the comment of compensations.status (SQLite keeps no comments)."""
    if op.get_bind().dialect.name == 'sqlite':
        return
    op.alter_column('compensations', 'status', existing_type=sa.String(length=12),
                    existing_nullable=False, comment=comment, existing_comment=existing)


def upgrade():
    op.create_geospatial_table('measures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False, comment='requisition|traffic_control|evacuation|closure|suspension|price_intervention|other'),
    sa.Column('order_year', sa.Integer(), nullable=False, comment="year of the decision's number"),
    sa.Column('order_seq', sa.Integer(), nullable=False, comment="place in that year's series"),
    sa.Column('order_number', sa.String(length=60), nullable=False, comment='decision number, e.g. 渝应急决〔2026〕12号'),
    sa.Column('legal_basis', sa.String(length=300), nullable=False, comment='the law and article it rests on'),
    sa.Column('authority', sa.String(length=200), nullable=False, comment='the issuing organ'),
    sa.Column('scope', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False, comment='where it applies, WGS-84'),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True, comment='null: until lifted'),
    sa.Column('note', sa.Text(), nullable=False, comment='content of the measure'),
    sa.Column('status', sa.String(length=10), nullable=False, comment='in_force|lifted (expired is computed)'),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by', sa.String(length=64), nullable=True),
    sa.Column('lift_note', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_measures_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measures')),
    sa.UniqueConstraint('order_number', name=op.f('uq_measures_order_number')),
    sa.UniqueConstraint('order_year', 'order_seq', name=op.f('uq_measures_order_year'))
    )
    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_measures_scope', ['scope'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_measures_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_measures_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_measures_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_measures_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_measures_status'), ['status'], unique=False)

    with op.batch_alter_table('requisitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_basis', sa.String(length=300), server_default='', nullable=False, comment='the law and article of the requisition'))
        batch_op.add_column(sa.Column('authority', sa.String(length=200), server_default='', nullable=False, comment='the organ that ordered it'))

    with op.batch_alter_table('compensations', schema=None) as batch_op:
        for name, type_, comment in APPEAL_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True, comment=comment))
    _comment_status(STATUS_AFTER, STATUS_BEFORE)


def downgrade():
    _comment_status(STATUS_BEFORE, STATUS_AFTER)
    with op.batch_alter_table('compensations', schema=None) as batch_op:
        for name, _type, _comment in reversed(APPEAL_COLUMNS):
            batch_op.drop_column(name)
    with op.batch_alter_table('requisitions', schema=None) as batch_op:
        batch_op.drop_column('authority')
        batch_op.drop_column('legal_basis')
    with op.batch_alter_table('measures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_measures_status'))
        batch_op.drop_index(batch_op.f('ix_measures_starts_at'))
        batch_op.drop_index(batch_op.f('ix_measures_kind'))
        batch_op.drop_index(batch_op.f('ix_measures_incident_id'))
        batch_op.drop_index(batch_op.f('ix_measures_ends_at'))
        batch_op.drop_geospatial_index('idx_measures_scope', postgresql_using='gist', column_name='scope')
    op.drop_geospatial_table('measures')
