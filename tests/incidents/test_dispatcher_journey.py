"""The dispatcher's whole day in Chromium, in Chinese, on both backends: the list → a new
incident placed on the map with its level shown before saving → the console (the team that
fills a gap first, a confirmed dispatch, the organisation's answer arriving live, metrics
changed with a reason, closing refused while a dispatch is active and then done with the
after-action record); the list and the console again at 390 px phone width."""

import re
from datetime import date, timedelta

import pytest
from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from emergency import create_app
from emergency.auth import service as auth
from tests.browser import RequestLog, chromium, live_server
from tests.conftest import DATA_KEY, app_config, drop_database, make_database, square
from tests.factories import credit_code, id_number

PASSWORD = "correct horse battery"
LEVELS = [
    {"level": 3, "criteria": [{"metric": "deaths", "op": ">=", "value": 3}],
     "required_forces": [{"category": "mountain", "count": 1},
                         {"category": "medical", "count": 1}]},
    {"level": 4, "criteria": [{"metric": "deaths", "op": ">=", "value": 1}],
     "required_forces": [{"category": "mountain", "count": 1}]},
]


def arrange(engine, cipher):
    """Areas, a published geological plan, users, and an approved organisation with a water
    team nearer the scene than its mountain team. Returns (team ids by category, org token).
    """
    from emergency.geo import service as geo
    from plans import service as plans
    from registry import members, service, teams

    session = Session(bind=engine)
    session.info["actor"] = "test"
    geo.create_area(session, "990000", "测试市", "city", shape(square(106.0, 29.0, 1.0)))
    geo.create_area(session, "990101", "测试区", "district", shape(square(106.4, 29.4, 0.4)),
                    "990000")
    admin = auth.create_user(session, "boss", "admin", PASSWORD)
    auth.create_user(session, "disp", "dispatcher", PASSWORD)
    plan = plans.create_plan(session, "测试区地质灾害应急预案", "special", "geological",
                             "990101", owner="测试区应急管理局",
                             sections=[{"title": "总则", "body": "测试"}],
                             response_levels=LEVELS)
    session.flush()
    plans.transition(session, plan.id, "in_review", "送审", "test")
    plans.transition(session, plan.id, "published", "印发", "test-approver")
    org = service.register_org(session, cipher, admin, "蓝天救援队", credit_code(7), "张三",
                               "13812345678", Point(106.57, 29.55), address="测试区")
    session.flush()
    service.review_org(session, admin, org.id, "approve")
    ids = {}
    for n, (category, name, spot) in enumerate((("water", "水域一队", (106.601, 29.601)),
                                                ("mountain", "山地一队", (106.62, 29.62)))):
        team = teams.create_team(session, admin, org.id, name, category, Point(*spot), 50)
        session.flush()
        for i in range(2):
            member = members.add_member(session, cipher, admin, team.id, f"队员{n}{i}",
                                        id_number(10 * n + i), f"139000000{n}{i}")
            session.flush()
            members.add_insurance(session, admin, member.id, "人保", f"P{n}{i}",
                                  date.today() - timedelta(days=1),
                                  date.today() + timedelta(days=99), "100000.00")
        ids[category] = team.id
    auth.create_user(session, "orgboss", "org_admin", PASSWORD, org_id=org.id)
    token = auth.create_token(session, "orgboss", 1)
    session.commit()
    session.close()
    return ids, token


def sign_in(page, base, username, password):
    """Sign in through the login form. (tests/browser.py's sign_in waits for the network to
    fall idle, which a page holding the live events stream never does.)"""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login" not in u)


