"""Demo filing and training: some plans filed, others overdue; officials, the leaders' law
course and attendance with some leaders missing it; both steps idempotent."""

from shapely.geometry import shape

from emergency.geo import service as geo
from plans import demo, service
from plans.models import PlanFiling
from plans.training import compliance
from plans.training import demo as training_demo
from plans.training.models import Attendance, Course, Official
from tests.conftest import square


def test_demo_filings_leave_some_plans_overdue(db, ctx):
    geo.create_area(db, demo.CITY, "重庆市", "city", shape(square(105.0, 28.0, 6.0)))
    for i, (code, *_rest) in enumerate(demo.DISTRICT_PLANS):
        geo.create_area(db, code, f"区{i}", "district", shape(square(106.0 + i, 29.0, 0.5)),
                        demo.CITY)
    demo.load_plans(db)
    assert len(demo.load_filings(db)) == 3
    assert demo.load_filings(db) == []
    assert db.query(PlanFiling).count() == 3
    overdue, total = service.list_plans(db, filing_overdue=True)
    assert total == 2
    assert {p.incident_type for p in overdue} == {"forest_fire", "hazardous_chemicals"}
    filed, total = service.list_plans(db, filed=True)
    assert total == 3


def test_demo_training_has_leaders_missing_the_law_course(db, ctx):
    geo.create_area(db, "500000", "重庆市", "city", shape(square(105.0, 28.0, 6.0)))
    geo.create_area(db, "500103", "渝中区", "district", shape(square(106.5, 29.5, 0.1)),
                    "500000")
    training_demo.load_training(db)
    counts = (db.query(Official).count(), db.query(Course).count(),
              db.query(Attendance).count())
    training_demo.load_training(db)
    assert (db.query(Official).count(), db.query(Course).count(),
            db.query(Attendance).count()) == counts
    assert counts[0] == len(training_demo.OFFICIALS)
    result = compliance.compliance(db, service.today().year)
    missing_law = {r["name"] for r in result["items"] if r["leader"]
                   and any(c["mandatory_for"] == "leaders" for c in r["missing"])}
    assert missing_law == {"李娜", "黄海", "郑磊"}
    # Officials of districts the demo areas lack are kept without an area.
    assert db.query(Official).filter(Official.area_code.is_(None)).count() > 0
