"""Price pages: alerts with their steps, the series chart's data, entry and import forms
with refusals shown, complaints with the map, and the catalogue's thresholds."""

import io
import json
import re

from sqlalchemy import func, select

from maps.assets import external_urls
from prices.models import PriceAlert, PriceComplaint, PriceObservation
from tests.prices.conftest import day, history
from tests.prices.test_prices_import import csv_bytes, rows_for

NORMAL = ["5.00", "5.10", "4.90", "5.00", "5.20", "5.00"]


def _login(app, user):
    """A client signed in with a session cookie, and the page's CSRF token."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": user.username, "csrf_token": token,
                                           "password": "correct horse battery"})
    assert response.status_code == 302
    return client, token


def _token(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_alerts_page_shows_alert_and_takes_steps(app, client, actors, planner, place, db):
    history(client, planner, place, [*NORMAL, "8.00"])
    user, _headers = actors.make("dispatcher")
    browser, _t = _login(app, user)
    page = browser.get("/prices")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "价格预警" in html and "大米 · 测试区" in html and "+60.0%" in html
    assert 'data-step="acknowledged"' in html and "onclick" not in html
    assert external_urls(html) == []
    alert_id = db.scalar(select(PriceAlert.id))
    done = browser.post(f"/prices/alerts/{alert_id}/step",
                        data={"to": "acknowledged", "note": "", "csrf_token": _token(html)})
    assert done.status_code == 302
    assert db.scalar(select(PriceAlert.status)) == "acknowledged"
    refused = browser.post(f"/prices/alerts/{alert_id}/step",
                           data={"to": "referred", "note": "", "csrf_token": _token(html)})
    assert refused.status_code == 302 and db.scalar(select(PriceAlert.status)) == "acknowledged"
    english = browser.get("/prices?lang=en&status=acknowledged").get_data(as_text=True)
    assert "Price alerts" in english and "Rice" in english
    assert 'data-step="referred"' in english


def test_planner_sees_alerts_but_no_step_buttons(app, client, actors, planner, place):
    history(client, planner, place, [*NORMAL, "8.00"])
    user, _h = actors.make("planner")
    browser, _t = _login(app, user)
    html = browser.get("/prices").get_data(as_text=True)
    assert "大米 · 测试区" in html and "data-step=" not in html
    assert "/prices/observations/new" in html


def test_series_page_puts_chart_data_in_json(app, client, actors, planner, place):
    history(client, planner, place, [*NORMAL, "8.00"])
    user, _h = actors.make("auditor")
    browser, _t = _login(app, user)
    html = browser.get(f"/prices/series?commodity=rice&area_code={place['district']}"
                       ).get_data(as_text=True)
    chart = json.loads(re.search(r'<script type="application/json" id="price-chart-data">'
                                 r"(.*?)</script>", html, re.S).group(1))
    assert chart["days"][-1] == day(0) and chart["price"][-1] == "8.00"
    assert chart["baseline"][-1] == "5.00" and chart["limit"][-1] == "6.00"
    assert "vendor/uplot/dist/uPlot.iife.min.js" in html and external_urls(html) == []
    assert 'id="series-alert"' in html


def test_entry_form_stores_and_refuses_with_fields_named(app, actors, place, db):
    user, _h = actors.make("planner")
    browser, _t = _login(app, user)
    html = browser.get("/prices/observations/new").get_data(as_text=True)
    assert "录入价格" in html and "导入表格" in html
    bad = browser.post("/prices/observations/new", data={
        "commodity": "rice", "area_code": place["district"], "market": "菜场",
        "observed_on": day(0), "price": "-2", "csrf_token": _token(html)})
    assert bad.status_code == 422
    assert 'id="e-price" name="price"' in bad.get_data(as_text=True)
    assert "is-invalid" in bad.get_data(as_text=True)
    ok = browser.post("/prices/observations/new", data={
        "commodity": "rice", "area_code": place["district"], "market": "菜场",
        "observed_on": day(0), "price": "5.20", "csrf_token": _token(html)})
    assert ok.status_code == 302
    assert db.scalar(select(func.count()).select_from(PriceObservation)) == 1


def test_import_form_lists_bad_rows(app, actors, place, db):
    user, _h = actors.make("admin")
    browser, _t = _login(app, user)
    token = _token(browser.get("/prices/observations/new").get_data(as_text=True))
    rows = rows_for(place, ["5.00", "abc"])
    bad = browser.post("/prices/observations/import", data={
        "csrf_token": token, "file": (io.BytesIO(csv_bytes(rows)), "p.csv")},
        content_type="multipart/form-data")
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="import-errors"' in html
    assert "<th scope=\"row\">3</th>" in html and "价格" in html
    assert db.scalar(select(func.count()).select_from(PriceObservation)) == 0
    good = browser.post("/prices/observations/import", data={
        "csrf_token": token, "file": (io.BytesIO(csv_bytes(rows_for(place, ["5.00"]))),
                                      "p.csv")}, content_type="multipart/form-data")
    assert good.status_code == 302
    assert db.scalar(select(func.count()).select_from(PriceObservation)) == 1


def test_import_form_queues_a_job_when_asked_or_large(app, actors, place, db):
    from emergency.jobs.models import JobRecord

    user, _h = actors.make("planner")
    browser, _t = _login(app, user)
    page = browser.get("/prices/observations/new").get_data(as_text=True)
    assert 'id="import-background"' in page
    token = _token(page)
    sheet = csv_bytes(rows_for(place, ["5.00"]))
    asked = browser.post("/prices/observations/import", data={
        "csrf_token": token, "background": "1", "file": (io.BytesIO(sheet), "p.csv")},
        content_type="multipart/form-data")
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/jobs")
    app.config["IMPORT_JOB_MIN_BYTES"] = 10  # any upload is "large" now
    large = browser.post("/prices/observations/import", data={
        "csrf_token": token, "file": (io.BytesIO(sheet), "p.csv")},
        content_type="multipart/form-data")
    assert large.status_code == 302 and large.headers["Location"].endswith("/jobs")
    jobs = db.scalars(select(JobRecord).where(JobRecord.owner == user.username)).all()
    assert [j.kind for j in jobs] == ["prices.import_observations"] * 2
    assert db.scalar(select(func.count()).select_from(PriceObservation)) == 0  # not yet
    listed = browser.get("/jobs").get_data(as_text=True)
    assert "价格导入已作为任务" in listed and "任务页面" in listed


def test_complaints_page_records_and_maps(app, actors, place, db):
    user, _h = actors.make("dispatcher")
    browser, _t = _login(app, user)
    html = browser.get("/prices/complaints").get_data(as_text=True)
    assert "价格投诉" in html and 'id="complaint-map"' in html
    missing = browser.post("/prices/complaints", data={
        "kind": "gouging", "source": "hotline", "description": "涨价", "lon": "",
        "lat": "", "csrf_token": _token(html)})
    assert missing.status_code == 422
    done = browser.post("/prices/complaints", data={
        "kind": "hoarding", "source": "hotline", "commodity": "drinking_water",
        "description": "<script>alert(1)</script>", "lon": "106.51", "lat": "29.51",
        "csrf_token": _token(html)})
    assert done.status_code == 302
    assert db.scalar(select(func.count()).select_from(PriceComplaint)) == 1
    page = browser.get("/prices/complaints").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    data = json.loads(re.search(r'id="complaint-map-data">(.*?)</script>', page,
                                re.S).group(1))
    assert data["points"][0]["coordinates"] == [106.51, 29.51]
    auditor, _t2 = _login(app, actors.make("auditor")[0])
    assert 'id="complaint-form"' not in auditor.get("/prices/complaints").get_data(
        as_text=True)


def test_commodities_page_saves_thresholds_for_admin(app, actors, place, db):
    user, _h = actors.make("admin")
    browser, _t = _login(app, user)
    html = browser.get("/prices/commodities").get_data(as_text=True)
    assert "商品与预警阈值" in html and 'id="f-rice"' in html
    saved = browser.post("/prices/commodities/rice", data={
        "baseline_days": "14", "alert_percent": "15", "csrf_token": _token(html)})
    assert saved.status_code == 302
    page = browser.get("/prices/commodities").get_data(as_text=True)
    assert 'value="14"' in page and 'value="15"' in page
    planner, _t2 = _login(app, actors.make("planner")[0])
    other = planner.get("/prices/commodities").get_data(as_text=True)
    assert 'id="f-rice"' not in other
    refused = planner.post("/prices/commodities/rice", data={"csrf_token": _token(other)})
    assert refused.status_code == 403
