"""The warnings demo step: three warnings by different users, loaded once."""

from shapely.geometry import shape
from sqlalchemy import select

from alerts import demo
from alerts.models import EarlyWarning, WarningStep
from emergency.geo import service as geo
from tests.conftest import square


def test_demo_warnings(db, actors, place):
    for n in range(2, 6):
        geo.create_area(db, f"99010{n}", f"演示区{n}", "district",
                        shape(square(106.0 + n * 0.1, 29.1, 0.05)), "990000")
    for name in ("planner", "admin", "dispatcher"):
        actors.make(name, username=name)
    assert "3 demo warnings" in demo.load_warnings(db)[0]
    warnings = {w.level: w for w in db.scalars(select(EarlyWarning))}
    assert {w.status for w in warnings.values()} == {"published", "draft", "lifted"}
    red = warnings["red"]
    assert red.status == "published" and len(red.area_codes) == 3 and red.geometry is not None
    actors_of = {s.to_status: s.actor for s in db.scalars(
        select(WarningStep).where(WarningStep.warning_id == red.id))}
    assert actors_of["draft"] != actors_of["approved"]
    assert warnings["orange"].version == 2 and warnings["orange"].references
    assert "already loaded" in demo.load_warnings(db)[0]
    assert len(db.scalars(select(EarlyWarning.id)).all()) == 3
