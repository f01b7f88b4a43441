"""The registry paths of the contract through HTTP, on both backends."""

import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from tests.conftest import error_of
from tests.factories import (
    credit_code,
    id_number,
    member_body,
    org_body,
    team_body,
)


def test_org_admin_registers_and_becomes_its_admin(client, actors, db):
    user, headers = actors.make("org_admin")
    response = client.post("/api/v1/orgs", json=org_body(), headers=headers)
    assert response.status_code == 201
    org = response.get_json()
    assert org["status"] == "submitted"
    assert org["contact_phone"] == "138****5678"
    db.refresh(user)
    assert user.org_id == org["id"]
    again = client.post("/api/v1/orgs", json=org_body(2), headers=headers)
    assert again.status_code == 409


def test_bad_credit_code_is_422_naming_the_field(client, actors):
    headers = actors.header("admin")
    code = credit_code(1)
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    response = client.post("/api/v1/orgs", json=org_body(credit_code=wrong), headers=headers)
    assert response.status_code == 422
    assert "credit_code" in error_of(response)["details"]


def test_bad_contact_phone_is_422(client, actors):
    response = client.post("/api/v1/orgs", json=org_body(contact_phone="12345"),
                           headers=actors.header("admin"))
    assert response.status_code == 422
    assert "contact_phone" in error_of(response)["details"]


def test_duplicate_credit_code_is_409(client, actors):
    headers = actors.header("admin")
    assert client.post("/api/v1/orgs", json=org_body(), headers=headers).status_code == 201
    response = client.post("/api/v1/orgs", json=org_body(name="另一个"), headers=headers)
    assert response.status_code == 409
    assert error_of(response)["code"] == "conflict"


def test_review_workflow_and_resubmission(client, actors):
    org_headers = actors.header("org_admin")
    admin = actors.header("admin")
    org = client.post("/api/v1/orgs", json=org_body(), headers=org_headers).get_json()
    rejected = client.post(f"/api/v1/orgs/{org['id']}/review",
                           json={"decision": "reject", "note": "缺少章程"}, headers=admin)
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["review_note"] == "缺少章程"
    twice = client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"},
                        headers=admin)
    assert twice.status_code == 409
    again = client.post(f"/api/v1/orgs/{org['id']}/resubmit", json={}, headers=org_headers)
    assert again.get_json()["status"] == "submitted"
    approved = client.post(f"/api/v1/orgs/{org['id']}/review", json={"decision": "approve"},
                           headers=admin).get_json()
    assert approved["status"] == "approved"
    assert approved["verify_by"]
    queue = client.get("/api/v1/orgs?status=submitted", headers=admin).get_json()
    assert org["id"] not in [o["id"] for o in queue["items"]]


def test_team_creation_list_and_filters(client, forces):
    headers = forces["org_headers"]
    team = forces["team"]
    assert team["status"] == "available"
    assert team["equipment"] == [{"type": "rope", "quantity": 20}]
    client.post(f"/api/v1/orgs/{forces['org']['id']}/teams",
                json=team_body(name="水域队", category="water",
                               location={"type": "Point", "coordinates": [107.5, 30.5]}),
                headers=headers)
    response = client.get("/api/v1/teams?bbox=106.5,29.5,106.6,29.6", headers=headers)
    assert response.mimetype == "application/geo+json"
    body = response.get_json()
    assert [f["id"] for f in body["features"]] == [team["id"]]
    assert body["features"][0]["geometry"]["coordinates"] == [106.55, 29.56]
    water = client.get("/api/v1/teams?category=water", headers=headers).get_json()
    assert [f["properties"]["name"] for f in water["features"]] == ["水域队"]


def test_team_location_in_gcj02_is_stored_as_wgs84(client, forces):
    body = team_body(crs="gcj02", location={"type": "Point", "coordinates": [106.56, 29.56]})
    team = client.post(f"/api/v1/orgs/{forces['org']['id']}/teams", json=body,
                       headers=forces["org_headers"]).get_json()
    lon, lat = team["location"]["coordinates"]
    # GCJ-02 is shifted a few hundred metres from WGS-84 in Chongqing.
    assert 0.001 < abs(lon - 106.56) < 0.01 and 0.001 < abs(lat - 29.56) < 0.01


def test_patch_team_grade_and_status(client, forces):
    url = f"/api/v1/teams/{forces['team']['id']}"
    response = client.patch(url, json={"grade": 2, "graded_on": "2025-06-01",
                                       "status": "unavailable"}, headers=forces["org_headers"])
    assert response.status_code == 200
    assert response.get_json()["grade"] == 2
    bad = client.patch(url, json={"grade": 4}, headers=forces["org_headers"])
    assert bad.status_code == 422
    missing = client.patch(url, json={"grade": None}, headers=forces["org_headers"])
    assert missing.status_code == 200


