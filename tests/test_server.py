"""Serving: workers warmed up before traffic, and write requests' lock-free reads."""

import pytest
from sqlalchemy import text

from tests.conftest import BACKENDS, committed_app

pytestmark = pytest.mark.committing


@pytest.mark.parametrize("backend", BACKENDS)
def test_warm_up_opens_the_pool_and_walks_a_request(backend, tmp_path):
    from emergency.server import warm_up

    with committed_app(backend, tmp_path, "warmup") as app:
        engine = app.extensions["emergency.db"]["engine"]
        try:
            warm_up(app, 3)
        finally:
            import gc

            gc.unfreeze()  # warm_up freezes what a worker loaded; a test process goes on
        assert engine.pool.checkedout() == 0
        assert engine.pool.checkedin() >= 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_read_session_of_a_write_request_leaves_the_write_lock_free(backend, tmp_path):
    from emergency.db import get_session, read_session

    with committed_app(backend, tmp_path, "reader") as app:
        engine = app.extensions["emergency.db"]["engine"]
        with app.test_request_context("/api/v1/hazards", method="POST"):
            session, reader = get_session(), read_session()
            assert read_session() is reader
            assert (reader is session) == (backend == "postgis")
            assert reader.execute(text("SELECT count(*) FROM users")).scalar() == 0
            # Another writer gets in while the request has read (SQLite would otherwise wait
            # out the busy timeout and fail); the request then writes in its own session.
            with engine.begin() as other:
                other.execute(text("DELETE FROM login_attempts"))
            if reader is not session:
                reader.rollback()
            session.execute(text("DELETE FROM login_attempts"))
            session.commit()
        assert engine.pool.checkedout() == 0
