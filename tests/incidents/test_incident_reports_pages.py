"""Incident information report pages, server side (issue 18): the console's panel, the
form prefilled with the incident's figures that keeps its input on refusal, the printable
report in the official layout, the reports list, and the overdue filter and badge on
/incidents."""

import html as htmlmod
import json
import re
from datetime import timedelta

from sqlalchemy import func, select, update

from emergency.db import utcnow
from incidents.models import Incident
from incidents.reports.models import IncidentReport
from maps.assets import external_urls
from tests.incidents.conftest import AFTER_ACTION, incident_body

PASSWORD = "correct horse battery"
ZH = {"Accept-Language": "zh-CN"}


def _csrf(client, url):
    """The CSRF token of a page (kept in the client's session cookie)."""
    text = client.get(url, headers=ZH).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', text).group(1)


def _signed_in(app, actors, role="dispatcher"):
    """A fresh client signed in through the login form as a new user of ``role``."""
    user, _headers = actors.make(role)
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": _csrf(client, "/login"),
                                           "username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client, user


def _incident(client, headers, **extra):
    """Open an incident; its id."""
    r = client.post("/api/v1/incidents", json=incident_body(**extra), headers=headers)
    assert r.status_code == 201, r.get_json()
    return r.get_json()["id"]


def _panel(text):
    """The console panel's JSON (#report-panel-data)."""
    found = re.search(r'<script type="application/json" id="report-panel-data">(.*?)</script>',
                      text, re.S)
    return json.loads(found.group(1))


def _hidden_links(text):
    """{kind: hidden?} of the panel's links that write a report."""
    return {m.group(2): bool(m.group(3)) for m in re.finditer(
        r'<a class="[^"]*report-write" href="([^"]+)" data-kind="(\w+)"( hidden)?', text)}


def test_console_panel_shows_the_state_and_the_next_report(app, client, place, dispatcher,
                                                           db):
    inc = _incident(client, dispatcher)
    page = app.test_client().get(f"/maps/incidents/{inc}", headers={**dispatcher, **ZH})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="report-panel"' in text and "信息报告" in text
    assert re.search(r'id="report-state" data-state="pending"[^>]*>首报须于 \d{4}-\d\d-\d\d '
                     r'\d\d:\d\d 前报送<', text)
    assert _hidden_links(text) == {"initial": False, "follow_up": True, "final": True}
    assert _panel(text)["next_kinds"] == ["initial"]
    assert "reports/panel.js" in text
    db.execute(update(Incident).where(Incident.id == inc)
               .values(created_at=utcnow() - timedelta(minutes=40)))
    db.flush()
    text = app.test_client().get(f"/maps/incidents/{inc}", headers={**dispatcher, **ZH}) \
        .get_data(as_text=True)
    assert 'data-state="overdue"' in text and "首报已超时" in text
    assert _panel(text)["report_overdue"] is True
    # A planner reads the panel but gets no link to write.
    planner = app.test_client().get(f"/maps/incidents/{inc}",
                                    headers={**_planner(app, db), **ZH})
    assert planner.status_code == 200 and _hidden_links(planner.get_data(as_text=True)) == {}


def _planner(app, db):
    """Bearer headers of a new planner."""
    from tests.conftest import Actors

    return Actors(db).header("planner")


