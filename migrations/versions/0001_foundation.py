"""foundation: areas, grids, users, tokens, audit

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 03:20:41.514014
"""

from alembic import op
import sqlalchemy as sa
import geoalchemy2
from geoalchemy2 import Geometry

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table('areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False, comment='GB/T 2260 code (6 digits) or a longer local code'),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=12), nullable=False, comment='province|city|district|street|community'),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False, comment='boundary, WGS-84 lon/lat'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['areas.code'], name=op.f('fk_areas_parent_code_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_areas')),
    sa.UniqueConstraint('code', name=op.f('uq_areas_code'))
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_areas_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_areas_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_areas_parent_code'), ['parent_code'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False, comment="username or 'system'"),
    sa.Column('action', sa.String(length=64), nullable=False, comment='<object>.<verb>, e.g. member.reveal'),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('changes', sa.JSON(), nullable=False, comment='changed fields; personal data redacted'),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempts'))
    )
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_attempts_username'), ['username'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False, comment='admin|planner|dispatcher|grid_staff|org_admin|auditor'),
    sa.Column('password_hash', sa.String(length=200), nullable=False, comment='argon2id hash'),
    sa.Column('org_id', sa.Integer(), nullable=True, comment='org_admin: their organisation'),
    sa.Column('area_code', sa.String(length=12), nullable=True, comment='optional district scope of bureau staff'),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False, comment='sha256 hex of the token'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_geospatial_table('grids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False, comment='the community (or street) it belongs to'),
    sa.Column('geom', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False, comment='boundary, WGS-84 lon/lat'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_grids_area_code_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grids')),
    sa.UniqueConstraint('code', name=op.f('uq_grids_code'))
    )
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_grids_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_grids_area_code'), ['area_code'], unique=False)

    op.create_table('user_grids',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['grid_code'], ['grids.code'], name=op.f('fk_user_grids_grid_code_grids')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_grids_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'grid_code', name=op.f('pk_user_grids'))
    )
    _audit_guard_up()


def _audit_guard_up():
    """Make the audit log append-only in the database itself, not only in the app."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'audit_log is append-only';
            END $$ LANGUAGE plpgsql
        """)
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")
        op.execute("CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")
        op.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END")


def _audit_guard_down():
    """Drop the append-only guard."""
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update" +
               (" ON audit_log" if op.get_bind().dialect.name == "postgresql" else ""))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")


def downgrade():
    _audit_guard_down()
    op.drop_table('user_grids')
    with op.batch_alter_table('grids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grids_area_code'))
        batch_op.drop_geospatial_index('idx_grids_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('grids')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
    op.drop_table('users')
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_username'))
        batch_op.drop_index(batch_op.f('ix_login_attempts_at'))

    op.drop_table('login_attempts')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_parent_code'))
        batch_op.drop_index(batch_op.f('ix_areas_level'))
        batch_op.drop_geospatial_index('idx_areas_geom', postgresql_using='gist', column_name='geom')

    op.drop_geospatial_table('areas')
