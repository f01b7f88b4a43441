"""The incidents demo step: a live incident with a dispatch, closed ones with paid claims."""

from sqlalchemy import func, select

from incidents.demo import load_incidents
from incidents.models import Compensation, Dispatch, Incident


def _load(app, db):
    """Run the step inside an app context (it reads the data key from the config)."""
    with app.app_context():
        return load_incidents(db)


def test_demo_step_is_idempotent(app, db, forces):
    assert "skipped" in _load(app, db)[0]
    org, oh = forces.org()
    for i in range(4):
        forces.team(oh, org["id"], 106.5 + i * 0.01, 29.5 + i * 0.01, members=2, insured=2,
                    radius=100)
    lines = _load(app, db)
    assert "live incident" in lines[0]
    live = db.scalars(select(Incident).where(Incident.status == "responding")).all()
    assert len(live) == 1
    statuses = set(db.scalars(select(Dispatch.status).where(Dispatch.incident_id ==
                                                            live[0].id)))
    assert statuses & {"requested", "en_route"}
    assert db.scalar(select(func.count(Incident.id)).where(Incident.status == "closed")) == 2
    paid = db.scalars(select(Compensation).where(Compensation.status == "paid")).all()
    assert paid and all(c.total > 0 for c in paid)
    before = db.scalar(select(func.count(Incident.id)))
    assert "already" in _load(app, db)[0]
    assert db.scalar(select(func.count(Incident.id))) == before
