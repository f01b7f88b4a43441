"""Registry fixtures: a ready-made approved organisation with a team and a member."""

import pytest

from tests.factories import org_with_team


@pytest.fixture
def forces(client, actors):
    """An approved organisation with its org_admin, one team and one member."""
    return org_with_team(client, actors)
