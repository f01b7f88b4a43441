"""Migration hygiene: one head, and models and migrations do not drift, on both backends."""

from alembic.script import ScriptDirectory

from emergency import migrate


def test_one_head():
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1, heads


def test_models_match_migrations(engine):
    migrate.check(engine)


def test_upgrade_is_idempotent(engine):
    migrate.upgrade(engine=engine)
    migrate.check(engine)
