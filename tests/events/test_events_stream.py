"""GET /api/v1/events against a live server on both backends: delivery, resume, heartbeats,
credentials checked while streaming, the per-worker cap, ordering on PostgreSQL."""

import subprocess
import sys
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from emergency.auth import service as auth
from emergency.db import utcnow
from emergency.events import hub as hub_module
from emergency.events.hub import hub_for
from emergency.events.models import LiveEvent
from emergency.events.service import publish
from tests.events.conftest import Stream, open_stream


@pytest.fixture(scope="module")
def admin(live):
    """Bearer header of an admin."""
    return live.user("events-admin", "admin")


def test_stream_headers_and_a_committed_event_arrives_within_two_seconds(live, admin):
    response = requests.get(live.base + "/api/v1/events", headers=admin, stream=True,
                            timeout=(5, 30))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    response.close()
    stream = open_stream(live.base, admin)
    try:
        started = time.monotonic()
        event_id = live.publish("dispatch.updated", 7, status="en_route", area_code="500103")
        frame = stream.next(timeout=3)
        elapsed = time.monotonic() - started
        assert frame is not None
        assert frame["id"] == event_id
        assert frame["event"] == "dispatch.updated"
        assert frame["data"]["type"] == "dispatch.updated"
        assert frame["data"]["id"] == 7
        assert frame["data"]["status"] == "en_route"
        assert "at" in frame["data"]
        assert elapsed < 2.0
    finally:
        stream.close()


def test_an_event_committed_by_another_process_arrives(live, admin):
    stream = open_stream(live.base, admin)
    try:
        code = ("import sys; from sqlalchemy.orm import Session; from emergency import spatial;"
                "from emergency.events.service import publish;"
                "e = spatial.make_engine(sys.argv[1]); s = Session(e);"
                "r = publish(s, 'hazard.created', 99, area_code='500103');"
                "print(r); s.commit()")
        out = subprocess.run([sys.executable, "-c", code, live.url], capture_output=True,
                             text=True, timeout=60, check=True)
        committed = time.monotonic()
        event_id = int(out.stdout.split()[-1])
        frame = stream.next(timeout=3)
        assert frame is not None and frame["id"] == event_id, frame
        assert frame["event"] == "hazard.created"
        assert time.monotonic() - committed < 2.0
    finally:
        stream.close()


def test_resume_from_last_event_id_loses_nothing(live, admin):
    ids = [live.publish("incident.updated", n) for n in (1, 2, 3)]
    stream = open_stream(live.base, {**admin, "Last-Event-ID": str(ids[0])})
    try:
        assert [f["id"] for f in stream.events(2)] == ids[1:]
        later = live.publish("incident.updated", 4)
        assert stream.next()["id"] == later
    finally:
        stream.close()
    # Clients that cannot set headers resume with the query parameter.
    stream = open_stream(live.base, admin, f"/api/v1/events?last_event_id={ids[1]}")
    try:
        assert [f["id"] for f in stream.events(2)] == [ids[2], later]
    finally:
        stream.close()


def test_without_last_event_id_the_stream_starts_now(live, admin):
    live.publish("incident.updated", 5)
    stream = open_stream(live.base, admin)
    try:
        assert stream.next(timeout=1.5) is None
    finally:
        stream.close()


def test_heartbeat_comments_keep_the_stream_alive(live, admin):
    stream = open_stream(live.base, admin)
    try:
        frame = stream.next(timeout=3, events_only=False)
        assert frame == {"comment": "ping"}
    finally:
        stream.close()


def test_bad_last_event_id_and_signed_out(live, admin):
    response = requests.get(live.base + "/api/v1/events", headers={**admin,
                            "Last-Event-ID": "abc"}, timeout=10)
    assert response.status_code == 422
    assert "last_event_id" in response.json()["error"]["details"]
    assert requests.get(live.base + "/api/v1/events", timeout=10).status_code == 401


