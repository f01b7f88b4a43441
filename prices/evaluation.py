"""Baselines and anomaly alerts of prices. No Flask here.

The daily price of a commodity in an area is the median of that day's prices over its
markets. The baseline of a day is the median of the daily prices of the ``baseline_days``
calendar days before it (days without prices are skipped; fewer than ``min_days`` of them:
no baseline). A price is abnormal when the latest daily price exceeds the baseline by more
than the alert ratio: ``latest > baseline * (1 + ratio)``. Each abnormal commodity and area
has exactly one active (not closed) alert, which later evaluations bring up to date; the
database holds that rule too (a partial unique index), so two evaluations racing on one
pair leave one alert.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from statistics import median

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from emergency.db import utcnow
from prices import catalogue as cat
from prices.models import ACTIVE, PriceAlert, PriceAlertStep, PriceObservation

RATIO_PLACES = Decimal("0.0001")


def daily_prices(rows):
    """{day: median price in fen (int or Decimal)} of (day, price_fen) rows."""
    by_day = defaultdict(list)
    for day, fen in rows:
        by_day[day].append(fen)
    return {day: _median(values) for day, values in by_day.items()}


def _median(values):
    """The median, exact: an int, or a Decimal ending in .5 for an even count."""
    values = sorted(values)
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    total = values[middle - 1] + values[middle]
    return total // 2 if total % 2 == 0 else Decimal(total) / 2


def baseline_of(daily, day, days, min_days):
    """The baseline of ``day``: median of the daily prices of the ``days`` days before it,
    or None with fewer than ``min_days`` such days."""
    first = day - timedelta(days=days)
    values = [price for d, price in daily.items() if first <= d < day]
    if len(values) < max(min_days, 1):
        return None
    return median(Decimal(v) for v in values)


def assess(daily, days, ratio, min_days):
    """(latest day, latest price, baseline, rise) of a pair's daily prices, with abnormal
    True when the rise is above ``ratio``; None without a baseline."""
    if not daily:
        return None
    latest_day = max(daily)
    baseline = baseline_of(daily, latest_day, days, min_days)
    if baseline is None or baseline <= 0:
        return None
    latest = Decimal(daily[latest_day])
    threshold = Decimal(str(ratio))
    rise = latest / baseline - 1
    return {"latest_on": latest_day, "latest": latest, "baseline": baseline,
            "ratio": rise, "abnormal": latest > baseline * (1 + threshold)}


def _pair_rows(session, pairs, since):
    """{(commodity, area): [(day, fen)]} of the pairs' observations from ``since`` on.

    The pairs are read in groups of whole commodities (a day's import touches every area of
    most commodities), each group one query over its commodities and their areas, so that
    the rows read are those needed (plus the few of an area another commodity of the group
    has)."""
    t = PriceObservation.__table__
    found = defaultdict(list)
    by_commodity = defaultdict(set)
    for commodity, area in pairs:
        by_commodity[commodity].add(area)
    group, size = [], 0
    groups = []
    for commodity in sorted(by_commodity):
        group.append(commodity)
        size += len(by_commodity[commodity])
        if size >= 400:
            groups.append(group)
            group, size = [], 0
    if group:
        groups.append(group)
    wanted = set(pairs)
    for commodities in groups:
        areas = sorted(set().union(*(by_commodity[c] for c in commodities)))
        statement = select(t.c.commodity, t.c.area_code, t.c.observed_on, t.c.price_fen).where(
            t.c.commodity.in_(commodities), t.c.area_code.in_(areas), t.c.observed_on >= since)
        for commodity, area, day, fen in session.execute(statement):
            if (commodity, area) in wanted:
                found[(commodity, area)].append((day, fen))
    return found


def evaluate(session, pairs, since_day, defaults=cat.Defaults(), now=None):
    """Evaluate the (commodity, area) pairs whose prices changed (observations of
    ``since_day`` or later were stored); raise or bring up to date their alerts.
    Returns the alerts raised or changed: [{id, commodity, area_code, ratio, raised}]."""
    if not pairs:
        return []
    goods = cat.catalogue(session, defaults, include_inactive=True)
    longest = max((goods[c].baseline_days for c, _a in pairs if c in goods),
                  default=defaults.baseline_days)
    rows = _pair_rows(session, pairs, since_day - timedelta(days=longest))
    abnormal = {}
    for pair in sorted(pairs):
        item = goods.get(pair[0])
        if item is None:
            continue
        result = assess(daily_prices(rows.get(pair, [])), item.baseline_days,
                        item.alert_ratio, defaults.min_days)
        if result and result["abnormal"]:
            abnormal[pair] = _figures(result, item)
    return _raise_all(session, abnormal, now or utcnow()) if abnormal else []


def _figures(result, item):
    """The alert columns of an assessment."""
    return {"latest_on": result["latest_on"],
            "latest_fen": int(result["latest"].to_integral_value()),
            "baseline_fen": int(result["baseline"].to_integral_value()),
            "ratio": float(result["ratio"].quantize(RATIO_PLACES)),
            "baseline_days": item.baseline_days, "threshold": item.alert_ratio}


def _active(session, pairs, lock=False):
    """{pair: its active alert} of the pairs that have one."""
    commodities = sorted({c for c, _a in pairs})
    areas = sorted({a for _c, a in pairs})
    statement = select(PriceAlert).where(PriceAlert.commodity.in_(commodities),
                                         PriceAlert.area_code.in_(areas),
                                         PriceAlert.status.in_(ACTIVE))
    if lock:
        statement = statement.with_for_update()
    wanted = set(pairs)
    return {(a.commodity, a.area_code): a for a in session.scalars(statement)
            if (a.commodity, a.area_code) in wanted}


def _outcome(alert, figures, raised):
    """What evaluate() reports of an alert raised or brought up to date."""
    return {"id": alert.id, "commodity": alert.commodity, "area_code": alert.area_code,
            "ratio": figures["ratio"], "raised": raised}


def _raise_all(session, abnormal, now):
    """Open alerts for the abnormal pairs without one, bring the others up to date; all in
    a few statements. When another evaluation opened one of the new pairs' alerts first
    (the partial unique index refuses the insert), the pairs are taken one by one."""
    actor = _actor(session)
    active = _active(session, list(abnormal), lock=True)
    changed = []
    new = [pair for pair in sorted(abnormal) if pair not in active]
    if new:
        try:
            with session.begin_nested():
                made = [PriceAlert(commodity=pair[0], area_code=pair[1], status="open",
                                   raised_at=now, updated_at=now, note="", **abnormal[pair])
                        for pair in new]
                session.add_all(made)
                session.flush()
        except IntegrityError:
            for pair in new:
                outcome = _raise(session, pair, abnormal[pair], now, actor)
                if outcome:
                    changed.append(outcome)
        else:
            for alert in made:
                figures = abnormal[(alert.commodity, alert.area_code)]
                session.add(PriceAlertStep(alert_id=alert.id, from_status=None,
                                           to_status="open", actor=actor, at=now,
                                           note=_step_note(figures)))
                changed.append(_outcome(alert, figures, True))
    for pair, alert in sorted(active.items()):
        if _update(session, alert, abnormal[pair], now, actor):
            changed.append(_outcome(alert, abnormal[pair], False))
    session.flush()
    return changed


def _raise(session, pair, figures, now, actor):
    """Open an alert for one pair, or bring its active one up to date."""
    alert = _active(session, [pair], lock=True).get(pair)
    if alert is None:
        try:
            with session.begin_nested():
                alert = PriceAlert(commodity=pair[0], area_code=pair[1], status="open",
                                   raised_at=now, updated_at=now, note="", **figures)
                session.add(alert)
                session.flush()
        except IntegrityError:
            # Another evaluation opened the pair's alert first: bring that one up to date.
            alert = _active(session, [pair], lock=True).get(pair)
            if alert is None:
                raise
        else:
            session.add(PriceAlertStep(alert_id=alert.id, from_status=None, to_status="open",
                                       actor=actor, at=now, note=_step_note(figures)))
            return _outcome(alert, figures, True)
    return _outcome(alert, figures, False) if _update(session, alert, figures, now,
                                                      actor) else None


def _update(session, alert, figures, now, actor):
    """Bring an active alert up to date with a newer (or the same day's changed) figure;
    False when there is nothing newer."""
    if figures["latest_on"] < alert.latest_on:
        return False
    if all(getattr(alert, k) == v for k, v in figures.items()):
        return False
    for key, value in figures.items():
        setattr(alert, key, value)
    alert.updated_at = now
    session.add(PriceAlertStep(alert_id=alert.id, from_status=alert.status,
                               to_status=alert.status, actor=actor, at=now,
                               note=_step_note(figures)))
    return True


def _step_note(figures):
    """The recorded figures of a raise or update (language-neutral)."""
    return (f"{figures['latest_on'].isoformat()}: {figures['latest_fen'] / 100:.2f} / "
            f"{figures['baseline_fen'] / 100:.2f} (+{figures['ratio'] * 100:.1f}%)")


def _actor(session):
    """The acting user's name for a step (the audit's), or 'system'."""
    from emergency.audit.service import current_actor

    name, _addr = current_actor(session)
    return name or "system"


def series(session, commodity, area_code, first, last, days, ratio, min_days):
    """Daily prices of a pair from ``first`` to ``last`` with each day's baseline (of the
    days before it) and alert line: [{day, price, low, high, markets, baseline, limit}]."""
    t = PriceObservation.__table__
    rows = session.execute(
        select(t.c.observed_on, t.c.price_fen)
        .where(and_(t.c.commodity == commodity, t.c.area_code == area_code,
                    t.c.observed_on >= first - timedelta(days=days),
                    t.c.observed_on <= last))).all()
    by_day = defaultdict(list)
    for day, fen in rows:
        by_day[day].append(fen)
    daily = {d: _median(v) for d, v in by_day.items()}
    ordered = sorted(daily)
    out = []
    factor = 1 + Decimal(str(ratio))
    start = 0
    for index, day in enumerate(ordered):
        if day < first:
            continue
        # The window of the days before ``day``: advance its start past the older ones.
        while ordered[start] < day - timedelta(days=days):
            start += 1
        window = [daily[d] for d in ordered[start:index]]
        baseline = median(Decimal(v) for v in window) if len(window) >= max(min_days, 1) \
            else None
        out.append({"day": day, "price": daily[day], "low": min(by_day[day]),
                    "high": max(by_day[day]), "markets": len(by_day[day]),
                    "baseline": baseline,
                    "limit": baseline * factor if baseline is not None else None})
    return out

