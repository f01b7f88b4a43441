"""Plan filing (备案): only published plans, the day's bounds, overdue after PLAN_FILING_DAYS
(with a fixed clock), the list filter, retries and roles."""

from datetime import date, datetime

import pytest

import plans.service
from emergency.vocabulary import LOCAL_ZONE
from plans.models import Plan
from tests.conftest import error_of
from tests.plans.test_plans_api import create, move

PUBLISHED = datetime(2026, 6, 1, 9, 30, tzinfo=LOCAL_ZONE)  # local day 1 June


@pytest.fixture
def clock(monkeypatch):
    """Sets the plans' clock (plans.service.today) to a fixed local day."""
    def set_day(day):
        monkeypatch.setattr(plans.service, "today", lambda: day)
    set_day(date(2026, 6, 10))
    return set_day


@pytest.fixture
def planner(actors):
    """A planner's header."""
    return actors.header("planner")


def published_plan(client, db, place, headers, **extra):
    """A plan published (as far as its dates go) on 1 June 2026, Beijing time."""
    plan = create(client, place, headers, **extra)
    move(client, plan["id"], "in_review", headers)
    move(client, plan["id"], "published", headers)
    row = db.get(Plan, plan["id"])
    row.published_at = row.first_published_at = PUBLISHED
    db.flush()
    return plan["id"]


def filing_body(**extra):
    """A valid filing."""
    return {"authority": "重庆市应急管理局", "filed_on": "2026-06-08",
            "number": "渝应急预备〔2026〕12号", **extra}


def test_filing_a_published_plan(client, db, place, planner, clock):
    pid = published_plan(client, db, place, planner)
    before = client.get(f"/api/v1/plans/{pid}", headers=planner).get_json()
    assert before["filing"] is None and before["filing_due_on"] == "2026-06-21"
    assert before["filing_overdue"] is False
    response = client.post(f"/api/v1/plans/{pid}/filing", json=filing_body(), headers=planner)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["filing"]["authority"] == "重庆市应急管理局"
    assert body["filing"]["number"] == "渝应急预备〔2026〕12号"
    assert body["filing"]["filed_on"] == "2026-06-08" and body["filing"]["version"] == 1
    assert body["filing"]["recorded_by"].startswith("planner")
    # The same filing again (a retry) changes nothing; a different one is a conflict.
    again = client.post(f"/api/v1/plans/{pid}/filing", json=filing_body(), headers=planner)
    assert again.status_code == 200 and again.get_json()["filing"] == body["filing"]
    other = client.post(f"/api/v1/plans/{pid}/filing", json=filing_body(number="X-1"),
                        headers=planner)
    assert other.status_code == 409
    listed = client.get(f"/api/v1/plans/{pid}/filings", headers=planner).get_json()
    assert listed["total"] == 1 and listed["items"][0]["number"] == "渝应急预备〔2026〕12号"


def test_only_a_published_plan_can_be_filed(client, place, planner, clock):
    plan = create(client, place, planner)
    response = client.post(f"/api/v1/plans/{plan['id']}/filing", json=filing_body(),
                           headers=planner)
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"
    move(client, plan["id"], "in_review", planner)
    assert client.post(f"/api/v1/plans/{plan['id']}/filing", json=filing_body(),
                       headers=planner).status_code == 409
    missing = client.post("/api/v1/plans/999999/filing", json=filing_body(), headers=planner)
    assert missing.status_code == 404


@pytest.mark.parametrize("filed_on", ["2026-05-31", "2026-06-11"])
def test_filed_on_between_publication_and_today(client, db, place, planner, clock, filed_on):
    pid = published_plan(client, db, place, planner)
    response = client.post(f"/api/v1/plans/{pid}/filing",
                           json=filing_body(filed_on=filed_on), headers=planner)
    assert response.status_code == 422
    assert set(error_of(response)["details"]) == {"filed_on"}
    # The bounds themselves are fine: the day of publication and today.
    bound = "2026-06-01" if filed_on < "2026-06-01" else "2026-06-10"
    ok = client.post(f"/api/v1/plans/{pid}/filing", json=filing_body(filed_on=bound),
                     headers=planner)
    assert ok.status_code == 201, ok.get_json()


@pytest.mark.parametrize("body,fields", [
    ({}, {"authority", "filed_on", "number"}),
    ({"authority": " ", "filed_on": "2026-06-05", "number": " "}, {"authority", "number"}),
    ({"authority": "x", "filed_on": "6/5/2026", "number": "n"}, {"filed_on"}),
])
def test_bad_filings_name_the_field(client, db, place, planner, clock, body, fields):
    pid = published_plan(client, db, place, planner)
    response = client.post(f"/api/v1/plans/{pid}/filing", json=body, headers=planner)
    assert response.status_code == 422
    assert set(error_of(response)["details"]) == fields


def test_filing_overdue_after_the_configured_days(client, db, place, planner, clock):
    late = published_plan(client, db, place, planner, title="逾期未备案预案")
    filed = published_plan(client, db, place, planner, title="已备案预案")
    draft = create(client, place, planner, title="草稿预案")["id"]
    client.post(f"/api/v1/plans/{filed}/filing", json=filing_body(), headers=planner)

    def overdue_ids():
        items = client.get("/api/v1/plans?filing_overdue=true&limit=1000",
                           headers=planner).get_json()["items"]
        return {p["id"] for p in items} & {late, filed, draft}

    clock(date(2026, 6, 21))  # the 20th day after publication: still in time
    assert overdue_ids() == set()
    assert client.get(f"/api/v1/plans/{late}", headers=planner).get_json()[
        "filing_overdue"] is False
    clock(date(2026, 6, 22))
    assert overdue_ids() == {late}
    assert client.get(f"/api/v1/plans/{late}", headers=planner).get_json()[
        "filing_overdue"] is True
    not_overdue = client.get("/api/v1/plans?filing_overdue=false&limit=1000",
                             headers=planner).get_json()["items"]
    assert {late, filed, draft} - {p["id"] for p in not_overdue} == {late}
    unfiled = client.get("/api/v1/plans?filed=false&limit=1000", headers=planner).get_json()
    assert {p["id"] for p in unfiled["items"]} & {late, filed, draft} == {late}
    # The setting moves the deadline.
    client.application.config["PLAN_FILING_DAYS"] = 30
    assert overdue_ids() == set()


def test_republishing_needs_a_new_filing(client, db, place, planner, clock):
    pid = published_plan(client, db, place, planner)
    client.post(f"/api/v1/plans/{pid}/filing", json=filing_body(), headers=planner)
    client.patch(f"/api/v1/plans/{pid}", json={"title": "修订版"}, headers=planner)
    # The draft of version 2 leaves version 1 in force and filed.
    assert client.get(f"/api/v1/plans/{pid}", headers=planner).get_json()["filing"][
        "version"] == 1
    move(client, pid, "in_review", planner)
    move(client, pid, "published", planner)
    now = client.get(f"/api/v1/plans/{pid}", headers=planner).get_json()
    assert now["published_version"] == 2 and now["filing"] is None


@pytest.mark.parametrize("role,status", [("admin", 201), ("planner", 201),
                                         ("dispatcher", 403), ("auditor", 403),
                                         ("grid_staff", 403), ("org_admin", 403)])
def test_who_may_record_a_filing(client, db, place, planner, actors, clock, role, status):
    pid = published_plan(client, db, place, planner)
    response = client.post(f"/api/v1/plans/{pid}/filing", json=filing_body(),
                           headers=actors.header(role))
    assert response.status_code == status
    assert client.post(f"/api/v1/plans/{pid}/filing", json=filing_body()).status_code == 401
