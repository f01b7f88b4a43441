"""Price observations (entered one by one or imported, all rows or none), alerts and their
steps, and series. No Flask here: callers pass the acting user and the thresholds
(``catalogue.Defaults``, from the configuration).

Natural key of an observation: (commodity, area_code, market, observed_on). Storing a price
under a key that exists replaces its price (a correction); the same price again changes
nothing, so re-importing a file never duplicates a row.
"""

from datetime import date, timedelta

from sqlalchemy import func, insert, select

from emergency.auth.permissions import require_area_scope
from emergency.db import get_or_404, utcnow
from emergency.errors import Conflict, Invalid
from emergency.geo.models import Area
from emergency.geo.service import area_descendants
from emergency.spatial import bulk
from emergency.vocabulary import LOCAL_ZONE
from prices import catalogue as cat
from prices import evaluation
from prices.models import NOTE_REQUIRED, TRANSITIONS, PriceAlert, PriceAlertStep, PriceObservation
from prices.money import to_fen, yuan

EARLIEST = date(2000, 1, 1)
MAX_SERIES_DAYS = 1100
DEFAULT_SERIES_DAYS = 90


def today():
    """Today in Beijing."""
    return utcnow().astimezone(LOCAL_ZONE).date()


def _scope_codes(session, user):
    """The area codes a district-scoped bureau user may see, or None for all."""
    if user is None or user.role == "admin" or not getattr(user, "area_code", None):
        return None
    return area_descendants(session, user.area_code)


# ---------------------------------------------------------------------------- observations

def check_row(goods, areas, cells, now_day):
    """(clean values, {field: [message]}) of one observation's raw values; ``areas`` maps
    known area codes (and unique names) to codes."""
    problems, clean = {}, {}
    code = (cells.get("commodity") or "").strip()
    item = goods.get(code) or next((g for g in goods.values() if code and code in
                                    (g.name, g.name_en)), None)
    if not code:
        problems["commodity"] = ["required"]
    elif item is None:
        problems["commodity"] = ["unknown commodity; see GET /api/v1/prices/commodities"]
    else:
        clean["commodity"] = item.code
        unit = (cells.get("unit") or "").strip()
        if unit and unit != item.unit:
            problems["unit"] = ["not the unit of this commodity (see its catalogue entry)"]
        clean["unit"] = item.unit
    market = (cells.get("market") or "").strip()
    if not market:
        problems["market"] = ["required"]
    elif len(market) > 100:
        problems["market"] = ["at most 100 characters"]
    clean["market"] = market
    area = (cells.get("area_code") or "").strip()
    if not area:
        problems["area_code"] = ["required"]
    elif area not in areas:
        problems["area_code"] = ["unknown area"]
    else:
        clean["area_code"] = areas[area]
    day = cells.get("observed_on")
    if day is None or day == "":
        problems["observed_on"] = ["required"]
    elif not isinstance(day, date):
        problems["observed_on"] = ["not a date (YYYY-MM-DD)"]
    elif day > now_day + timedelta(days=1) or day < EARLIEST:
        problems["observed_on"] = ["not a day from 2000 to today"]
    else:
        clean["observed_on"] = day
    price = cells.get("price")
    fen = to_fen(price) if price not in (None, "") else None
    if price in (None, ""):
        problems["price"] = ["required"]
    elif fen is None:
        problems["price"] = ["a price in yuan > 0 with at most two decimal places, e.g. "
                             "\"6.58\""]
    else:
        clean["price_fen"] = fen
    return clean, problems


def known_areas(session, texts):
    """{code or unique name: code} of the areas the texts name."""
    texts = sorted({t.strip() for t in texts if t and t.strip()})
    found = {}
    for start in range(0, len(texts), 500):
        chunk = texts[start:start + 500]
        for code in session.scalars(select(Area.code).where(Area.code.in_(chunk))):
            found[code] = code
        names = {}
        for code, name in session.execute(select(Area.code, Area.name)
                                          .where(Area.name.in_(chunk))):
            names.setdefault(name, []).append(code)
        found.update({name: codes[0] for name, codes in names.items()
                      if len(codes) == 1 and name not in found})
    return found


