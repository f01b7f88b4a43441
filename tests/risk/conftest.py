"""Risk fixtures: the app runs assessments inline, in the test's session."""

import pytest

from emergency import create_app
from tests.conftest import app_config


@pytest.fixture
def app(database, db, tmp_path):
    """The app with RISK_RUN_INLINE, so a POST returns once the run is finished."""
    return create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                 RISK_RUN_INLINE=True))
