"""Plans API: lifecycle, versions, evaluation, validation, roles."""

import pytest

from tests.conftest import error_of

FLOOD_LEVELS = [
    {"level": 1, "criteria": [{"metric": "deaths", "op": ">=", "value": 30},
                              {"metric": "economic_loss", "op": ">=", "value": 100000}],
     "actions": [{"unit": "市防汛抗旱指挥部", "duty": "启动一级响应"}],
     "required_forces": [{"category": "water", "count": 6}]},
    {"level": 2, "criteria": [{"metric": "deaths", "op": ">=", "value": 10}],
     "actions": [{"unit": "区应急管理局", "duty": "组织抢险"}]},
    {"level": 4, "criteria": [{"metric": "deaths", "op": ">=", "value": 1},
                              {"metric": "affected", "op": ">", "value": 1000}]},
]


def plan_body(place, **extra):
    """A valid POST /plans body."""
    return {"title": "测试区防汛应急预案", "kind": "special", "incident_type": "flood",
            "area_code": place["district"], "owner": "测试区应急管理局",
            "sections": [{"title": "总则", "body": "编制目的\n适用范围"}],
            "response_levels": FLOOD_LEVELS, "drill_interval_months": 12, **extra}


@pytest.fixture
def planner(actors):
    """A planner's Authorization header."""
    return actors.header("planner")


