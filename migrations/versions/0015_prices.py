"""price observations, baselines, alerts and complaints (issue 19)

- ``price_commodities``: commodities added to the built-in catalogue (prices/catalogue.py)
  or overrides of a built-in one (name, unit, baseline days, alert ratio).
- ``price_observations``: a price of a commodity at a market of an area on a day, once per
  (commodity, area_code, market, observed_on); money in whole fen.
- ``price_alerts``: abnormal prices per commodity and area, at most one not closed per pair
  (a partial unique index), with ``price_alert_steps`` recording each step.
- ``price_complaints``: public complaints (gouging, hoarding, rumours, fakes) at a point.

Revision ID: 0015_prices
Revises: 0014_measures
Create Date: 2026-12-03 10:15:00
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = '0015_prices'
down_revision = '0014_measures'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('price_commodities',
    sa.Column('code', sa.String(length=32), nullable=False, comment='catalogue key, e.g. rice'),
    sa.Column('name', sa.String(length=60), nullable=False, comment='Chinese name'),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False, comment='unit priced, e.g. kg'),
    sa.Column('baseline_days', sa.Integer(), nullable=True, comment='days of the baseline; null: PRICE_BASELINE_DAYS'),
    sa.Column('alert_ratio', sa.Float(), nullable=True, comment='rise over the baseline that raises an alert (0.2 = 20 %); null: PRICE_ALERT_RATIO'),
    sa.Column('active', sa.Boolean(), nullable=False, comment='offered in forms'),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_price_commodities'))
    )
    op.create_table('price_observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commodity', sa.String(length=32), nullable=False, comment='catalogue key'),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('market', sa.String(length=100), nullable=False, comment='market or store name'),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('observed_on', sa.Date(), nullable=False, comment='day (Beijing)'),
    sa.Column('price_fen', sa.BigInteger(), nullable=False, comment='price in fen (1/100 yuan); the API shows yuan'),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_price_observations_area_code_areas')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_price_observations_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_observations')),
    sa.UniqueConstraint('commodity', 'area_code', 'market', 'observed_on', name='uq_price_observations_natural')
    )
    with op.batch_alter_table('price_observations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_observations_observed_on'), ['observed_on'], unique=False)
        batch_op.create_index('ix_price_observations_series', ['commodity', 'area_code', 'observed_on'], unique=False)

    op.create_table('price_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('commodity', sa.String(length=32), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False, comment='open|acknowledged|referred|closed'),
    sa.Column('latest_on', sa.Date(), nullable=False, comment='the day whose price is abnormal'),
    sa.Column('baseline_fen', sa.BigInteger(), nullable=False, comment='baseline in fen (median of the daily prices of the days before)'),
    sa.Column('latest_fen', sa.BigInteger(), nullable=False, comment="that day's price in fen (median over markets)"),
    sa.Column('ratio', sa.Float(), nullable=False, comment='rise over the baseline (0.27 = 27 %)'),
    sa.Column('baseline_days', sa.Integer(), nullable=False, comment='days of the baseline used'),
    sa.Column('threshold', sa.Float(), nullable=False, comment='alert ratio used'),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False, comment='note of the last step'),
    sa.ForeignKeyConstraint(['area_code'], ['areas.code'], name=op.f('fk_price_alerts_area_code_areas')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_alerts'))
    )
    with op.batch_alter_table('price_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_alerts_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_alerts_commodity'), ['commodity'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_alerts_raised_at'), ['raised_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_alerts_status'), ['status'], unique=False)
        batch_op.create_index('uq_price_alerts_active', ['commodity', 'area_code'], unique=True, postgresql_where=sa.text("status <> 'closed'"), sqlite_where=sa.text("status <> 'closed'"))

    op.create_table('price_alert_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False, comment="username or 'system'"),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['price_alerts.id'], name=op.f('fk_price_alert_steps_alert_id_price_alerts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_alert_steps'))
    )
    with op.batch_alter_table('price_alert_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_alert_steps_alert_id'), ['alert_id'], unique=False)

    op.create_geospatial_table('price_complaints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False, comment='gouging|hoarding|rumour|fake|other'),
    sa.Column('source', sa.String(length=16), nullable=False, comment='hotline|online|visit|inspection|other'),
    sa.Column('commodity', sa.String(length=32), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=False, comment='market, shop or address as told'),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('area_code', sa.String(length=12), nullable=True, comment='district of the location'),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('geom', Geometry(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False, comment='location, WGS-84 lon/lat'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_price_complaints_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_complaints'))
    )
    with op.batch_alter_table('price_complaints', schema=None) as batch_op:
        batch_op.create_geospatial_index('idx_price_complaints_geom', ['geom'], unique=False, postgresql_using='gist', postgresql_ops={})
        batch_op.create_index(batch_op.f('ix_price_complaints_area_code'), ['area_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_complaints_commodity'), ['commodity'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_complaints_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_price_complaints_received_on'), ['received_on'], unique=False)


def downgrade():
    with op.batch_alter_table('price_complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_complaints_received_on'))
        batch_op.drop_index(batch_op.f('ix_price_complaints_kind'))
        batch_op.drop_index(batch_op.f('ix_price_complaints_commodity'))
        batch_op.drop_index(batch_op.f('ix_price_complaints_area_code'))
        batch_op.drop_geospatial_index('idx_price_complaints_geom', postgresql_using='gist', column_name='geom')
    op.drop_geospatial_table('price_complaints')
    with op.batch_alter_table('price_alert_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_alert_steps_alert_id'))
    op.drop_table('price_alert_steps')
    with op.batch_alter_table('price_alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_price_alerts_active', postgresql_where=sa.text("status <> 'closed'"), sqlite_where=sa.text("status <> 'closed'"))
        batch_op.drop_index(batch_op.f('ix_price_alerts_status'))
        batch_op.drop_index(batch_op.f('ix_price_alerts_raised_at'))
        batch_op.drop_index(batch_op.f('ix_price_alerts_commodity'))
        batch_op.drop_index(batch_op.f('ix_price_alerts_area_code'))
    op.drop_table('price_alerts')
    with op.batch_alter_table('price_observations', schema=None) as batch_op:
        batch_op.drop_index('ix_price_observations_series')
        batch_op.drop_index(batch_op.f('ix_price_observations_observed_on'))
    op.drop_table('price_observations')
    op.drop_table('price_commodities')
