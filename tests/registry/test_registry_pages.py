"""Registry pages: registration form, review queue, team management, forces map."""

import json
import re

from emergency.vocabulary import CATEGORY_COLOURS
from maps.assets import external_urls
from tests.factories import credit_code, id_number, org_body


def _csrf(client, url, headers=None):
    """The CSRF token of a page (kept in the client's session cookie)."""
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _sign_in(client, actors, role, **scope):
    """Sign in through the login form as a new user of that role; returns the user."""
    user, _headers = actors.make(role, **scope)
    token = _csrf(client, "/login")
    response = client.post("/login", data={"csrf_token": token, "username": user.username,
                                           "password": "correct horse battery"})
    assert response.status_code == 302
    return user


def test_registration_form_registers_and_links_the_org_admin(client, actors, db):
    user = _sign_in(client, actors, "org_admin")
    headers = {}
    page = client.get("/registry/register")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="credit_code"' in html and 'name="viewport"' in html
    token = _csrf(client, "/registry/register", headers)
    form = {"csrf_token": token, "name": "山城救援队", "credit_code": credit_code(3)[:17] + "#",
            "contact_name": "李四", "contact_phone": "13812345678", "address": "",
            "lon": "106.5", "lat": "29.5", "crs": "wgs84"}
    bad = client.post("/registry/register", data=form, headers=headers)
    assert bad.status_code == 422
    assert "is-invalid" in bad.get_data(as_text=True)
    form["credit_code"] = credit_code(3)
    ok = client.post("/registry/register", data=form, headers=headers)
    assert ok.status_code == 302
    db.refresh(user)
    assert user.org_id is not None
    org_page = client.get(ok.headers["Location"], headers=headers).get_data(as_text=True)
    assert "山城救援队" in org_page and "138****5678" in org_page
    assert "13812345678" not in org_page


def test_review_queue_approves(client, actors):
    admin = actors.header("admin")
    org = client.post("/api/v1/orgs", json=org_body(5), headers=admin).get_json()
    _sign_in(client, actors, "admin")
    queue = client.get("/registry/review")
    assert org["name"] in queue.get_data(as_text=True)
    token = _csrf(client, "/registry/review")
    done = client.post(f"/registry/orgs/{org['id']}/review",
                       data={"csrf_token": token, "decision": "approve", "note": "ok"})
    assert done.status_code == 302
    assert client.get(f"/api/v1/orgs/{org['id']}", headers=admin).get_json()["status"] == \
        "approved"
    assert org["name"] not in client.get("/registry/review").get_data(as_text=True)


def test_review_queue_is_for_admins_only(client, actors):
    assert client.get("/registry/review", headers=actors.header("planner")).status_code == 403


def test_team_page_masks_and_adds_members(client, forces, actors):
    team = forces["team"]
    _sign_in(client, actors, "org_admin", org_id=forces["org"]["id"])
    headers = {}
    url = f"/registry/teams/{team['id']}"
    html = client.get(url, headers=headers).get_data(as_text=True)
    assert forces["member"]["id_number"] in html and id_number(1) not in html
    token = _csrf(client, url, headers)
    added = client.post(f"{url}/members", headers=headers, data={
        "csrf_token": token, "name": "王五", "id_number": id_number(9), "phone": "13700000009",
        "skills": "潜水, 急救"})
    assert added.status_code == 302
    html = client.get(url, headers=headers).get_data(as_text=True)
    assert "王五" in html and "137****0009" in html and id_number(9) not in html
    bad = client.post(f"{url}/members", headers=headers, data={
        "csrf_token": token, "name": "赵六", "id_number": "500103", "phone": "1"})
    assert bad.status_code == 422


def _page_layers(html):
    """The forces map page's viewport layers (its map data)."""
    pattern = r'<script type="application/json" class="map-data"[^>]*>(.*?)</script>'
    for text in re.findall(pattern, html, re.S):
        data = json.loads(text)
        if data["kind"] == "viewport":
            return data["layers"]
    return []


