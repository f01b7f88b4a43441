"""Correcting and erasing a member's personal data (PIPL arts. 46-47)."""

from sqlalchemy import func, select

from registry.models import Certificate, InsurancePolicy, TeamMember
from tests.conftest import error_of
from tests.factories import id_number, member_body


def test_correct_a_members_id_and_phone(client, forces):
    member, headers = forces["member"], forces["org_headers"]
    new_id = id_number(42)
    response = client.patch(f"/api/v1/members/{member['id']}", headers=headers,
                            json={"id_number": new_id, "phone": "13912345678", "name": "李四"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["name"] == "李四" and body["phone"] == "139****5678"
    assert body["id_number"] == new_id[:6] + "********" + new_id[-4:]
    revealed = client.get(f"/api/v1/members/{member['id']}?reveal=1", headers=headers)
    assert revealed.get_json()["id_number"] == new_id


def test_bad_corrections_are_422_and_change_nothing(client, forces):
    member, headers = forces["member"], forces["org_headers"]
    response = client.patch(f"/api/v1/members/{member['id']}", headers=headers,
                            json={"id_number": "500103199001011230", "phone": "12"})
    assert response.status_code == 422
    assert set(error_of(response)["details"]) == {"id_number", "phone"}
    again = client.get(f"/api/v1/members/{member['id']}", headers=headers).get_json()
    assert again["id_number"] == member["id_number"] and again["phone"] == member["phone"]


def test_erase_a_member_with_certificates_and_insurance(client, db, forces):
    member, headers = forces["member"], forces["org_headers"]
    client.post(f"/api/v1/members/{member['id']}/insurance", headers=headers, json={
        "insurer": "中国人寿", "policy_number": "P-9", "starts_on": "2026-01-01",
        "ends_on": "2026-12-31", "coverage_amount": "500000.00"})
    response = client.delete(f"/api/v1/members/{member['id']}", headers=headers)
    assert response.status_code == 204
    assert client.get(f"/api/v1/members/{member['id']}", headers=headers).status_code == 404
    for model in (TeamMember, Certificate, InsurancePolicy):
        column = model.id if model is TeamMember else model.member_id
        assert db.scalar(select(func.count()).where(column == member["id"])) == 0


def test_other_org_cannot_correct_or_erase(client, actors, forces):
    other = actors.header("org_admin")
    member = forces["member"]
    assert client.patch(f"/api/v1/members/{member['id']}", json={"name": "x"},
                        headers=other).status_code in (403, 404)
    assert client.delete(f"/api/v1/members/{member['id']}",
                         headers=other).status_code in (403, 404)
    assert client.delete(f"/api/v1/members/{member['id']}",
                         headers=actors.header("dispatcher")).status_code == 403


def test_second_registration_of_the_same_id_is_rejected(client, forces):
    team, headers = forces["team"], forces["org_headers"]
    other = client.post(f"/api/v1/teams/{team['id']}/members", headers=headers,
                        json=member_body(5)).get_json()
    response = client.patch(f"/api/v1/members/{other['id']}", headers=headers,
                            json={"id_number": member_body()["id_number"]})
    assert response.status_code == 409
