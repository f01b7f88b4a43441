"""Names, not codes: the picker endpoints (areas, grids, metrics, teams, members), triggers
named by their metric's name, sentences on pages, reasons and four eyes on lifecycle steps."""

import json

from emergency.geo import names
from tests.factories import add_member, org_with_team, register_org
from tests.plans.test_plans_api import create, move, plan_body
from tests.plans.test_plans_pages import html


def picked(client, url, headers, status=200):
    """The items a picker endpoint answers."""
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_json()
    return response.get_json()["items"] if status == 200 else response.get_json()


def test_pinyin_initials_and_ranking():
    assert names.initials("渝中区") == "yzq"
    assert names.initials("重庆市") == "cqs"  # the phrase dictionary reads 重 here as chong
    assert names.rank("yzq", "渝中区") == 4
    assert names.rank("500103", "渝中区", "500103") == 0
    assert names.rank("渝中", "渝中区") == 2
    assert names.rank("xyz", "渝中区") is None


def test_area_picker_finds_by_chinese_name_initials_and_code(client, place, actors):
    reader = actors.header("grid_staff")
    by_name = picked(client, "/api/v1/pick/areas?q=测试区", reader)
    assert by_name[0]["value"] == "990101" and by_name[0]["label"] == "测试区"
    assert by_name[0]["hint"] == "区县 · 测试市 · 990101"
    by_initials = picked(client, "/api/v1/pick/areas?q=csq", reader)
    assert [a["code"] for a in by_initials] == ["990101"]
    by_code = picked(client, "/api/v1/pick/areas?q=990101001", reader)
    assert by_code[0]["code"] == "990101001" and by_code[0]["parent_name"] == "测试区"
    streets = picked(client, "/api/v1/pick/areas?q=cs&level=street", reader)
    assert [a["code"] for a in streets] == ["990101001"]
    english = picked(client, "/api/v1/pick/areas?q=测试区&lang=en", reader)
    assert english[0]["hint"].startswith("District")
    assert picked(client, "/api/v1/pick/areas?q=nothing-like-it", reader) == []
    assert client.get("/api/v1/pick/areas?q=csq").status_code == 401


def test_grid_picker_within_an_area(client, place, actors):
    reader = actors.header("planner")
    grids = picked(client, "/api/v1/pick/grids?q=第2", reader)
    assert [g["value"] for g in grids] == ["990101001001-02"]
    assert grids[0]["hint"] == "测试社区 · 990101001001-02"
    assert len(picked(client, "/api/v1/pick/grids?q=dwg&area_code=990101", reader)) == 2
    assert picked(client, "/api/v1/pick/grids?q=dwg&area_code=990000001", reader) == []


def test_metric_picker_by_chinese_name_initials_and_key(client, actors):
    reader = actors.header("auditor")
    assert picked(client, "/api/v1/pick/metrics?q=死亡", reader)[0]["value"] == "deaths"
    assert picked(client, "/api/v1/pick/metrics?q=swrs", reader)[0]["value"] == "deaths"
    loss = picked(client, "/api/v1/pick/metrics?q=经济损失", reader)[0]
    assert (loss["value"], loss["label"], loss["unit"]) == ("economic_loss",
                                                            "直接经济损失（万元）", "万元")
    assert picked(client, "/api/v1/pick/metrics?q=受灾人口", reader)[0]["value"] == "affected"
    english = picked(client, "/api/v1/pick/metrics?q=economic&lang=en", reader)[0]
    assert english["label"] == "Direct economic loss (10,000 yuan)"
    assert len(picked(client, "/api/v1/plans/metrics", reader)) >= 15


def test_team_and_member_pickers_follow_the_registry_scope(client, actors):
    forces = org_with_team(client, actors)
    team, org = forces["team"], forces["org"]
    add_member(client, team["id"], forces["org_headers"], n=2, name="李四")
    planner = actors.header("planner")
    found = picked(client, "/api/v1/pick/teams?q=sdsj", planner)  # 山地搜救一队
    assert [t["id"] for t in found] == [team["id"]]
    assert found[0]["label"] == f"{org['name']} · 山地搜救一队" and found[0]["hint"] == "山地搜救"
    assert picked(client, f"/api/v1/pick/teams?q={org['name'][:4]}", planner)[0]["id"] == team["id"]
    assert picked(client, "/api/v1/pick/teams?q=山地&category=water", planner) == []
    # An organisation administrator sees only their own organisation's teams.
    _other, _user, other_admin = register_org(client, actors, n=2)
    assert picked(client, "/api/v1/pick/teams?q=sdsj", other_admin) == []
    assert picked(client, "/api/v1/pick/teams?q=sdsj", actors.header("grid_staff"), 403)
    members = picked(client, f"/api/v1/pick/teams/{team['id']}/members?q=ls", planner)
    assert [m["label"] for m in members] == ["李四"]
    assert set(members[0]) >= {"value", "label", "hint"} and "phone" not in members[0]
    picked(client, f"/api/v1/pick/teams/{team['id']}/members?q=ls", other_admin, 403)


