"""The commodity catalogue: the essential goods watched in emergencies, each with its unit,
and their thresholds (a commodity's own, else the configuration's). No Flask here.

Built-in commodities follow the lists of essential goods that price departments watch in
emergencies (grain, edible oil, meat, eggs, vegetables, drinking water, protective goods,
fuel); an administrator may add others or override a built-in one's name, unit, baseline
days or alert ratio (table ``price_commodities``).
"""

import re
from dataclasses import dataclass

from sqlalchemy import select

from emergency.errors import Invalid
from prices.models import CommoditySetting

# code: (Chinese name, English name, unit)
BUILTIN = {
    "rice": ("大米", "Rice", "kg"),
    "flour": ("面粉", "Wheat flour", "kg"),
    "edible_oil": ("食用植物油", "Edible vegetable oil", "L"),
    "pork": ("猪肉", "Pork", "kg"),
    "beef": ("牛肉", "Beef", "kg"),
    "chicken": ("鸡肉", "Chicken", "kg"),
    "eggs": ("鸡蛋", "Eggs", "kg"),
    "cabbage": ("大白菜", "Chinese cabbage", "kg"),
    "potato": ("土豆", "Potatoes", "kg"),
    "vegetables": ("蔬菜（平均）", "Vegetables (average)", "kg"),
    "instant_noodles": ("方便面", "Instant noodles", "pack"),
    "milk": ("牛奶", "Milk", "L"),
    "drinking_water": ("瓶装饮用水", "Bottled drinking water", "bottle"),
    "masks": ("医用口罩", "Medical masks", "piece"),
    "disinfectant": ("消毒液", "Disinfectant", "L"),
    "candles": ("蜡烛", "Candles", "piece"),
    "gasoline": ("汽油（92号）", "Gasoline (92)", "L"),
    "lpg": ("液化石油气", "LPG", "cylinder"),
}
CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
MAX_BASELINE_DAYS = 365


@dataclass(frozen=True)
class Commodity:
    """A commodity as used: names, unit and its effective thresholds."""

    code: str
    name: str
    name_en: str
    unit: str
    baseline_days: int
    alert_ratio: float
    own_baseline_days: int | None = None
    own_alert_ratio: float | None = None
    builtin: bool = True
    active: bool = True

    def label(self, lang="zh"):
        """The name in the language (English falls back to Chinese)."""
        return (self.name_en or self.name) if lang == "en" else self.name


@dataclass(frozen=True)
class Defaults:
    """The configured thresholds (PRICE_BASELINE_DAYS, PRICE_ALERT_RATIO,
    PRICE_BASELINE_MIN_DAYS)."""

    baseline_days: int = 30
    alert_ratio: float = 0.2
    min_days: int = 5


def catalogue(session, defaults=Defaults(), include_inactive=False):
    """{code: Commodity}: the built-in commodities with their overrides, then the added ones."""
    rows = {r.code: r for r in session.scalars(select(CommoditySetting))}
    found = {}
    for code in [*BUILTIN, *sorted(c for c in rows if c not in BUILTIN)]:
        name, name_en, unit = BUILTIN.get(code, ("", "", ""))
        row = rows.get(code)
        own_days = row.baseline_days if row else None
        own_ratio = row.alert_ratio if row else None
        item = Commodity(
            code=code, name=(row.name if row else name) or name,
            name_en=(row.name_en if row else name_en) or name_en,
            unit=(row.unit if row else unit) or unit,
            baseline_days=own_days or defaults.baseline_days,
            alert_ratio=own_ratio if own_ratio is not None else defaults.alert_ratio,
            own_baseline_days=own_days, own_alert_ratio=own_ratio,
            builtin=code in BUILTIN, active=row.active if row else True)
        if item.active or include_inactive:
            found[code] = item
    return found


def get(session, code, defaults=Defaults()):
    """The commodity of that code, or Invalid naming the field ``commodity``."""
    item = catalogue(session, defaults).get(code)
    if item is None:
        raise Invalid("unknown commodity", {"commodity": ["unknown commodity; see GET "
                                                          "/api/v1/prices/commodities"]})
    return item


def save(session, code, name=None, name_en=None, unit=None, baseline_days=None,
         alert_ratio=None, active=True):
    """Add a commodity or override a built-in one (admin); empty thresholds follow the
    configuration. Returns the stored setting."""
    problems = {}
    if not CODE.match(code or ""):
        problems["code"] = ["2-32 lower-case letters, digits or '_', starting with a letter"]
    builtin = BUILTIN.get(code)
    if builtin is None and not (name and unit):
        problems["name"] = ["required for a new commodity"] if not name else []
        problems["unit"] = ["required for a new commodity"] if not unit else []
        problems = {k: v for k, v in problems.items() if v}
    if baseline_days is not None and not 1 <= baseline_days <= MAX_BASELINE_DAYS:
        problems["baseline_days"] = ["from 1 to 365 days"]
    if alert_ratio is not None and not 0 < alert_ratio <= 10:
        problems["alert_ratio"] = ["a fraction above 0 and at most 10 (0.2 = 20 %)"]
    if problems:
        raise Invalid("invalid commodity", problems)
    row = session.get(CommoditySetting, code)
    if row is None:
        row = CommoditySetting(code=code)
        session.add(row)
    row.name = name or (builtin[0] if builtin else "")
    row.name_en = name_en if name_en is not None else (builtin[1] if builtin else "")
    row.unit = unit or (builtin[2] if builtin else "")
    row.baseline_days = baseline_days
    row.alert_ratio = alert_ratio
    row.active = active
    session.flush()
    return row