def _key(values):
    """The natural key of clean values."""
    return (values["commodity"], values["area_code"], values["market"], values["observed_on"])


def store(session, user, rows, defaults=cat.Defaults()):
    """Store clean observation rows (new keys inserted, changed prices replaced) and
    evaluate the pairs they touch. Returns {created, updated, unchanged, alerts}."""
    t = PriceObservation.__table__
    if user is not None:  # None: the system (demo, benchmarks)
        require_area_scope(user, sorted({r["area_code"] for r in rows}), session)
    existing = {}
    keys = {_key(r): r for r in rows}
    first, last = min(k[3] for k in keys), max(k[3] for k in keys)
    # The stored rows of the file's period, commodities and areas (the markets are matched
    # here: a list of them in the query makes SQLite probe every combination).
    statement = select(t.c.id, t.c.commodity, t.c.area_code, t.c.market, t.c.observed_on,
                       t.c.price_fen).where(
        t.c.commodity.in_(sorted({k[0] for k in keys})),
        t.c.area_code.in_(sorted({k[1] for k in keys})),
        t.c.observed_on >= first, t.c.observed_on <= last)
    for row_id, commodity, area, market, observed_on, fen in session.execute(statement):
        key = (commodity, area, market, observed_on)
        if key in keys:
            existing[key] = (row_id, fen)
    now = utcnow()
    new = [{**r, "created_by": user.id if user else None, "created_at": now}
           for key, r in keys.items() if key not in existing]
    changed = [{"id": existing[key][0], "price_fen": r["price_fen"], "unit": r["unit"]}
               for key, r in keys.items()
               if key in existing and existing[key][1] != r["price_fen"]]
    # An executemany of one INSERT: SQLAlchemy sends it as multi-row INSERTs ("insertmanyvalues")
    # built once, where compiling a 500-row VALUES statement per chunk cost ~0.4 s on
    # PostgreSQL (this table has no statement-level triggers, see spatial.bulk.insert_many).
    for start in range(0, len(new), 10_000):
        session.execute(insert(t), new[start:start + 10_000])
    bulk.update_many(session, t, changed)
    touched = {(k[0], k[1]) for k in keys if k not in existing or
               existing[k][1] != keys[k]["price_fen"]}
    since = min((k[3] for k in keys if (k[0], k[1]) in touched), default=last)
    alerts = evaluation.evaluate(session, touched, since, defaults, now=now)
    return {"created": len(new), "updated": len(changed),
            "unchanged": len(keys) - len(new) - len(changed), "alerts": alerts}


def add_observation(session, user, body, defaults=cat.Defaults()):
    """Store one observation (POST /prices/observations); a key that exists has its price
    replaced. Returns (observation dict with ``alerts``, created)."""
    goods = cat.catalogue(session, defaults)
    areas = known_areas(session, [body.get("area_code") or ""])
    areas = {k: v for k, v in areas.items() if k == v}  # the API takes codes only
    clean, problems = check_row(goods, areas, body, today())
    if problems:
        raise Invalid("invalid price observation", problems)
    outcome = store(session, user, [clean], defaults)
    t = PriceObservation.__table__
    row = session.execute(select(t).where(
        t.c.commodity == clean["commodity"], t.c.area_code == clean["area_code"],
        t.c.market == clean["market"], t.c.observed_on == clean["observed_on"])).one()
    record = observation_dict(row)
    record["alerts"] = outcome["alerts"]
    return record, outcome["created"] == 1


def observation_dict(row):
    """An observation as the API shows it."""
    return {"id": row.id, "commodity": row.commodity, "unit": row.unit, "market": row.market,
            "area_code": row.area_code, "observed_on": row.observed_on,
            "price": yuan(row.price_fen), "created_at": row.created_at}


