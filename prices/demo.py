"""Demo step: 60 days of prices of a few essential goods at markets of four Chongqing
districts (deterministic small day-to-day noise), with one anomaly — pork in 渝中区 up about
35 % on the last two days — that raises an alert; and a few complaints."""

import math
from datetime import timedelta

import shapely
from sqlalchemy import func, select

from emergency.auth.models import User
from emergency.geo.models import Area
from prices import complaints, service
from prices.catalogue import BUILTIN, Defaults
from prices.models import PriceComplaint, PriceObservation

DISTRICTS = {"500103": ("解放碑菜市场", "大坪农贸市场"), "500106": ("沙坪坝农贸市场",),
             "500108": ("南坪菜市场",), "500112": ("龙溪农贸市场", "两路菜市场")}
# commodity: base price in fen
GOODS = {"rice": 560, "edible_oil": 1690, "pork": 2640, "eggs": 1120, "cabbage": 320,
         "drinking_water": 200, "masks": 90}
DAYS = 60
ANOMALY = ("pork", "500103", 2, 1.35)  # commodity, district, last N days, factor
COMPLAINTS = [
    ("gouging", "pork", "解放碑菜市场", "猪肉摊位一天内每公斤涨价 10 元", 106.5775, 29.5596),
    ("hoarding", "drinking_water", "大坪某超市", "瓶装水大量囤积不上架", 106.5194, 29.5405),
    ("rumour", "rice", "", "微信群传播“大米将断供”的谣言", 106.4550, 29.5410),
]


def _price(commodity, district_index, market_index, day_index):
    """A deterministic price in fen with a little daily wobble."""
    base = GOODS[commodity] * (1 + 0.03 * district_index + 0.02 * market_index)
    wobble = 0.03 * math.sin(day_index * 0.7 + district_index + 2 * market_index)
    return max(1, round(base * (1 + wobble)))


def load_prices(session):
    """Load the demo prices and complaints once."""
    present = session.scalar(select(func.count()).select_from(PriceObservation))
    if present:
        return [f"prices: {present} observations already present; demo prices skipped"]
    known = set(session.scalars(select(Area.code).where(Area.code.in_(list(DISTRICTS)))))
    admin = session.scalars(select(User).where(User.username == "admin")).first()
    if not known or admin is None:
        return ["prices: no demo districts or admin; demo prices skipped"]
    last = service.today() - timedelta(days=1)
    rows = []
    for d_index, (district, markets) in enumerate(DISTRICTS.items()):
        if district not in known:
            continue
        for m_index, market in enumerate(markets):
            for commodity in GOODS:
                unit = BUILTIN[commodity][2]
                for day_index in range(DAYS):
                    day = last - timedelta(days=DAYS - 1 - day_index)
                    fen = _price(commodity, d_index, m_index, day_index)
                    if (commodity, district) == ANOMALY[:2] and day_index >= DAYS - ANOMALY[2]:
                        fen = round(fen * ANOMALY[3])
                    rows.append({"commodity": commodity, "unit": unit, "market": market,
                                 "area_code": district, "observed_on": day, "price_fen": fen})
    outcome = service.store(session, admin, rows, Defaults())
    made = 0
    if not session.scalar(select(func.count()).select_from(PriceComplaint)):
        for kind, commodity, place, text, lon, lat in COMPLAINTS:
            complaints.create_complaint(session, admin, kind, text, shapely.Point(lon, lat),
                                        commodity=commodity, place=place,
                                        received_on=last)
            made += 1
    return [f"prices: {outcome['created']} observations, {len(outcome['alerts'])} alert(s), "
            f"{made} complaints"]