def test_member_is_masked_and_validated(client, forces):
    member = forces["member"]
    number = id_number(1)
    assert member["id_number"] == number[:6] + "********" + number[-4:]
    assert member["phone"] == "139****0001"
    url = f"/api/v1/teams/{forces['team']['id']}/members"
    bad = client.post(url, json=member_body(2, id_number=number[:17] + "0"
                                            if number[17] != "0" else number[:17] + "1",
                                            phone="2"),
                      headers=forces["org_headers"])
    assert bad.status_code == 422
    assert {"id_number", "phone"} <= set(error_of(bad)["details"])
    same = client.post(url, json=member_body(), headers=forces["org_headers"])
    assert same.status_code == 409


def test_reveal_by_org_admin_is_audited(client, forces, actors):
    mid = forces["member"]["id"]
    response = client.get(f"/api/v1/members/{mid}?reveal=1", headers=forces["org_headers"])
    assert response.get_json()["id_number"] == id_number(1)
    assert response.get_json()["phone"] == "13900000001"
    audit = client.get("/api/v1/audit?action=member.reveal",
                       headers=actors.header("auditor")).get_json()
    assert any(e["object_id"] == str(mid) for e in audit["items"])


def test_planner_may_not_reveal(client, forces, actors):
    response = client.get(f"/api/v1/members/{forces['member']['id']}?reveal=1",
                          headers=actors.header("planner"))
    assert response.status_code == 403


def test_personal_data_is_not_stored_in_clear(client, forces, db):
    for table in ("members", "organisations", "audit_log"):
        dump = " ".join(str(row) for row in db.execute(text(f"SELECT * FROM {table}")))
        assert id_number(1) not in dump
        assert "13900000001" not in dump
        assert "13812345678" not in dump


def test_insurance_and_readiness(client, forces):
    mid = forces["member"]["id"]
    policy = client.post(f"/api/v1/members/{mid}/insurance", json={
        "insurer": "人保", "policy_number": "P-1", "starts_on": "2020-01-01",
        "ends_on": "2099-12-31", "coverage_amount": 500000}, headers=forces["org_headers"])
    assert policy.status_code == 201
    assert policy.get_json()["coverage_amount"] == "500000.00"
    member = client.get(f"/api/v1/members/{mid}", headers=forces["org_headers"]).get_json()
    assert member["insured_today"] is True
    team = client.get(f"/api/v1/teams/{forces['team']['id']}",
                      headers=forces["org_headers"]).get_json()
    assert team["readiness"] == {"members": 1, "insured_members": 1, "valid_certificates": 0}
    backwards = client.post(f"/api/v1/members/{mid}/insurance", json={
        "insurer": "人保", "policy_number": "P-2", "starts_on": "2021-01-01",
        "ends_on": "2020-12-31", "coverage_amount": "1.00"}, headers=forces["org_headers"])
    assert backwards.status_code == 422


def _roster(rows, header=("姓名", "身份证号", "手机号", "skills")):
    """An .xlsx roster as an upload."""
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return out


def test_import_is_all_or_nothing_with_row_numbers(client, forces):
    url = f"/api/v1/teams/{forces['team']['id']}/members/import"
    rows = [("甲", id_number(10), "13900000010", "绳索"), ("乙", "123", "13900000011", ""),
            ("丙", id_number(12), "555", ""), ("丁", id_number(10), "13900000013", "")]
    response = client.post(url, data={"file": (_roster(rows), "r.xlsx")},
                           headers=forces["org_headers"])
    assert response.status_code == 422
    details = error_of(response)["details"]
    assert details["bad_rows"] == [3, 4, 5]
    assert details["rows"][0] == {"row": 3, "fields": {"id_number": [details["rows"][0]
                                                                     ["fields"]["id_number"][0]]}}
    assert "phone" in details["rows"][1]["fields"]
    members = client.get(url.replace("/import", ""), headers=forces["org_headers"]).get_json()
    assert members["total"] == 1
    good = [("甲", id_number(10), "13900000010", "绳索、急救"), ("乙", id_number(11),
                                                             "13900000011", "")]
    ok = client.post(url, data={"file": (_roster(good), "r.xlsx")},
                     headers=forces["org_headers"])
    assert ok.status_code == 201 and ok.get_json() == {"imported": 2}
    members = client.get(url.replace("/import", ""), headers=forces["org_headers"]).get_json()
    assert members["total"] == 3
    assert members["items"][1]["skills"] == ["绳索", "急救"]


