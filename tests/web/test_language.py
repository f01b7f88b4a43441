"""Every message in the user's language: API errors and validation (Chinese by default,
English by Accept-Language or ?lang=en), fields named by their labels, form pages too."""

import re

import pytest

from tests.conftest import error_of
from tests.factories import org_body, org_with_team, register_org

EN = {"Accept-Language": "en"}
POINT = {"type": "Point", "coordinates": [106.55, 29.56]}
# An incident body missing its title, with a time that is not one.
BAD_INCIDENT = {"incident_type": "geological", "location": POINT, "occurred_at": "yesterday"}


def _invalid(client, headers, path="/api/v1/incidents"):
    """The error of a POST of BAD_INCIDENT (asserting 422)."""
    response = client.post(path, json=BAD_INCIDENT, headers=headers)
    assert response.status_code == 422, response.get_json()
    return error_of(response)


def test_validation_errors_are_chinese_by_default_with_labels(client, actors):
    error = _invalid(client, actors.header("dispatcher"))
    assert error["code"] == "invalid"  # machine-readable codes stay English
    assert error["message"] == "以下输入有误：发生时间、标题"
    assert set(error["details"]) == {"title", "occurred_at"}  # keys stay the fields' names
    assert error["details"]["title"] == ["标题：必填项，不能缺少。"]
    assert error["details"]["occurred_at"] == ["发生时间：不是有效的日期时间。"]


@pytest.mark.parametrize("how", ["header", "query"])
def test_validation_errors_in_english_when_asked(client, actors, how):
    headers = actors.header("dispatcher")
    path = "/api/v1/incidents"
    if how == "header":
        headers = {**headers, **EN}
    else:
        path += "?lang=en"
    error = _invalid(client, headers, path)
    assert error["message"] == "Some input is not valid: Occurred at, Title"
    assert error["details"]["title"] == ["Title: Missing data for required field."]


def test_the_browsers_preferred_language_wins(client, actors):
    headers = {**actors.header("dispatcher"), "Accept-Language": "en;q=0.8,zh-CN"}
    assert _invalid(client, headers)["details"]["title"] == ["标题：必填项，不能缺少。"]


def test_bad_pattern_and_bad_number_name_the_field(client, actors):
    admin = actors.header("admin")
    response = client.post("/api/v1/grids", headers=admin, json={
        "code": "含 空格", "name": "网格", "area_code": "500103",
        "geometry": {"type": "Polygon", "coordinates": [[[106.5, 29.5], [106.51, 29.5],
                                                         [106.51, 29.51], [106.5, 29.5]]]}})
    assert response.status_code == 422
    assert error_of(response)["details"]["code"] == ["代码：格式不符合要求。"]
    response = client.get("/api/v1/incidents?limit=abc", headers=admin)
    assert response.status_code == 422
    error = error_of(response)
    assert error["details"]["limit"] == ["每页条数：不是有效的整数。"]
    assert "limit" not in error["message"] and "每页条数" in error["message"]
    response = client.get("/api/v1/incidents?limit=0", headers={**admin, **EN})
    assert error_of(response)["details"]["limit"] == [
        "Page size: Must be greater than or equal to 1 and less than or equal to 1000."]


def test_not_found_and_forbidden_in_the_users_language(client, actors):
    admin = actors.header("admin")
    response = client.get("/api/v1/orgs/99999999", headers=admin)
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "not_found" and error["message"] == "找不到机构 99999999"
    assert error_of(client.get("/api/v1/orgs/99999999", headers={**admin, **EN}))[
        "message"] == "no organisation 99999999"
    response = client.get("/api/v1/audit", headers=actors.header("grid_staff"))
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "forbidden" and error["message"] == (
        "角色 网格员 无权执行 GET /api/v1/audit")


def test_conflict_in_chinese_and_english(client, actors):
    register_org(client, actors, n=7)
    _user, headers = actors.make("org_admin")
    response = client.post("/api/v1/orgs", json=org_body(7), headers=headers)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "conflict"
    assert error["message"] == "已有使用此统一社会信用代码的机构登记"
    assert error["details"] == {"credit_code": ["统一社会信用代码：已登记"]}
    _user, headers = actors.make("org_admin")
    response = client.post("/api/v1/orgs", json=org_body(7), headers={**headers, **EN})
    assert error_of(response)["details"] == {
        "credit_code": ["Unified social credit code: already registered"]}


def test_a_form_page_shows_its_error_in_chinese(client, actors):
    """The risk page's form: a refused assessment is flashed in the user's language."""
    client.application.config["WTF_CSRF_ENABLED"] = False
    headers = actors.header("planner")
    form = {"area_code": "990000", "cell_size_m": "1000"}
    client.post("/risk/assessments", headers=headers, data=form)
    with client.session_transaction() as cookie:
        category, text = cookie["_flashes"][0]
    assert category == "danger"
    assert text == "未知区划 990000 — 行政区划：找不到区划 990000"
    other = client.application.test_client()
    other.post("/risk/assessments?lang=en", headers=headers, data=form)
    with other.session_transaction() as cookie:
        assert cookie["_flashes"][0][1] == "unknown area 990000 — Area: no area 990000"


