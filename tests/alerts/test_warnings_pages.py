"""Warning pages, server-side: list with filters, the drafting form (refusals keep the input),
a warning's page with the steps its reader may take, and the steps through the page."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from alerts.models import EarlyWarning
from emergency.vocabulary import LOCAL_ZONE
from tests.alerts.conftest import step, warning_body


@pytest.fixture
def sign_in(client):
    """Sign in through the login form; returns the CSRF token of the session."""

    def login(user):
        client.get("/logout")
        page = client.get("/login")
        token = page.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post("/login", data={"username": user.username,
                                               "password": "correct horse battery",
                                               "csrf_token": token})
        assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
        page = client.get("/warnings")
        return page.get_data(as_text=True).split('name="csrf-token" content="')[1] \
            .split('"')[0]

    return login


def local(hours):
    """A datetime-local value ``hours`` from now (Beijing time)."""
    return (datetime.now(LOCAL_ZONE) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


def form(place, **extra):
    """The drafting form's fields."""
    data = {"title": "测试区暴雨橙色预警", "hazard_type": "meteorological", "level": "orange",
            "area_codes": place["district"], "onset": local(0), "expires": local(12),
            "description": "强降雨", "instruction": "注意防范", "geometry": ""}
    data.update(extra)
    return data


def test_list_shows_levels_in_words_and_filters(client, place, people, sign_in, published):
    client.post("/api/v1/warnings", json=warning_body(place, level="yellow", title="黄色草稿"),
                headers=people["admin"][1])
    sign_in(people["auditor"][0])
    page = client.get("/warnings?lang=zh").get_data(as_text=True)
    assert "红色" in page and "黄色" in page and "warning-level-red" in page
    assert "测试区暴雨红色预警" in page and "北京时间" in page
    assert "new-warning" not in page  # auditors do not draft
    filtered = client.get("/warnings?level=yellow").get_data(as_text=True)
    assert "黄色草稿" in filtered and "测试区暴雨红色预警" not in filtered
    active = client.get("/warnings?active=1").get_data(as_text=True)
    assert "黄色草稿" not in active and "测试区暴雨红色预警" in active
    assert ">预警发布<" in page  # the navigation entry
    english = client.get("/warnings?lang=en").get_data(as_text=True)
    assert "Red" in english and "Warnings" in english


def test_grid_staff_see_released_warnings_only(client, people, sign_in, draft):
    sign_in(people["grid_staff"][0])
    assert client.get("/warnings").status_code == 200
    assert client.get(f"/warnings/{draft['id']}").status_code == 404
    assert client.get("/warnings/new").status_code == 403


def test_draft_through_the_form(client, db, place, people, sign_in):
    csrf = sign_in(people["author"][0])
    assert client.get("/warnings/new").status_code == 200
    response = client.post("/warnings/new", data={**form(place), "csrf_token": csrf})
    assert response.status_code == 302
    warning = db.scalars(select(EarlyWarning)).one()
    assert warning.level == "orange" and warning.area_codes == [place["district"]]
    assert warning.onset.astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M") == local(0)


def test_refused_form_keeps_input_and_names_fields(client, db, place, people, sign_in):
    csrf = sign_in(people["author"][0])
    response = client.post("/warnings/new?lang=zh", data={
        **form(place, expires=local(-1), title="保留的标题", area_codes=f"{place['street']}"),
        "csrf_token": csrf})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    chosen = page.split('data-chosen="')[1].split('"')[0]
    assert "保留的标题" in page and place["street"] in chosen  # input and chosen area kept
    assert "失效时间" in page or "Expires" in page
    open_ring = '{"type": "Polygon", "coordinates": [[[106.5, 29.5], [106.6, 29.5], ' \
                '[106.6, 29.6]]]}'
    refused = client.post("/warnings/new", data={**form(place, geometry=open_ring),
                                                  "csrf_token": csrf})
    assert refused.status_code == 422 and "e-geometry" in refused.get_data(as_text=True)
    assert db.scalars(select(EarlyWarning)).all() == []


