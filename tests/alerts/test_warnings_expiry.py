"""Expiry of published warnings (emergency warnings expire) and district scope of writes."""

from datetime import timedelta

from shapely.geometry import shape
from sqlalchemy import select

from alerts.models import EarlyWarning, WarningStep
from emergency.audit.models import AuditEntry
from emergency.db import utcnow
from emergency.events.models import LiveEvent
from emergency.geo import service as geo
from tests.alerts.conftest import warning_body
from tests.conftest import square


def test_expire_command_marks_past_warnings_once(runner, client, db, people, published,
                                                 place):
    stored = db.get(EarlyWarning, published["id"])
    stored.onset, stored.expires = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=1)
    db.flush()
    result = runner.invoke(args=["warnings", "expire"])
    assert result.exit_code == 0, result.output
    assert "expired 1 warning" in result.output
    db.expire_all()
    assert db.get(EarlyWarning, published["id"]).status == "expired"
    step = db.scalars(select(WarningStep).where(WarningStep.warning_id == published["id"])
                      .order_by(WarningStep.id.desc())).first()
    assert (step.kind, step.actor, step.to_status) == ("expiry", "system", "expired")
    events = db.scalars(select(LiveEvent).where(LiveEvent.resource_id == published["id"],
                                                LiveEvent.type == "warning.lifted")).all()
    assert [e.data["status"] for e in events] == ["expired"]
    audited = db.scalars(select(AuditEntry).where(AuditEntry.object_type == "warning",
                                                  AuditEntry.object_id == str(published["id"]),
                                                  AuditEntry.action == "warning.update")).all()
    assert any(e.changes.get("status") for e in audited)
    again = runner.invoke(args=["warnings", "expire"])
    assert "expired 0 warning" in again.output


def test_warnings_in_force_are_left_alone(runner, db, published):
    result = runner.invoke(args=["warnings", "expire"])
    assert result.exit_code == 0 and "expired 0 warning" in result.output
    db.expire_all()
    assert db.get(EarlyWarning, published["id"]).status == "published"


def test_district_staff_write_only_inside_their_district(client, db, actors, place, people):
    geo.create_area(db, "990102", "另一区",
                        "district", shape(square(106.9, 29.4, 0.05)), "990000")
    _user, other = actors.make("planner", area_code="990102")
    refused = client.post("/api/v1/warnings", json=warning_body(place), headers=other)
    assert refused.status_code == 403
    mine = client.post("/api/v1/warnings", json=warning_body(place, area_codes=["990102"]),
                       headers=other)
    assert mine.status_code == 201
    drafted = client.post("/api/v1/warnings", json=warning_body(place),
                          headers=people["author"][1]).get_json()
    assert client.post(f"/api/v1/warnings/{drafted['id']}/transition",
                       json={"to": "approved"}, headers=other).status_code == 403
    assert client.get(f"/api/v1/warnings/{drafted['id']}", headers=other).status_code == 200
