"""Plans service: applicable plan for a place, deadlines, drills and findings."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import inspect

from emergency.errors import Conflict, Forbidden, Invalid
from plans import drills, service

LEVELS = [{"level": 1, "criteria": [{"metric": "deaths", "op": ">=", "value": 30}],
           "required_forces": [{"category": "water", "count": 4}]},
          {"level": 4, "criteria": [{"metric": "deaths", "op": ">=", "value": 1}]}]


def published(db, place, title, incident_type, area, kind="special", **extra):
    """A plan taken through review to publication."""
    plan = service.create_plan(db, title, kind, incident_type, area, owner="局",
                               response_levels=LEVELS, **extra)
    service.transition(db, plan.id, "in_review")
    service.transition(db, plan.id, "published")
    return plan


def test_applicable_plan_prefers_type_then_most_local_area(db, ctx, place):
    city = published(db, place, "总体预案", "general", place["city"], kind="overall")
    flood = published(db, place, "区防汛预案", "flood", place["district"])
    service.create_plan(db, "区地灾预案（草稿）", "special", "geological", place["district"])
    inside = (106.52, 29.52)
    found = service.applicable_plan(db, "flood", *inside)
    assert found["id"] == flood.id and found["version"] == 1
    assert found["area_code"] == place["district"]
    assert found["required_forces"][1] == [{"category": "water", "count": 4}]
    assert found["response_levels"][0]["level"] == 1
    assert service.applicable_plan(db, "geological", *inside)["id"] == city.id
    assert service.applicable_plan(db, "flood", 106.1, 29.1)["id"] == city.id
    assert service.applicable_plan(db, "flood", 100.0, 20.0) is None
    natural = published(db, place, "市自然灾害预案", "natural_disaster", place["city"])
    assert service.applicable_plan(db, "geological", *inside)["id"] == natural.id
    street_flood = published(db, place, "街道防汛预案", "flood", place["street"])
    assert service.applicable_plan(db, "flood", *inside)["id"] == street_flood.id


def test_applicable_plan_uses_the_version_in_force(db, ctx, place):
    plan = published(db, place, "区防汛预案", "flood", place["district"])
    service.update_plan(db, plan.id, {"title": "区防汛预案（修订稿）"})
    found = service.applicable_plan(db, "flood", 106.52, 29.52)
    assert (found["title"], found["version"]) == ("区防汛预案", 1)
    service.transition(db, plan.id, "in_review")
    service.transition(db, plan.id, "published")
    found = service.applicable_plan(db, "flood", 106.52, 29.52)
    assert (found["title"], found["version"]) == ("区防汛预案（修订稿）", 2)
    service.transition(db, plan.id, "archived", "废止")
    assert service.applicable_plan(db, "flood", 106.52, 29.52) is None


def test_defaults_follow_the_level_of_government(db, ctx, place):
    district = service.create_plan(db, "区预案", "special", "flood", place["district"])
    community = service.create_plan(db, "社区预案", "grassroots", "flood", place["community"])
    assert (district.drill_interval_months, district.revision_interval_months) == (12, 60)
    assert (community.drill_interval_months, community.revision_interval_months) == (12, 36)


def test_drill_overdue_from_publication_then_from_last_drill(db, ctx, place):
    plan = published(db, place, "区防汛预案", "flood", place["district"],
                     drill_interval_months=12)
    assert service.plan_dict(db, plan)["drill_overdue"] is False
    plan.first_published_at = datetime.now(UTC) - timedelta(days=400)
    service.refresh_due_dates(plan)
    db.flush()
    assert service.plan_dict(db, plan)["drill_overdue"] is True
    overdue, total = service.list_plans(db, drill_overdue=True)
    assert [p.id for p in overdue] == [plan.id] and total == 1
    drills.create_drill(db, plan.id, service.today() - timedelta(days=30), "tabletop")
    assert service.plan_dict(db, plan)["drill_overdue"] is False
    assert service.list_plans(db, drill_overdue=True)[1] == 0
    # An older drill recorded afterwards does not move the deadline back.
    drills.create_drill(db, plan.id, service.today() - timedelta(days=900), "functional")
    assert plan.last_drill_on == service.today() - timedelta(days=30)


def test_revision_overdue(db, ctx, place):
    plan = published(db, place, "区防汛预案", "flood", place["district"],
                     revision_interval_months=60)
    assert service.plan_dict(db, plan)["revision_overdue"] is False
    plan.published_at = datetime.now(UTC) - timedelta(days=5 * 366)
    service.refresh_due_dates(plan)
    db.flush()
    assert service.plan_dict(db, plan)["revision_overdue"] is True
    assert [p.id for p in service.list_plans(db, revision_overdue=True)[0]] == [plan.id]


def test_add_months_clips_to_month_end():
    assert service.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert service.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert service.add_months(date(2025, 11, 15), 14) == date(2027, 1, 15)


def test_drill_findings_and_corrective_actions(db, ctx, place):
    plan = published(db, place, "区防汛预案", "flood", place["district"])
    drill = drills.create_drill(db, plan.id, date(2026, 6, 1), "double_blind", findings=[
        "通信中断", {"description": "物资不足", "corrective_action": "补充冲锋舟",
                     "owner": "区应急管理局", "due_on": "2026-09-30"}])
    record = drills.drill_dicts(db, [drill])[0]
    assert [f["description"] for f in record["findings"]] == ["通信中断", "物资不足"]
    assert record["findings"][1]["due_on"] == date(2026, 9, 30)
    finding_id = record["findings"][0]["id"]
    drills.update_finding(db, drill.id, finding_id, {"status": "done", "owner": "通信保障组"})
    record = drills.drill_dicts(db, [drill])[0]
    assert (record["findings"][0]["status"], record["findings"][0]["owner"]) == \
        ("done", "通信保障组")
    with pytest.raises(Invalid) as caught:
        drills.update_finding(db, drill.id, finding_id, {"status": "forgotten"})
    assert "status" in caught.value.details


def test_drill_rules(db, ctx, place):
    plan = published(db, place, "区防汛预案", "flood", place["district"])
    with pytest.raises(Invalid) as caught:
        drills.create_drill(db, plan.id, service.today() + timedelta(days=2), "tabletop")
    assert "held_on" in caught.value.details
    with pytest.raises(Invalid) as caught:
        drills.create_drill(db, plan.id, date(2026, 1, 1), "rehearsal")
    assert "kind" in caught.value.details
    service.transition(db, plan.id, "archived", "被新预案替代")
    with pytest.raises(Conflict):
        drills.create_drill(db, plan.id, date(2026, 1, 1), "tabletop")


def test_drill_teams_must_exist_in_the_registry(db, ctx, place):
    plan = published(db, place, "区防汛预案", "flood", place["district"])
    if not inspect(db.connection()).has_table("teams"):
        pytest.skip("registry not installed")
    with pytest.raises(Invalid) as caught:
        drills.create_drill(db, plan.id, date(2026, 1, 1), "functional", team_ids=[987654])
    assert "team_ids.0" in caught.value.details


def test_transition_rules(db, ctx, place):
    plan = service.create_plan(db, "区预案", "special", "flood", place["district"])
    for bad in ("published", "archived", "draft"):
        with pytest.raises(Conflict):
            service.transition(db, plan.id, bad)
    service.transition(db, plan.id, "in_review")
    assert service.transition(db, plan.id, "draft", "职责表不全").status == "draft"
    assert plan.version == 1


def test_archiving_and_sending_back_need_a_reason(db, ctx, place):
    plan = service.create_plan(db, "区预案", "special", "flood", place["district"])
    service.transition(db, plan.id, "in_review", "送审", "planner")
    with pytest.raises(Invalid) as caught:
        service.transition(db, plan.id, "draft", "  ", "admin")
    assert caught.value.code == "reason_required" and "note" in caught.value.details
    service.transition(db, plan.id, "published", "印发", "admin")
    with pytest.raises(Invalid) as caught:
        service.transition(db, plan.id, "archived", "", "admin")
    assert "note" in caught.value.details and plan.status == "published"
    service.transition(db, plan.id, "archived", "上位法修订，预案废止", "admin")
    history = service.working_version(db, plan).history
    assert history[-1]["to"] == "archived" and history[-1]["note"] == "上位法修订，预案废止"
    assert history[-1]["by"] == "admin"


def test_who_submits_may_not_publish(db, ctx, place):
    plan = service.create_plan(db, "区预案", "special", "flood", place["district"])
    service.transition(db, plan.id, "in_review", "送审", "planner")
    with pytest.raises(Forbidden) as caught:
        service.transition(db, plan.id, "published", "印发", "planner")
    assert caught.value.code == "four_eyes" and plan.status == "in_review"
    assert service.transition(db, plan.id, "published", "印发", "admin").status == "published"
