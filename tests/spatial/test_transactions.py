"""How requests take SpatiaLite's one write lock (signing in reads without it, a report from a
phone holds it once, only for its inserts), inserts that yield to a row already there, and
live events announced at commit in the statement that inserts them."""

import threading

import pytest
from sqlalchemy import event, inspect, select, text
from sqlalchemy.orm import Session

from emergency import spatial
from emergency.audit.models import AuditEntry
from emergency.auth import service as auth
from emergency.auth.models import User
from emergency.auth.permissions import actor
from emergency.db import get_session, read_session, unit_of_work, utcnow
from emergency.events.models import LiveEvent
from emergency.events.service import CHANNEL, publish
from emergency.spatial import notify
from hazards.models import HazardEvent, HazardReport
from tests.conftest import BACKENDS, committed_app
from tests.hazards.hazard_helpers import body, one_grid_and_staff


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_write_request_signs_in_without_the_write_lock(backend, tmp_path):
    with committed_app(backend, tmp_path, "signin") as app:
        with app.app_context(), unit_of_work("test") as session:
            auth.create_user(session, "late", "admin", "correct horse battery")
            token = auth.create_token(session, "late", 1)
        # A writer that gives up at once instead of waiting for a held lock.
        other = spatial.make_engine(app.config["DATABASE_URL"], pool_size=1, busy_timeout_ms=0)
        try:
            with app.test_request_context("/api/v1/hazards", method="POST",
                                          headers={"Authorization": f"Bearer {token}"}):
                user = actor()
                session = get_session()
                assert user.username == "late"
                assert inspect(user).session is session  # the request's own object
                # On SpatiaLite the read ran on the reader, whose snapshot has ended, and the
                # request's session has no connection yet (no write lock). PostGIS: the
                # request's session read it (readers never block writers there).
                assert read_session().in_transaction() == (backend == "postgis")
                with other.begin() as conn:  # SQLite: "database is locked" if it held it
                    conn.execute(text("DELETE FROM login_attempts"))
                assert user.role == "admin"  # loaded: no query, no lock
                session.execute(text("DELETE FROM login_attempts"))
                session.commit()
            with app.test_request_context("/api/v1/hazards", method="POST",
                                          headers={"Authorization": "Bearer not-a-token"}):
                assert actor() is None
        finally:
            other.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_report_takes_the_write_lock_once_and_is_audited(backend, tmp_path):
    with committed_app(backend, tmp_path, "once") as app:
        with app.app_context(), unit_of_work("test") as session:
            one_grid_and_staff(session, "phone")
            token = auth.create_token(session, "phone", 1)
        engine = app.extensions["emergency.db"]["engine"]
        begun = []
        request_thread = threading.get_ident()

        def on_begin(conn):
            # The request's own transactions: the commit may start the live events' pruning
            # in a thread of its own (at most once a minute per process), which is not the
            # report's.
            if threading.get_ident() == request_thread:
                begun.append(conn.get_execution_options().get("sqlite_begin", "IMMEDIATE"))

        event.listen(engine, "begin", on_begin)
        try:
            sent = body()
            response = app.test_client().post("/api/v1/hazards", json=sent,
                                              headers={"Authorization": f"Bearer {token}"})
        finally:
            event.remove(engine, "begin", on_begin)
        assert response.status_code == 201, response.get_json()
        report_id = response.get_json()["id"]
        if backend == "spatialite":
            # Reads (sign-in, then retry check, grids, grid look-up) never queue for the
            # lock; one write transaction holds it for the inserts and the commit.
            assert begun.count("IMMEDIATE") == 1
            assert set(begun) == {"IMMEDIATE", "DEFERRED"}
        else:
            assert len(begun) == 1
        with app.app_context(), unit_of_work("test") as session:
            report = session.get(HazardReport, report_id)
            assert (report.client_id, report.grid_code, report.status) == (
                sent["client_id"], "990101-01", "reported")
            step = session.scalars(select(HazardEvent).where(
                HazardEvent.report_id == report_id)).one()
            assert (step.kind, step.to_status, step.actor) == ("transition", "reported", "phone")
            entries = {e.action: e for e in session.scalars(select(AuditEntry).where(
                AuditEntry.action.in_(["hazard.create", "hazard_event.create"])))}
            # The entries a flush would have written: who, which row, every value set.
            assert entries["hazard.create"].object_id == str(report_id)
            assert entries["hazard.create"].actor == "phone"
            assert entries["hazard.create"].changes["client_id"] == sent["client_id"]
            assert entries["hazard.create"].changes["grid_code"] == "990101-01"
            assert entries["hazard.create"].changes["geom"] == "<WKBElement>"
            assert "closed_at" not in entries["hazard.create"].changes
            assert entries["hazard_event.create"].object_id == str(step.id)
            assert entries["hazard_event.create"].changes["report_id"] == report_id


def test_insert_unless_present_yields_to_the_row_already_there(db):
    insert_user = spatial.InsertUnlessPresent(User.__table__, "username")
    values = {"username": "once", "display_name": "", "role": "admin", "password_hash": "x",
              "is_active": True, "created_at": utcnow()}
    conn = db.connection()
    first = insert_user(conn, values)
    assert isinstance(first, int)
    assert insert_user(conn, {**values, "role": "planner"}) is None
    # Nothing was changed or added, and the transaction is still usable.
    assert db.execute(select(User.id, User.role).where(User.username == "once")).all() == [
        (first, "admin")]


@pytest.mark.parametrize("backend", BACKENDS)
def test_published_events_are_announced_once_at_commit_and_never_on_rollback(backend, tmp_path):
    with committed_app(backend, tmp_path, "announce") as app:
        engine = app.extensions["emergency.db"]["engine"]
        listener = notify.listen(engine, CHANNEL)
        if backend == "spatialite":
            assert listener is None  # hubs poll the file there
        statements = []
        event.listen(engine, "before_cursor_execute", lambda conn, cursor, sql, *args: (
            sql.startswith("BEGIN") or statements.append(sql)))
        try:
            with Session(engine) as session:
                first = publish(session, "incident.created", 1)
                second = publish(session, "incident.updated", 1)
                # One statement per event: the first also carries the announcement (PostGIS).
                assert len(statements) == 2
                assert ("pg_notify" in statements[0]) == (backend == "postgis")
                assert "pg_notify" not in statements[1]
                if listener is not None:
                    assert not notify.wait(listener, 0.3)  # nothing before the commit
                session.commit()
            with Session(engine) as session:
                assert session.scalars(select(LiveEvent.id).where(
                    LiveEvent.id.in_([first, second]))).all() == [first, second]
            if listener is not None:
                assert notify.wait(listener, 5)
                assert not notify.wait(listener, 0.3)  # the two events: one announcement
            with Session(engine) as session:
                publish(session, "incident.updated", 2)
                session.rollback()
            if listener is not None:
                assert not notify.wait(listener, 0.5)
        finally:
            if listener is not None:
                listener.close()