def test_author_sees_four_eyes_buttons_disabled_with_reason(client, people, sign_in, draft):
    sign_in(people["author"][0])
    page = client.get(f"/warnings/{draft['id']}?lang=zh").get_data(as_text=True)
    assert 'data-step="approved"' in page
    button = page.split('data-step="approved"')[1].split(">")[0]
    assert "disabled" in button and "four-eyes-reason" in button
    assert 'id="four-eyes-reason"' in page
    assert 'data-step="cancelled"' in page  # the author may cancel their own draft


def test_steps_through_the_page(client, db, people, sign_in, draft):
    csrf = sign_in(people["admin"][0])
    page = client.get(f"/warnings/{draft['id']}").get_data(as_text=True)
    button = page.split('data-step="approved"')[1].split(">")[0]
    assert "disabled" not in button
    done = client.post(f"/warnings/{draft['id']}/step", data={"to": "approved",
                                                              "csrf_token": csrf})
    assert done.status_code == 302
    assert db.get(EarlyWarning, draft["id"]).status == "approved"
    refused = client.post(f"/warnings/{draft['id']}/step", data={"to": "cancelled", "note": "",
                                                                 "csrf_token": csrf})
    assert refused.status_code == 422 and db.get(EarlyWarning, draft["id"]).status == "approved"


def test_lifted_warning_page_offers_nothing(client, people, sign_in, published):
    step(client, people["admin"][1], published["id"], "lifted", "结束")
    sign_in(people["planner"][0])
    page = client.get(f"/warnings/{published['id']}").get_data(as_text=True)
    assert "data-step=" not in page and "结束" in page


def test_change_a_draft_through_the_form(client, db, place, people, sign_in, draft):
    csrf = sign_in(people["author"][0])
    detail = client.get(f"/warnings/{draft['id']}?lang=zh").get_data(as_text=True)
    assert f'/warnings/{draft["id"]}/edit' in detail
    page = client.get(f"/warnings/{draft['id']}/edit?lang=zh").get_data(as_text=True)
    assert "修改预警" in page and "测试区暴雨红色预警" in page
    assert 'name="note"' not in page  # a draft's change needs no reason
    chosen = page.split('data-chosen="')[1].split('"')[0]
    assert place["district"] in chosen and place["street"] in chosen
    response = client.post(f"/warnings/{draft['id']}/edit", data={
        **form(place, title="改过的标题", level="yellow"), "csrf_token": csrf})
    assert response.status_code == 302
    warning = db.get(EarlyWarning, draft["id"])
    assert (warning.title, warning.level, warning.status) == ("改过的标题", "yellow", "draft")
    assert warning.area_codes == [place["district"]]
    refused = client.post(f"/warnings/{draft['id']}/edit?lang=zh", data={
        **form(place, title="", expires=local(-1)), "csrf_token": csrf})
    assert refused.status_code == 422 and db.get(EarlyWarning, draft["id"]).title == "改过的标题"


def test_published_change_needs_a_reason_and_another_releaser(client, db, place, people,
                                                             sign_in, published):
    sign_in(people["dispatcher"][0])  # dispatchers never change a published warning
    assert f'/warnings/{published["id"]}/edit' not in client.get(
        f"/warnings/{published['id']}").get_data(as_text=True)
    assert client.get(f"/warnings/{published['id']}/edit").status_code == 302
    csrf = sign_in(people["planner"][0])
    page = client.get(f"/warnings/{published['id']}/edit?lang=zh").get_data(as_text=True)
    assert 'name="note"' in page and "CAP" in page
    # The published outline is just the areas' union: it is not kept as a drawing.
    assert 'id="w-geometry" value=""' in page
    body = {**form(place, title="更新的标题", level="red",
                   area_codes=f"{place['district']},{place['street']}"), "csrf_token": csrf}
    refused = client.post(f"/warnings/{published['id']}/edit?lang=zh", data=body)
    assert refused.status_code == 422 and "e-note" in refused.get_data(as_text=True)
    assert db.get(EarlyWarning, published["id"]).version == 1
    done = client.post(f"/warnings/{published['id']}/edit", data={**body, "note": "雨区扩大"})
    assert done.status_code == 302
    warning = db.get(EarlyWarning, published["id"])
    assert (warning.title, warning.version, warning.status) == ("更新的标题", 2, "published")
