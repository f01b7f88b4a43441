"""Prices: alert evaluation after a day's import, and a series chart's data, over 10^6
price observations, on SpatiaLite and PostGIS, in process.

For each backend, on a scratch database (migrated; 38 district squares, 50 commodities —
the 18 built-in and 32 added — and 55 markets spread over the districts, 17 districts
having two):

1. load: 365 days x 50 commodities x 55 markets = 1,003,750 observations are generated
   (deterministic prices with a weekly wobble) and bulk inserted (timed, printed).
2. a day's import: the 2,750 prices of the next day (5 % of the commodity-district pairs
   up 35 %) are stored through ``prices.service.store`` — insert, then evaluation of the
   1,900 (commodity, district) pairs the day touched (baseline of 30 days, alerts raised).
   Each repetition runs in a transaction that is rolled back. Printed: the median and p95
   of the whole import and of the evaluation alone (``prices.evaluation.evaluate``), next to
   the floor measured in the same run: the bare query reading the window's rows that the
   evaluation needs (31 days of every touched pair), which it costs at least.
3. series: ``prices.service.series`` of one commodity in one district for the default 90
   days and for a whole year (daily medians over markets, each day's baseline), against the
   bare query of that pair's rows over the same period.

    .venv/bin/python bench/bench_prices.py [--backend spatialite|postgis|both] [--runs N]
        [--quick]

Aims (issue 19): evaluation after a day's import <= 2 s, the series' data <= 100 ms. The
figures are printed with the load average before and after (the machine is shared);
nothing passes or fails on time. --quick: 3 runs. Scratch databases are removed afterwards.
"""

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

from common import DATA_KEY, create_database, migrated_engine, percentile, scratch_database

DAYS = 365
DISTRICTS = 38
EXTRA_MARKETS = 17  # districts with a second market
COMMODITIES = 50
FIRST = date(2025, 1, 1)
CHUNK = 50_000


def load_average():
    """The 1, 5 and 15 minute load averages as text."""
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def figures(samples):
    """'median / p95 ms' of samples in seconds."""
    ordered = sorted(samples)
    return (f"{statistics.median(ordered) * 1000:8.1f} / "
            f"{percentile(ordered, 95) * 1000:8.1f} ms")


def timed(function, runs):
    """Seconds of each of ``runs`` calls."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def prepare(session):
    """Districts, commodities, markets, a user: (districts, commodities, markets, user)."""
    from shapely.geometry import box

    from emergency.auth import service as auth
    from emergency.geo import service as geo
    from prices import catalogue

    geo.create_area(session, "500000", "基准市", "city", box(105, 28, 110, 32))
    districts = []
    for n in range(DISTRICTS):
        code = f"5001{n + 1:02d}"
        geo.create_area(session, code, f"第{n + 1}区", "district",
                        box(105 + (n % 8) * 0.5, 28 + (n // 8) * 0.5,
                            105.5 + (n % 8) * 0.5, 28.5 + (n // 8) * 0.5), "500000")
        districts.append(code)
    goods = list(catalogue.BUILTIN)
    for n in range(COMMODITIES - len(goods)):
        code = f"goods_{n:02d}"
        catalogue.save(session, code, name=f"商品{n}", unit="kg")
        goods.append(code)
    markets = [(d, f"{d}-市场1") for d in districts]
    markets += [(d, f"{d}-市场2") for d in districts[:EXTRA_MARKETS]]
    user = auth.create_user(session, "bench-planner", "planner", "correct horse battery")
    session.flush()
    return districts, goods, markets, user


def price(c_index, m_index, day_index):
    """A deterministic price in fen."""
    base = 300 + (c_index * 137) % 4000 + m_index * 3
    return int(base * (1 + 0.04 * math.sin(day_index * 0.9 + c_index + m_index)))


def units(goods):
    """{commodity: unit}."""
    from prices import catalogue

    return {c: catalogue.BUILTIN.get(c, ("", "", "kg"))[2] for c in goods}


def load(session, goods, markets):
    """Bulk insert 365 days of every commodity at every market; returns the row count."""
    from sqlalchemy import insert

    from emergency.db import utcnow
    from prices.models import PriceObservation

    table, unit, now, rows, total = PriceObservation.__table__, units(goods), utcnow(), [], 0
    for day_index in range(DAYS):
        day = FIRST + timedelta(days=day_index)
        for c_index, commodity in enumerate(goods):
            for m_index, (area, market) in enumerate(markets):
                rows.append({"commodity": commodity, "unit": unit[commodity],
                             "market": market, "area_code": area, "observed_on": day,
                             "price_fen": price(c_index, m_index, day_index),
                             "created_by": None, "created_at": now})
        if len(rows) >= CHUNK:
            session.execute(insert(table), rows)
            total, rows = total + len(rows), []
    if rows:
        session.execute(insert(table), rows)
    return total + len(rows)


def next_day_rows(goods, markets):
    """The prices of the day after the loaded year; 5 % of the pairs 35 % up."""
    unit, day, rows = units(goods), FIRST + timedelta(days=DAYS), []
    for c_index, commodity in enumerate(goods):
        for m_index, (area, market) in enumerate(markets):
            fen = price(c_index, m_index, DAYS)
            if (c_index * 31 + int(area[-2:])) % 20 == 0:
                fen = int(fen * 1.35)
            rows.append({"commodity": commodity, "unit": unit[commodity], "market": market,
                         "area_code": area, "observed_on": day, "price_fen": fen})
    return rows


def bench_import(engine, goods, markets, runs):
    """Store a day's prices (insert + evaluation), rolled back each time."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from prices import evaluation, service
    from prices.catalogue import Defaults
    from prices.models import PriceObservation

    rows = next_day_rows(goods, markets)
    pairs = {(r["commodity"], r["area_code"]) for r in rows}
    day = rows[0]["observed_on"]
    t = PriceObservation.__table__
    found = {}

    def with_session(work):
        session = Session(bind=engine)
        session.info["actor"] = "bench"
        try:
            return work(session)
        finally:
            session.rollback()
            session.close()

    def whole(session):
        outcome = service.store(session, None, rows, Defaults())
        found["alerts"] = len(outcome["alerts"])

    def evaluate_only(session):
        from sqlalchemy import insert

        session.execute(insert(t), rows)
        start = time.perf_counter()
        evaluation.evaluate(session, pairs, day, Defaults())
        return time.perf_counter() - start

    def floor(session):
        session.execute(select(t.c.commodity, t.c.area_code, t.c.observed_on, t.c.price_fen)
                        .where(t.c.observed_on >= day - timedelta(days=30))).all()

    imports = timed(lambda: with_session(whole), runs)
    evaluations = [with_session(evaluate_only) for _ in range(runs)]
    floors = timed(lambda: with_session(floor), runs)
    print(f"  a day's import ({len(rows)} prices, {len(pairs)} pairs, "
          f"{found['alerts']} alerts raised):")
    print(f"    store + evaluate       {figures(imports)}")
    print(f"    evaluation alone       {figures(evaluations)}")
    ratio = statistics.median(evaluations) / statistics.median(floors)
    print(f"    floor: window query    {figures(floors)}   (evaluation / floor: {ratio:.1f}x)")


