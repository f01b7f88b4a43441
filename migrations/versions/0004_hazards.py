"""hazards: reports, events, photos, bulletins

Revision ID: 0004_hazards
Revises: 0005_risk
Create Date: 2026-11-28 03:40:00.000000
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry

revision = '0004_hazards'
down_revision = '0005_risk'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hazard_bulletins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.String(length=10), nullable=False, comment='first day, YYYY-MM-DD'),
    sa.Column('period_to', sa.String(length=10), nullable=False, comment='last day, YYYY-MM-DD'),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False, comment='the bulletin as published'),
    sa.Column('published_by', sa.String(length=64), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_bulletins'))
    )
    op.create_geospatial_table('hazard_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False, comment='id chosen by the reporting device; retries with the same id never duplicate'),
    sa.Column('category', sa.String(length=24), nullable=False, comment='geological|flood|fire|gas|hazardous_chemicals|building|traffic|other'),
    sa.Column('severity', sa.String(length=8), nullable=False, comment='major (重大) | general (一般)'),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False, comment='reported|verified|rectifying|rectified|closed|rejected'),
    sa.Column('grid_code', sa.String(length=32), nullable=False, comment='grid containing the location'),
    sa.Column('area_code', sa.String(length=12), nullable=False, comment='the grid\'s area, copied for fast filters'),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stage_started_at', sa.DateTime(timezone=True), nullable=False, comment='when the current status began'),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True, comment='deadline of the current stage; null once closed or rejected'),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True, comment='when closed or rejected'),
    sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True, comment='last escalation (督办)'),
    sa.Column('escalated_stage', sa.String(length=12), nullable=True, comment='status that was escalated'),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False, comment='location, WGS-84 lon/lat'),
    sa.ForeignKeyConstraint(['grid_code'], ['grids.code'], name=op.f('fk_hazard_reports_grid_code_grids')),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_hazard_reports_reporter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_reports')),
    sa.UniqueConstraint('client_id', name=op.f('uq_hazard_reports_client_id'))
    )
    with op.batch_alter_table('hazard_reports', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_hazard_reports_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_hazard_reports_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_reports_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_reports_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_reports_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_reports_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_reports_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_reports_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_reports_status'), ['status'], unique=False)

    op.create_table('hazard_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False, comment='transition|escalation'),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False, comment="username or 'system'"),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['hazard_reports.id'], name=op.f('fk_hazard_events_report_id_hazard_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_events'))
    )
    with op.batch_alter_table('hazard_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hazard_events_report_id'), ['report_id'], unique=False)

    op.create_table('hazard_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True, comment='the step it documents, e.g. rectification'),
    sa.Column('stage', sa.String(length=12), nullable=False, comment='report status when uploaded'),
    sa.Column('path', sa.String(length=200), nullable=False, comment='relative to UPLOAD_FOLDER'),
    sa.Column('thumb_path', sa.String(length=200), nullable=False, comment='relative to UPLOAD_FOLDER'),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False, comment='bytes of the stored file'),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False, comment='checksum of the stored file'),
    sa.Column('upload_sha256', sa.String(length=64), nullable=False, comment='checksum of the bytes received; a resent photo is stored once'),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['hazard_events.id'], name=op.f('fk_hazard_photos_event_id_hazard_events')),
    sa.ForeignKeyConstraint(['report_id'], ['hazard_reports.id'], name=op.f('fk_hazard_photos_report_id_hazard_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_photos')),
    sa.UniqueConstraint('report_id', 'upload_sha256', name=op.f('uq_hazard_photos_report_id'))
    )
    with op.batch_alter_table('hazard_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hazard_photos_report_id'), ['report_id'], unique=False)


def downgrade():
    with op.batch_alter_table('hazard_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hazard_photos_report_id'))
    op.drop_table('hazard_photos')
    with op.batch_alter_table('hazard_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hazard_events_report_id'))
    op.drop_table('hazard_events')
    with op.batch_alter_table('hazard_reports', schema=None) as batch_op:
        for name in ('status', 'reporter_id', 'grid_code', 'due_at', 'created_at', 'closed_at',
                     'category', 'area_code'):
            batch_op.drop_index(batch_op.f(f'ix_hazard_reports_{name}'))
        batch_op.drop_geospatial_index('idx_hazard_reports_geom', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('hazard_reports')
    op.drop_table('hazard_bulletins')