def test_a_revoked_token_is_cut_off_at_the_next_heartbeat(live):
    header = live.user("events-revoked", "dispatcher")
    stream = open_stream(live.base, header)
    with Session(live.other) as s:
        s.info["actor"] = "test"
        auth.revoke_tokens(s, "events-revoked")
        s.commit()
    assert stream.done.wait(4), "the stream outlived its token"


def _browser(live, username):
    """A requests session signed in through the login form."""
    client = requests.Session()
    page = client.get(live.base + "/login")
    csrf = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    signed_in = client.post(live.base + "/login", data={
        "username": username, "password": "correct horse battery",
        "csrf_token": csrf}, allow_redirects=False)
    assert signed_in.status_code in (302, 303), signed_in.text[:300]
    return client


def test_pages_carry_the_newest_event_id_for_the_stream_to_resume_from(live):
    live.user("events-pages", "dispatcher")
    client = _browser(live, "events-pages")
    newest = live.publish("incident.created", 8)
    page = client.get(live.base + "/")
    assert page.status_code == 200
    assert f'data-last-event-id="{newest}"' in page.text
    assert "live.js" in page.text


def test_a_deactivated_users_session_is_cut_off(live):
    live.user("events-browser", "planner")
    client = _browser(live, "events-browser")
    response = client.get(live.base + "/api/v1/events", stream=True, timeout=(5, 30))
    assert response.status_code == 200
    stream = Stream(response)
    with Session(live.other) as s:
        s.info["actor"] = "test"
        user = auth.get_user(s, "events-browser")
        user.is_active = False
        s.commit()
    assert stream.done.wait(4), "the stream outlived its user"


def test_streams_beyond_the_cap_get_503_with_retry_after(live, admin):
    live.app.config["EVENTS_MAX_STREAMS_PER_WORKER"] = 1
    hub = hub_for(live.app)
    deadline = time.monotonic() + 5
    while hub.streams and time.monotonic() < deadline:  # earlier tests' streams end
        time.sleep(0.1)
    stream = open_stream(live.base, admin)
    try:
        refused = requests.get(live.base + "/api/v1/events", headers=admin, timeout=10)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "5"
    finally:
        stream.close()
        live.app.config["EVENTS_MAX_STREAMS_PER_WORKER"] = 200


def test_postgis_out_of_order_commits_are_all_delivered(live, admin):
    """Two interleaved transactions: the later id commits first; the earlier one still
    arrives when it commits (the hub watches the gap)."""
    if live.backend != "postgis":
        pytest.skip("SpatiaLite assigns ids in commit order (one writer at a time)")
    stream = open_stream(live.base, admin)
    first, second = Session(live.other), Session(live.other)
    try:
        early_id = publish(first, "incident.updated", 11)
        late_id = publish(second, "incident.updated", 12)
        assert early_id < late_id
        second.commit()
        assert stream.next()["id"] == late_id
        time.sleep(1.2)  # the hub has read past the gap at least once
        first.commit()
        assert stream.next()["id"] == early_id
    finally:
        first.close()
        second.close()
        stream.close()


def test_the_stream_is_in_the_openapi_document(live):
    spec = requests.get(live.base + "/api/v1/openapi.json", timeout=10).json()
    operation = spec["paths"]["/api/v1/events"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]


def test_publishing_prunes_day_old_events_even_without_streams(live, monkeypatch):
    old = live.publish("incident.updated", 90)
    with Session(live.other) as s:
        s.execute(update(LiveEvent).where(LiveEvent.id == old)
                  .values(at=utcnow() - timedelta(hours=25)))
        s.commit()
    monkeypatch.setattr(hub_module, "_last_prune", 0.0)
    newest = live.publish("incident.updated", 91)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with Session(live.other) as s:
            left = set(s.scalars(select(LiveEvent.id).where(LiveEvent.id.in_([old, newest]))))
        if left == {newest}:
            break
        time.sleep(0.1)
    assert left == {newest}
