"""The organisation admin's day on a phone, in headless Chromium against a live server: a
dispatch arrives live, one is declined (a reason is required), another accepted, two members
named, the team advanced, a member checked in and out with the phone's location, the hours
shown, the task completed. Both backends, Chinese, 390×844, nothing fetched from outside."""

from datetime import date, timedelta

import pytest
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.orm import Session

from emergency import create_app
from emergency.auth import service as auth
from tests.browser import RequestLog, chromium, live_server
from tests.conftest import DATA_KEY, app_config, drop_database, make_database
from tests.factories import credit_code, id_number
from tests.maps.test_operations_live import quiesce_live_events

PASSWORD = "correct horse battery"
SITE = [106.55, 29.56]
PHONE = {"width": 390, "height": 844}
HERE = {"longitude": 106.5512, "latitude": 29.5603}


def _arrange(engine, cipher):
    """An approved organisation (its admin signs in) with one team of three insured members,
    and API tokens of a dispatcher and of the organisation's admin:
    (team_id, member names, dispatcher's token, org admin's token)."""
    from registry import members, service, teams

    session = Session(bind=engine)
    session.info["actor"] = "test"
    admin = auth.create_user(session, "boss", "admin", PASSWORD)
    auth.create_user(session, "disp", "dispatcher", PASSWORD)
    org_admin = auth.create_user(session, "lantian", "org_admin", PASSWORD)
    org = service.register_org(session, cipher, org_admin, "蓝天救援队", credit_code(11), "张三",
                               "13812345678", Point(106.57, 29.55), address="渝中区")
    session.flush()
    service.review_org(session, admin, org.id, "approve")
    team = teams.create_team(session, admin, org.id, "山地一队", "mountain",
                             Point(106.56, 29.57), 50)
    session.flush()
    names = ["王强", "李娜", "赵磊"]
    for n, name in enumerate(names, start=1):
        member = members.add_member(session, cipher, admin, team.id, name, id_number(20 + n),
                                    f"139000000{20 + n}")
        session.flush()
        members.add_insurance(session, admin, member.id, "人保", f"P{n}",
                              date.today() - timedelta(days=1),
                              date.today() + timedelta(days=99), "100000.00")
    token = auth.create_token(session, "disp", 1)
    org_token = auth.create_token(session, "lantian", 1)
    session.commit()
    team_id = team.id
    session.close()
    return team_id, names, token, org_token


def _sign_in(page, base, username):
    """Sign in through the login form (the home page keeps the live stream open, so the
    network never goes idle: wait for the navigation instead)."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def _wait(page, condition, timeout_s=20):
    """Poll a JS condition (the CSP forbids the eval behind wait_for_function)."""
    for _ in range(int(timeout_s * 10)):
        if page.evaluate(f"() => Boolean({condition})"):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {condition}")


def _no_horizontal_overflow(page):
    """Nothing wider than the phone's screen."""
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def _dispatch(api, headers, incident_id, team_id, task):
    """The dispatcher sends the team (from outside the browser)."""
    sent = api.post(f"/api/v1/incidents/{incident_id}/dispatches", headers=headers,
                    json={"team_id": team_id, "task": task, "members_requested": 2})
    assert sent.status_code == 201, sent.get_json()
    return sent.get_json()["id"]


