"""Direct disaster reports (灾情直报) through the HTTP API: contract fields, idempotency,
validation, scopes, lists, sums per area and the audited export."""

import io
import uuid
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from shapely.geometry import shape
from sqlalchemy import func, select, update

from emergency.db import utcnow
from emergency.events.models import LiveEvent
from hazards.disasters.models import DisasterReport
from tests.conftest import error_of, square
from tests.hazards.hazard_helpers import INSIDE_1, INSIDE_2, OUTSIDE

URL = "/api/v1/disaster-reports"
ELSEWHERE = [106.15, 29.15]  # grid 990102-01, directly in district 990102


def report(at=INSIDE_1, **extra):
    """A valid POST /disaster-reports body."""
    return {"client_id": extra.pop("client_id", str(uuid.uuid4())), "kind": "flood",
            "crs": "wgs84", "location": {"type": "Point", "coordinates": list(at)},
            "affected": 120, "dead": 1, "missing": 2, "injured": 3, "houses_collapsed": 4,
            "houses_damaged": 5, "losses_yuan": "1280.50", "note": "河水漫堤", **extra}


@pytest.fixture
def staff(actors, place):
    """A grid staff member of grid 1 and their header."""
    return actors.make("grid_staff", grids=[place["grids"][0]])


@pytest.fixture
def second_district(db, place):
    """Another district of the city, with one grid directly in it (no street below)."""
    from emergency.geo import service

    service.create_area(db, "990102", "第二区", "district", shape(square(106.1, 29.1, 0.2)),
                        "990000")
    service.create_grid(db, "990102-01", "二区网格", "990102", shape(square(106.1, 29.1, 0.1)))
    db.flush()
    return "990102"


def _stored(db):
    """How many reports are stored."""
    return db.scalar(select(func.count(DisasterReport.id)))


def test_report_is_created_with_grid_area_and_money(client, staff, place):
    _user, headers = staff
    response = client.post(URL, json=report(), headers=headers)
    assert response.status_code == 201, response.get_json()
    made = response.get_json()
    assert made["grid_code"] == place["grids"][0]
    assert made["area_code"] == place["community"]
    assert made["location"] == {"type": "Point", "coordinates": INSIDE_1}
    assert (made["kind"], made["kind_label"]) == ("flood", "洪涝灾害")
    assert [made[k] for k in ("affected", "dead", "missing", "injured", "houses_collapsed",
                              "houses_damaged")] == [120, 1, 2, 3, 4, 5]
    assert made["losses_yuan"] == "1280.50" and made["note"] == "河水漫堤"
    assert made["created_at"].endswith("+00:00")


def test_counts_left_out_are_zero(client, staff):
    _user, headers = staff
    body = {"client_id": str(uuid.uuid4()), "kind": "geological",
            "location": {"type": "Point", "coordinates": INSIDE_1}}
    made = client.post(URL, json=body, headers=headers).get_json()
    assert made["dead"] == 0 and made["affected"] == 0 and made["losses_yuan"] == "0.00"