def list_observations(session, user, commodity=None, area_code=None, market=None,
                      from_=None, to=None, limit=100, offset=0):
    """Observations, newest day first, with the total."""
    t = PriceObservation.__table__
    where = []
    if commodity:
        where.append(t.c.commodity == commodity)
    if area_code:
        where.append(t.c.area_code.in_(area_descendants(session, area_code)))
    scope = _scope_codes(session, user)
    if scope is not None:
        where.append(t.c.area_code.in_(scope))
    if market:
        where.append(t.c.market == market)
    if from_:
        where.append(t.c.observed_on >= from_)
    if to:
        where.append(t.c.observed_on <= to)
    total = session.scalar(select(func.count()).select_from(t).where(*where))
    rows = session.execute(select(t).where(*where).order_by(
        t.c.observed_on.desc(), t.c.commodity, t.c.area_code, t.c.market)
        .limit(limit).offset(offset)).all()
    return [observation_dict(r) for r in rows], total


# ---------------------------------------------------------------------------- alerts

def _area_names(session, codes):
    """{code: name} of the areas."""
    codes = sorted(set(codes))
    return dict(session.execute(select(Area.code, Area.name).where(Area.code.in_(codes)))
                .all()) if codes else {}


def alert_dicts(session, alerts, goods, lang="zh"):
    """Alerts as the API shows them."""
    names = _area_names(session, [a.area_code for a in alerts])
    out = []
    for a in alerts:
        item = goods.get(a.commodity)
        out.append({
            "id": a.id, "commodity": a.commodity,
            "commodity_name": item.label(lang) if item else a.commodity,
            "unit": item.unit if item else "", "area_code": a.area_code,
            "area_name": names.get(a.area_code, a.area_code),
            "baseline": yuan(a.baseline_fen), "latest": yuan(a.latest_fen),
            "ratio": round(a.ratio, 4), "threshold": a.threshold,
            "baseline_days": a.baseline_days, "latest_on": a.latest_on, "status": a.status,
            "raised_at": a.raised_at, "updated_at": a.updated_at, "closed_at": a.closed_at,
            "note": a.note, "next_steps": list(TRANSITIONS[a.status])})
    return out


def list_alerts(session, user, status=None, area_code=None, commodity=None, limit=100,
                offset=0, defaults=cat.Defaults(), lang="zh"):
    """Alerts, active ones first then newest raised first, with the total."""
    where = []
    if status:
        where.append(PriceAlert.status == status)
    if commodity:
        where.append(PriceAlert.commodity == commodity)
    if area_code:
        where.append(PriceAlert.area_code.in_(area_descendants(session, area_code)))
    scope = _scope_codes(session, user)
    if scope is not None:
        where.append(PriceAlert.area_code.in_(scope))
    total = session.scalar(select(func.count(PriceAlert.id)).where(*where))
    closed_last = (PriceAlert.status == "closed")
    alerts = session.scalars(select(PriceAlert).where(*where).order_by(
        closed_last, PriceAlert.raised_at.desc(), PriceAlert.id.desc())
        .limit(limit).offset(offset)).all()
    goods = cat.catalogue(session, defaults, include_inactive=True)
    return alert_dicts(session, alerts, goods, lang), total


def get_alert(session, user, alert_id, defaults=cat.Defaults(), lang="zh"):
    """One alert with its steps."""
    alert = get_or_404(session, PriceAlert, alert_id, "price alert")
    require_area_scope(user, [alert.area_code], session)
    goods = cat.catalogue(session, defaults, include_inactive=True)
    record = alert_dicts(session, [alert], goods, lang)[0]
    record["steps"] = [{"from_status": s.from_status, "to_status": s.to_status,
                        "actor": s.actor, "at": s.at, "note": s.note}
                       for s in session.scalars(select(PriceAlertStep).where(
                           PriceAlertStep.alert_id == alert.id).order_by(PriceAlertStep.id))]
    return record


