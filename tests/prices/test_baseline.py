"""Baseline and anomaly arithmetic, computed by hand (no database)."""

from datetime import date, timedelta
from decimal import Decimal

from prices.evaluation import _median, assess, baseline_of, daily_prices
from prices.money import to_fen, yuan

D = date(2026, 6, 30)


def days_before(values):
    """{day: price} with the last value on D and the others on the days before it."""
    return {D - timedelta(days=len(values) - 1 - i): v for i, v in enumerate(values)}


def test_daily_price_is_the_median_over_markets():
    rows = [(D, 500), (D, 700), (D, 520), (D - timedelta(days=1), 400),
            (D - timedelta(days=1), 410)]
    daily = daily_prices(rows)
    assert daily[D] == 520  # odd count: the middle one
    assert daily[D - timedelta(days=1)] == 405  # even count: the mean of the middle two


def test_median_of_an_even_count_keeps_half_a_fen():
    assert _median([101, 102]) == Decimal("101.5")
    assert yuan(_median([101, 102])) == "1.02"  # halves round up for display


def test_baseline_is_the_median_of_the_days_before_only():
    # 5 days before D: 100, 300, 200, 500, 400 -> median 300; D itself (900) is left out.
    daily = days_before([100, 300, 200, 500, 400, 900])
    assert baseline_of(daily, D, days=5, min_days=3) == 300
    # A 3-day window sees 200, 500, 400 -> 400.
    assert baseline_of(daily, D, days=3, min_days=3) == 400


def test_days_without_prices_are_skipped_and_too_few_give_no_baseline():
    daily = {D: 500, D - timedelta(days=2): 100, D - timedelta(days=9): 300}
    assert baseline_of(daily, D, days=5, min_days=1) == 100  # day -9 is outside the window
    assert baseline_of(daily, D, days=10, min_days=2) == 200  # (100 + 300) / 2
    assert baseline_of(daily, D, days=5, min_days=2) is None


def test_abnormal_only_above_baseline_times_one_plus_ratio():
    base = [1000] * 10
    exactly = assess(days_before([*base, 1200]), 10, 0.2, 5)
    assert exactly["baseline"] == 1000 and exactly["ratio"] == Decimal("0.2")
    assert exactly["abnormal"] is False  # 20 % is not more than 20 %
    above = assess(days_before([*base, 1201]), 10, 0.2, 5)
    assert above["abnormal"] is True and above["ratio"] == Decimal("0.201")
    assert above["latest_on"] == D


def test_hand_computed_case_with_markets_and_gaps():
    # Two markets; day prices (fen): medians 500, 505, 510, 520, 515 (one day missing);
    # baseline = median(500, 505, 510, 515, 520) = 510; latest 650 -> +27.45 %.
    rows = []
    for offset, (a, b) in {6: (490, 510), 5: (500, 510), 4: (505, 515), 2: (510, 530),
                           1: (510, 520), 0: (640, 660)}.items():
        rows += [(D - timedelta(days=offset), a), (D - timedelta(days=offset), b)]
    result = assess(daily_prices(rows), 30, 0.2, 5)
    assert result["baseline"] == 510
    assert result["latest"] == 650
    assert round(result["ratio"], 4) == Decimal("0.2745")
    assert result["abnormal"] is True


def test_money_parsing():
    assert to_fen("6.58") == 658
    assert to_fen("6.5") == 650
    assert to_fen(7) == 700
    assert to_fen("6.580") == 658
    for bad in ("0", "-1", "6.585", "abc", "NaN", "Infinity", "", "10000000.01"):
        assert to_fen(bad) is None, bad
