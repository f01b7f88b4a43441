"""Warnings tests: areas of the test place, a drafter and releasers (four eyes)."""

from datetime import datetime, timedelta

import pytest

from alerts.service import cap_time  # noqa: F401  (re-exported for tests)
from emergency.db import utcnow
from tests.conftest import square


def in_hours(hours):
    """An ISO time ``hours`` from now, with its offset."""
    return (utcnow() + timedelta(hours=hours)).isoformat()


def warning_body(place, **extra):
    """A valid POST /warnings body over the test district and street."""
    body = {"title": "测试区暴雨红色预警", "hazard_type": "meteorological", "level": "red",
            "area_codes": [place["district"], place["street"]], "onset": in_hours(0),
            "expires": in_hours(24), "description": "预计未来6小时降雨量将达100毫米以上。",
            "instruction": "停止户外活动，远离河道和山体。"}
    body.update(extra)
    return body


def drawn(lon=106.5, lat=29.5, size=0.1):
    """A closed square polygon inside the test district."""
    return square(lon, lat, size)


class People(dict):
    """Users made on first use (each costs a password hash): "author" (a planner who
    drafts), "admin" and "planner" (who release), "dispatcher", "auditor", "grid_staff";
    each is (user, headers)."""

    ROLES = {"author": "planner", "admin": "admin", "planner": "planner",
             "dispatcher": "dispatcher", "auditor": "auditor", "grid_staff": "grid_staff"}

    def __init__(self, actors):
        super().__init__()
        self.actors = actors

    def __missing__(self, key):
        self[key] = made = self.actors.make(self.ROLES[key])
        return made


@pytest.fixture
def people(actors):
    """The users of a test, made when first used: {name: (user, headers)}."""
    return People(actors)


@pytest.fixture
def draft(client, place, people):
    """A warning drafted by the author: its JSON."""
    response = client.post("/api/v1/warnings", json=warning_body(place),
                           headers=people["author"][1])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def step(client, headers, warning_id, to, note=""):
    """POST a transition; the response."""
    return client.post(f"/api/v1/warnings/{warning_id}/transition",
                       json={"to": to, "note": note}, headers=headers)


@pytest.fixture
def published(client, draft, people):
    """The draft approved by the admin and published by the second planner: its JSON."""
    assert step(client, people["admin"][1], draft["id"], "approved").status_code == 200
    response = step(client, people["planner"][1], draft["id"], "published")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def local(text):
    """An ISO time as an aware datetime."""
    return datetime.fromisoformat(text)
