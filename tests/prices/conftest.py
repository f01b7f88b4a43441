"""Prices tests: observation bodies, a series of days, and users of each role."""

from datetime import timedelta

import pytest

from prices.service import today

URL = "/api/v1/prices"


def day(n):
    """The day ``n`` days before yesterday (Beijing), as ISO text."""
    return (today() - timedelta(days=1 + n)).isoformat()


def obs(place, price, n=0, commodity="rice", market="测试市场", **extra):
    """A valid POST /prices/observations body."""
    return {"commodity": commodity, "unit": "kg", "market": market,
            "area_code": place["district"], "observed_on": day(n), "price": price, **extra}


@pytest.fixture
def planner(actors):
    """A planner's headers (observations)."""
    return actors.header("planner")


@pytest.fixture
def admin(actors):
    """An administrator's headers."""
    return actors.header("admin")


@pytest.fixture
def dispatcher(actors):
    """A dispatcher's headers (alert steps)."""
    return actors.header("dispatcher")


def history(client, headers, place, prices, commodity="rice", market="测试市场"):
    """Store one price a day: prices[0] is the oldest, prices[-1] yesterday's."""
    last = None
    for i, price in enumerate(prices):
        last = client.post(f"{URL}/observations", headers=headers, json=obs(
            place, price, n=len(prices) - 1 - i, commodity=commodity, market=market))
        assert last.status_code in (200, 201), last.get_json()
    return last.get_json()