def test_a_message_the_catalogue_does_not_know_stays_as_it_is(app):
    from emergency.i18n import translate_message

    with app.test_request_context("/"):
        assert translate_message("no team 5") == "找不到队伍 5"
        assert translate_message("a dispatch cannot go from requested to completed") == (
            "调度不能从“已请求”改为“已完成”")
        assert translate_message("something nobody wrote down") == "something nobody wrote down"
    with app.test_request_context("/?lang=en"):
        assert translate_message("no team 5") == "no team 5"


@pytest.fixture
def shell_app(backend, tmp_path):
    """An app on a fresh database of the backend with the demo areas and users."""
    from tests.conftest import DEMO_SHELL, committed_app

    with committed_app(backend, tmp_path, "language", DEMO_SHELL) as app:
        yield app


@pytest.mark.browser
def test_a_page_shows_api_errors_in_the_users_language(shell_app):
    """The users page's create form: the API's refusal shows in Chinese (the browser asks
    for it), each field by its label; after ?lang=en, in English."""
    from tests.browser import chromium, live_server, sign_in

    with live_server(shell_app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        sign_in(page, base, "admin", "demo-admin-2026")
        # A user name that is taken: the API's 409 names the field by its label. (Grids,
        # organisation and district are chosen with pickers, which offer only what exists.)
        for query, expected in (("", "用户名：已被占用"), ("?lang=en", "User name: taken")):
            page.goto(f"{base}/users{query}")
            page.wait_for_load_state("networkidle")  # users.js has bound the form
            page.click("#show-create")
            page.fill("#new-username", "admin")
            page.fill("#new-password", "a-long-password-1")
            page.select_option("#new-role", "planner")
            page.click("#create-form button[type=submit]")
            # Polled with evaluate: wait_for_function evaluates a string, which the CSP forbids.
            for _ in range(200):
                if page.evaluate("document.getElementById('create-error').textContent.length"):
                    break
                page.wait_for_timeout(100)
            text = page.text_content("#create-error")
            assert expected in text and "username" not in text, text


ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def _times(value, path=""):
    """(path, text) of every string in a JSON value that is a date with a time."""
    if isinstance(value, dict):
        return [found for key, child in value.items() for found in _times(child, f"{path}.{key}")]
    if isinstance(value, list):
        return [found for child in value[:20] for found in _times(child, f"{path}[]")]
    return [(path, value)] if isinstance(value, str) and ISO_TIME.match(value) else []


def test_every_time_in_the_api_listings_has_an_offset(client, actors):
    """GET every list of the OpenAPI document (with an organisation, team, member and
    incident in place): each time in the answers is ISO 8601 with its offset."""
    forces = org_with_team(client, actors)
    admin = forces["admin_headers"]
    created = client.post("/api/v1/incidents", headers=admin, json={
        "title": "山体滑坡", "incident_type": "geological", "location": POINT,
        "occurred_at": "2026-05-01T08:30:00+08:00"})
    assert created.status_code == 201, created.get_json()
    spec = client.get("/api/v1/openapi.json").get_json()
    checked, naive = 0, []
    for path, operations in sorted(spec["paths"].items()):
        if "{" in path or "get" not in operations or path.endswith(("openapi.json", "/events")):
            continue
        response = client.get(f"/api/v1{path}" if not path.startswith("/api/") else path,
                              headers=admin)
        if response.status_code != 200 or not response.is_json:
            continue
        for where, text in _times(response.get_json()):
            checked += 1
            if not OFFSET.search(text):
                naive.append(f"{path} {where}: {text}")
    assert checked >= 5, "too few times seen to mean anything"
    assert not naive, "times without an offset:\n" + "\n".join(naive)


def test_the_language_switch_keeps_the_pages_query(client, actors):
    """Switching language keeps the list's filters, search and page (and every repeat)."""
    headers = actors.header("dispatcher")
    html = client.get("/incidents?q=%E6%BB%91%E5%9D%A1&status=active&status=closed&page=2",
                      headers=headers).get_data(as_text=True)
    href = re.search(r'href="([^"]*)" id="lang-switch"', html).group(1)
    assert href.startswith("?") and "lang=en" in href
    assert "q=%E6%BB%91%E5%9D%A1" in href and "page=2" in href
    assert "status=active" in href and "status=closed" in href
    html = client.get(f"/incidents{href.replace('&amp;', '&')}", headers=headers) \
        .get_data(as_text=True)
    back = re.search(r'href="([^"]*)" id="lang-switch"', html).group(1)
    assert "lang=zh" in back and "lang=en" not in back and "page=2" in back