@pytest.mark.browser
def test_org_admin_answers_dispatches_and_checks_members_in_on_a_phone(backend, tmp_path):
    from registry.crypto import cipher_for

    url, engine = make_database(backend, tmp_path, "inbox")
    app = None
    try:
        team_id, names, token, _org_token = _arrange(engine, cipher_for(DATA_KEY))
        app = create_app(app_config(url, tmp_path, EVENTS_HEARTBEAT_SECONDS=1))
        api = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        incident = api.post("/api/v1/incidents", headers=headers, json={
            "title": "北碚山体滑坡", "incident_type": "geological",
            "occurred_at": "2026-11-28T08:00:00+08:00",
            "location": {"type": "Point", "coordinates": SITE}}).get_json()
        first = _dispatch(api, headers, incident["id"], team_id, "转移受困群众")
        with live_server(app) as base, chromium() as browser:
            context = browser.new_context(viewport=PHONE, locale="zh-CN",
                                          permissions=["geolocation"], geolocation=HERE)
            page = context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            log = RequestLog(page)
            _sign_in(page, base, "lantian")
            assert page.locator("#main-nav a[href='/dispatches']").inner_text() == "调派任务"

            # The inbox: the request is new, highlighted, in Chinese.
            page.goto(f"{base}/dispatches")
            card = page.locator(f".dispatch-card[data-dispatch-id='{first}']")
            card.wait_for()
            assert "dispatch-new" in card.get_attribute("class")
            assert card.locator(".badge-new").inner_text() == "新"
            assert "北碚山体滑坡" in card.inner_text() and "转移受困群众" in card.inner_text()
            assert "地质灾害" in card.inner_text()
            _no_horizontal_overflow(page)

            # Declining needs a reason: refused without one (in Chinese), then done.
            card.locator("a.dispatch-link").click()
            page.wait_for_selector("#answer:not(.d-none)")
            page.wait_for_selector(".leaflet-container")
            _no_horizontal_overflow(page)
            page.click("#decline-btn")
            error = page.locator("#answer-error")
            error.wait_for(state="visible")
            assert "必须填写原因" in error.inner_text()
            assert page.get_attribute("#dispatch-status", "data-status") == "requested"
            page.fill("#decline-reason", "队员正在执行另一项任务")
            page.click("#decline-btn")
            _wait(page, "document.getElementById('dispatch-status').dataset.status === "
                        "'declined'")
            assert page.inner_text("#dispatch-status") == "已拒绝"
            assert page.locator("#answer").is_hidden()

            # A new request sent from outside appears in the open inbox, without reload.
            page.goto(f"{base}/dispatches")
            page.wait_for_selector(f".dispatch-card[data-dispatch-id='{first}']")
            _wait(page, "document.getElementById('live-indicator').dataset.state === 'live'")
            page.evaluate("() => { window.__same_page = true; }")
            second = _dispatch(api, headers, incident["id"], team_id, "搜救被困人员")
            fresh = page.locator(f".dispatch-card[data-dispatch-id='{second}']")
            fresh.wait_for(timeout=10000)
            assert page.evaluate("() => window.__same_page === true")  # not reloaded
            assert "dispatch-live" in fresh.get_attribute("class")
            assert "搜救被困人员" in page.inner_text("#inbox-announce")
            first_card = page.locator(".dispatch-card").first
            assert first_card.get_attribute("data-dispatch-id") == str(second)

            # Accept it, name two members, set out and arrive.
            fresh.locator("a.dispatch-link").click()
            page.wait_for_selector("#answer:not(.d-none)")
            page.click("#accept-btn")
            _wait(page, "document.getElementById('dispatch-status').dataset.status === "
                        "'accepted'")
            page.wait_for_selector("#name-form:not(.d-none)")
            page.check(f"label:has-text('{names[0]}')")
            page.check(f"label:has-text('{names[1]}')")
            page.click("#save-members")
            _wait(page, "document.querySelectorAll('#named-members .member-row').length === 2")
            assert "*" in page.inner_text("#named-members")  # phones masked
            for step in ("en_route", "on_scene"):
                assert page.get_attribute("#step-btn", "data-to") == step
                page.click("#step-btn")
                _wait(page, "document.getElementById('dispatch-status').dataset.status === "
                            f"'{step}'")
            assert page.inner_text("#dispatch-status") == "已到达现场"

            # Check the first member in and out with the phone's location.
            row = page.locator("#named-members .member-row").filter(has_text=names[0])
            row.locator(".checkin-btn[data-kind='in']").click()
            _wait(page, "document.querySelector('#named-members .member-row "
                        ".badge[data-state=\"in\"]') !== null")
            assert "当前在场：1" in page.inner_text("#on-scene-now")
            assert names[0] in page.inner_text("#on-scene-now")
            row.locator(".checkin-btn[data-kind='out']").click()
            _wait(page, "document.querySelector('#named-members .member-row "
                        ".badge[data-state=\"in\"]') === null")
            assert "当前在场：0" in page.inner_text("#on-scene-now")
            assert "小时" in row.locator(".member-hours").inner_text()
            assert page.locator("#checkin-log .checkin-entry").count() == 2
            _no_horizontal_overflow(page)

            # Checking out again is refused by the server, shown beside the button.
            page.click("#step-btn")
            _wait(page, "document.getElementById('dispatch-status').dataset.status === "
                        "'completed'")
            assert page.locator("#advance").is_hidden()

            # The service hours page lists the members with their hours.
            page.goto(f"{base}/dispatches/service")
            assert names[0] in page.inner_text(".service-table")
            _no_horizontal_overflow(page)
            assert log.foreign() == []
            context.close()
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT kind, location IS NOT NULL FROM dispatch_checkins "
                "WHERE dispatch_id = :d ORDER BY id"), {"d": second}).all()
            statuses = dict(conn.execute(text("SELECT id, status FROM dispatches")).all())
        assert [tuple(r) for r in rows] == [("in", True), ("out", True)]
        assert statuses == {first: "declined", second: "completed"}
    finally:
        if app is not None:
            # Streams end and the live hub's thread stops before its database is dropped.
            quiesce_live_events(app)
            app.extensions["emergency.db"]["engine"].dispose()
        engine.dispose()
        drop_database(url)


