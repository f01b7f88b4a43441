"""Response-level evaluation: examples and properties (hypothesis)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emergency.errors import Invalid
from plans.content import clean_content, diff_rows, evaluate_levels

METRICS = ("deaths", "injured", "affected", "economic_loss")
MONOTONE_OPS = (">=", ">")

criterion = st.builds(lambda m, op, v: {"metric": m, "op": op, "value": v},
                      st.sampled_from(METRICS), st.sampled_from(MONOTONE_OPS),
                      st.integers(0, 1000))
levels = st.lists(st.integers(1, 4), unique=True, max_size=4).flatmap(
    lambda numbers: st.tuples(*[st.lists(criterion, max_size=4) for _ in numbers]).map(
        lambda crits: [{"level": n, "criteria": list(c)} for n, c in zip(numbers, crits,
                                                                          strict=True)]))
metrics = st.dictionaries(st.sampled_from(METRICS), st.integers(0, 1200))
increase = st.dictionaries(st.sampled_from(METRICS), st.integers(0, 500))


def severity(level):
    """Higher is more severe; no level is the least severe of all."""
    return 0 if level is None else 5 - level


@settings(max_examples=300, deadline=None)
@given(levels, metrics, increase)
def test_more_severe_metrics_never_give_a_less_severe_level(response_levels, base, extra):
    worse = dict(base)
    for name, amount in extra.items():
        worse[name] = worse.get(name, 0) + amount
    before = evaluate_levels(response_levels, base)["level"]
    after = evaluate_levels(response_levels, worse)["level"]
    assert severity(after) >= severity(before)


@settings(max_examples=300, deadline=None)
@given(levels, metrics)
def test_level_is_the_most_severe_with_any_criterion_met(response_levels, values):
    result = evaluate_levels(response_levels, values)

    def met(c):
        return c["metric"] in values and (values[c["metric"]] >= c["value"] if c["op"] == ">="
                                          else values[c["metric"]] > c["value"])

    triggered = [lv["level"] for lv in response_levels if any(met(c) for c in lv["criteria"])]
    assert result["level"] == (min(triggered) if triggered else None)
    assert all(m["level"] == result["level"] for m in result["matched"])
    assert bool(result["matched"]) == (result["level"] is not None)


@settings(max_examples=200, deadline=None)
@given(levels, metrics, criterion, st.integers(1, 4))
def test_adding_a_criterion_never_lowers_severity(response_levels, values, extra, level):
    before = evaluate_levels(response_levels, values)["level"]
    grown = [dict(lv, criteria=list(lv["criteria"])) for lv in response_levels]
    target = next((lv for lv in grown if lv["level"] == level), None)
    if target is None:
        grown.append({"level": level, "criteria": [extra]})
    else:
        target["criteria"].append(extra)
    assert severity(evaluate_levels(grown, values)["level"]) >= severity(before)


def test_each_operator():
    for op, value, expected in ((">=", 10, 1), (">", 10, None), ("<=", 10, 1), ("<", 10, None),
                                ("==", 10, 1), ("==", 10.5, None)):
        lv = [{"level": 1, "criteria": [{"metric": "x", "op": op, "value": value}]}]
        assert evaluate_levels(lv, {"x": 10})["level"] == expected, op


def test_missing_or_non_numeric_metrics_never_match():
    lv = [{"level": 3, "criteria": [{"metric": "deaths", "op": ">=", "value": 0}]}]
    assert evaluate_levels(lv, {})["level"] is None
    assert evaluate_levels(lv, {"deaths": True})["level"] is None
    assert evaluate_levels(lv, {"deaths": "5"})["level"] is None
    assert evaluate_levels(lv, {"deaths": 0})["level"] == 3


@pytest.mark.parametrize(("levels", "key"), [
    ([{"level": 1, "criteria": [{"metric": "deaths", "op": "=>", "value": 1}]}],
     "response_levels.0.criteria.0.op"),
    ([{"level": 1, "criteria": [{"metric": "deaths", "op": ">=", "value": "1"}]}],
     "response_levels.0.criteria.0.value"),
    ([{"level": 1, "criteria": [{"metric": "deaths", "op": ">=", "value": float("nan")}]}],
     "response_levels.0.criteria.0.value"),
    ([{"level": 3}, {"level": 3}], "response_levels.1.level"),
    ([{"level": 7}], "response_levels.0.level"),
    ([{"level": True}], "response_levels.0.level"),
    ([{"level": 2, "criteria": [{"metric": "Deaths!", "op": ">=", "value": 1}]}],
     "response_levels.0.criteria.0.metric"),
    ([{"level": 2, "actions": [{"unit": "", "duty": "x"}]}], "response_levels.0.actions.0.unit"),
    ([{"level": 2, "required_forces": [{"category": "water", "count": 0}]}],
     "response_levels.0.required_forces.0.count"),
    ("all", "response_levels"),
])
def test_clean_content_names_the_bad_part(levels, key):
    with pytest.raises(Invalid) as caught:
        clean_content({"title": "t", "response_levels": levels})
    assert key in caught.value.details


def test_clean_content_sorts_levels_and_fills_defaults():
    content = clean_content({"title": " 预案 ", "response_levels": [{"level": 3}, {"level": 1}]})
    assert content["title"] == "预案"
    assert [lv["level"] for lv in content["response_levels"]] == [1, 3]
    assert content["response_levels"][0] == {"level": 1, "name": "", "criteria": [],
                                             "actions": [], "required_forces": []}


def test_diff_rows_pair_changed_lines_side_by_side():
    left = clean_content({"title": "A", "sections": [{"title": "S", "body": "one\ntwo"}]})
    right = clean_content({"title": "A", "sections": [{"title": "S", "body": "one\nTWO\nthree"}]})
    rows = diff_rows(left, right)
    changed = [(r["tag"], r["left"], r["right"]) for r in rows if r["tag"] != "equal"]
    assert changed == [("replace", "two", "TWO"), ("insert", None, "three")]
