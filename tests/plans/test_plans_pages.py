"""Plans pages: list with badges, detail, editor, diff, printable plan and response card."""

import json
from datetime import timedelta

from maps.assets import external_urls
from plans.service import today
from tests.plans.test_plans_api import create, move


def html(client, url, headers, status=200):
    """A page's HTML, checking its status and that it loads nothing from other hosts."""
    # A fresh cookie jar each time: Flask-Login's "strong" session protection drops a
    # bearer-token user once a page has set a session cookie (reported to the lead).
    response = client.application.test_client().get(url, headers=headers)
    assert response.status_code == status, url
    text = response.get_data(as_text=True)
    if status == 200:
        assert external_urls(text) == [], url
    return text


def published_plan(client, place, headers):
    """A published plan with a revised draft and an old drill."""
    plan = create(client, place, headers)
    move(client, plan["id"], "in_review", headers)
    move(client, plan["id"], "published", headers)
    client.patch(f"/api/v1/plans/{plan['id']}", json={"title": "修订稿"}, headers=headers)
    client.post(f"/api/v1/plans/{plan['id']}/drills", headers=headers, json={
        "held_on": (today() - timedelta(days=800)).isoformat(), "kind": "double_blind",
        "findings": ["预警发布延迟"]})
    return plan


def test_list_shows_overdue_badge_and_filters(client, place, actors):
    planner = actors.header("planner")
    plan = published_plan(client, place, planner)
    create(client, place, planner, title="另一个草稿")
    page = html(client, "/plans/", planner)
    assert "修订稿" in page and "另一个草稿" in page
    assert page.count("badge-drill-overdue") == 1
    assert f'data-plan-id="{plan["id"]}"' in page
    filtered = html(client, "/plans/?drill_overdue=true", planner)
    assert "修订稿" in filtered and "另一个草稿" not in filtered
    assert 'id="new-plan"' in page


def test_readers_see_no_edit_controls(client, place, actors):
    plan = published_plan(client, place, actors.header("planner"))
    grid = actors.header("grid_staff")
    page = html(client, f"/plans/{plan['id']}", grid)
    assert "预警发布延迟" in page
    assert 'id="edit-plan"' not in page and "data-transition" not in page
    assert 'id="new-plan"' not in html(client, "/plans/", grid)
    html(client, f"/plans/{plan['id']}/edit", grid, 403)
    html(client, "/plans/new", grid, 403)


def test_detail_offers_the_next_steps(client, place, actors):
    planner = actors.header("planner")
    plan = published_plan(client, place, planner)
    page = html(client, f"/plans/{plan['id']}", planner)
    assert 'data-transition="in_review"' in page and 'data-transition="published"' not in page
    assert "drill-form" in page


def test_editor_pages(client, place, actors):
    planner = actors.header("planner")
    plan = create(client, place, planner)
    assert 'id="plan-editor"' in html(client, "/plans/new", planner)
    page = html(client, f"/plans/{plan['id']}/edit", planner)
    marker = '<script type="application/json" id="plan-data">'
    data = json.loads(page.split(marker, 1)[1].split("</script>", 1)[0])
    assert data["title"] == "测试区防汛应急预案"
    assert data["response_levels"][0]["actions"][0]["unit"] == "市防汛抗旱指挥部"


def test_diff_print_and_card(client, place, actors):
    planner = actors.header("planner")
    plan = published_plan(client, place, planner)
    diff = html(client, f"/plans/{plan['id']}/diff", planner)
    assert "测试区防汛应急预案" in diff and "修订稿" in diff and "diff-replace" in diff
    printed = html(client, f"/plans/{plan['id']}/print", planner)
    assert "测试区防汛应急预案" in printed and "修订稿" not in printed  # the version in force
    assert "修订稿" in html(client, f"/plans/{plan['id']}/print?version=2", planner)
    card = html(client, f"/plans/{plan['id']}/card/1", planner)
    assert "市防汛抗旱指挥部" in card and "启动一级响应" in card
    html(client, f"/plans/{plan['id']}/card/3", planner, 404)
    html(client, "/plans/999999", planner, 404)


def test_pages_need_sign_in(client):
    response = client.get("/plans/", headers={"Accept": "text/html"})
    assert response.status_code in (302, 401)


def test_pages_are_chinese_first_with_english_available(client, place, actors):
    planner = actors.header("planner")
    create(client, place, planner)
    chinese = html(client, "/plans/", planner)
    assert "应急预案" in chinese and "专项应急预案" in chinese and "洪涝灾害" in chinese
    english = html(client, "/plans/?lang=en", planner)
    assert "Special plan" in english and "Flood" in english
