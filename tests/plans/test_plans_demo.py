"""The plans demo step: realistic plans, drills, one drill-overdue, idempotent."""

from shapely.geometry import shape

from emergency.geo import service as geo
from plans import demo, service
from plans.models import Drill, Plan, PlanVersion
from tests.conftest import square


def test_demo_plans_load_once_with_one_overdue(db, ctx):
    geo.create_area(db, demo.CITY, "重庆市", "city", shape(square(105.0, 28.0, 6.0)))
    for i, (code, *_rest) in enumerate(demo.DISTRICT_PLANS):
        geo.create_area(db, code, f"区{i}", "district", shape(square(106.0 + i, 29.0, 0.5)),
                        demo.CITY)
    lines = demo.load_plans(db)
    assert len(lines) == 5
    counts = (db.query(Plan).count(), db.query(PlanVersion).count(), db.query(Drill).count())
    assert demo.load_plans(db) == []
    assert (db.query(Plan).count(), db.query(PlanVersion).count(),
            db.query(Drill).count()) == counts
    overdue, total = service.list_plans(db, drill_overdue=True)
    assert total == 1 and overdue[0].incident_type == "hazardous_chemicals"
    assert service.list_plans(db, in_force=True)[1] == 5
    city = service.applicable_plan(db, "traffic", 106.2, 29.2)
    assert city["title"] == "重庆市突发事件总体应急预案" and city["version"] == 2
    flood = service.applicable_plan(db, "flood", 106.2, 29.2)
    assert flood["title"] == "万州区防汛抗旱应急预案"
    assert service.evaluate_plan(db, flood["id"], {"deaths": 31})["level"] == 1
    assert service.evaluate_plan(db, flood["id"], {"evacuated": 12000})["level"] == 3
