"""Incident information reports (首报/续报/终报) through the API (issue 18): the rules of a
series, bad input, the initial report's deadline and the report_overdue filter, timeline,
live event, audit, idempotent POSTs and roles — on both backends."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from emergency.audit.models import AuditEntry
from emergency.db import utcnow
from emergency.events.models import LiveEvent
from incidents.models import Incident
from incidents.reports.models import IncidentReport
from tests.conftest import error_of
from tests.incidents.conftest import AFTER_ACTION, incident_body


def _incident(client, headers, **extra):
    """Open an incident; its id."""
    r = client.post("/api/v1/incidents", json=incident_body(**extra), headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def _report(kind="initial", **extra):
    """A report body."""
    return {"kind": kind, "body": "某地发生山体滑坡，已组织救援。", "dead": 0, "missing": 1,
            "injured": 2, "losses_yuan": "120000.00", **extra}


def _post(client, headers, incident_id, body, **kwargs):
    """POST a report."""
    return client.post(f"/api/v1/incidents/{incident_id}/reports", json=body,
                       headers={**headers, **kwargs})


def _opened_minutes_ago(db, incident_id, minutes):
    """Move the incident's opening back in time (no sleeping)."""
    db.execute(update(Incident).where(Incident.id == incident_id)
               .values(created_at=utcnow() - timedelta(minutes=minutes)))
    db.flush()
    db.expire_all()


def test_series_initial_follow_ups_then_final_after_closing(client, place, dispatcher):
    inc = _incident(client, dispatcher)
    url = f"/api/v1/incidents/{inc}/reports"
    empty = client.get(url, headers=dispatcher).get_json()
    assert empty["items"] == [] and empty["total"] == 0
    assert empty["next_kinds"] == ["initial"] and empty["report_overdue"] is False
    for kind in ("follow_up", "final"):
        refused = _post(client, dispatcher, inc, _report(kind))
        assert refused.status_code == 409 and error_of(refused)["code"] == "initial_missing"
    first = _post(client, dispatcher, inc, _report())
    assert first.status_code == 201, first.get_json()
    got = first.get_json()
    assert (got["kind"], got["seq"], got["follow_up_number"]) == ("initial", 1, None)
    assert got["losses_yuan"] == "120000.00" and got["missing"] == 1
    assert got["unit"] == "测试区应急管理局"  # the bureau of the incident's district
    assert got["signer"] and got["reported_by"] == got["signer"]
    assert "+" in got["reported_at"] or got["reported_at"].endswith("Z")
    again = _post(client, dispatcher, inc, _report())
    assert again.status_code == 409 and error_of(again)["code"] == "initial_exists"
    follow = _post(client, dispatcher, inc, _report("follow_up", dead=1, losses_yuan=None,
                                                    unit="某街道办事处", signer="李四"))
    assert follow.status_code == 201
    assert follow.get_json()["seq"] == 2 and follow.get_json()["follow_up_number"] == 1
    assert follow.get_json()["losses_yuan"] is None and follow.get_json()["signer"] == "李四"
    assert client.get(url, headers=dispatcher).get_json()["next_kinds"] == ["follow_up"]
    early = _post(client, dispatcher, inc, _report("final"))
    assert early.status_code == 409 and error_of(early)["code"] == "incident_not_closed"
    closed = client.post(f"/api/v1/incidents/{inc}/close", json=AFTER_ACTION,
                         headers=dispatcher)
    assert closed.status_code == 200
    assert client.get(url, headers=dispatcher).get_json()["next_kinds"] == \
        ["follow_up", "final"]
    final = _post(client, dispatcher, inc, _report("final"))
    assert final.status_code == 201 and final.get_json()["seq"] == 3
    for kind in ("follow_up", "final"):
        after = _post(client, dispatcher, inc, _report(kind))
        assert after.status_code == 409 and error_of(after)["code"] == "reports_closed"
    listed = client.get(url, headers=dispatcher).get_json()
    assert [(r["kind"], r["seq"]) for r in listed["items"]] == \
        [("initial", 1), ("follow_up", 2), ("final", 3)]
    assert listed["total"] == 3 and listed["next_kinds"] == []


@pytest.mark.parametrize("bad,fields", [
    ({"dead": -1, "injured": -3}, {"dead", "injured"}),
    ({"missing": 1.5}, {"missing"}),
    ({"body": ""}, {"body"}),
    ({"kind": "interim"}, {"kind"}),
    ({"losses_yuan": "-5"}, {"losses_yuan"}),
    ({"losses_yuan": "NaN"}, {"losses_yuan"}),
    ({"losses_yuan": "一百元"}, {"losses_yuan"}),
    ({"unit": "单" * 201}, {"unit"}),
])
def test_bad_input_is_422_naming_the_fields_and_stores_nothing(client, place, dispatcher, db,
                                                               bad, fields):
    inc = _incident(client, dispatcher)
    r = _post(client, dispatcher, inc, _report(**bad))
    assert r.status_code == 422, r.get_json()
    assert fields <= set(error_of(r)["details"])
    assert db.scalar(select(func.count(IncidentReport.id))) == 0


def test_missing_counts_and_chinese_messages(client, place, dispatcher):
    inc = _incident(client, dispatcher)
    r = _post(client, dispatcher, inc, {"kind": "initial", "body": "x"},
              **{"Accept-Language": "zh-CN"})
    assert r.status_code == 422
    error = error_of(r)
    assert {"dead", "missing", "injured"} <= set(error["details"])
    assert "死亡" in error["message"]  # the fields named by their labels
    closed = _post(client, dispatcher, inc, _report("follow_up"),
                   **{"Accept-Language": "zh-CN"})
    assert closed.status_code == 409 and "首报" in error_of(closed)["message"]