def test_a_trigger_may_name_its_metric(client, place, actors):
    planner = actors.header("planner")
    levels = [{"level": 1, "criteria": [{"metric": "死亡人数", "op": ">=", "value": 30},
                                        {"metric": "直接经济损失（万元）", "op": ">=",
                                         "value": 10000}]}]
    plan = create(client, place, planner, response_levels=levels)
    assert [c["metric"] for c in plan["response_levels"][0]["criteria"]] == [
        "deaths", "economic_loss"]
    bad = client.post("/api/v1/plans", headers=planner, json=plan_body(place, response_levels=[
        {"level": 1, "criteria": [{"metric": "死人多", "op": ">=", "value": 3}]}]))
    assert bad.status_code == 422
    assert "response_levels.0.criteria.0.metric" in bad.get_json()["error"]["details"]


def test_archiving_needs_a_reason_and_publishing_a_second_person(client, place, actors):
    planner = actors.header("planner")
    plan = create(client, place, planner)
    url = f"/api/v1/plans/{plan['id']}/transition"
    move(client, plan["id"], "in_review", planner)
    own = client.post(url, json={"to": "published", "note": ""}, headers=planner)
    assert own.status_code == 403 and own.get_json()["error"]["code"] == "four_eyes"
    back = client.post(url, json={"to": "draft"}, headers=planner)
    assert back.status_code == 422 and "note" in back.get_json()["error"]["details"]
    move(client, plan["id"], "published", planner)  # by the conftest's approver
    refused = client.post(url, json={"to": "archived", "note": "  "}, headers=planner)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "reason_required"
    assert "note" in refused.get_json()["error"]["details"]
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=planner).get_json()[
        "status"] == "published"
    done = client.post(url, json={"to": "archived", "note": "上位预案修订，本预案废止"},
                       headers=planner)
    assert done.status_code == 200 and done.get_json()["status"] == "archived"
    history = client.get(f"/api/v1/plans/{plan['id']}/versions", headers=planner).get_json()
    assert history["items"][-1]["history"][-1]["note"] == "上位预案修订，本预案废止"
    audit = client.get("/api/v1/audit?action=plan_version.update",
                       headers=actors.header("auditor"))
    assert audit.status_code == 200
    assert "上位预案修订" in json.dumps(audit.get_json(), ensure_ascii=False)


def test_pages_read_as_sentences_and_dialogs_explain(client, place, actors):
    planner = actors.header("planner")
    plan = create(client, place, planner)
    move(client, plan["id"], "in_review", planner)
    page = html(client, f"/plans/{plan['id']}", planner)
    assert "死亡人数达到 30 人及以上" in page and "直接经济损失达到 100000 万元及以上" in page
    assert "水域救援队伍 6 支" in page
    assert 'id="four-eyes"' in page and 'data-transition="published"' not in page
    assert "退回修改" in page and 'id="transition-dialog"' in page
    other = html(client, f"/plans/{plan['id']}", actors.header("admin"))
    assert 'data-transition="published"' in other and 'id="four-eyes"' not in other
    move(client, plan["id"], "published", planner)
    client.patch(f"/api/v1/plans/{plan['id']}", headers=planner, json={
        "response_levels": [{"level": 1, "criteria": [{"metric": "deaths", "op": ">",
                                                       "value": 20}]}]})
    diff = html(client, f"/plans/{plan['id']}/diff", planner)
    assert "启动条件：死亡人数超过 20 人" in diff and "deaths" not in diff
    card = html(client, f"/plans/{plan['id']}/card/1?version=1", planner)
    assert "受灾人口" not in card and "死亡人数达到 30 人及以上" in card
    english = html(client, f"/plans/{plan['id']}/diff?lang=en", planner)
    assert "Starts when: Deaths above 20 people" in english


def test_editor_offers_pickers_not_key_lists(client, place, actors):
    planner = actors.header("planner")
    plan = create(client, place, planner)
    page = html(client, f"/plans/{plan['id']}/edit", planner)
    assert 'data-source="/api/v1/pick/areas"' in page and 'value="测试区"' in page
    assert 'id="f-area" data-picker-value value="990101"' in page
    assert "picker.js" in page
    options = json.loads(page.split('id="editor-options">')[1].split("</script>")[0])
    assert options["metrics"]["deaths"] == "死亡人数（人）" and options["area_name"] == "测试区"
    sources = json.loads(page.split('id="picker-sources">')[1].split("</script>")[0])
    assert sources == {"metrics": "/api/v1/pick/metrics"}