def transition(session, user, alert_id, to, note=""):
    """Take a workflow step: acknowledged, referred (to market regulation; note required)
    or closed (note required). Another step → Conflict."""
    alert = get_or_404(session, PriceAlert, alert_id, "price alert", lock=True)
    require_area_scope(user, [alert.area_code], session)
    note = (note or "").strip()
    if to not in TRANSITIONS.get(alert.status, ()):
        raise Conflict("this step is not possible from the alert's status",
                       {"to": ["allowed now: " + (", ".join(TRANSITIONS[alert.status])
                                                  or "none")]}, code="invalid_transition")
    if to in NOTE_REQUIRED and not note:
        raise Invalid("a note is required for this step", {"note": ["required for this step"]})
    now = utcnow()
    session.add(PriceAlertStep(alert_id=alert.id, from_status=alert.status, to_status=to,
                               actor=user.username, at=now, note=note))
    alert.status = to
    alert.note = note
    alert.updated_at = now
    if to == "closed":
        alert.closed_at = now
    session.flush()
    return alert


# ---------------------------------------------------------------------------- series

def series(session, user, commodity, area_code, from_=None, to=None,
           defaults=cat.Defaults(), lang="zh"):
    """The daily series of a commodity in an area with its baseline and alert line."""
    item = cat.catalogue(session, defaults, include_inactive=True).get(commodity)
    if item is None:
        raise Invalid("unknown commodity", {"commodity": ["unknown commodity; see GET "
                                                          "/api/v1/prices/commodities"]})
    area = session.scalars(select(Area).where(Area.code == area_code)).first()
    if area is None:
        raise Invalid("unknown area", {"area_code": ["unknown area"]})
    if user is not None:  # None: the system (benchmarks)
        require_area_scope(user, [area_code], session)
    t = PriceObservation.__table__
    if to is None:
        to = session.scalar(select(func.max(t.c.observed_on)).where(
            t.c.commodity == commodity, t.c.area_code == area_code)) or today()
    if from_ is None:
        from_ = to - timedelta(days=DEFAULT_SERIES_DAYS - 1)
    if from_ > to:
        raise Invalid("the period ends before it starts", {"from": ["after 'to'"]})
    if (to - from_).days >= MAX_SERIES_DAYS:
        raise Invalid("the period is too long", {"from": ["at most 1100 days before 'to'"]})
    points = evaluation.series(session, commodity, area_code, from_, to, item.baseline_days,
                               item.alert_ratio, defaults.min_days)
    alert = session.scalars(select(PriceAlert).where(
        PriceAlert.commodity == commodity, PriceAlert.area_code == area_code,
        PriceAlert.status != "closed")).first()
    return {"commodity": commodity, "commodity_name": item.label(lang), "unit": item.unit,
            "area_code": area_code, "area_name": area.name, "from": from_, "to": to,
            "baseline_days": item.baseline_days, "alert_ratio": item.alert_ratio,
            "open_alert_id": alert.id if alert else None,
            "days": [{"day": p["day"], "price": yuan(p["price"]), "low": yuan(p["low"]),
                      "high": yuan(p["high"]), "markets": p["markets"],
                      "baseline": yuan(p["baseline"]), "limit": yuan(p["limit"])}
                     for p in points]}


# ---------------------------------------------------------------------------- catalogue

def save_commodity(session, code, unit=None, **values):
    """Add or override a commodity (admin); its unit cannot change once prices exist in
    another unit (they would no longer compare)."""
    t = PriceObservation.__table__
    if unit:
        other = session.scalar(select(t.c.id).where(t.c.commodity == code, t.c.unit != unit)
                               .limit(1))
        if other is not None:
            raise Conflict("prices of this commodity exist in another unit",
                           {"unit": ["prices of this commodity exist in another unit"]})
    return cat.save(session, code, unit=unit, **values)
