"""The demo step: reports in every state across the grids, some overdue, idempotent."""

from sqlalchemy import func, select

from hazards import demo
from hazards.models import HazardReport


def test_demo_reports_cover_every_state_and_are_idempotent(db, app, actors, place,
                                                           monkeypatch):
    monkeypatch.setattr(demo, "REPORTS", 300)
    monkeypatch.setattr(demo, "PHOTOS", 3)
    actors.make("admin", username="admin")
    with app.app_context():
        lines = demo.load_hazards(db)
        again = demo.load_hazards(db)
    assert "300 demo reports" in lines[0]
    assert "already loaded" in again[0]
    count = db.scalar(select(func.count(HazardReport.id)))
    assert count == 300
    statuses = set(db.scalars(select(HazardReport.status).distinct()))
    assert statuses == {"reported", "verified", "rectifying", "rectified", "closed", "rejected"}
    grids = set(db.scalars(select(HazardReport.grid_code).distinct()))
    assert grids == set(place["grids"])
    admin_headers = actors.header("admin")
    client = app.test_client()
    overdue = client.get("/api/v1/hazards", query_string={"overdue": "true", "limit": 1},
                         headers=admin_headers).get_json()
    assert overdue["total"] > 0
    assert overdue["features"][0]["properties"]["escalated"] is True
