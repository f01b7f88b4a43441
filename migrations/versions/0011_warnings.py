"""warnings (预警): warnings, their areas and CAP sources (issue 18)

Revision ID: 0011_warnings
Revises: 0010_incident_command
Create Date: 2026-12-03 08:00:00

- ``warnings``: level (red|orange|yellow|blue), hazard type, areas (``area_codes``) or a drawn
  (multi)polygon (``geometry``; from publication the areas' union), onset and expiry, text,
  the four-eyes steps (author, approver, publisher and their times), version and CAP
  identifier/references, and for imports the CAP sender, identifier and document.
- ``warning_areas``: the ``area_codes`` list as rows (filters by area).
- ``warning_steps``: every step of a warning with actor, time and note.
"""

from alembic import op
import sqlalchemy as sa
from geoalchemy2 import Geometry


revision = '0011_warnings'
down_revision = '0010_incident_command'
branch_labels = None
depends_on = None


def upgrade():
    op.create_geospatial_table('warnings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('hazard_type', sa.String(length=40), nullable=False,
              comment='plans.incident_types key (e.g. meteorological)'),
    sa.Column('level', sa.String(length=8), nullable=False,
              comment='red|orange|yellow|blue (红橙黄蓝)'),
    sa.Column('status', sa.String(length=12), nullable=False,
              comment='draft|approved|published|lifted|cancelled|expired'),
    sa.Column('area_codes', sa.JSON(), nullable=False,
              comment='GB/T 2260 codes of the areas warned (each in areas)'),
    sa.Column('geometry', Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2,
                                   spatial_index=False, from_text='ST_GeomFromEWKT',
                                   name='geometry'),
              nullable=True,
              comment='drawn area, or (from publication) the union of the areas; WGS-84'),
    sa.Column('onset', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires', sa.DateTime(timezone=True), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('instruction', sa.Text(), nullable=False,
              comment='what people should do (防御指南)'),
    sa.Column('author_id', sa.Integer(), nullable=True,
              comment='who drafted it; null for imports'),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('published_by', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False, comment='note of the last step'),
    sa.Column('version', sa.Integer(), nullable=False,
              comment='+1 on each change after publication (CAP Update)'),
    sa.Column('cap_identifier', sa.String(length=200), nullable=True,
              comment='CAP identifier of the current version, set at publication'),
    sa.Column('references', sa.JSON(), nullable=False,
              comment="earlier CAP alerts as 'sender,identifier,sent' (Update and Cancel)"),
    sa.Column('source', sa.String(length=200), nullable=True,
              comment='null for our own; for imports the CAP sender'),
    sa.Column('source_identifier', sa.String(length=200), nullable=True,
              comment="the imported alert's CAP identifier"),
    sa.Column('source_xml', sa.Text(), nullable=True, comment='the imported CAP document'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                            name=op.f('fk_warnings_author_id_users')),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'],
                            name=op.f('fk_warnings_approved_by_users')),
    sa.ForeignKeyConstraint(['published_by'], ['users.id'],
                            name=op.f('fk_warnings_published_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warnings')),
    sa.UniqueConstraint('cap_identifier', name=op.f('uq_warnings_cap_identifier')),
    sa.UniqueConstraint('source', 'source_identifier', name=op.f('uq_warnings_source'))
    )
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_warnings_geometry', ['geometry'], unique=False,
                                         postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_warnings_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_warnings_expires'), ['expires'], unique=False)
        batch_op.create_index(batch_op.f('ix_warnings_hazard_type'), ['hazard_type'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_warnings_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_warnings_published_at'), ['published_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_warnings_status'), ['status'], unique=False)

    op.create_table('warning_areas',
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'],
                            name=op.f('fk_warning_areas_warning_id_warnings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'],
                            name=op.f('fk_warning_areas_area_code_areas')),
    sa.PrimaryKeyConstraint('warning_id', 'area_code', name=op.f('pk_warning_areas'))
    )
    with op.batch_alter_table('warning_areas', schema=None) as batch_op:
        batch_op.create_index('ix_warning_areas_area_code', ['area_code'], unique=False)

    op.create_table('warning_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warning_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False,
              comment='create|update|transition|expiry|import'),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False, comment="username or 'system'"),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['warning_id'], ['warnings.id'],
                            name=op.f('fk_warning_steps_warning_id_warnings'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warning_steps'))
    )
    with op.batch_alter_table('warning_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warning_steps_warning_id'), ['warning_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('warning_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warning_steps_warning_id'))
    op.drop_table('warning_steps')
    with op.batch_alter_table('warning_areas', schema=None) as batch_op:
        batch_op.drop_index('ix_warning_areas_area_code')
    op.drop_table('warning_areas')
    with op.batch_alter_table('warnings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warnings_status'))
        batch_op.drop_index(batch_op.f('ix_warnings_published_at'))
        batch_op.drop_index(batch_op.f('ix_warnings_level'))
        batch_op.drop_index(batch_op.f('ix_warnings_hazard_type'))
        batch_op.drop_index(batch_op.f('ix_warnings_expires'))
        batch_op.drop_index(batch_op.f('ix_warnings_author_id'))
        batch_op.drop_geospatial_index('idx_warnings_geometry', postgresql_using='gist',
                                       column_name='geometry')
    op.drop_geospatial_table('warnings')
