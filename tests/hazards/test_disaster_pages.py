"""Direct disaster report pages: the phone report page, the list with sums per area and its
export, the grid staff's home button, and the operations map's layer."""

import io
import json
import re

import pytest
from openpyxl import load_workbook

from maps.assets import external_urls
from tests.hazards.hazard_helpers import INSIDE_2
from tests.hazards.test_disaster_api import URL, report


def _login(app, user):
    """A client signed in with a session cookie, as a browser would be."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": user.username, "csrf_token": token,
                                           "password": "correct horse battery"})
    assert response.status_code == 302
    return client


@pytest.fixture
def staff(actors, place):
    """A grid staff member of grid 1 and their header."""
    return actors.make("grid_staff", grids=[place["grids"][0]])


def test_report_page_for_grid_staff_in_chinese_and_english(app, staff, actors, place):
    user, _headers = staff
    browser = _login(app, user)
    page = browser.get("/disasters/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1 class=\"h4\">灾情直报</h1>" in html and "洪涝灾害" not in html
    assert ">洪涝</option>" in html and ">地质灾害</option>" in html
    for key in ("affected", "dead", "missing", "injured", "houses_collapsed",
                "houses_damaged"):
        assert re.search(rf'<input class="form-control count-input" type="number" '
                         rf'id="{key}" name="{key}" min="0"', html), key
    assert "失踪人数" in html and "直接经济损失（元）" in html
    assert "onclick" not in html and external_urls(html) == []
    grid_map = json.loads(re.search(r'<script type="application/json" id="grid-map-data">'
                                    r"(.*?)</script>", html, re.S).group(1))
    assert [f["id"] for f in grid_map["grids"]["features"]] == [place["grids"][0]]
    messages = json.loads(re.search(r'<script type="application/json" id="disaster-i18n">'
                                    r"(.*?)</script>", html, re.S).group(1))
    assert messages["fields"]["dead"] == "死亡人数"
    assert "/disasters/static/disasters/report.js" in html
    english = browser.get("/disasters/report?lang=en").get_data(as_text=True)
    assert "Report a disaster" in english and ">Flood</option>" in english
    assert "/hazards/static/hazards/outbox.js" in html  # the queue both report pages use
    script = app.test_client().get("/disasters/static/disasters/report.js")
    assert script.status_code == 200 and b"ReportOutbox" in script.data
    script.close()
    outbox = app.test_client().get("/hazards/static/hazards/outbox.js")
    assert outbox.status_code == 200 and b"indexedDB" in outbox.data
    outbox.close()
    worker = app.test_client().get("/disasters/sw.js")
    assert worker.headers["Service-Worker-Allowed"] == "/disasters/"
    worker.close()
    for role in ("planner", "auditor", "org_admin"):
        other, _ = actors.make(role)
        assert _login(app, other).get("/disasters/report").status_code == 403, role


def test_list_page_sums_per_area_and_lists_reports(app, client, staff, actors, place):
    user, headers = staff
    admin_user, admin = actors.make("admin")
    mine = client.post(URL, json=report(note="<script>x</script>"), headers=headers).get_json()
    other = client.post(URL, json=report(at=INSIDE_2, dead=0, losses_yuan="0.50"),
                        headers=admin).get_json()
    html = _login(app, admin_user).get("/disasters").get_data(as_text=True)
    assert "<title>" in html and "灾情报告" in html
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    table = html[html.index('id="disaster-summary"'):html.index("</table>")]
    row = re.search(rf'<tr data-area="{place["district"]}">(.*?)</tr>', table, re.S).group(1)
    assert "测试区" in row and '<td class="text-end">2</td>' in row
    assert '<td class="text-end" data-key="dead">1</td>' in row
    assert '<td class="text-end" data-key="losses_yuan">1281.00</td>' in row
    assert f'id="disaster-{mine["id"]}"' in html and f'id="disaster-{other["id"]}"' in html
    assert 'href="/disasters/report"' in html  # admins may report too
    per_community = _login(app, admin_user).get("/disasters?level=community&kind=flood")
    assert f'data-area="{place["community"]}"' in per_community.get_data(as_text=True)
    theirs = _login(app, user).get("/disasters").get_data(as_text=True)
    assert f'id="disaster-{mine["id"]}"' in theirs
    assert f'id="disaster-{other["id"]}"' not in theirs
    org_admin, _ = actors.make("org_admin")
    assert _login(app, org_admin).get("/disasters").status_code == 403


def test_list_page_period_filter_and_export(app, client, actors, place):
    admin_user, admin = actors.make("admin")
    client.post(URL, json=report(note="=1+1"), headers=admin)
    browser = _login(app, admin_user)
    empty = browser.get("/disasters?date_from=2000-01-01&date_to=2000-01-02")
    assert 'id="disaster-summary"' in empty.get_data(as_text=True)
    assert "没有符合条件的上报" in empty.get_data(as_text=True)
    page = browser.get("/disasters?kind=flood").get_data(as_text=True)
    assert 'href="/disasters/export.xlsx?kind=flood"' in page
    response = browser.get("/disasters/export.xlsx?kind=flood")
    assert response.status_code == 200
    summary, reports = load_workbook(io.BytesIO(response.data)).worksheets
    assert summary.title == "分区域汇总" and reports.title == "上报明细"
    assert [c.value for c in summary[2]][:3] == ["测试区", place["district"], 1]
    note = reports.cell(row=2, column=reports.max_column)
    assert note.value == "=1+1" and note.data_type == "s"
    audit = client.get("/api/v1/audit?action=disaster_report.export",
                       headers=admin).get_json()["items"]
    assert audit and audit[0]["actor"] == admin_user.username
    assert audit[0]["changes"]["kind"] == "flood"


def test_staff_home_has_the_disaster_button(app, staff):
    user, _headers = staff
    html = _login(app, user).get("/").get_data(as_text=True)
    assert re.search(r'<a class="btn btn-warning btn-lg[^"]*"\s+id="disaster-button"\s+'
                     r'href="/disasters/report">灾情直报</a>', html)
    assert 'id="report-button"' in html


def test_operations_map_has_the_disasters_layer(client, actors, place):
    headers = actors.header("dispatcher")
    client.post(URL, json=report(), headers=actors.header("admin"))
    html = client.get("/", headers={**headers, "Accept": "text/html"}).get_data(as_text=True)
    configs = [json.loads(c) for c in re.findall(
        r'<script type="application/json" class="map-data" id="[^"]+">(.*?)</script>',
        html, re.S)]
    layers = next(c for c in configs if c["kind"] == "viewport")["layers"]
    disasters = next(d for d in layers if d["name"] == "disasters")
    assert disasters["label"] == "灾情直报（近 30 天）"
    assert [row[0] for row in disasters["legend"]] == ["有死亡或失踪", "无死亡失踪"]
    layer = client.get("/api/v1/maps/layers/disasters?bbox=106,29,107,30&zoom=10",
                       headers=headers).get_json()
    assert len(layer["features"]) == 1
    props = layer["features"][0]["properties"]
    assert props["casualties"] is True and props["losses_yuan"] == "1280.50"


def test_detail_page_and_api_in_scope_only(app, client, staff, actors, place):
    user, headers = staff
    admin_user, admin = actors.make("admin")
    mine = client.post(URL, json=report(note="<img src=x onerror=alert(1)>"),
                       headers=headers).get_json()
    other = client.post(URL, json=report(at=INSIDE_2), headers=admin).get_json()
    assert client.get(f"{URL}/{mine['id']}", headers=headers).get_json()["dead"] == 1
    assert client.get(f"{URL}/{other['id']}", headers=headers).status_code == 404
    assert client.get(f"{URL}/999999", headers=admin).status_code == 404
    listing = _login(app, admin_user).get("/disasters").get_data(as_text=True)
    assert f'href="/disasters/{mine["id"]}"' in listing
    html = _login(app, admin_user).get(f"/disasters/{mine['id']}").get_data(as_text=True)
    assert f"#{mine['id']}" in html and "测试社区" in html and "1280.50" in html
    assert "<img src=x" not in html  # the note is text, never markup
    data = json.loads(html.split('id="disaster-map-data">')[1].split("</script>")[0])
    assert data["location"]["type"] == "Point" and data["grid"]["type"] in (
        "Polygon", "MultiPolygon")
    staff_client = _login(app, user)
    assert staff_client.get(f"/disasters/{mine['id']}").status_code == 200
    assert staff_client.get(f"/disasters/{other['id']}").status_code == 404
