"""background jobs (issue 21): job records on both backends, procrastinate's queue on PostGIS

- ``jobs``: one record per background job (a risk run, later imports and exports): kind,
  owner, status, progress, attempts, cancellation, and which queue job claimed it last.
- On PostgreSQL only, procrastinate's own schema (its ``procrastinate_*`` tables, types and
  functions) as shipped with the pinned version. A later procrastinate that changes its
  schema needs a revision of ours applying its migration scripts (procrastinate/sql/migrations).
  SpatiaLite keeps the queue in the worker's memory (procrastinate has no SQLite connector).

Revision ID: 0017_jobs
Revises: 0016_filing_training
Create Date: 2026-12-03 14:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0017_jobs'
down_revision = '0016_filing_training'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=80), nullable=False, comment='task name, e.g. risk.run_assessment'),
    sa.Column('subject_id', sa.Integer(), nullable=True, comment='id of the record the job works on (e.g. the risk assessment)'),
    sa.Column('args', sa.JSON(), nullable=False, comment="the task's arguments"),
    sa.Column('owner', sa.String(length=64), nullable=False, comment='user name of who asked for it'),
    sa.Column('status', sa.String(length=12), nullable=False, comment='queued|running|done|failed|cancelled'),
    sa.Column('progress', sa.Float(), nullable=True, comment='0..1 where the job reports'),
    sa.Column('attempts', sa.Integer(), nullable=False, comment='runs started so far'),
    sa.Column('error', sa.String(length=2000), nullable=False),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('queue_job_id', sa.Integer(), nullable=True, comment="the queue's job id of the run that claimed it last"),
    sa.Column('deferred_at', sa.DateTime(timezone=True), nullable=True, comment='when a worker last put it on the queue (null: not yet)'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_status_deferred', ['status', 'deferred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_jobs_owner'), ['owner'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        from procrastinate.schema import SchemaManager

        # Straight to the driver, in the migration's transaction: the schema's PL/pgSQL has
        # literal % signs that SQLAlchemy would take for parameter markers.
        with op.get_bind().connection.dbapi_connection.cursor() as cursor:
            cursor.execute(SchemaManager.get_schema())


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers,
                procrastinate_jobs, procrastinate_workers CASCADE;
            DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
                procrastinate_job_status CASCADE;
        """)
        op.execute("""
            DO $$ DECLARE f record; BEGIN
              FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
                       JOIN pg_namespace n ON n.oid = p.pronamespace
                       WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
              LOOP EXECUTE 'DROP FUNCTION IF EXISTS ' || f.sig || ' CASCADE'; END LOOP;
            END $$;
        """)
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_owner'))
        batch_op.drop_index('ix_jobs_status_deferred')
    op.drop_table('jobs')
