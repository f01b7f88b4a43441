"""Transaction helpers of the seam: a write request that takes the write lock late."""

import pytest
from sqlalchemy import inspect, select, text

from emergency import spatial
from emergency.auth import service as auth
from emergency.auth.models import User
from emergency.db import get_session, read_session, unit_of_work
from tests.conftest import BACKENDS, committed_app


@pytest.mark.parametrize("backend", BACKENDS)
def test_write_late_lets_other_writers_in_until_the_request_writes(backend, tmp_path):
    with committed_app(backend, tmp_path, "late") as app:
        with app.app_context(), unit_of_work("test") as session:
            auth.create_user(session, "late", "admin", "correct horse battery")
        url = app.config["DATABASE_URL"]
        # A writer that gives up at once instead of waiting for a held lock.
        other = spatial.make_engine(url, pool_size=1, busy_timeout_ms=0)
        try:
            with app.test_request_context("/api/v1/hazards", method="POST"):
                session, reader = get_session(), read_session()
                # Signing in reads the user on the request's session (on SpatiaLite its
                # BEGIN IMMEDIATE takes the write lock), the look-ups run on the reader.
                user = session.scalar(select(User).where(User.username == "late"))
                assert reader.execute(text("SELECT count(*) FROM users")).scalar() == 1
                spatial.write_late(session, reader, keep=[user])
                if reader is not session:
                    reader.rollback()
                with other.begin() as conn:  # SQLite: "database is locked" without it
                    conn.execute(text("DELETE FROM login_attempts"))
                assert user.username == "late"  # still loaded, read without a query
                assert inspect(user).detached == (backend == "spatialite")
                session.execute(text("DELETE FROM login_attempts"))
                session.commit()
        finally:
            other.dispose()
