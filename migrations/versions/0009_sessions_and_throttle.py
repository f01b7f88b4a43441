"""server-side sessions (revocable); sign-in attempts indexed by client address

Revision ID: 0009_sessions_and_throttle
Revises: 0008_team_readiness
Create Date: 2026-12-02 22:50:00

Issue 15, classes 4 and 7:

- ``user_sessions``: one row per browser sign-in. The signed cookie carries a random id whose
  SHA-256 is the row's key; each request checks that the row exists, is not revoked and is
  younger than ``SESSION_MAX_HOURS``. Sign-out revokes the row (a copied cookie stops
  working); deactivation, a role change or a password change revokes every row of the user.
- ``ix_login_attempts_remote_addr``: sign-in throttling now also counts failures per client
  address (password sprays across user names), which reads ``login_attempts`` by address.
"""

from alembic import op
import sqlalchemy as sa


revision = '0009_sessions_and_throttle'
down_revision = '0008_team_readiness'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_sessions',
    sa.Column('id', sa.String(length=64), nullable=False,
              comment='sha256 hex of the random id in the cookie'),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True,
              comment='set by sign-out, deactivation, role or password change'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions'))
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_attempts_remote_addr'), ['remote_addr'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempts_remote_addr'))
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
