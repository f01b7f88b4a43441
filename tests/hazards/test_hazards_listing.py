"""The hazard task list's search, filters, paging and audited xlsx export, and the grid
staff's own reports as JSON for their home page."""

import io
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import update

from emergency.db import utcnow
from emergency.vocabulary import LOCAL_ZONE
from hazards.models import HazardReport
from tests.hazards.hazard_helpers import INSIDE_1, INSIDE_2, body


def _login(app, user):
    """A client signed in with a session cookie, as a browser would be."""
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": user.username, "csrf_token": token,
                                           "password": "correct horse battery"})
    assert response.status_code == 302
    return client


def _ids(browser, query):
    """The report ids the list shows for a query string (from its JSON rows)."""
    rows = browser.get(f"/hazards/tasks?{query}&format=json").get_json()
    return [r["id"] for r in rows["items"]], rows["total"]


def test_filters_search_and_paging(app, client, db, actors, place):
    admin_user, admin = actors.make("admin")
    staff_user, staff = actors.make("grid_staff", grids=[place["grids"][0]])
    crack = client.post("/api/v1/hazards", headers=staff,
                        json=body(description="挡墙裂缝 50%_x")).get_json()
    fire = client.post("/api/v1/hazards", headers=admin,
                       json=body(INSIDE_2, category="fire", severity="major",
                                 description="仓库堆放")).get_json()
    old = client.post("/api/v1/hazards", headers=admin, json=body(INSIDE_1)).get_json()
    # The third report was made ten days ago (local days filter on the time of reporting).
    ten_days = utcnow() - timedelta(days=10)
    db.execute(update(HazardReport).where(HazardReport.id == old["id"])
               .values(created_at=ten_days))
    browser = _login(app, admin_user)

    # The admin's next steps: all three wait for verification, most urgent first.
    ids, total = _ids(browser, "")
    assert total == 3 and set(ids) == {crack["id"], fire["id"], old["id"]}
    assert _ids(browser, "view=all")[1] == 3
    assert _ids(browser, "category=fire") == ([fire["id"]], 1)
    assert _ids(browser, "severity=major") == ([fire["id"]], 1)
    assert _ids(browser, "q=挡墙") == ([crack["id"]], 1)
    assert _ids(browser, "q=50%25_") == ([crack["id"]], 1)  # wildcards are literal
    assert _ids(browser, "q=%25") == ([crack["id"]], 1)
    assert _ids(browser, f"q=%23{fire['id']}") == ([fire["id"]], 1)  # "#12": a number
    assert _ids(browser, f"district={place['district']}")[1] == 3
    assert _ids(browser, "district=990102")[1] == 0
    today = utcnow().astimezone(LOCAL_ZONE).date()
    assert set(_ids(browser, f"date_from={today}")[0]) == {crack["id"], fire["id"]}
    until = (today - timedelta(days=5)).isoformat()
    assert _ids(browser, f"date_to={until}") == ([old["id"]], 1)
    # Malformed filters are dropped, never an error.
    assert _ids(browser, "status=bogus&date_from=2026-13-45&limit=7&offset=-3")[1] == 3

    # Verified: it leaves the admin's next steps but stays in the list of every report.
    assert client.post(f"/api/v1/hazards/{fire['id']}/transition", headers=admin,
                       json={"to": "verified"}).status_code == 200
    assert fire["id"] not in _ids(browser, "")[0]
    assert _ids(browser, "view=all&status=verified") == ([fire["id"]], 1)

    # Paging: 20 a page, newest first in the list of every report.
    for _ in range(20):
        client.post("/api/v1/hazards", headers=admin, json=body(INSIDE_1))
    first, total = _ids(browser, "view=all&limit=20")
    second, _total = _ids(browser, "view=all&limit=20&offset=20")
    assert total == 23 and len(first) == 20 and len(second) == 3
    assert not set(first) & set(second) and old["id"] in second
    page = browser.get("/hazards/tasks?view=all&limit=20").get_data(as_text=True)
    assert 'id="task-pages"' in page and "offset=20" in page and 'aria-current="page"' in page
    assert 'data-url="/hazards/tasks?view=all&amp;limit=20&amp;format=json"' in page

    # Grid staff see only their grids; they filter by their grid's name, not a district.
    mine = _login(app, staff_user)
    assert _ids(mine, "view=all")[0] == [crack["id"]] or crack["id"] in _ids(mine, "view=all")[0]
    assert fire["id"] not in _ids(mine, "view=all")[0]
    html = mine.get("/hazards/tasks?view=all").get_data(as_text=True)
    assert "第1网格" in html and 'id="f-district"' not in html and 'id="f-grid"' in html
    assert _ids(mine, f"view=all&grid={place['grids'][1]}")[1] == 0


