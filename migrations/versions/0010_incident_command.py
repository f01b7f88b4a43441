"""incident command: after-action record, members named to a dispatch, check-ins; live events

Revision ID: 0010_incident_command
Revises: 0009_sessions_and_throttle
Create Date: 2026-12-03 03:20:00

Issue 16:

- ``incidents.after_action``: the record a closing asks for (summary, dead, missing, injured,
  losses_yuan, lessons), as one JSON object.
- ``dispatch_members``: the members an organisation names to go on a dispatch (one row per
  member and dispatch).
- ``dispatch_checkins``: arrivals (``in``) and departures (``out``) at the scene, with where
  they were recorded; service hours and the compensation prefill are computed from them.
- ``live_events``: changes announced to signed-in users over Server-Sent Events, written in
  the transaction of the change; the id is the stream's ``id:`` (resume with Last-Event-ID).
"""

from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry


revision = '0010_incident_command'
down_revision = '0009_sessions_and_throttle'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'after_action', sa.JSON(), nullable=True,
            comment='closing record: summary, dead, missing, injured, losses_yuan, lessons'))

    op.create_table('dispatch_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispatch_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('named_by', sa.String(length=64), nullable=False),
    sa.Column('named_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dispatch_id'], ['dispatches.id'],
                            name=op.f('fk_dispatch_members_dispatch_id_dispatches')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                            name=op.f('fk_dispatch_members_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_members')),
    sa.UniqueConstraint('dispatch_id', 'member_id',
                        name=op.f('uq_dispatch_members_dispatch_id'))
    )
    with op.batch_alter_table('dispatch_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispatch_members_dispatch_id'), ['dispatch_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_dispatch_members_member_id'), ['member_id'],
                              unique=False)

    op.create_geospatial_table('dispatch_checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dispatch_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=3), nullable=False, comment='in|out'),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('location', Geometry(geometry_type='POINT', srid=4326, dimension=2,
                                   spatial_index=False, from_text='ST_GeomFromEWKT',
                                   name='geometry'),
              nullable=True, comment='where the member checked in or out, WGS-84'),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['dispatch_id'], ['dispatches.id'],
                            name=op.f('fk_dispatch_checkins_dispatch_id_dispatches')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                            name=op.f('fk_dispatch_checkins_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispatch_checkins'))
    )
    with op.batch_alter_table('dispatch_checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dispatch_checkins_dispatch_id'), ['dispatch_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_dispatch_checkins_member_id'), ['member_id'],
                              unique=False)

    op.create_table('live_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False,
              comment='incident.created|incident.updated|dispatch.created|dispatch.updated|'
                      'hazard.created|hazard.updated|warning.published|warning.lifted|'
                      'measure.created|measure.lifted'),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False, comment="the event's JSON payload"),
    sa.Column('audience', sa.String(length=12), nullable=False, comment='bureau|public'),
    sa.Column('area_code', sa.String(length=12), nullable=True),
    sa.Column('org_id', sa.Integer(), nullable=True),
    sa.Column('grid_code', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_live_events'))
    )
    with op.batch_alter_table('live_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_live_events_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('live_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_live_events_at'))
    op.drop_table('live_events')
    with op.batch_alter_table('dispatch_checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispatch_checkins_member_id'))
        batch_op.drop_index(batch_op.f('ix_dispatch_checkins_dispatch_id'))
    op.drop_geospatial_table('dispatch_checkins')
    with op.batch_alter_table('dispatch_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispatch_members_member_id'))
        batch_op.drop_index(batch_op.f('ix_dispatch_members_dispatch_id'))
    op.drop_table('dispatch_members')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_column('after_action')