def create(client, place, headers, **extra):
    """Create a plan and return its JSON."""
    response = client.post("/api/v1/plans", json=plan_body(place, **extra), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def move(client, plan_id, to, headers, status=200):
    """Transition a plan and check the status code; publishing is done by another user than
    the one who submitted (``plan_approver`` in conftest), as four eyes require."""
    if to == "published":
        headers = getattr(client, "plan_approver", headers)
    response = client.post(f"/api/v1/plans/{plan_id}/transition", json={"to": to, "note": "ok"},
                           headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_create_gives_draft_version_1(client, place, planner):
    plan = create(client, place, planner)
    assert plan["status"] == "draft" and plan["version"] == 1
    assert plan["published_version"] is None
    assert [lv["level"] for lv in plan["response_levels"]] == [1, 2, 4]
    again = client.get(f"/api/v1/plans/{plan['id']}", headers=planner).get_json()
    assert again["title"] == "测试区防汛应急预案"
    assert again["sections"][0]["title"] == "总则"


def test_lifecycle_and_versions(client, place, planner):
    plan = create(client, place, planner)
    pid = plan["id"]
    move(client, pid, "published", planner, 409)
    move(client, pid, "in_review", planner)
    assert move(client, pid, "published", planner)["status"] == "published"
    edited = client.patch(f"/api/v1/plans/{pid}", json={"title": "测试区防汛应急预案（修订）"},
                          headers=planner)
    assert edited.status_code == 200
    body = edited.get_json()
    assert body["version"] == 2 and body["status"] == "draft"
    assert body["published_version"] == 1 and body["in_force"] is True
    versions = client.get(f"/api/v1/plans/{pid}/versions", headers=planner).get_json()
    assert versions["total"] == 2
    first, second = versions["items"]
    assert (first["version"], first["status"]) == (1, "published")
    assert first["content"]["title"] == "测试区防汛应急预案"
    assert (second["version"], second["status"]) == (2, "draft")
    assert second["content"]["title"] == "测试区防汛应急预案（修订）"
    # A second edit of the draft stays in version 2.
    client.patch(f"/api/v1/plans/{pid}", json={"owner": "测试区政府"}, headers=planner)
    assert client.get(f"/api/v1/plans/{pid}/versions", headers=planner).get_json()["total"] == 2
    diff = client.get(f"/api/v1/plans/{pid}/diff?from=1&to=2", headers=planner).get_json()
    changed = [r for r in diff["rows"] if r["tag"] != "equal"]
    assert (changed[0]["left"], changed[0]["right"]) == ("标题：测试区防汛应急预案",
                                                         "标题：测试区防汛应急预案（修订）")
    move(client, pid, "in_review", planner)
    move(client, pid, "published", planner)
    statuses = [v["status"] for v in client.get(f"/api/v1/plans/{pid}/versions",
                                                headers=planner).get_json()["items"]]
    assert statuses == ["superseded", "published"]
    assert move(client, pid, "archived", planner)["status"] == "archived"
    move(client, pid, "in_review", planner, 409)
    revived = move(client, pid, "draft", planner)
    assert revived["status"] == "draft" and revived["version"] == 3


def test_illegal_transition_is_409_with_error_shape(client, place, planner):
    plan = create(client, place, planner)
    response = client.post(f"/api/v1/plans/{plan['id']}/transition", json={"to": "archived"},
                           headers=planner)
    assert response.status_code == 409
    assert error_of(response)["code"] == "illegal_transition"
    response = client.post(f"/api/v1/plans/{plan['id']}/transition", json={"to": "done"},
                           headers=planner)
    assert response.status_code == 422
    assert "to" in error_of(response)["details"]


def test_edit_under_review_is_409(client, place, planner):
    plan = create(client, place, planner)
    move(client, plan["id"], "in_review", planner)
    response = client.patch(f"/api/v1/plans/{plan['id']}", json={"title": "x"}, headers=planner)
    assert response.status_code == 409


def test_published_version_stays_in_force_while_draft_is_edited(client, place, planner):
    plan = create(client, place, planner)
    pid = plan["id"]
    move(client, pid, "in_review", planner)
    move(client, pid, "published", planner)
    new_levels = [{"level": 1, "criteria": [{"metric": "deaths", "op": ">=", "value": 50}]}]
    client.patch(f"/api/v1/plans/{pid}", json={"response_levels": new_levels}, headers=planner)
    result = client.post(f"/api/v1/plans/{pid}/evaluate", json={"metrics": {"deaths": 40}},
                         headers=planner).get_json()
    assert result["level"] == 1 and result["version"] == 1


@pytest.mark.parametrize(("metrics", "level"), [
    ({"deaths": 35}, 1), ({"deaths": 12}, 2), ({"deaths": 3}, 4), ({"affected": 1001}, 4),
    ({"affected": 1000}, None), ({}, None), ({"deaths": 0, "economic_loss": 200000}, 1),
])
def test_evaluate(client, place, planner, actors, metrics, level):
    plan = create(client, place, planner)
    grid = actors.header("grid_staff")
    response = client.post(f"/api/v1/plans/{plan['id']}/evaluate", json={"metrics": metrics},
                           headers=grid)
    assert response.status_code == 200
    body = response.get_json()
    assert body["level"] == level
    if level is None:
        assert body["matched"] == []
    else:
        assert body["matched"] and all(m["level"] == level for m in body["matched"])


def test_evaluate_reports_matched_criteria_and_forces(client, place, planner):
    plan = create(client, place, planner)
    body = client.post(f"/api/v1/plans/{plan['id']}/evaluate",
                       json={"metrics": {"deaths": 31}}, headers=planner).get_json()
    assert body["matched"] == [{"level": 1, "metric": "deaths", "op": ">=", "value": 30.0,
                                "actual": 31.0}]
    assert body["required_forces"] == [{"category": "water", "count": 6}]


def test_evaluate_rejects_non_numeric_metrics(client, place, planner):
    plan = create(client, place, planner)
    response = client.post(f"/api/v1/plans/{plan['id']}/evaluate",
                           json={"metrics": {"deaths": "many"}}, headers=planner)
    assert response.status_code == 422
    assert "metrics.deaths" in error_of(response)["details"]


@pytest.mark.parametrize(("levels", "key"), [
    ([{"level": 1, "criteria": [{"metric": "deaths", "op": "=>", "value": 30}]}],
     "response_levels.0.criteria.0.op"),
    ([{"level": 2, "criteria": []},
      {"level": 1, "criteria": [{"metric": "deaths", "op": "~", "value": 30}]}],
     "response_levels.1.criteria.0.op"),
    ([{"level": 1, "criteria": [{"metric": "deaths", "op": ">=", "value": "thirty"}]}],
     "response_levels.0.criteria.0.value"),
    ([{"level": 1, "criteria": []}, {"level": 1, "criteria": []}], "response_levels.1.level"),
    ([{"level": 5, "criteria": []}], "response_levels.0.level"),
    ([{"level": 0, "criteria": []}], "response_levels.0.level"),
    ([{"level": 1, "required_forces": [{"category": "tanks", "count": 1}]}],
     "response_levels.0.required_forces.0.category"),
])
def test_bad_criteria_are_422_naming_the_part(client, place, planner, levels, key):
    response = client.post("/api/v1/plans", json=plan_body(place, response_levels=levels),
                           headers=planner)
    assert response.status_code == 422
    assert key in error_of(response)["details"]
    assert client.get("/api/v1/plans", headers=planner).get_json()["total"] == 0


def test_bad_patch_is_422_and_changes_nothing(client, place, planner):
    plan = create(client, place, planner)
    levels = [{"level": 1, "criteria": [{"metric": "deaths", "op": "gte", "value": 1}]}]
    response = client.patch(f"/api/v1/plans/{plan['id']}", json={"response_levels": levels},
                            headers=planner)
    assert response.status_code == 422
    assert "response_levels.0.criteria.0.op" in error_of(response)["details"]
    after = client.get(f"/api/v1/plans/{plan['id']}", headers=planner).get_json()
    assert after["response_levels"] == plan["response_levels"]


@pytest.mark.parametrize(("field", "value"), [
    ("kind", "strategic"), ("incident_type", "alien_invasion"), ("area_code", "123456"),
    ("parent_id", 999999), ("drill_interval_months", 0),
])
def test_bad_attributes_are_422(client, place, planner, field, value):
    response = client.post("/api/v1/plans", json=plan_body(place, **{field: value}),
                           headers=planner)
    assert response.status_code == 422
    assert field in error_of(response)["details"]


def test_malformed_body_is_400(client, planner):
    response = client.post("/api/v1/plans", data="{not json",
                           headers={**planner, "Content-Type": "application/json"})
    assert response.status_code == 400


def test_filters(client, place, planner):
    a = create(client, place, planner)
    create(client, place, planner, incident_type="geological", title="地灾预案")
    create(client, place, planner, kind="overall", incident_type="general",
           area_code=place["city"], title="总体预案")
    move(client, a["id"], "in_review", planner)
    move(client, a["id"], "published", planner)

    def ids(query):
        body = client.get(f"/api/v1/plans?{query}", headers=planner).get_json()
        assert body["total"] == len(body["items"])
        return {p["title"] for p in body["items"]}

    assert ids("kind=overall") == {"总体预案"}
    assert ids("incident_type=geological") == {"地灾预案"}
    assert ids(f"area_code={place['district']}") == {"测试区防汛应急预案", "地灾预案"}
    assert ids("status=published") == {"测试区防汛应急预案"}
    assert ids("drill_overdue=true") == set()
    assert len(ids("drill_overdue=false")) == 3
    response = client.get("/api/v1/plans?status=finished", headers=planner)
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["dispatcher", "grid_staff", "org_admin", "auditor"])
def test_only_admin_and_planner_write(client, place, planner, actors, role):
    plan = create(client, place, planner)
    other = actors.header(role)
    assert client.post("/api/v1/plans", json=plan_body(place), headers=other).status_code == 403
    assert client.patch(f"/api/v1/plans/{plan['id']}", json={"title": "x"},
                        headers=other).status_code == 403
    assert client.post(f"/api/v1/plans/{plan['id']}/transition", json={"to": "in_review"},
                       headers=other).status_code == 403
    assert client.post(f"/api/v1/plans/{plan['id']}/drills",
                       json={"held_on": "2026-01-10", "kind": "tabletop"},
                       headers=other).status_code == 403
    assert client.get("/api/v1/plans", headers=other).status_code == 200
    assert client.get(f"/api/v1/plans/{plan['id']}/versions", headers=other).status_code == 200


def test_admin_writes_and_signed_out_is_401(client, place, actors):
    admin = actors.header("admin")
    assert client.post("/api/v1/plans", json=plan_body(place), headers=admin).status_code == 201
    assert client.get("/api/v1/plans").status_code == 401
    assert client.post("/api/v1/plans", json=plan_body(place)).status_code == 401


def test_district_scoped_planner_stays_in_district(client, place, actors):
    scoped = actors.header("planner", area_code=place["district"])
    assert client.post("/api/v1/plans", json=plan_body(place), headers=scoped).status_code == 201
    response = client.post("/api/v1/plans", json=plan_body(place, area_code=place["city"]),
                           headers=scoped)
    assert response.status_code == 403


def test_city_scoped_planner_reaches_districts_by_parent_links(client, place, actors, db):
    # 990000 is no prefix of 990101: only the parent links say the district is in the city.
    from shapely.geometry import shape

    from emergency.geo import service
    from tests.conftest import square

    scoped = actors.header("planner", area_code=place["city"])
    response = client.post("/api/v1/plans", json=plan_body(place), headers=scoped)
    assert response.status_code == 201
    service.create_area(db, "980000", "别市", "city", shape(square(107.0, 30.0, 1.0)))
    db.flush()
    response = client.post("/api/v1/plans", json=plan_body(place, area_code="980000"),
                           headers=scoped)
    assert response.status_code == 403


def test_unknown_plan_is_404(client, planner):
    assert client.get("/api/v1/plans/999999", headers=planner).status_code == 404
    assert client.post("/api/v1/plans/999999/evaluate", json={"metrics": {}},
                       headers=planner).status_code == 404


def test_parent_plan(client, place, planner):
    city = create(client, place, planner, kind="overall", incident_type="general",
                  area_code=place["city"], title="总体预案")
    child = create(client, place, planner, parent_id=city["id"])
    assert child["parent_id"] == city["id"]
    listed = client.get(f"/api/v1/plans?parent_id={city['id']}", headers=planner).get_json()
    assert [p["id"] for p in listed["items"]] == [child["id"]]
    response = client.patch(f"/api/v1/plans/{city['id']}", json={"parent_id": child["id"]},
                            headers=planner)
    assert response.status_code == 422


def test_incident_types_have_chinese_labels(client, planner):
    items = client.get("/api/v1/plans/incident-types", headers=planner).get_json()["items"]
    labels = {i["key"]: i["label_zh"] for i in items}
    assert labels["flood"] == "洪涝灾害" and labels["forest_fire"] == "森林草原火灾"
    assert {"natural_disaster", "accident_disaster", "public_health",
            "social_security"} <= set(labels)