def no_overflow(page):
    """No horizontal scrolling: the page is no wider than the viewport."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
@pytest.mark.both_backends
def test_dispatcher_journey(backend, tmp_path):
    from registry.crypto import cipher_for

    url, engine = make_database(backend, tmp_path, "journey")
    try:
        teams, token = arrange(engine, cipher_for(DATA_KEY))
        app = create_app(app_config(url, tmp_path))
        org = {"Authorization": f"Bearer {token}"}
        api = app.test_client()

        def step(dispatch_id, to, note=""):
            response = api.post(f"/api/v1/dispatches/{dispatch_id}/transition", headers=org,
                                json={"to": to, "note": note})
            assert response.status_code == 200, response.get_json()

        with live_server(app) as base, chromium() as browser:
            page = browser.new_page()
            log = RequestLog(page)
            sign_in(page, base, "disp", PASSWORD)

            # The list: empty at first, with the button that opens an incident.
            page.goto(f"{base}/incidents")
            assert "共 0 条" in page.inner_text("#incident-total")
            page.click("#new-incident")
            page.wait_for_selector(".leaflet-container")

            # Saving without a point is refused; the input stays and the field says why.
            page.fill("#incident-title", "山体滑坡 测试村")
            page.select_option("#incident-type", "geological")
            page.fill("input[data-metric=deaths]", "1")
            page.click("#save-incident")
            page.wait_for_selector("[data-error-for=location]:not(:empty)")
            assert page.input_value("#incident-title") == "山体滑坡 测试村"
            assert page.url.endswith("/incidents/new")

            # A click on the map places it; the level and plan show before saving.
            page.locator(".leaflet-container").click()
            page.wait_for_selector("#eval-level[data-level='4']")
            assert page.inner_text("#eval-level") == "Ⅳ级响应"
            assert page.inner_text("#eval-plan").startswith("测试区地质灾害应急预案")
            assert page.inner_text("#eval-area") == "测试区"
            page.click("#save-incident")
            page.wait_for_url(re.compile(r".*/maps/incidents/\d+$"))
            incident_id = int(page.url.rsplit("/", 1)[1])
            page.wait_for_selector(".leaflet-container")

            # The console: the mountain team fills the level's gap, so it comes first
            # although the water team is nearer.
            assert page.inner_text("#response-level") == "Ⅳ级响应"
            rows = page.locator("#recommendations tbody tr")
            assert rows.nth(0).get_attribute("data-team-id") == str(teams["mountain"])
            assert rows.nth(0).get_attribute("data-fills-gap") == "1"
            assert rows.nth(0).locator(".fills-gap").inner_text() == "补缺"
            assert rows.nth(1).get_attribute("data-team-id") == str(teams["water"])
            assert "服务半径" in rows.nth(0).locator(".why").inner_text()
            assert page.inner_text("#forces tbody tr[data-category=mountain] .missing") == "1"
            page.wait_for_selector("#console[data-map-dispatched='0']")

            # A dispatch asks for a confirmation naming the team, with task and members.
            rows.nth(0).locator(".dispatch-btn").click()
            page.wait_for_selector("#dispatch-dialog[open]")
            assert "山地一队" in page.inner_text("#dispatch-dialog-title")
            page.fill("#dispatch-task", "搜救被困人员")
            page.fill("#dispatch-members", "2")
            page.click("#dispatch-confirm")
            page.wait_for_selector("#dispatches .status[data-status=requested]")
            page.wait_for_selector("#forces tbody tr[data-category=mountain] .missing >> "
                                   "text='0'")
            dispatch_id = int(page.get_attribute("#dispatches tbody tr", "data-dispatch-id"))
            # The map draws the line to the team as well (and no longer recommends it).
            page.wait_for_selector("#console[data-map-dispatched='1']")
            assert page.locator(f"#recommendations tr[data-team-id='{teams['mountain']}']") \
                .count() == 0

            # The organisation accepts in its own pages (here: its API); the console shows it
            # without a reload.
            page.wait_for_selector("#live-indicator[data-state=live]", timeout=10000)
            page.evaluate("window.__same_page = true")
            step(dispatch_id, "accepted")
            page.wait_for_selector("#dispatches .status[data-status=accepted]", timeout=8000)
            assert page.evaluate("window.__same_page") is True
            assert "接受" in page.inner_text("#timeline")

            # Metrics change only with a reason; the new level and the reason reach the
            # timeline.
            page.fill("#metrics-current input[data-metric=deaths]", "3")
            page.click("#metrics-save")
            page.wait_for_selector("#metrics-form [data-error-for=note]:not(:empty)")
            assert page.input_value("#metrics-current input[data-metric=deaths]") == "3"
            page.fill("#metrics-note", "又发现两名遇难者")
            page.click("#metrics-save")
            page.wait_for_selector("#response-level[data-level='3']")
            timeline = page.inner_text("#timeline")
            assert "响应级别由 Ⅳ级响应 调整为 Ⅲ级响应" in timeline
            assert "原因：又发现两名遇难者" in timeline
            page.wait_for_selector("#forces tbody tr[data-category=medical]")

            # Closing asks for the after-action record and is refused while the team works.
            page.click("#close-open")
            page.fill("#close-summary", "成功转移群众 120 人。")
            page.fill("#close-dead", "3")
            page.fill("#close-missing", "0")
            page.fill("#close-injured", "4")
            page.fill("#close-losses", "125000.50")
            page.fill("#close-lessons", "雨季前加密巡查。")
            page.click("#close-save")
            page.wait_for_selector("#close-error:not(.d-none)")
            assert "仍有调派任务在进行中" in page.inner_text("#close-error")
            assert page.get_attribute("#incident-status", "data-status") == "responding"

            for to in ("en_route", "on_scene", "completed"):
                step(dispatch_id, to)
            page.wait_for_selector("#dispatches .status[data-status=completed]", timeout=8000)
            page.click("#close-save")
            page.wait_for_selector("#incident-status[data-status=closed]")
            page.wait_for_selector("#after-action:not(.d-none)")
            assert "雨季前加密巡查。" in page.inner_text("#after-action-record")
            assert "125000.50" in page.inner_text("#after-action-record")
            assert page.locator("#close-section").is_hidden()
            assert "结束了事件" in page.inner_text("#timeline")
            assert log.foreign() == []

            # At phone width the list and the console fit the screen.
            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone_log = RequestLog(phone)
            sign_in(phone, base, "disp", PASSWORD)
            phone.goto(f"{base}/incidents")
            assert phone.locator(f"tr[data-incident-id='{incident_id}']").count() == 1
            assert no_overflow(phone)
            phone.goto(f"{base}/maps/incidents/{incident_id}")
            phone.wait_for_selector(".leaflet-container")
            phone.wait_for_selector("#timeline li")
            assert no_overflow(phone)
            phone.goto(f"{base}/incidents/new")
            phone.wait_for_selector(".leaflet-container")
            assert no_overflow(phone)
            assert phone_log.foreign() == []
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        engine.dispose()
        drop_database(url)