def test_import_of_many_rows_keeps_the_team_member_count(client, forces, db):
    # More rows than one multi-row statement holds (spatial.bulk.insert_many), counted by
    # the readiness trigger of migration 0008 on both backends.
    url = f"/api/v1/teams/{forces['team']['id']}/members/import"
    rows = [(f"队员{i}", id_number(1000 + i), f"139{i:08d}", "") for i in range(1203)]
    response = client.post(url, data={"file": (_roster(rows), "r.xlsx")},
                           headers=forces["org_headers"])
    assert response.status_code == 201 and response.get_json() == {"imported": 1203}
    counts = db.execute(text("SELECT member_count, (SELECT count(*) FROM members m "
                             "WHERE m.team_id = t.id) FROM teams t WHERE t.id = :id"),
                        {"id": forces["team"]["id"]}).one()
    assert counts[0] == counts[1] >= 1203


def test_import_rejects_non_xlsx(client, forces):
    url = f"/api/v1/teams/{forces['team']['id']}/members/import"
    response = client.post(url, data={"file": (io.BytesIO(b"not a spreadsheet"), "x.xlsx")},
                           headers=forces["org_headers"])
    assert response.status_code == 422
    assert "file" in error_of(response)["details"]


def test_export_is_masked_unless_revealed(client, forces, actors):
    url = f"/api/v1/teams/{forces['team']['id']}/members/export"
    masked = client.get(url, headers=actors.header("planner"))
    assert masked.status_code == 200
    sheet = load_workbook(io.BytesIO(masked.data)).active
    values = [c.value for c in list(sheet.iter_rows())[1]]
    assert id_number(1) not in values and values[1].count("*") == 8
    revealed = client.get(url + "?reveal=1", headers=forces["org_headers"])
    sheet = load_workbook(io.BytesIO(revealed.data)).active
    assert list(sheet.iter_rows())[1][1].value == id_number(1)
    assert client.get(url + "?reveal=1", headers=actors.header("auditor")).status_code == 403


def test_same_person_in_two_orgs_is_flagged_for_the_bureau(client, forces, actors):
    other_headers = actors.header("org_admin")
    org = client.post("/api/v1/orgs", json=org_body(7), headers=other_headers).get_json()
    team = client.post(f"/api/v1/orgs/{org['id']}/teams", json=team_body(),
                       headers=other_headers).get_json()
    client.post(f"/api/v1/teams/{team['id']}/members", json=member_body(),
                headers=other_headers)
    seen = client.get(f"/api/v1/members/{forces['member']['id']}",
                      headers=actors.header("dispatcher")).get_json()
    assert seen["duplicate_person"] is True
    assert seen["also_serves"] == [{"team_id": team["id"], "org_id": org["id"]}]
    own = client.get(f"/api/v1/members/{forces['member']['id']}",
                     headers=forces["org_headers"]).get_json()
    assert "also_serves" not in own
    found = client.post("/api/v1/registry/person-lookup", json={"id_number": id_number(1)},
                        headers=actors.header("admin")).get_json()
    assert len(found["items"]) == 2


def test_training_hours_per_member(client, forces):
    response = client.post("/api/v1/trainings", json={
        "held_on": "2026-03-01", "hours": "4.5", "topic": "绳索救援联合演练",
        "team_ids": [forces["team"]["id"]], "member_ids": [forces["member"]["id"]],
        "with_professional": True}, headers=forces["org_headers"])
    assert response.status_code == 201
    listed = client.get("/api/v1/trainings?year=2026", headers=forces["org_headers"]).get_json()
    assert listed["total"] == 1 and listed["items"][0]["with_professional"] is True


def test_expiring_lists(client, forces):
    from datetime import date, timedelta

    mid = forces["member"]["id"]
    soon = (date.today() + timedelta(days=10)).isoformat()
    client.post(f"/api/v1/members/{mid}/certificates", json={"name": "急救员证",
                "expires_on": soon}, headers=forces["org_headers"])
    client.post(f"/api/v1/members/{mid}/insurance", json={
        "insurer": "人保", "policy_number": "P-9", "starts_on": "2020-01-01",
        "ends_on": soon, "coverage_amount": "1000"}, headers=forces["org_headers"])
    body = client.get("/api/v1/registry/expiring", headers=forces["org_headers"]).get_json()
    assert [c["name"] for c in body["certificates"]] == ["急救员证"]
    assert [p["policy_number"] for p in body["insurance"]] == ["P-9"]
