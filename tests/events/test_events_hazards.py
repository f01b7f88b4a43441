"""Hazard reports announce themselves: hazard.created on a new report, hazard.updated on each
workflow step, with the report's area and grid (so grid staff and districts see their own)."""

from sqlalchemy import select

from emergency.events.models import LiveEvent
from tests.hazards.hazard_helpers import body


def _events(db, report_id):
    return db.execute(select(LiveEvent).where(LiveEvent.resource_id == report_id,
                                              LiveEvent.type.like("hazard.%"))
                      .order_by(LiveEvent.id)).scalars().all()


def test_hazard_report_and_steps_publish_events(client, db, actors, place):
    _, staff = actors.make("grid_staff", grids=[place["grids"][0]])
    _, planner = actors.make("planner")
    created = client.post("/api/v1/hazards", json=body(), headers=staff)
    assert created.status_code == 201, created.get_json()
    report = created.get_json()
    step = client.post(f"/api/v1/hazards/{report['id']}/transition",
                       json={"to": "verified", "note": "核实"}, headers=planner)
    assert step.status_code == 200, step.get_json()
    events = _events(db, report["id"])
    assert [(e.type, e.data["status"]) for e in events] == [("hazard.created", "reported"),
                                                            ("hazard.updated", "verified")]
    for e in events:
        assert e.audience == "bureau"
        assert e.grid_code == place["grids"][0]
        assert e.area_code == report["area_code"]
        assert e.data["id"] == report["id"]