def test_same_client_id_returns_the_same_report(client, staff, db):
    _user, headers = staff
    payload = report()
    first = client.post(URL, json=payload, headers=headers)
    second = client.post(URL, json={**payload, "dead": 9}, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.get_json()["id"] == first.get_json()["id"]
    assert second.get_json()["dead"] == 1  # the stored report, not the retry's body
    assert _stored(db) == 1


def test_client_id_of_another_user_is_a_conflict(client, staff, actors, place):
    _user, headers = staff
    payload = report()
    client.post(URL, json=payload, headers=headers)
    other = actors.header("grid_staff", grids=[place["grids"][0]])
    response = client.post(URL, json=payload, headers=other)
    assert response.status_code == 409
    assert "client_id" in error_of(response)["details"]


def test_grid_staff_only_in_their_grids_admin_anywhere(client, staff, actors, db):
    _user, headers = staff
    response = client.post(URL, json=report(at=INSIDE_2), headers=headers)
    assert response.status_code == 403
    admin = actors.header("admin")
    assert client.post(URL, json=report(at=INSIDE_2), headers=admin).status_code == 201
    assert _stored(db) == 1


@pytest.mark.parametrize("change, field", [
    ({"dead": -1}, "dead"),
    ({"affected": -5}, "affected"),
    ({"houses_damaged": "3"}, "houses_damaged"),
    ({"injured": True}, "injured"),
    ({"missing": 1.5}, "missing"),
    ({"kind": "volcano"}, "kind"),
    ({"losses_yuan": "-0.01"}, "losses_yuan"),
    ({"losses_yuan": "12.345"}, "losses_yuan"),
    ({"losses_yuan": "lots"}, "losses_yuan"),
    ({"losses_yuan": "NaN"}, "losses_yuan"),
    ({"location": {"type": "Point", "coordinates": OUTSIDE}}, "location"),
    ({"location": {"type": "LineString", "coordinates": [[1, 1], [2, 2]]}}, "location"),
    ({"client_id": "x"}, "client_id"),
    ({"crs": "mars"}, "crs"),
])
def test_bad_input_is_422_naming_the_field_and_stores_nothing(client, staff, db, change,
                                                               field):
    _user, headers = staff
    response = client.post(URL, json=report(**change), headers=headers)
    assert response.status_code == 422, response.get_json()
    assert field in error_of(response)["details"]
    assert _stored(db) == 0


def test_refusal_names_the_field_by_its_label_in_both_languages(client, staff):
    _user, headers = staff
    zh = client.post(URL, json=report(dead=-1), headers=headers)
    assert "死亡" in zh.get_json()["error"]["message"]
    en = client.post(URL, json=report(dead=-1), headers={**headers, "Accept-Language": "en"})
    assert "Dead" in en.get_json()["error"]["message"]


def test_roles_that_may_not_report(client, actors, place):
    for role in ("planner", "dispatcher", "auditor", "org_admin"):
        response = client.post(URL, json=report(), headers=actors.header(role))
        assert response.status_code == 403, role


def test_list_scope_filters_and_paging(client, staff, actors, place, second_district):
    _user, headers = staff
    admin = actors.header("admin")
    mine = client.post(URL, json=report(), headers=headers).get_json()
    other = client.post(URL, json=report(at=INSIDE_2), headers=admin).get_json()
    far = client.post(URL, json=report(at=ELSEWHERE), headers=admin).get_json()

    listed = client.get(URL, headers=headers)
    assert listed.mimetype == "application/geo+json"
    assert [f["id"] for f in listed.get_json()["features"]] == [mine["id"]]
    assert listed.get_json()["features"][0]["properties"]["losses_yuan"] == "1280.50"

    every = client.get(URL, headers=actors.header("auditor")).get_json()
    assert every["total"] == 3
    assert [f["id"] for f in every["features"]] == [far["id"], other["id"], mine["id"]]
    in_district = client.get(URL, query_string={"area_code": place["district"]},
                             headers=admin).get_json()  # reports are in its community
    assert {f["id"] for f in in_district["features"]} == {mine["id"], other["id"]}
    page = client.get(URL, query_string={"limit": 1, "offset": 1}, headers=admin).get_json()
    assert page["total"] == 3 and [f["id"] for f in page["features"]] == [other["id"]]
    scoped = actors.header("planner", area_code=second_district)
    assert [f["id"] for f in client.get(URL, headers=scoped).get_json()["features"]] == [
        far["id"]]
    assert client.get(URL, headers=actors.header("org_admin")).status_code == 403


def test_since_filter(client, staff, db):
    _user, headers = staff
    old = client.post(URL, json=report(), headers=headers).get_json()
    new = client.post(URL, json=report(), headers=headers).get_json()
    db.execute(update(DisasterReport).where(DisasterReport.id == old["id"])
               .values(created_at=utcnow() - timedelta(days=10)))
    since = (utcnow() - timedelta(days=1)).isoformat()
    listed = client.get(URL, query_string={"since": since}, headers=headers).get_json()
    assert [f["id"] for f in listed["features"]] == [new["id"]]
    summed = client.get(f"{URL}/summary", query_string={"since": since},
                        headers=headers).get_json()
    assert summed["sums"]["reports"] == 1


def test_summary_sums_per_district_with_sub_areas_exact_money(client, staff, actors, place,
                                                              second_district):
    _user, headers = staff
    admin = actors.header("admin")
    client.post(URL, json=report(losses_yuan="0.10"), headers=headers)
    client.post(URL, json=report(at=INSIDE_2, losses_yuan=0.2, dead=0), headers=admin)
    client.post(URL, json=report(at=ELSEWHERE, losses_yuan="1000000.05", affected=7),
                headers=admin)
    summed = client.get(f"{URL}/summary", headers=admin).get_json()
    assert summed["level"] == "district" and summed["total"] == 2
    first, second = summed["items"]
    assert (first["area_code"], first["area_name"]) == (place["district"], "测试区")
    assert first["reports"] == 2 and first["dead"] == 1 and first["affected"] == 240
    assert first["losses_yuan"] == "0.30"  # exact: no float sums
    assert (second["area_code"], second["reports"], second["affected"]) == (
        second_district, 1, 7)
    assert summed["sums"]["losses_yuan"] == "1000000.35"
    assert summed["sums"]["reports"] == 3
    # Per community: the grid directly in a district is counted under the district itself.
    communities = client.get(f"{URL}/summary", query_string={"level": "community"},
                             headers=admin).get_json()
    assert [i["area_code"] for i in communities["items"]] == [place["community"],
                                                             second_district]
    # One district and the areas below it.
    only = client.get(f"{URL}/summary", query_string={"area_code": place["district"],
                                                      "level": "street"},
                      headers=admin).get_json()
    assert [(i["area_code"], i["reports"]) for i in only["items"]] == [(place["street"], 2)]
    # Grid staff: only their own grids.
    theirs = client.get(f"{URL}/summary", headers=headers).get_json()
    assert theirs["sums"]["reports"] == 1 and theirs["sums"]["losses_yuan"] == "0.10"
    bad = client.get(f"{URL}/summary", query_string={"level": "planet"}, headers=admin)
    assert bad.status_code == 422 and "level" in error_of(bad)["details"]


def test_summary_period_by_local_days(client, staff, db):
    _user, headers = staff
    made = client.post(URL, json=report(), headers=headers).get_json()
    # 2026-03-01 23:30 in Beijing is 15:30 UTC the same day.
    db.execute(update(DisasterReport).where(DisasterReport.id == made["id"])
               .values(created_at=utcnow().replace(year=2026, month=3, day=1, hour=15,
                                                   minute=30)))
    inside = {"from": "2026-03-01", "to": "2026-03-01"}
    after = {"from": "2026-03-02", "to": "2026-03-05"}
    assert client.get(f"{URL}/summary", query_string=inside,
                      headers=headers).get_json()["sums"]["reports"] == 1
    assert client.get(f"{URL}/summary", query_string=after,
                      headers=headers).get_json()["sums"]["reports"] == 0


def test_summary_export_is_formula_safe_and_audited(client, actors, place):
    admin = actors.header("admin")
    client.post(URL, json=report(note='=HYPERLINK("http://x")'), headers=admin)
    response = client.get(f"{URL}/summary", query_string={"format": "xlsx"}, headers=admin)
    assert response.status_code == 200
    assert "disaster-reports.xlsx" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    summary, reports = book.worksheets
    rows = list(summary.iter_rows(values_only=True))
    assert rows[0][0] == "区县" and rows[1][:3] == ("测试区", place["district"], 1)
    assert rows[-1][0] == "合计" and float(rows[-1][-1]) == 1280.5
    note = reports.cell(row=2, column=reports.max_column)
    assert note.value.startswith("=HYPERLINK") and note.data_type == "s"
    assert reports.cell(row=2, column=2).value == "洪涝"
    audit = client.get("/api/v1/audit?action=disaster_report.export",
                       headers=admin).get_json()["items"]
    assert len(audit) == 1 and audit[0]["changes"]["level"] == "district"


def test_live_event_for_the_bureau_and_the_grid(client, staff, db, place):
    from emergency.events.service import visible_filter

    user, headers = staff
    made = client.post(URL, json=report(), headers=headers).get_json()
    event = db.scalars(select(LiveEvent).where(LiveEvent.type == "disaster.created")).one()
    assert (event.resource_id, event.grid_code, event.area_code, event.audience) == (
        made["id"], place["grids"][0], place["community"], "bureau")
    assert event.data["type"] == "disaster.created" and event.data["id"] == made["id"]
    assert db.scalar(select(func.count()).select_from(LiveEvent).where(
        LiveEvent.id == event.id, visible_filter(user))) == 1
    # A retry announces nothing new.
    client.post(URL, json={**report(), "client_id": made["client_id"]}, headers=headers)
    assert db.scalar(select(func.count()).select_from(LiveEvent).where(
        LiveEvent.type == "disaster.created")) == 1
