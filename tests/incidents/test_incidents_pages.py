"""The incident pages, server side: the list (filters, paging, district scope, xlsx export),
the page that opens an incident, and the dispatch console's page data."""

import io
import json
import re

from openpyxl import load_workbook

from maps.assets import external_urls
from tests.incidents.conftest import incident_body


def page(app, url, headers):
    """GET a page with a fresh client (Flask-Login's strong session protection drops a token
    client that kept an earlier page's CSRF session cookie)."""
    return app.test_client().get(url, headers=headers)


def console_data(html):
    """The console's JSON (#console-data)."""
    found = re.search(r'<script type="application/json" id="console-data">(.*?)</script>',
                      html, re.S)
    return json.loads(found.group(1))


def listed_ids(html):
    """Incident ids of the list's rows, in order."""
    return [int(i) for i in re.findall(r'<tr data-incident-id="(\d+)"', html)]


def open_incident(client, headers, **extra):
    """POST /incidents and return its id."""
    response = client.post("/api/v1/incidents", json=incident_body(**extra), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_console_page_data_teams_and_buttons(app, client, forces, dispatcher, actors):
    org, oh = forces.org()
    near = forces.team(oh, org["id"], 106.56, 29.57, name="近处山地队")
    forces.team(oh, org["id"], 106.555, 29.565, insured=0, name="无保险队")
    inc = open_incident(client, dispatcher)
    response = page(app, f"/maps/incidents/{inc}", dispatcher)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "山体滑坡" in html and external_urls(html) == []
    data = console_data(html)
    assert data["can_dispatch"] is True and data["incident"]["id"] == inc
    assert [t["team_id"] for t in data["recommendations"]["items"]] == [near["id"]]
    assert [t["name"] for t in data["recommendations"]["excluded"]] == ["无保险队"]
    assert data["texts"]["fills_gap"] == "补缺" and data["levels"]["4"] == "Ⅳ级响应"
    assert data["timeline"][0]["kind"] == "opened"
    assert 'id="dispatch-dialog"' in html and 'id="close-form"' in html
    assert 'id="metrics-form"' in html
    listing = page(app, "/incidents", dispatcher)
    assert listing.status_code == 200 and f"/maps/incidents/{inc}" in \
        listing.get_data(as_text=True)
    auditor = page(app, f"/maps/incidents/{inc}", actors.header("auditor"))
    assert auditor.status_code == 200
    auditor_html = auditor.get_data(as_text=True)
    assert console_data(auditor_html)["can_dispatch"] is False
    assert 'id="dispatch-dialog"' not in auditor_html and 'id="close-form"' not in auditor_html
    assert page(app, f"/maps/incidents/{inc}", actors.header("grid_staff")).status_code == 403
    assert page(app, "/maps/incidents/999999", dispatcher).status_code == 404


def test_list_filters_search_type_status_and_dates(app, client, dispatcher, place):
    flood = open_incident(client, dispatcher, title="江北洪涝", incident_type="flood",
                          occurred_at="2026-11-20T23:30:00+08:00")
    slide = open_incident(client, dispatcher, title="山体滑坡",
                          occurred_at="2026-11-21T00:30:00+08:00")
    fire = open_incident(client, dispatcher, title="仓库火灾", incident_type="fire",
                         occurred_at="2026-11-25T10:00:00+08:00")
    client.post(f"/api/v1/incidents/{fire}/transition", json={"to": "responding"},
                headers=dispatcher)

    def ids(query):
        response = page(app, "/incidents?" + query, dispatcher)
        assert response.status_code == 200
        return listed_ids(response.get_data(as_text=True))

    assert ids("") == [fire, slide, flood]  # newest first
    assert ids("q=滑坡") == [slide]
    assert ids("q=%25") == []  # LIKE wildcards are searched literally
    assert ids("incident_type=flood") == [flood]
    assert ids("status=responding") == [fire]
    # Days are Beijing days: 23:30 on the 20th is the 20th, 00:30 on the 21st the 21st.
    assert ids("date_from=2026-11-21&date_to=2026-11-21") == [slide]
    assert ids("date_to=2026-11-20") == [flood]
    assert ids("district=990101") == [fire, slide, flood]
    assert ids("district=990102") == []
    # Malformed filters are dropped, never an error.
    assert ids("date_from=yesterday&limit=abc&offset=-4&status=gone&incident_type=x") == \
        [fire, slide, flood]
    html = page(app, "/incidents?incident_type=flood", dispatcher).get_data(as_text=True)
    assert "导出 Excel" in html and "新建事件" in html
    assert "/incidents/export.xlsx?incident_type=flood" in html


def test_list_pages_with_links_and_total(app, client, dispatcher):
    made = [open_incident(client, dispatcher, title=f"事件{i}",
                          occurred_at=f"2026-11-{1 + i:02d}T08:00:00+08:00") for i in range(23)]
    first = page(app, "/incidents?limit=20", dispatcher).get_data(as_text=True)
    assert listed_ids(first) == made[::-1][:20]
    assert "共 23 条" in first
    assert re.search(r'href="/incidents\?limit=20&amp;offset=20"', first)
    second = page(app, "/incidents?limit=20&offset=20", dispatcher).get_data(as_text=True)
    assert listed_ids(second) == made[::-1][20:]
    assert 'aria-current="page">2<' in second


def test_district_scoped_users_see_and_filter_only_their_district(app, client, actors,
                                                                  dispatcher, place):
    from emergency.geo import service as geo
    from tests.conftest import square

    db = actors.db
    from shapely.geometry import shape

    geo.create_area(db, "990102", "邻区", "district", shape(square(107.0, 29.4, 0.4)), "990000")
    db.flush()
    inside = open_incident(client, dispatcher, title="区内")
    outside = open_incident(client, dispatcher, title="区外",
                            location={"type": "Point", "coordinates": [107.1, 29.5]})
    scoped = actors.header("dispatcher", area_code="990101")
    html = page(app, "/incidents", scoped).get_data(as_text=True)
    assert listed_ids(html) == [inside]
    assert 'value="990101"' in html and 'value="990102"' not in html
    assert listed_ids(page(app, "/incidents?district=990102", scoped)
                      .get_data(as_text=True)) == []
    assert listed_ids(page(app, "/incidents", dispatcher).get_data(as_text=True)) == \
        [outside, inside]


def test_export_gives_the_filtered_list_as_formula_safe_xlsx(app, client, dispatcher, db):
    from sqlalchemy import func, select

    from emergency.audit.models import AuditEntry

    open_incident(client, dispatcher, title="=HYPERLINK(\"http://x\")", incident_type="flood")
    open_incident(client, dispatcher, title="山体滑坡")
    response = page(app, "/incidents/export.xlsx?incident_type=flood", dispatcher)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "标题" and len(rows) == 2
    assert rows[1][1] == "=HYPERLINK(\"http://x\")" and rows[1][2] == "洪涝灾害"
    cell = sheet.cell(row=2, column=2)
    assert cell.data_type == "s" and cell.quotePrefix
    assert db.scalar(select(func.count()).select_from(AuditEntry)
                     .where(AuditEntry.action == "incident.export")) == 1


def test_new_incident_page(app, actors):
    dispatcher = actors.header("dispatcher")
    response = page(app, "/incidents/new", dispatcher)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert external_urls(html) == []
    assert 'value="geological"' in html and "地质灾害" in html
    assert 'data-metric="deaths"' in html and "死亡人数" in html
    assert "incident-new.js" in html and 'id="eval-level"' in html
    english = page(app, "/incidents/new?lang=en", dispatcher).get_data(as_text=True)
    assert "Save and open the console" in english and "Geological hazard" in english
    assert page(app, "/incidents/new", actors.header("auditor")).status_code == 403
    assert page(app, "/incidents/new", actors.header("planner")).status_code == 403
