"""Running Alembic from the app: upgrade, current revision, drift check."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import current_app

from emergency.db import engine as app_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(connection=None, url=None):
    """An Alembic config for our migrations, bound to a connection or URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(revision="heads", engine=None):
    """Apply migrations up to ``revision`` on the app's (or the given) engine."""
    if engine is None:
        engine = app_engine()
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def check(engine):
    """Raise when the models and the migrated schema differ (alembic check)."""
    with engine.begin() as connection:
        command.check(alembic_config(connection))


__all__ = ["alembic_config", "upgrade", "check", "current_app"]
