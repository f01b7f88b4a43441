"""direct disaster reports (灾情直报) by grid staff (issue 18)

- ``disaster_reports``: losses reported at a point inside a management grid, stored once per
  ``client_id`` (phones retry); direct losses in whole fen so that sums are exact.
- ``live_events.type``: its comment lists the new event type ``disaster.created``.

Revision ID: 0013_disaster_reports
Revises: 0012_incident_reports
Create Date: 2026-12-03 08:00:00
"""

from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry


revision = '0013_disaster_reports'
down_revision = '0012_incident_reports'
branch_labels = None
depends_on = None

EVENT_TYPES_BEFORE = ('incident.created|incident.updated|dispatch.created|dispatch.updated|'
                      'hazard.created|hazard.updated|warning.published|warning.lifted|'
                      'measure.created|measure.lifted')
EVENT_TYPES_AFTER = EVENT_TYPES_BEFORE + '|disaster.created'


def _comment_event_types(comment, existing):
    """Set the comment of live_events.type (SQLite keeps no comments: a batch copy of the
    table for nothing would be the only effect there)."""
    if op.get_bind().dialect.name == 'sqlite':
        return
    op.alter_column('live_events', 'type', existing_type=sa.String(length=40),
                    existing_nullable=False, comment=comment, existing_comment=existing)


def upgrade():
    op.create_geospatial_table('disaster_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False, comment='id chosen by the reporting device; retries with the same id never duplicate'),
    sa.Column('kind', sa.String(length=24), nullable=False, comment='flood|geological|meteorological|earthquake|forest_fire|drought|fire|other'),
    sa.Column('affected', sa.Integer(), nullable=False, comment='people affected (受灾人口)'),
    sa.Column('dead', sa.Integer(), nullable=False, comment='people dead (死亡)'),
    sa.Column('missing', sa.Integer(), nullable=False, comment='people missing (失踪)'),
    sa.Column('injured', sa.Integer(), nullable=False, comment='people injured (受伤)'),
    sa.Column('houses_collapsed', sa.Integer(), nullable=False, comment='houses collapsed (倒塌)'),
    sa.Column('houses_damaged', sa.Integer(), nullable=False, comment='houses damaged (损坏)'),
    sa.Column('losses_fen', sa.BigInteger(), nullable=False, comment='direct economic losses in fen (1/100 yuan); the API shows yuan'),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('grid_code', sa.String(length=32), nullable=False, comment='grid containing the location'),
    sa.Column('area_code', sa.String(length=12), nullable=False, comment="the grid's area, copied for fast filters"),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False, comment='location, WGS-84 lon/lat'),
    sa.ForeignKeyConstraint(['grid_code'], ['grids.code'], name=op.f('fk_disaster_reports_grid_code_grids')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_disaster_reports_reporter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disaster_reports')),
    sa.UniqueConstraint('client_id', name=op.f('uq_disaster_reports_client_id'))
    )
    with op.batch_alter_table('disaster_reports', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_disaster_reports_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_disaster_reports_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disaster_reports_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_disaster_reports_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disaster_reports_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_disaster_reports_reporter_id'), ['reporter_id'], unique=False)

    _comment_event_types(EVENT_TYPES_AFTER, EVENT_TYPES_BEFORE)


def downgrade():
    _comment_event_types(EVENT_TYPES_BEFORE, EVENT_TYPES_AFTER)
    with op.batch_alter_table('disaster_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disaster_reports_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_disaster_reports_kind'))
        batch_op.drop_index(batch_op.f('ix_disaster_reports_grid_code'))
        batch_op.drop_index(batch_op.f('ix_disaster_reports_created_at'))
        batch_op.drop_index(batch_op.f('ix_disaster_reports_area_code'))
        batch_op.drop_geospatial_index('idx_disaster_reports_geom', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('disaster_reports')