def test_overdue_after_the_configured_minutes_and_the_filter(app, client, place, dispatcher,
                                                             db):
    late = _incident(client, dispatcher, title="迟报事件")
    fresh = _incident(client, dispatcher, title="新事件")
    _opened_minutes_ago(db, late, 31)
    one = client.get(f"/api/v1/incidents/{late}", headers=dispatcher).get_json()
    assert one["report_overdue"] is True and one["initial_report_at"] is None
    assert client.get(f"/api/v1/incidents/{fresh}", headers=dispatcher) \
        .get_json()["report_overdue"] is False

    def ids(query):
        r = client.get(f"/api/v1/incidents{query}", headers=dispatcher)
        assert r.status_code == 200
        return {f["id"]: f["properties"]["report_overdue"] for f in r.get_json()["features"]}

    assert ids("?report_overdue=true") == {late: True}
    assert ids("?report_overdue=false") == {fresh: False}
    assert ids("") == {late: True, fresh: False}
    app.config["INCIDENT_REPORT_MINUTES"] = 60
    assert ids("?report_overdue=true") == {}
    app.config["INCIDENT_REPORT_MINUTES"] = 30
    made = _post(client, dispatcher, late, _report())
    assert made.status_code == 201
    after = client.get(f"/api/v1/incidents/{late}", headers=dispatcher).get_json()
    assert after["report_overdue"] is False and after["initial_report_late"] is True
    assert after["initial_report_at"]
    assert ids("?report_overdue=true") == {}
    listed = client.get(f"/api/v1/incidents/{late}/reports", headers=dispatcher).get_json()
    assert listed["initial_report_late"] is True and listed["report_overdue"] is False


def test_a_closed_incident_never_reported_stays_overdue(client, place, dispatcher, db):
    inc = _incident(client, dispatcher)
    assert client.post(f"/api/v1/incidents/{inc}/close", json=AFTER_ACTION,
                       headers=dispatcher).status_code == 200
    _opened_minutes_ago(db, inc, 45)
    r = client.get("/api/v1/incidents?report_overdue=true&status=closed", headers=dispatcher)
    assert [f["id"] for f in r.get_json()["features"]] == [inc]


def test_timeline_live_event_and_audit(client, place, dispatcher, db):
    inc = _incident(client, dispatcher)
    made = _post(client, dispatcher, inc, _report()).get_json()
    timeline = client.get(f"/api/v1/incidents/{inc}/timeline", headers=dispatcher) \
        .get_json()["items"]
    entry = [e for e in timeline if e["kind"] == "report"]
    assert len(entry) == 1
    assert entry[0]["detail"]["report_id"] == made["id"]
    assert entry[0]["detail"]["kind"] == "initial" and entry[0]["detail"]["late"] is False
    assert entry[0]["detail"]["losses_yuan"] == "120000.00"
    assert entry[0]["actor"] == made["reported_by"]
    events = db.scalars(select(LiveEvent).where(LiveEvent.type == "incident.updated",
                                                LiveEvent.resource_id == inc)).all()
    assert [e.data.get("report_kind") for e in events] == ["initial"]
    assert events[0].data["report_id"] == made["id"] and events[0].audience == "bureau"
    audited = db.scalars(select(AuditEntry).where(
        AuditEntry.action == "incident_report.create")).all()
    assert [a.object_id for a in audited] == [str(made["id"])]
    assert audited[0].actor == made["reported_by"]


def test_idempotent_post(client, place, dispatcher, db):
    inc = _incident(client, dispatcher)
    key = {"Idempotency-Key": "report-1"}
    first = _post(client, dispatcher, inc, _report(), **key)
    retry = _post(client, dispatcher, inc, _report(), **key)
    assert first.status_code == retry.status_code == 201
    assert first.get_json() == retry.get_json()
    assert db.scalar(select(func.count(IncidentReport.id))) == 1
    other = _post(client, dispatcher, inc, _report("follow_up"), **key)
    assert other.status_code == 409


def test_roles(client, place, actors, dispatcher):
    inc = _incident(client, dispatcher)
    url = f"/api/v1/incidents/{inc}/reports"
    assert client.get(url).status_code == 401
    for role in ("planner", "auditor", "admin"):
        assert client.get(url, headers=actors.header(role)).status_code == 200, role
    for role in ("org_admin", "grid_staff"):
        assert client.get(url, headers=actors.header(role)).status_code == 403, role
    for role in ("planner", "auditor", "org_admin", "grid_staff"):
        assert _post(client, actors.header(role), inc, _report()).status_code == 403, role
    assert _post(client, actors.header("admin"), inc, _report()).status_code == 201
    assert client.get("/api/v1/incidents/999999/reports", headers=dispatcher) \
        .status_code == 404
    assert _post(client, dispatcher, 999999, _report()).status_code == 404


def test_the_database_keeps_one_initial_report(client, place, dispatcher, db):
    inc = _incident(client, dispatcher)
    assert _post(client, dispatcher, inc, _report()).status_code == 201
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            db.add(IncidentReport(incident_id=inc, kind="initial", seq=9, body="x", dead=0,
                                  missing=0, injured=0, unit="u", signer="s"))
            db.flush()
