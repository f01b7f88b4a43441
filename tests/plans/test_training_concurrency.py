"""Attendance under concurrency: the same session recorded by several requests at once on a
real database of each backend is stored once per official, and every request succeeds."""

import threading

from sqlalchemy import text

from emergency import create_app
from emergency.auth import service as auth
from emergency.db import unit_of_work
from plans.training import service as training
from tests.conftest import app_config, drop_database, make_database

THREADS = 6


def test_concurrent_attendance_is_stored_once(backend, tmp_path):
    url, engine = make_database(backend, tmp_path, "attendance")
    try:
        app = create_app(app_config(url, tmp_path))
        with app.app_context(), unit_of_work("test") as session:
            auth.create_user(session, "planner-c", "planner", "correct horse battery")
            token = auth.create_token(session, "planner-c", 1)
            course = training.create_course(session, "应对法", "law", 4, "leaders")
            ids = [training.create_official(session, f"干部{i}", "局", leader=True).id
                   for i in range(5)]
            course_id = course.id
        headers = {"Authorization": f"Bearer {token}"}
        barrier = threading.Barrier(THREADS)
        answers = []

        def worker():
            local = app.test_client()
            barrier.wait()
            r = local.post(f"/api/v1/courses/{course_id}/attendance", headers=headers,
                           json={"official_ids": ids, "held_on": "2026-03-01"})
            answers.append((r.status_code, r.get_json()))

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(code in (200, 201) for code, _body in answers), answers
        assert sum(body["created"] for _code, body in answers) == len(ids)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM training_attendance"))
            assert stored.scalar() == len(ids)
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        engine.dispose()
        drop_database(url)