def test_forces_map_is_offline_and_loads_teams_by_viewport(client, forces, actors):
    page = client.get("/maps/forces", headers=actors.header("dispatcher"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # No team is embedded: one clustered layer per category, counted in its legend entry.
    layers = _page_layers(html)
    assert [layer["params"]["category"] for layer in layers] == list(CATEGORY_COLOURS)
    assert {layer["name"] for layer in layers} == {"forces"}
    assert {layer["cluster"] for layer in layers} == {"forces"}
    mountain = next(layer for layer in layers if layer["key"] == "mountain")
    assert mountain["legend"][0][0].endswith("(1)")
    assert "forces-legend" in html and "forces.js" in html
    assert external_urls(html) == []
    assert id_number(1) not in html
    # The team comes from the layer, with what its popup shows.
    lon, lat = forces["team"]["location"]["coordinates"]
    view = f"bbox={lon - 0.5},{lat - 0.5},{lon + 0.5},{lat + 0.5}&zoom=12&category=mountain"
    body = client.get(f"/api/v1/maps/layers/forces?{view}",
                      headers=actors.header("dispatcher")).get_json()
    [team] = body["features"]
    assert team["properties"]["name"] == forces["team"]["name"]
    assert team["properties"]["members"] == 1
    assert team["properties"]["url"] == f"/registry/teams/{forces['team']['id']}"


def test_forces_map_filters_by_category(client, forces, actors):
    headers = actors.header("admin")
    html = client.get("/maps/forces?category=water", headers=headers).get_data(as_text=True)
    assert [layer["params"]["category"] for layer in _page_layers(html)] == ["water"]


def test_forces_map_refuses_grid_staff(client, forces, actors):
    assert client.get("/maps/forces", headers=actors.header("grid_staff")).status_code == 403


def test_pages_are_chinese_first(client, actors):
    _sign_in(client, actors, "org_admin")
    html = client.get("/registry/register").get_data(as_text=True)
    assert "社会应急力量备案登记" in html and "统一社会信用代码" in html


def test_org_page_lists_what_ends_within_30_days(client, forces, actors):
    from datetime import date, timedelta

    soon = (date.today() + timedelta(days=5)).isoformat()
    client.post(f"/api/v1/members/{forces['member']['id']}/certificates",
                json={"name": "潜水员证", "expires_on": soon}, headers=forces["org_headers"])
    _sign_in(client, actors, "planner")
    html = client.get(f"/registry/orgs/{forces['org']['id']}").get_data(as_text=True)
    assert "潜水员证" in html and soon in html


def test_team_page_queues_roster_import_and_export_as_jobs(app, client, forces, actors, db):
    import io

    from openpyxl import Workbook
    from sqlalchemy import select

    from emergency.jobs.models import JobRecord
    from registry.models import TeamMember

    team = forces["team"]
    user = _sign_in(client, actors, "org_admin", org_id=forces["org"]["id"])
    page = client.get(f"/registry/teams/{team['id']}").get_data(as_text=True)
    assert 'id="roster-background"' in page and 'id="export-job-form"' in page
    token = _csrf(client, f"/registry/teams/{team['id']}")
    book = Workbook()
    book.active.append(["姓名", "身份证号", "手机号"])
    book.active.append(["新队员", id_number(77), "13900000077"])
    data = io.BytesIO()
    book.save(data)
    before = db.scalar(select(TeamMember.id).where(TeamMember.team_id == team["id"])
                       .order_by(TeamMember.id.desc()))
    app.config["IMPORT_JOB_MIN_BYTES"] = 10  # any upload is "large": a job
    queued = client.post(f"/registry/teams/{team['id']}/import", data={
        "csrf_token": token, "file": (io.BytesIO(data.getvalue()), "r.xlsx")},
        content_type="multipart/form-data")
    assert queued.status_code == 302 and queued.headers["Location"].endswith("/jobs")
    exported = client.post(f"/registry/teams/{team['id']}/export",
                           data={"csrf_token": token})
    assert exported.status_code == 302 and exported.headers["Location"].endswith("/jobs")
    jobs = db.scalars(select(JobRecord).where(JobRecord.owner == user.username)
                      .order_by(JobRecord.id)).all()
    assert [(j.kind, j.subject_id) for j in jobs] == [
        ("registry.import_roster", team["id"]), ("registry.export_roster", team["id"])]
    assert db.scalar(select(TeamMember.id).where(TeamMember.team_id == team["id"])
                     .order_by(TeamMember.id.desc())) == before  # not imported yet
    listed = client.get("/jobs").get_data(as_text=True)
    assert "名册导入已作为任务" in listed and "名册导出已作为任务" in listed
