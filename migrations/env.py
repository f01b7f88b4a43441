"""Alembic environment: one history for PostGIS and SpatiaLite, with GeoAlchemy2's helpers."""

import os

from alembic import context
from geoalchemy2 import alembic_helpers

from emergency.domains import metadata

config = context.config
target_metadata = metadata()


def include_object(obj, name, type_, reflected, compare_to):
    """Ignore SpatiaLite's and PostGIS's own tables, the spatial index bookkeeping and the
    job queue's tables (procrastinate's schema, applied whole by 0017_jobs)."""
    if type_ == "table" and (name in SYSTEM_TABLES or name.startswith((
            "idx_", "virts_", "vwgdb", "sql_", "procrastinate_"))):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


SYSTEM_TABLES = {
    "spatial_ref_sys", "geometry_columns", "geometry_columns_auth",
    "geometry_columns_field_infos", "geometry_columns_statistics", "geometry_columns_time",
    "spatial_ref_sys_aux", "spatialite_history", "sql_statements_log", "views_geometry_columns",
    "views_geometry_columns_auth", "views_geometry_columns_field_infos",
    "views_geometry_columns_statistics", "virts_geometry_columns", "ElementaryGeometries",
    "SpatialIndex", "KNN", "KNN2", "data_licenses", "topology", "layer",
}


def render_item(type_, obj, autogen_context):
    """Render our UTC timestamp type as a plain timezone-aware DateTime in migrations."""
    from emergency.db import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return alembic_helpers.render_item(type_, obj, autogen_context)


def _configure(**kwargs):
    """Shared context options."""
    context.configure(
        target_metadata=target_metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=render_item,
        compare_type=True,
        render_as_batch=True,
        **kwargs,
    )


def run_online():
    """Run migrations on a given connection, or on DATABASE_URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from emergency.spatial import make_engine

    url = config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"]
    engine = make_engine(url)
    with engine.begin() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()


run_online()
