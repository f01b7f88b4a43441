"""Formula injection (issue 15, class 3): user text in every spreadsheet export stays text."""

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from emergency import create_app
from tests.conftest import app_config
from tests.factories import member_body, org_body, team_body
from tests.incidents.conftest import incident_body

# One hostile text per character that starts a formula in a spreadsheet (OWASP CSV injection).
HOSTILE = ["=1+2", "+1+2", "-1+2", "@SUM(1,2)", "\t=1+2", "\r=1+2"]
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _all_read(expected, found):
    """True when every expected text is among the cells read back. A stored CR reads back as
    CR with lxml installed, as LF with the standard library's parser (the cell stays quoted
    text either way)."""
    texts = set(found)
    return all(t in texts or t.replace("\r", "\n") in texts for t in expected)


def _inert(data):
    """Every cell of an .xlsx: {text value: cell}; asserts no formula and quoted risky text."""
    book = load_workbook(io.BytesIO(data))
    found = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    found[cell.value] = cell
                    if cell.value.startswith(TRIGGERS):
                        assert cell.data_type == "s", (cell.coordinate, cell.value)
                        assert cell.quotePrefix, (cell.coordinate, cell.value)
    return found


@pytest.mark.parametrize("write_only", [False, True])
def test_the_helper_writes_text_as_text_and_numbers_as_numbers(write_only):
    from emergency import exports

    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("s") if write_only else book.active
    exports.append_row(sheet, [*HOSTILE, "#N/A", "plain", 7, None, Decimal("12.50"), 1.5])
    out = io.BytesIO()
    book.save(out)
    found = _inert(out.getvalue())
    assert _all_read([*HOSTILE, "#N/A", "plain"], found)
    assert not found["plain"].quotePrefix
    row = list(load_workbook(out).worksheets[0].iter_rows(values_only=True))[0]
    assert row[len(HOSTILE) + 2:] == (7, None, 12.5, 1.5)


def test_the_helper_drops_characters_a_workbook_cannot_hold():
    from emergency import exports

    book = Workbook()
    exports.append_row(book.active, ["a\x01b\x1fc"])
    out = io.BytesIO()
    book.save(out)
    assert load_workbook(out).active["A1"].value == "abc"


def test_csv_fields_get_a_quote_before_a_formula_start():
    from emergency import exports

    assert [exports.csv_field(t) for t in HOSTILE] == ["'" + t for t in HOSTILE]
    assert exports.csv_field("\n=1+2") == "'\n=1+2"
    assert exports.csv_field("张三") == "张三" and exports.csv_field(12) == 12


def test_roster_export_keeps_hostile_names_and_skills_as_text(client, actors):
    _user, headers = actors.make("org_admin")
    org = client.post("/api/v1/orgs", json=org_body(41), headers=headers).get_json()
    team = client.post(f"/api/v1/orgs/{org['id']}/teams", json=team_body(),
                       headers=headers).get_json()
    names = [t for t in HOSTILE if t.strip() == t]  # names are stripped when stored
    for n, name in enumerate(names, start=1):
        body = member_body(n, name=name, skills=[HOSTILE[-2 + n % 2], "绳索"])
        r = client.post(f"/api/v1/teams/{team['id']}/members", json=body, headers=headers)
        assert r.status_code == 201, r.get_json()
    export = client.get(f"/api/v1/teams/{team['id']}/members/export", headers=headers)
    assert export.status_code == 200
    found = _inert(export.data)
    assert set(names) <= set(found)
    assert _all_read(["\t=1+2、绳索", "\r=1+2、绳索"], found)


def test_compensation_ledger_keeps_hostile_claimant_title_and_note_as_text(client, actors):
    admin, dispatcher = actors.header("admin"), actors.header("dispatcher")
    _user, oh = actors.make("org_admin")
    org = client.post("/api/v1/orgs", json=org_body(42, name="=HYPERLINK(\"http://x\")"),
                      headers=oh).get_json()
    client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"}, headers=admin)
    team = client.post(f"/api/v1/orgs/{org['id']}/teams", json=team_body(),
                       headers=oh).get_json()
    client.post(f"/api/v1/teams/{team['id']}/members", json=member_body(42), headers=oh)
    inc = client.post("/api/v1/incidents", json=incident_body(title="@SUM(1,2)"),
                      headers=dispatcher).get_json()
    d = client.post(f"/api/v1/incidents/{inc['id']}/dispatches", json={"team_id": team["id"]},
                    headers=dispatcher).get_json()
    client.post(f"/api/v1/dispatches/{d['id']}/transition", json={"to": "accepted"}, headers=oh)
    items = [{"kind": "other", "quantity": 1, "unit_price": "1.00", "note": t} for t in HOSTILE]
    r = client.post(f"/api/v1/dispatches/{d['id']}/compensation", json={"items": items},
                    headers=oh)
    assert r.status_code == 201, r.get_json()
    x = client.get("/api/v1/compensations?format=xlsx&from=2020-01-01&to=2099-12-31",
                   headers=admin)
    assert x.status_code == 200
    found = _inert(x.data)
    assert _all_read([*HOSTILE, "=HYPERLINK(\"http://x\")"], found)
    assert f"{inc['id']} @SUM(1,2)" in found
    totals = [row[7] for row in load_workbook(io.BytesIO(x.data))["claims"]
              .iter_rows(min_row=2, values_only=True)]
    assert totals == [6.0]  # money stays a number


@pytest.fixture
def risk_app(database, db, tmp_path):
    """The app running risk assessments inline, in the test's session."""
    return create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                 RISK_RUN_INLINE=True))


def test_risk_summary_keeps_hostile_area_and_grid_names_as_text(risk_app, db, actors):
    from emergency.geo import service as geo
    from tests.risk.risk_factories import collection, rect, upload

    client = risk_app.test_client()
    headers = actors.header("planner")
    area = rect(0, 0, 2000, 2000)
    geo.create_area(db, "880000", "=1+2", "city", area)
    geo.create_area(db, "880101", "-1+2", "district", area, "880000")
    geo.create_grid(db, "880101-01", "@SUM(1,2)", "880101", area)
    db.flush()
    layer = upload(client, headers, collection([(rect(0, 0, 1000, 2000), {"value": 8})]),
                   name="zones").get_json()
    run = client.post("/api/v1/risk/assessments", headers=headers, json={
        "area_code": "880000", "cell_size_m": 1000, "params": {},
        "layers": [{"layer_id": layer["id"], "weight": 1}]})
    assert run.status_code in (201, 202), run.get_json()
    x = client.get(f"/api/v1/risk/assessments/{run.get_json()['id']}/summary?format=xlsx",
                   headers=headers)
    assert x.status_code == 200
    found = _inert(x.data)
    assert {"=1+2", "-1+2", "@SUM(1,2)"} <= set(found)
