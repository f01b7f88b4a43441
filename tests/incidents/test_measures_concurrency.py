"""Decision numbers under concurrency (issue 19): measures issued at the same moment by
several requests on a real database of each backend each get their own number, and the
year's series has no gap (real threads committing, not the rolled-back test session)."""

import re
import threading

from sqlalchemy import text

from emergency import create_app
from tests.conftest import app_config, drop_database, make_database, square
from tests.incidents.conftest import arrange_committed

THREADS = 8


def test_concurrent_measures_get_distinct_numbers(backend, tmp_path):
    url, engine = make_database(backend, tmp_path, "numbers")
    try:
        app = create_app(app_config(url, tmp_path))
        from registry.crypto import cipher_for

        _team, token = arrange_committed(engine, cipher_for(app.config["EMERGENCY_DATA_KEY"]))
        headers = {"Authorization": f"Bearer {token}"}
        incident = app.test_client().post("/api/v1/incidents", headers=headers, json={
            "title": "滑坡", "incident_type": "geological", "occurred_at":
            "2026-11-28T08:00:00+08:00",
            "location": {"type": "Point", "coordinates": [106.55, 29.56]}})
        assert incident.status_code == 201, incident.get_json()
        path = f"/api/v1/incidents/{incident.get_json()['id']}/measures"
        body = {"kind": "closure", "legal_basis": "《中华人民共和国突发事件应对法》第七十三条",
                "authority": "渝中区人民政府", "scope": square(106.54, 29.55),
                "starts_at": "2026-11-28T09:00:00+08:00"}
        barrier = threading.Barrier(THREADS)
        answers = []

        def worker():
            local = app.test_client()
            barrier.wait()
            r = local.post(path, json=body, headers=headers)
            answers.append((r.status_code, r.get_json()))

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [code for code, _body in answers] == [201] * THREADS, answers
        numbers = [answer["order_number"] for _code, answer in answers]
        assert len(set(numbers)) == THREADS
        seqs = sorted(int(re.search(r"〕(\d+)号", n).group(1)) for n in numbers)
        assert seqs == list(range(1, THREADS + 1))
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(DISTINCT order_number) FROM measures"))
            assert stored.scalar() == THREADS
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        engine.dispose()
        drop_database(url)
