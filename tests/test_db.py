"""The session helpers every service and command shares (emergency.db), on both backends."""

import pytest

from emergency.auth.models import User
from emergency.db import get_or_404, unit_of_work
from emergency.errors import NotFound


def test_get_or_404_returns_the_row_or_names_what_is_missing(db, actors):
    user, _header = actors.make("planner")
    assert get_or_404(db, User, user.id, "user") is user
    with pytest.raises(NotFound, match=r"^no user 987654$"):
        get_or_404(db, User, 987654, "user")


def _user(name):
    """A bare user row."""
    return User(username=name, role="planner", password_hash="x")


def test_unit_of_work_commits_the_block_or_nothing(app, db):
    with app.app_context():
        with pytest.raises(RuntimeError), unit_of_work("test") as session:
            session.add(_user("half-made"))
            session.flush()
            raise RuntimeError("the command failed")
        with unit_of_work("test") as session:
            assert session.info["actor"] == "test"
            session.add(_user("kept"))
    names = set(db.scalars(User.__table__.select().with_only_columns(User.username)))
    assert "kept" in names and "half-made" not in names
