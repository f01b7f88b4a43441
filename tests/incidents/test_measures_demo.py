"""The measures demo step: the live demo incident's measures (in force, lifted, expired) and
one appealed claim, each made once."""

from sqlalchemy import func, select

from emergency.db import utcnow
from incidents.demo import load_incidents, load_measures
from incidents.measures.models import Measure
from incidents.measures.service import status_of
from incidents.models import Compensation


def test_measures_demo_step_is_idempotent(app, db, forces):
    with app.app_context():
        assert "skipped" in load_measures(db)[0]
        org, oh = forces.org()
        for i in range(4):
            forces.team(oh, org["id"], 106.5 + i * 0.01, 29.5 + i * 0.01, members=2,
                        insured=2, radius=100)
        load_incidents(db)
        lines = load_measures(db)
        assert "in force" in lines[0] and "appealed" in lines[1]
        now = utcnow()
        states = sorted(status_of(m.status, m.ends_at, now)
                        for m in db.scalars(select(Measure)))
        assert states == ["expired", "in_force", "lifted"]
        appealed = db.scalars(select(Compensation).where(Compensation.status == "appealed"))
        claim = appealed.one()
        assert claim.rejected_by == "demo-reviewer" and claim.appeal_reason
        again = load_measures(db)
        assert "already" in again[0] and "already" in again[1]
        assert db.scalar(select(func.count(Measure.id))) == 3
