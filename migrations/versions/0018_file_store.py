"""the shared file store (issue 21)

- ``stored_files`` and ``stored_file_chunks``: the database kind of the file store
  (FILE_STORE=database, the default), one row per file and its bytes in chunks, so that
  every app host reads the photos any host received.
- ``hazard_photos.path``/``thumb_path`` now name keys in the store (same values as before:
  the paths relative to UPLOAD_FOLDER). Files still on disk from older versions are moved
  into the store by ``emergency files import`` (docs/operations.md).

Revision ID: 0018_file_store
Revises: 0017_jobs
Create Date: 2026-12-03 14:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0018_file_store'
down_revision = '0017_jobs'
branch_labels = None
depends_on = None

_KEY_COMMENT = 'key in the file store (FILE_STORE)'
_OLD_COMMENT = 'relative to UPLOAD_FOLDER'


def upgrade():
    op.create_table('stored_files',
    sa.Column('key', sa.String(length=300), nullable=False, comment='relative posix path, e.g. hazards/ab/<sha>.jpg'),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False, comment='bytes'),
    sa.Column('sha256', sa.String(length=64), nullable=False, comment='of the whole file'),
    sa.Column('chunks', sa.Integer(), nullable=False, comment='number of chunk rows'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_stored_files'))
    )
    op.create_table('stored_file_chunks',
    sa.Column('file_key', sa.String(length=300), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False, comment='0, 1, 2, ...'),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['file_key'], ['stored_files.key'], name=op.f('fk_stored_file_chunks_file_key_stored_files'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('file_key', 'seq', name=op.f('pk_stored_file_chunks'))
    )
    _comment(_KEY_COMMENT, _OLD_COMMENT)


def _comment(new, old):
    """Column comments exist on PostgreSQL only (SQLite keeps none)."""
    if op.get_bind().dialect.name != 'postgresql':
        return
    for column in ('path', 'thumb_path'):
        op.alter_column('hazard_photos', column, existing_type=sa.String(length=200),
                        existing_nullable=False, comment=new, existing_comment=old)


def downgrade():
    _comment(_OLD_COMMENT, _KEY_COMMENT)
    op.drop_table('stored_file_chunks')
    op.drop_table('stored_files')
