"""plan filing (备案) and officials' training (issue 19)

- ``plan_filings``: the filing of a published plan version with the higher authority (one
  per plan and version); a version in force not filed within PLAN_FILING_DAYS of its
  publication is filing_overdue.
- ``training_officials``, ``training_courses``, ``training_attendance``: officials, courses
  (some mandatory for leaders or for all, every calendar year) and attendance, one row per
  official, course and day (retries never duplicate).

Revision ID: 0016_filing_training
Revises: 0015_prices
Create Date: 2026-12-03 10:15:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0016_filing_training'
down_revision = '0015_prices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('plan_filings',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False, comment='the published version that was filed'),
    sa.Column('authority', sa.String(length=200), nullable=False, comment='the authority the plan was filed with'),
    sa.Column('filed_on', sa.Date(), nullable=False, comment='day of filing (local calendar)'),
    sa.Column('number', sa.String(length=100), nullable=False, comment='filing number (备案编号)'),
    sa.Column('recorded_by', sa.String(length=64), nullable=False, comment='user who recorded the filing'),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_filings_plan_id_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('plan_id', 'version', name=op.f('pk_plan_filings'))
    )
    op.create_table('training_officials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('department', sa.String(length=200), nullable=False, comment='department or unit (单位/部门)'),
    sa.Column('position', sa.String(length=100), nullable=False, comment='post (职务)'),
    sa.Column('area_code', sa.String(length=12), nullable=True, comment='area of the department'),
    sa.Column('leader', sa.Boolean(), nullable=False, comment='a leading official (领导干部)'),
    sa.Column('active', sa.Boolean(), nullable=False, comment='false: left the post, kept for history'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_training_officials_area_code_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_officials'))
    )
    with op.batch_alter_table('training_officials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_officials_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_officials_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_officials_name'), ['name'], unique=False)
    op.create_table('training_courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('topic', sa.String(length=12), nullable=False, comment='law|skills|command|other'),
    sa.Column('hours', sa.Numeric(precision=5, scale=1), nullable=False, comment='class hours credited'),
    sa.Column('mandatory_for', sa.String(length=8), nullable=True, comment='leaders|all; null: optional'),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False, comment='false: no longer offered nor required'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_courses'))
    )
    with op.batch_alter_table('training_courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_courses_mandatory_for'), ['mandatory_for'], unique=False)
    op.create_table('training_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('official_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False, comment="passed the course's assessment"),
    sa.Column('source', sa.String(length=8), nullable=False, comment='form|import (a sign-in sheet)'),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_training_attendance_course_id_training_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['official_id'], ['training_officials.id'], name=op.f('fk_training_attendance_official_id_training_officials'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_attendance')),
    sa.UniqueConstraint('course_id', 'official_id', 'held_on', name=op.f('uq_training_attendance_course_id'))
    )
    with op.batch_alter_table('training_attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_attendance_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_attendance_held_on'), ['held_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_attendance_official_id'), ['official_id'], unique=False)


def downgrade():
    with op.batch_alter_table('training_attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_attendance_official_id'))
        batch_op.drop_index(batch_op.f('ix_training_attendance_held_on'))
        batch_op.drop_index(batch_op.f('ix_training_attendance_course_id'))
    op.drop_table('training_attendance')
    with op.batch_alter_table('training_courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_courses_mandatory_for'))
    op.drop_table('training_courses')
    with op.batch_alter_table('training_officials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_officials_name'))
        batch_op.drop_index(batch_op.f('ix_training_officials_department'))
        batch_op.drop_index(batch_op.f('ix_training_officials_area_code'))
    op.drop_table('training_officials')
    op.drop_table('plan_filings')
