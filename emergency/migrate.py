"""Running Alembic from the app: upgrade, current revision, drift check."""

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
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


@functools.cache
def code_heads():
    """The head revisions of the migrations this code carries (read once per process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def schema_state(current):
    """How a database's revisions relate to this code's: 'at_head', 'behind' (upgrade it),
    'not_migrated', or 'unknown_revision' (a revision this code lacks: the database was
    upgraded by newer code)."""
    current = frozenset(current)
    if current == code_heads():
        return "at_head"
    if not current:
        return "not_migrated"
    script = ScriptDirectory.from_config(alembic_config())
    try:
        for revision in current:
            if script.get_revision(revision) is None:
                return "unknown_revision"
    except Exception:  # alembic raises its own ResolutionError subclasses for unknown ids
        return "unknown_revision"
    return "behind"


def check(engine):
    """Raise when the models and the migrated schema differ (alembic check)."""
    with engine.begin() as connection:
        command.check(alembic_config(connection))


__all__ = ["alembic_config", "upgrade", "check", "code_heads", "schema_state",
           "current_app"]
