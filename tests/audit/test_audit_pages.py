"""The /audit page: who may open it, filters, paging, the export, and hostile text."""

import io

from openpyxl import load_workbook

from tests.conftest import square


def _area(client, header, code, name):
    body = {"code": code, "name": name, "level": "street", "parent_code": "990101",
            "geometry": square(106.6, 29.6, 0.05)}
    response = client.post("/api/v1/areas", json=body, headers=header)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_admin_and_auditor_read_the_log_others_are_refused(app, actors, place):
    actors.make("admin", username="pageadmin")
    for role in ("admin", "auditor"):
        page = app.test_client().get("/audit", headers=actors.header(role))
        assert page.status_code == 200
        assert "审计日志" in page.get_data(as_text=True)
    for role in ("dispatcher", "planner", "grid_staff", "org_admin"):
        assert app.test_client().get("/audit", headers=actors.header(role)).status_code == 403


def test_filters_and_paging(app, client, actors, place):
    _user, admin = actors.make("admin", username="filterer")
    for n in range(3):
        _area(client, admin, f"99010100{n + 5}", f"筛选街道{n}")
    auditor = actors.header("auditor")
    page = app.test_client().get("/audit?actor=filterer&action=area.create", headers=auditor)
    html = page.get_data(as_text=True)
    assert html.count('data-action="area.create"') == 3
    assert 'id="audit-total">3<' in html
    empty = app.test_client().get("/audit?actor=nobody-at-all", headers=auditor)
    assert 'id="audit-empty"' in empty.get_data(as_text=True)
    future = app.test_client().get("/audit?actor=filterer&from=2999-01-01", headers=auditor)
    assert 'id="audit-total">0<' in future.get_data(as_text=True)
    # A malformed date is the client's mistake, not a crash.
    assert app.test_client().get("/audit?from=yesterday", headers=auditor).status_code == 400
    first = app.test_client().get("/audit?page=1", headers=auditor).get_data(as_text=True)
    assert "第 1 页" in first


def test_export_is_a_workbook_and_is_itself_audited(app, client, actors, place):
    _user, admin = actors.make("admin", username="exporter")
    _area(client, admin, "990101009", "=HYPERLINK(\"http://x\")")
    auditor = actors.header("auditor")
    response = app.test_client().get("/audit/export.xlsx?actor=exporter", headers=auditor)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "时间" and len(rows) == 2
    assert rows[1][2] == "area.create"
    # User text stays text, never a formula.
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"
    log = client.get("/api/v1/audit?action=audit.export", headers=auditor).get_json()
    assert log["total"] >= 1 and log["items"][0]["changes"]["actor"] == "exporter"


def test_hostile_text_is_shown_as_text(app, client, actors, place):
    _user, admin = actors.make("admin", username="hostile")
    _area(client, admin, "990101008", "<script>alert(1)</script>")
    html = app.test_client().get("/audit?actor=hostile",
                                 headers=actors.header("auditor")).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
