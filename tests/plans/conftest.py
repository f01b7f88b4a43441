"""Plans tests: a second bureau user publishes what a planner submitted (four eyes)."""

import pytest


@pytest.fixture(autouse=True)
def plan_approver(request):
    """An administrator's header kept on the test client: ``move(..., "published", ...)``
    publishes as them, since who submitted a plan for review may not publish it."""
    if "client" not in request.fixturenames or "actors" not in request.fixturenames:
        return None
    client, actors = request.getfixturevalue("client"), request.getfixturevalue("actors")
    client.plan_approver = actors.header("admin")
    return client.plan_approver
