"""Helpers of the jobs' tests: a committed app with a planner and a layer, and polling."""

import time

from tests.risk.risk_factories import collection, rect, upload

AREA = "880000"


def planner(app, username, role="planner", area=True, size=(3000, 2000)):
    """A user of ``role`` on the committed database (and the test city of ``size`` metres),
    as bearer headers."""
    from emergency.auth import service as auth
    from emergency.db import new_session
    from emergency.geo import service as geo

    with app.app_context():
        session = new_session()
        if area:
            geo.create_area(session, AREA, "测试风险市", "city", rect(0, 0, *size))
        auth.create_user(session, username, role, "correct horse battery")
        token = auth.create_token(session, username, 1)
        session.commit()
        session.close()
    return {"Authorization": f"Bearer {token}"}


def hazard_layer(client, headers):
    """A hazard layer over half the test city; its id."""
    layer = upload(client, headers, collection([(rect(0, 0, 1500, 2000), {"value": 3})]))
    assert layer.status_code == 201, layer.get_json()
    return layer.get_json()["id"]


def until(check, seconds=60, step=0.1):
    """Poll ``check()`` until it returns something true (at most ``seconds``); its value."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(step)
