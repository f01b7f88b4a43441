"""The shared vocabulary: local time, team categories and risk levels agree everywhere."""

from datetime import UTC, datetime

from emergency.vocabulary import (
    CATEGORY_COLOURS,
    CATEGORY_LABELS,
    RISK_COLOUR_NAMES,
    RISK_COLOURS,
    RISK_LEVEL_LABELS,
    RISK_LEVEL_NAMES_ZH,
    RISK_LEVELS,
    TEAM_CATEGORIES,
    local_minute,
)


def test_local_minute_shows_china_standard_time():
    assert local_minute(datetime(2026, 6, 1, 16, 30, 59, tzinfo=UTC)) == "2026-06-02 00:30"
    assert local_minute("2026-06-01T16:30:00+00:00") == "2026-06-02 00:30"
    assert local_minute(None) == "" and local_minute("") == ""


def test_every_category_and_level_has_its_words():
    assert set(CATEGORY_LABELS) == set(CATEGORY_COLOURS) == set(TEAM_CATEGORIES)
    for words in (RISK_COLOURS, RISK_COLOUR_NAMES, RISK_LEVEL_NAMES_ZH, RISK_LEVEL_LABELS):
        assert tuple(words) == RISK_LEVELS
