"""Concurrent abnormal prices for one commodity and area: exactly one active alert."""

import threading

import pytest
from sqlalchemy import func, select

from emergency.db import new_session
from tests.conftest import committed_app
from tests.prices.conftest import URL, day

THREADS = 4


@pytest.fixture
def served(backend, tmp_path):
    """An app on a committed scratch database with a district, a planner's token and six
    days of normal rice prices."""
    with committed_app(backend, tmp_path, "priceconc") as app:
        with app.app_context():
            from shapely.geometry import shape

            from emergency.auth import service as auth
            from emergency.geo import service as geo
            from prices import service
            from tests.conftest import square

            session = new_session()
            geo.create_area(session, "990000", "测试市", "city", shape(square(106, 29, 1)))
            geo.create_area(session, "990101", "测试区", "district",
                            shape(square(106.4, 29.4, 0.4)), "990000")
            user = auth.create_user(session, "price-conc", "planner", "correct horse battery")
            token = auth.create_token(session, "price-conc", 1)
            from datetime import date

            rows = [{"commodity": "rice", "unit": "kg", "market": "老市场", "area_code": "990101",
                     "observed_on": date.fromisoformat(day(n)), "price_fen": 500}
                    for n in range(1, 8)]
            service.store(session, user, rows)
            session.commit()
            session.close()
        yield app, {"Authorization": f"Bearer {token}"}


@pytest.mark.committing
def test_racing_abnormal_prices_open_one_alert(served):
    from prices.models import PriceAlert

    app, headers = served
    barrier = threading.Barrier(THREADS)
    statuses, errors = [], []

    def worker(n):
        client = app.test_client()
        barrier.wait()
        try:
            for attempt in range(3):
                response = client.post(f"{URL}/observations", headers=headers, json={
                    "commodity": "rice", "market": f"市场{n}-{attempt}", "area_code": "990101",
                    "observed_on": day(0), "price": f"{9 + n}.00"})
                statuses.append(response.status_code)
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert statuses and all(s == 201 for s in statuses), statuses
    with app.app_context():
        session = new_session()
        active = session.scalar(select(func.count()).select_from(PriceAlert)
                                .where(PriceAlert.status != "closed"))
        session.close()
    assert active == 1