def test_form_is_prefilled_keeps_input_on_refusal_then_prints(app, client, place, actors,
                                                              dispatcher, db):
    inc = _incident(client, dispatcher, metrics={"deaths": 1, "injured": 4, "missing": 2,
                                                 "economic_loss": 12.5})
    page, user = _signed_in(app, actors)
    url = f"/incidents/{inc}/reports/new"
    form = page.get(url, headers=ZH)
    assert form.status_code == 200
    text = form.get_data(as_text=True)
    for name, value in (("dead", "1"), ("injured", "4"), ("missing", "2"),
                        ("losses_yuan", "125000.00"), ("unit", "测试区应急管理局"),
                        ("signer", user.username)):
        assert re.search(rf'name="{name}" [^>]*value="{re.escape(value)}"', text) or \
            re.search(rf'value="{re.escape(value)}"[^>]*name="{name}"', text) or \
            f'name="{name}" value="{value}"' in text, (name, value)
    assert '<option value="initial" selected>首报</option>' in text
    body = "6时许，某村发生山体滑坡，\n已转移群众 30 人。"
    bad = {"csrf_token": _csrf(page, url), "kind": "initial", "body": body, "dead": "-1",
           "missing": "两", "injured": "4", "losses_yuan": "-3", "unit": "", "signer": "张三"}
    refused = page.post(url, data=bad, headers=ZH)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert htmlmod.escape(body, quote=False) in text  # input kept
    assert 'value="张三"' in text and 'value="-1"' in text and 'value="两"' in text
    for field in ("dead", "missing", "losses_yuan"):
        assert f'data-error-for="{field}"' in text, field
    assert 'data-error-for="injured"' not in text
    assert "请修改标出的字段" in text and "须为不小于 0 的整数" in text
    assert db.scalar(select(func.count(IncidentReport.id))) == 0
    good = {**bad, "dead": "1", "missing": "2", "losses_yuan": "125000"}
    sent = page.post(url, data=good, headers=ZH)
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    report = db.scalar(select(IncidentReport))
    assert sent.headers["Location"].endswith(f"/incidents/{inc}/reports/{report.id}")
    assert report.unit == "测试区应急管理局" and report.signer == "张三"
    printed = page.get(sent.headers["Location"], headers=ZH)
    text = printed.get_data(as_text=True)
    assert printed.status_code == 200
    assert "关于山体滑坡的首报" in text and "突发事件信息报告" in text
    assert "报送单位：测试区应急管理局" in text and "签发人：张三" in text
    assert "死亡 1 人，失踪 2 人，受伤 4 人。" in text and "直接经济损失 125000.00 元。" in text
    assert "<p>6时许，某村发生山体滑坡，</p><p>已转移群众 30 人。</p>" in text
    assert "北京时间" in text and "@page" not in text and "reports.css" in text
    assert external_urls(text) == []
    english = page.get(sent.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert "Initial report on 山体滑坡" in english and "Signed by: 张三" in english


def test_final_report_needs_a_closed_incident_and_is_prefilled_from_the_record(
        app, client, place, actors, dispatcher, db):
    inc = _incident(client, dispatcher)
    page, _user = _signed_in(app, actors)
    url = f"/incidents/{inc}/reports/new"
    assert client.post(f"/api/v1/incidents/{inc}/reports", headers=dispatcher, json={
        "kind": "initial", "body": "首报", "dead": 0, "missing": 0, "injured": 0}) \
        .status_code == 201
    # Asking for a final report while the incident is open gives the follow-up form.
    text = page.get(url + "?kind=final", headers=ZH).get_data(as_text=True)
    assert '<option value="follow_up" selected>续报</option>' in text
    assert 'value="final"' not in text
    refused = page.post(url, headers=ZH, data={
        "csrf_token": _csrf(page, url), "kind": "final", "body": "终报正文", "dead": "0",
        "missing": "0", "injured": "0"})
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "事件处置结束后方可报送终报" in text and "终报正文" in text
    assert client.post(f"/api/v1/incidents/{inc}/close", json=AFTER_ACTION,
                       headers=dispatcher).status_code == 200
    text = page.get(url + "?kind=final", headers=ZH).get_data(as_text=True)
    assert '<option value="final" selected>终报</option>' in text
    assert "处置完毕" in text and 'value="12000.50"' in text  # the after-action record
    sent = page.post(url, headers=ZH, data={
        "csrf_token": _csrf(page, url), "kind": "final", "body": "处置完毕", "dead": "0",
        "missing": "0", "injured": "2", "losses_yuan": "12000.50"})
    assert sent.status_code == 302
    printed = page.get(sent.headers["Location"], headers=ZH).get_data(as_text=True)
    assert "关于山体滑坡的终报" in printed
    # Nothing comes after the final report: the form sends people to the list.
    after = page.get(url, headers=ZH)
    assert after.status_code == 302 and after.headers["Location"].endswith(
        f"/incidents/{inc}/reports")
    listed = page.get(f"/incidents/{inc}/reports", headers=ZH).get_data(as_text=True)
    assert listed.count("<tr data-report-id=") == 2
    assert "首报" in listed and "终报" in listed and 'data-state="closed"' in listed


def test_follow_ups_are_numbered(app, client, place, dispatcher):
    inc = _incident(client, dispatcher)
    for kind in ("initial", "follow_up", "follow_up"):
        assert client.post(f"/api/v1/incidents/{inc}/reports", headers=dispatcher, json={
            "kind": kind, "body": "x", "dead": 0, "missing": 0, "injured": 0}) \
            .status_code == 201
    listed = app.test_client().get(f"/incidents/{inc}/reports", headers={**dispatcher, **ZH})
    text = listed.get_data(as_text=True)
    assert "第1次续报" in text and "第2次续报" in text
    last = client.get(f"/api/v1/incidents/{inc}/reports", headers=dispatcher) \
        .get_json()["items"][-1]
    printed = app.test_client().get(f"/incidents/{inc}/reports/{last['id']}",
                                    headers={**dispatcher, **ZH}).get_data(as_text=True)
    assert "关于山体滑坡的第2次续报" in printed


def test_roles_and_other_incidents_reports(app, client, place, actors, dispatcher):
    inc = _incident(client, dispatcher)
    other = _incident(client, dispatcher, title="另一事件")
    made = client.post(f"/api/v1/incidents/{inc}/reports", headers=dispatcher, json={
        "kind": "initial", "body": "x", "dead": 0, "missing": 0, "injured": 0}).get_json()
    auditor = actors.header("auditor")
    for path in (f"/incidents/{inc}/reports", f"/incidents/{inc}/reports/{made['id']}"):
        assert app.test_client().get(path, headers=auditor).status_code == 200, path
    assert app.test_client().get(f"/incidents/{inc}/reports/new",
                                 headers=auditor).status_code == 403
    assert app.test_client().get(f"/incidents/{inc}/reports",
                                 headers=actors.header("org_admin")).status_code == 403
    # A report is found only under its own incident.
    assert app.test_client().get(f"/incidents/{other}/reports/{made['id']}",
                                 headers=dispatcher).status_code == 404


def test_incident_list_filters_and_marks_overdue_incidents(app, client, place, dispatcher, db):
    late = _incident(client, dispatcher, title="迟报事件")
    fresh = _incident(client, dispatcher, title="新事件")
    db.execute(update(Incident).where(Incident.id == late)
               .values(created_at=utcnow() - timedelta(minutes=31)))
    db.flush()
    listing = app.test_client().get("/incidents", headers={**dispatcher, **ZH})
    text = listing.get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-incident-id="(\d+)">(.*?)</tr>', text, re.S))
    assert "首报超时" in rows[str(late)] and "首报超时" not in rows[str(fresh)]
    assert 'name="report_overdue"' in text
    only = app.test_client().get("/incidents?report_overdue=1", headers={**dispatcher, **ZH})
    text = only.get_data(as_text=True)
    assert re.findall(r'<tr data-incident-id="(\d+)"', text) == [str(late)]
    assert 'id="f-report-overdue" name="report_overdue" value="1" checked' in text


def test_printable_report_shows_markup_in_names_as_text(app, client, place, dispatcher):
    hostile = '<img src=x onerror=alert(1)>'
    inc = _incident(client, dispatcher, title=hostile)
    made = client.post(f"/api/v1/incidents/{inc}/reports", headers=dispatcher, json={
        "kind": "initial", "body": hostile, "dead": 0, "missing": 0, "injured": 0,
        "unit": hostile, "signer": hostile}).get_json()
    for path in (f"/incidents/{inc}/reports/{made['id']}", f"/incidents/{inc}/reports",
                 f"/maps/incidents/{inc}"):
        text = app.test_client().get(path, headers={**dispatcher, **ZH}).get_data(as_text=True)
        assert "<img src=x" not in text, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in text or "\\u003cimg" in text, path