def test_labels_chinese_first_and_english(app, client, actors, place):
    admin_user, admin = actors.make("admin")
    client.post("/api/v1/hazards", headers=admin, json=body(category="flood"))
    browser = _login(app, admin_user)
    html = browser.get("/hazards/tasks").get_data(as_text=True)
    for text in ("待我处理", "描述或编号", "上报日期自", "导出 Excel", "洪涝", "已上报", "第1网格"):
        assert text in html
    for label in ("f-q", "f-status", "f-category", "f-severity", "f-district", "f-from",
                  "f-to", "f-limit", "f-view"):
        assert f'<label class="form-label small mb-0" for="{label}">' in html
    english = browser.get("/hazards/tasks?lang=en").get_data(as_text=True)
    assert "Waiting for me" in english and "Flood" in english and "Reported" in english


def test_export_is_filtered_formula_safe_and_audited(app, client, actors, place):
    admin_user, admin = actors.make("admin")
    client.post("/api/v1/hazards", headers=admin,
                json=body(description="=HYPERLINK(\"http://x\")"))
    client.post("/api/v1/hazards", headers=admin, json=body(category="fire"))
    browser = _login(app, admin_user)
    page = browser.get("/hazards/tasks?category=geological").get_data(as_text=True)
    assert 'href="/hazards/tasks/export.xlsx?category=geological"' in page
    response = browser.get("/hazards/tasks/export.xlsx?category=geological")
    assert response.status_code == 200
    assert "hazards.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("#", "类别", "等级", "状态")
    assert len(rows) == 2  # the fire report is filtered out
    assert rows[1][1] == "地质灾害" and rows[1][3] == "已上报" and rows[1][4] == "第1网格"
    description = sheet.cell(row=2, column=11)
    assert description.value.startswith("=HYPERLINK") and description.data_type == "s"
    assert re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$", rows[1][7])  # Beijing time
    audit = client.get("/api/v1/audit?action=hazard.export",
                       headers=admin).get_json()["items"]
    assert audit and audit[0]["actor"] == admin_user.username
    assert audit[0]["changes"]["category"] == "geological"
    auditor, _ = actors.make("dispatcher")
    assert _login(app, auditor).get("/hazards/tasks/export.xlsx").status_code == 200
    org_admin, _ = actors.make("org_admin")
    assert _login(app, org_admin).get("/hazards/tasks/export.xlsx").status_code == 403


def test_my_reports_newest_first_with_chinese_status(app, client, actors, place):
    staff_user, staff = actors.make("grid_staff", grids=[place["grids"][0]])
    _other, other = actors.make("grid_staff", grids=[place["grids"][0]])
    _admin_user, admin = actors.make("admin")
    first = client.post("/api/v1/hazards", headers=staff, json=body()).get_json()
    second = client.post("/api/v1/hazards", headers=staff, json=body()).get_json()
    client.post("/api/v1/hazards", headers=other, json=body())  # someone else's
    client.post(f"/api/v1/hazards/{first['id']}/transition", headers=admin,
                json={"to": "verified"})
    rows = _login(app, staff_user).get("/hazards/mine").get_json()
    assert rows["total"] == 2
    assert [r["id"] for r in rows["items"]] == [second["id"], first["id"]]
    assert [r["status_label"] for r in rows["items"]] == ["已上报", "已核实"]
    assert rows["items"][1]["url"] == f"/hazards/{first['id']}"
    auditor, _ = actors.make("auditor")
    assert _login(app, auditor).get("/hazards/mine").status_code == 403
