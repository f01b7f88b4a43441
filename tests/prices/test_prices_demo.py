"""The prices demo step: 60 days at markets of four districts, one anomaly raising one alert,
three complaints; loaded once."""

from shapely.geometry import shape
from sqlalchemy import func, select

from emergency.geo import service as geo
from prices import demo
from prices.models import PriceAlert, PriceComplaint, PriceObservation
from tests.conftest import square


def test_demo_prices(db, actors, place):
    geo.create_area(db, "500000", "重庆市", "city", shape(square(105, 28, 3)))
    for n, code in enumerate(demo.DISTRICTS):
        geo.create_area(db, code, f"演示区{n}", "district",
                        shape(square(106.4 + n * 0.05, 29.5, 0.05)), "500000")
    actors.make("admin", username="admin")
    lines = demo.load_prices(db)
    markets = sum(len(m) for m in demo.DISTRICTS.values())
    assert db.scalar(select(func.count()).select_from(PriceObservation)) == (
        markets * len(demo.GOODS) * demo.DAYS)
    alerts = db.scalars(select(PriceAlert)).all()
    assert [(a.commodity, a.area_code, a.status) for a in alerts] == [
        ("pork", "500103", "open")]
    assert 0.3 < alerts[0].ratio < 0.45
    assert db.scalar(select(func.count()).select_from(PriceComplaint)) == 3
    assert "1 alert(s)" in lines[0]
    assert "already present" in demo.load_prices(db)[0]
    assert db.scalar(select(func.count()).select_from(PriceAlert)) == 1