@pytest.mark.browser
def test_refusals_and_a_refused_location_on_the_phone(backend, tmp_path):
    """Location refused: the page says so and checks in without one; a stale check-in (made
    meanwhile elsewhere, no live stream) and taking a checked-in member off the list are
    refused beside their buttons, in Chinese (and the last once more in English), the user's
    ticks kept."""
    from registry.crypto import cipher_for

    url, engine = make_database(backend, tmp_path, "inboxrefuse")
    app = None
    try:
        team_id, names, token, org_token = _arrange(engine, cipher_for(DATA_KEY))
        app = create_app(app_config(url, tmp_path, EVENTS_HEARTBEAT_SECONDS=1))
        api = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        org = {"Authorization": f"Bearer {org_token}"}
        incident = api.post("/api/v1/incidents", headers=headers, json={
            "title": "江北内涝", "incident_type": "flood",
            "occurred_at": "2026-11-28T08:00:00+08:00",
            "location": {"type": "Point", "coordinates": SITE}}).get_json()
        dispatch = _dispatch(api, headers, incident["id"], team_id, "排涝")
        base_url = f"/api/v1/dispatches/{dispatch}"
        for step in ("accepted", "en_route"):
            assert api.post(f"{base_url}/transition", json={"to": step},
                            headers=org).status_code == 200
        roster = api.get(f"/api/v1/teams/{team_id}/members", headers=org).get_json()["items"]
        ids = {m["name"]: m["id"] for m in roster}
        assert api.post(f"{base_url}/members", headers=org, json={
            "member_ids": [ids[names[0]], ids[names[1]]]}).status_code == 200
        with live_server(app) as base, chromium() as browser:
            context = browser.new_context(viewport=PHONE, locale="zh-CN")  # no geolocation
            page = context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())
            page.route("**/api/v1/events*", lambda route: route.abort())  # no live updates
            log = RequestLog(page)
            _sign_in(page, base, "lantian")
            page.goto(f"{base}/dispatches/{dispatch}")
            _wait(page, "document.querySelectorAll('#named-members .member-row').length === 2")

            first = page.locator("#named-members .member-row").filter(has_text=names[0])
            first.locator(".checkin-btn[data-kind='in']").click()
            page.wait_for_selector("#geo-error:not(.d-none)")
            assert "定位权限被拒绝" in page.inner_text("#geo-error")
            page.click("#without-location")
            _wait(page, "document.querySelector('#named-members .member-row "
                        ".badge[data-state=\"in\"]') !== null")
            # The first check-in moved the dispatch on scene.
            _wait(page, "document.getElementById('dispatch-status').dataset.status === "
                        "'on_scene'")

            # Someone else checks the second member in; this page has not heard of it.
            assert api.post(f"{base_url}/checkins", headers=org, json={
                "member_id": ids[names[1]], "kind": "in"}).status_code == 201
            second = page.locator("#named-members .member-row").filter(has_text=names[1])
            second.locator(".checkin-btn[data-kind='in']").click()
            page.wait_for_selector("#geo-error:not(.d-none)")
            page.click("#without-location")
            refused = second.locator(".row-error")
            refused.wait_for(state="visible")
            assert "该队员已签到" in refused.inner_text()
            _wait(page, "document.querySelectorAll('#named-members .member-row "
                        ".badge[data-state=\"in\"]').length === 2")
            assert "该队员已签到" in second.locator(".row-error").inner_text()

            # Taking a member who checked in off the list is refused; the ticks stay.
            page.uncheck(f"label:has-text('{names[0]}')")
            page.click("#save-members")
            page.wait_for_selector("#members-error:not(.d-none)")
            assert "已签到的队员不能从出勤名单中移除" in page.inner_text("#members-error")
            page.wait_for_timeout(500)  # the refresh after the refusal has run
            assert not page.is_checked(f"#choose-{ids[names[0]]}")
            assert page.is_checked(f"#choose-{ids[names[1]]}")
            _no_horizontal_overflow(page)

            # Once in English: the same refusal in the volunteer's other language.
            page.goto(f"{base}/dispatches/{dispatch}?lang=en")
            _wait(page, "document.querySelectorAll('#named-members .member-row').length === 2")
            assert page.locator("html").get_attribute("lang") == "en"
            page.uncheck(f"label:has-text('{names[0]}')")
            page.click("#save-members")
            page.wait_for_selector("#members-error:not(.d-none)")
            assert "Members who have checked in cannot be taken off the list." in \
                page.inner_text("#members-error")
            _no_horizontal_overflow(page)
            assert log.foreign() == []
            context.close()
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT member_id, location IS NULL FROM dispatch_checkins "
                "WHERE dispatch_id = :d ORDER BY id"), {"d": dispatch}).all()
        assert [tuple(r) for r in rows] == [(ids[names[0]], True), (ids[names[1]], True)]
    finally:
        if app is not None:
            # Streams end and the live hub's thread stops before its database is dropped.
            quiesce_live_events(app)
            app.extensions["emergency.db"]["engine"].dispose()
        engine.dispose()
        drop_database(url)