def bench_series(engine, goods, markets, runs):
    """The series of one commodity in a two-market district, 90 days and a year."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from prices import service
    from prices.catalogue import Defaults
    from prices.models import PriceObservation

    t = PriceObservation.__table__
    commodity, area = goods[3], markets[0][0]
    last = FIRST + timedelta(days=DAYS - 1)
    session = Session(bind=engine)
    try:
        for label, days in (("90 days", 90), ("365 days", 365)):
            first = last - timedelta(days=days - 1)

            def made(first=first):
                return service.series(session, None, commodity, area, first, last,
                                      Defaults())

            def bare(first=first):
                return session.execute(select(t.c.observed_on, t.c.price_fen).where(
                    t.c.commodity == commodity, t.c.area_code == area,
                    t.c.observed_on >= first - timedelta(days=30),
                    t.c.observed_on <= last)).all()

            points = len(made()["days"])
            series_s, bare_s = timed(made, runs), timed(bare, runs)
            ratio = statistics.median(series_s) / statistics.median(bare_s)
            print(f"  series {label} ({points} days): {figures(series_s)};   "
                  f"floor: bare query {figures(bare_s)}   ({ratio:.1f}x)")
    finally:
        session.close()


def run(backend, runs, folder, keep=False):
    """Every measurement on one backend (``keep``: reuse a loaded database kept by an earlier
    run, and keep this one)."""
    from contextlib import nullcontext

    from sqlalchemy import text

    from emergency import create_app
    from emergency.db import new_session

    if keep:
        url, fresh = create_database(backend, folder, "prices", keep=True)
        scope = nullcontext(url)
    else:
        scope, fresh = scratch_database(backend, folder, "prices"), True
    with scope as url:
        if fresh:
            migrated_engine(url, pool_size=2).dispose()
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                          "EMERGENCY_DATA_KEY": DATA_KEY,
                          "UPLOAD_FOLDER": os.path.join(folder, "uploads")})
        print(f"{backend}: load average {load_average()}", flush=True)
        with app.app_context():
            session = new_session()
            session.info["actor"] = "bench"
            try:
                if fresh:
                    start = time.perf_counter()
                    _districts, goods, markets, _user = prepare(session)
                    count = load(session, goods, markets)
                    session.commit()
                    print(f"  loaded {count:,} observations in "
                          f"{time.perf_counter() - start:.1f} s", flush=True)
                else:
                    goods, markets = kept_layout(session)
                    print("  reusing the kept database", flush=True)
            finally:
                session.close()
            engine = app.extensions["emergency.db"]["engine"]
            if fresh:
                with engine.connect() as conn:
                    conn.execute(text("ANALYZE"))
                    conn.commit()
            bench_import(engine, goods, markets, runs)
            bench_series(engine, goods, markets, runs)
        app.extensions["emergency.db"]["engine"].dispose()
        print(f"{backend}: load average {load_average()}", flush=True)


def kept_layout(session):
    """The commodities and markets of a kept database, as prepare() made them."""
    from sqlalchemy import select

    from prices import catalogue
    from prices.models import CommoditySetting

    goods = list(catalogue.BUILTIN) + sorted(session.scalars(select(CommoditySetting.code)))
    districts = [f"5001{n + 1:02d}" for n in range(DISTRICTS)]
    markets = [(d, f"{d}-市场1") for d in districts]
    markets += [(d, f"{d}-市场2") for d in districts[:EXTRA_MARKETS]]
    return goods, markets


def main():
    """Parse the options and run each backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("spatialite", "postgis", "both"), default="both")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the loaded databases (in "
                        "/tmp/bench-prices) and reuse them on the next run with --keep")
    options = parser.parse_args()
    if options.quick:
        options.runs = 3
    backends = ("spatialite", "postgis") if options.backend == "both" else (options.backend,)
    if options.keep:
        os.makedirs("/tmp/bench-prices", exist_ok=True)
        for backend in backends:
            run(backend, options.runs, "/tmp/bench-prices", keep=True)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-prices-") as folder:
        for backend in backends:
            run(backend, options.runs, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
