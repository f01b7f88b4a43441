"""Live event fixtures: an app whose writes really commit, users with tokens, a stream reader."""

import json
import queue
import threading
import time

import pytest
import requests
from sqlalchemy.orm import Session

from emergency import create_app, spatial
from emergency.auth import service as auth
from emergency.events.service import publish
from tests.browser import live_server
from tests.conftest import app_config, drop_database, make_database


class Live:
    """A committed app on a scratch database, its users' tokens and a second engine that
    stands for another process writing to the same database."""

    def __init__(self, backend, url, app):
        self.backend = backend
        self.url = url
        self.app = app
        self.other = spatial.make_engine(url, pool_size=2)
        self.tokens = {}

    def user(self, name, role, **scope):
        """Create a user with a bearer token (committed); returns the token header."""
        with Session(self.other) as s:
            s.info["actor"] = "test"
            auth.create_user(s, name, role, "correct horse battery", scope.pop("grids", ()),
                             scope.pop("org_id", None), scope.pop("area_code", None))
            token = auth.create_token(s, name, 1)
            s.commit()
        self.tokens[name] = token
        return {"Authorization": f"Bearer {token}"}

    def publish(self, type="incident.updated", resource_id=1, engine=None, **kwargs):
        """Commit one event through a separate engine (not the app's); returns its id."""
        with Session(engine or self.other) as s:
            s.info["actor"] = "test"
            event_id = publish(s, type, resource_id, **kwargs)
            s.commit()
        return event_id


@pytest.fixture(scope="module")
def live(backend, tmp_path_factory):
    """One committed app per backend for the module (heartbeat every second)."""
    tmp = tmp_path_factory.mktemp("events")
    url, engine = make_database(backend, tmp, "events")
    engine.dispose()
    app = create_app(app_config(url, tmp, EVENTS_HEARTBEAT_SECONDS=1))
    holder = Live(backend, url, app)
    try:
        with live_server(app) as base:
            holder.base = base
            yield holder
    finally:
        holder.other.dispose()
        app.extensions["emergency.db"]["engine"].dispose()
        drop_database(url)


class Stream:
    """Reads a streamed response in a thread; frames arrive on a queue."""

    def __init__(self, response):
        self.response = response
        self.frames = queue.Queue()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        buffer = ""
        try:
            for chunk in self.response.iter_content(chunk_size=None):
                buffer += chunk.decode()
                while "\n\n" in buffer:
                    frame, buffer = buffer.split("\n\n", 1)
                    self.frames.put(parse_frame(frame))
        except Exception:  # the test closed the connection
            pass
        finally:
            self.done.set()

    def next(self, timeout=3.0, events_only=True):
        """The next frame (skipping comments and retry lines unless asked), or None."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                frame = self.frames.get(timeout=left)
            except queue.Empty:
                return None
            if not events_only or "event" in frame:
                return frame

    def events(self, count, timeout=3.0):
        """The next ``count`` event frames (fewer if they do not come in time)."""
        found = []
        deadline = time.monotonic() + timeout
        while len(found) < count:
            frame = self.next(max(0.01, deadline - time.monotonic()))
            if frame is None:
                break
            found.append(frame)
        return found

    def close(self):
        """Drop the connection (the server notices at its next write and counts it out)."""
        self.response.close()


def parse_frame(frame):
    """One SSE frame as a dict: id, event, data (parsed), comment, retry."""
    out = {}
    for line in frame.split("\n"):
        if line.startswith(":"):
            out["comment"] = line[1:].strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            out[key] = value[1:] if value.startswith(" ") else value
    if "data" in out:
        out["data"] = json.loads(out["data"])
    if "id" in out:
        out["id"] = int(out["id"])
    return out


def open_stream(base, headers, path="/api/v1/events"):
    """GET the stream from the live server; returns a Stream reading it."""
    response = requests.get(base + path, headers=headers, stream=True, timeout=(5, 30))
    assert response.status_code == 200, response.text
    stream = Stream(response)
    first = stream.next(events_only=False)
    assert first == {"retry": "3000"}
    return stream
