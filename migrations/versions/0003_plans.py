"""plans: plans, versions, drills, findings

Revision ID: 0003_plans
Revises: 0002_registry
Create Date: 2026-11-28 03:26:11.078291
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2


revision = '0003_plans'
down_revision = '0002_registry'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False, comment='title of the working version'),
    sa.Column('kind', sa.String(length=12), nullable=False, comment='overall|special|department|grassroots|event'),
    sa.Column('incident_type', sa.String(length=40), nullable=False, comment='plans.incident_types key'),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False, comment='owning unit of the working version'),
    sa.Column('parent_id', sa.Integer(), nullable=True, comment='the plan this one is under'),
    sa.Column('status', sa.String(length=12), nullable=False, comment='status of the working version'),
    sa.Column('version', sa.Integer(), nullable=False, comment='working version number'),
    sa.Column('published_version', sa.Integer(), nullable=True, comment='the version in force (null: none)'),
    sa.Column('drill_interval_months', sa.Integer(), nullable=False),
    sa.Column('revision_interval_months', sa.Integer(), nullable=False),
    sa.Column('first_published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True, comment='publication of the version in force'),
    sa.Column('last_drill_on', sa.Date(), nullable=True),
    sa.Column('drill_due_on', sa.Date(), nullable=True, comment='next drill due: last drill (or publication) + interval'),
    sa.Column('revision_due_on', sa.Date(), nullable=True, comment='revision due: publication in force + revision interval'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_plans_area_code_areas')),
    sa.ForeignKeyConstraint(['parent_id'], ['plans.id'], name=op.f('fk_plans_parent_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans'))
    )
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plans_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_drill_due_on'), ['drill_due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_incident_type'), ['incident_type'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_revision_due_on'), ['revision_due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_plans_status'), ['status'], unique=False)

    op.create_table('plan_drills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('plan_version', sa.Integer(), nullable=True, comment='version in force when held'),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False, comment='tabletop|functional|full_scale|double_blind'),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=True, comment='people taking part'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_drills_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_drills'))
    )
    with op.batch_alter_table('plan_drills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_drills_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_plan_drills_plan_id'), ['plan_id'], unique=False)

    op.create_table('plan_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False, comment='draft|in_review|published|superseded|archived'),
    sa.Column('content', sa.JSON(), nullable=False, comment='title, owner, sections, response_levels (criteria, actions, forces)'),
    sa.Column('history', sa.JSON(), nullable=False, comment='transitions: [{to, at, by, note}]'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_versions_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_versions')),
    sa.UniqueConstraint('plan_id', 'version', name=op.f('uq_plan_versions_plan_id'))
    )
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_versions_plan_id'), ['plan_id'], unique=False)

    op.create_table('drill_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('drill_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('corrective_action', sa.Text(), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=False, comment='unit responsible'),
    sa.Column('status', sa.String(length=12), nullable=False, comment='open|in_progress|done'),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['drill_id'], ['plan_drills.id'], name=op.f('fk_drill_findings_drill_id_plan_drills'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drill_findings'))
    )
    with op.batch_alter_table('drill_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drill_findings_drill_id'), ['drill_id'], unique=False)

    op.create_table('plan_drill_teams',
    sa.Column('drill_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False, comment='registry teams.id'),
    sa.ForeignKeyConstraint(['drill_id'], ['plan_drills.id'], name=op.f('fk_plan_drill_teams_drill_id_plan_drills'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('drill_id', 'team_id', name=op.f('pk_plan_drill_teams'))
    )
    with op.batch_alter_table('plan_drill_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_drill_teams_team_id'), ['team_id'], unique=False)



def downgrade():
    with op.batch_alter_table('plan_drill_teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_drill_teams_team_id'))

    op.drop_table('plan_drill_teams')
    with op.batch_alter_table('drill_findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drill_findings_drill_id'))

    op.drop_table('drill_findings')
    with op.batch_alter_table('plan_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_versions_plan_id'))

    op.drop_table('plan_versions')
    with op.batch_alter_table('plan_drills', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_drills_plan_id'))
        batch_op.drop_index(batch_op.f('ix_plan_drills_held_on'))

    op.drop_table('plan_drills')
    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plans_status'))
        batch_op.drop_index(batch_op.f('ix_plans_revision_due_on'))
        batch_op.drop_index(batch_op.f('ix_plans_parent_id'))
        batch_op.drop_index(batch_op.f('ix_plans_kind'))
        batch_op.drop_index(batch_op.f('ix_plans_incident_type'))
        batch_op.drop_index(batch_op.f('ix_plans_drill_due_on'))
        batch_op.drop_index(batch_op.f('ix_plans_area_code'))

    op.drop_table('plans')
