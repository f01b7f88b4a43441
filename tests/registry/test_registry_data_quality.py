"""Data quality of the registry (issue 15, classes 9 and 11): what must not be stored or shown."""

import json
import re
from datetime import date, timedelta

import pytest

from emergency import create_app
from registry import validators as v
from tests.conftest import app_config, error_of
from tests.factories import id_number, member_body, org_body, team_body
from tests.incidents.conftest import incident_body

# ---------------------------------------------------------------- person look-up is audited


def test_person_lookup_is_audited_without_the_identifier(client, forces, actors):
    user, headers = actors.make("dispatcher")
    number = id_number(1)
    for searched in (number, id_number(2)):  # a search that finds nobody is audited too
        r = client.post("/api/v1/registry/person-lookup", json={"id_number": searched},
                        headers=headers)
        assert r.status_code == 200
    log = client.get("/api/v1/audit?action=member.lookup", headers=actors.header("auditor"))
    entries = log.get_json()["items"]
    assert [e["actor"] for e in entries] == [user.username] * 2
    assert sorted(e["changes"]["matches"] for e in entries) == [0, 1]
    text = json.dumps(entries)
    assert number not in text and id_number(2) not in text
    assert forces["member"]["id"] in entries[-1]["changes"]["member_ids"]


def test_a_refused_lookup_is_not_a_search(client, actors):
    r = client.post("/api/v1/registry/person-lookup", json={"id_number": "12345"},
                    headers=actors.header("admin"))
    assert r.status_code == 422
    log = client.get("/api/v1/audit?action=member.lookup", headers=actors.header("auditor"))
    assert log.get_json()["total"] == 0


# ---------------------------------------------------------------- team status and dispatch


def _dispatch(client, forces, actors):
    """The forces' team dispatched to a new incident: (dispatch, dispatcher headers)."""
    dispatcher = actors.header("dispatcher")
    inc = client.post("/api/v1/incidents", json=incident_body(), headers=dispatcher).get_json()
    d = client.post(f"/api/v1/incidents/{inc['id']}/dispatches",
                    json={"team_id": forces["team"]["id"]}, headers=dispatcher)
    assert d.status_code == 201, d.get_json()
    return d.get_json(), dispatcher


@pytest.mark.parametrize("status", ["available", "unavailable"])
def test_a_dispatched_team_keeps_its_status_until_the_dispatch_ends(client, forces, actors,
                                                                    status):
    d, dispatcher = _dispatch(client, forces, actors)
    url = f"/api/v1/teams/{forces['team']['id']}"
    for headers in (forces["org_headers"], forces["admin_headers"]):
        r = client.patch(url, json={"status": status}, headers=headers)
        assert r.status_code == 409, r.get_json()
        error = error_of(r)
        assert f"调度 {d['id']}" in error["message"] and "status" in error["details"]
    assert client.get(url, headers=forces["org_headers"]).get_json()["status"] == "dispatched"
    assert client.patch(url, json={"name": "改名"}, headers=forces["org_headers"]) \
        .status_code == 200
    client.post(f"/api/v1/dispatches/{d['id']}/transition",
                json={"to": "cancelled", "note": "不再需要"}, headers=dispatcher)
    r = client.patch(url, json={"status": "unavailable"}, headers=forces["org_headers"])
    assert r.status_code == 200 and r.get_json()["status"] == "unavailable"


def test_only_a_dispatch_makes_a_team_dispatched(client, forces):
    r = client.patch(f"/api/v1/teams/{forces['team']['id']}", json={"status": "dispatched"},
                     headers=forces["org_headers"])
    assert r.status_code == 422 and "status" in error_of(r)["details"]


def test_registry_knows_the_active_dispatch_states_of_incidents():
    from incidents.models import ACTIVE_DISPATCH
    from registry.teams import ACTIVE_DISPATCH_STATES

    assert set(ACTIVE_DISPATCH_STATES) == set(ACTIVE_DISPATCH)


# ---------------------------------------------------------------- locations


def _point(lon, lat):
    """A GeoJSON point."""
    return {"type": "Point", "coordinates": [lon, lat]}


@pytest.mark.parametrize(("coordinates", "word"), [
    ((29.56, 106.55), "swapped"),     # Chongqing with latitude first
    ((2.35, 48.85), "served region"),  # Paris
    ((106.55, -29.56), "served region"),
])
def test_team_and_org_locations_lie_in_the_served_region(client, forces, coordinates, word):
    headers, org_id = forces["org_headers"], forces["org"]["id"]
    attempts = [
        client.post(f"/api/v1/orgs/{org_id}/teams", json=team_body(location=_point(*coordinates)),
                    headers=headers),
        client.patch(f"/api/v1/teams/{forces['team']['id']}",
                     json={"location": _point(*coordinates)}, headers=headers),
        client.patch(f"/api/v1/orgs/{org_id}", json={"location": _point(*coordinates)},
                     headers=headers),
        client.post("/api/v1/orgs", json=org_body(77, location=_point(*coordinates)),
                    headers=forces["admin_headers"]),
    ]
    for r in attempts:
        assert r.status_code == 422, r.get_json()
        assert word in " ".join(error_of(r)["details"]["location"])
    team = client.get(f"/api/v1/teams/{forces['team']['id']}", headers=headers).get_json()
    assert team["location"]["coordinates"] == [106.55, 29.56]


def test_the_served_region_is_configurable(database, db, tmp_path, forces):
    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db,
                                SERVED_BBOX="105.2,28.1,110.2,32.3"))  # Chongqing only
    client = app.test_client()
    url = f"/api/v1/orgs/{forces['org']['id']}/teams"
    beijing = client.post(url, json=team_body(location=_point(116.4, 39.9)),
                          headers=forces["org_headers"])
    assert beijing.status_code == 422 and "location" in error_of(beijing)["details"]
    assert client.post(url, json=team_body(), headers=forces["org_headers"]).status_code == 201


def test_location_problems_name_the_region_and_the_swap():
    china = v.CHINA_BBOX
    assert v.location_problem(106.55, 29.56, china) is None
    assert "swapped" in v.location_problem(29.56, 106.55, china)
    assert "served region" in v.location_problem(-0.1, 51.5, china)
    assert "served region" in v.location_problem(float("nan"), 29.5, china)


# ---------------------------------------------------------------- resident IDs


@pytest.mark.parametrize(("area", "born", "word"), [
    ("500103", date.today() + timedelta(days=1), "future"),
    ("500103", date(1899, 12, 31), "1900"),
    ("990103", date(1990, 5, 17), "province"),
    ("190103", date(1990, 5, 17), "province"),
    ("730103", date(1990, 5, 17), "province"),
])
def test_resident_ids_need_a_real_past_birth_date_and_a_province(area, born, word):
    assert word in v.id_number_problem(v.make_id_number(area, born, 123))


def test_a_resident_id_on_february_30_is_refused():
    first17 = "50010319900230123"
    assert "birth date" in v.id_number_problem(first17 + v.id_check_digit(first17))


@pytest.mark.parametrize("area", ["110105", "460100", "500103", "650102", "710000", "810000",
                                  "820000", "830000"])
def test_resident_ids_of_every_province_and_residence_permits_pass(area):
    assert v.id_number_problem(v.make_id_number(area, date(1990, 5, 17), 123)) is None


def test_a_member_with_a_future_birth_date_is_refused(client, forces):
    future = v.make_id_number("500103", date.today() + timedelta(days=30), 1)
    r = client.post(f"/api/v1/teams/{forces['team']['id']}/members",
                    json=member_body(9, id_number=future), headers=forces["org_headers"])
    assert r.status_code == 422 and "future" in error_of(r)["details"]["id_number"][0]


# ---------------------------------------------------------------- bounded lists


@pytest.mark.parametrize(("path", "body", "field"), [
    ("members", member_body(8, skills=["绳索"] * 20_000), "skills"),
    ("members", member_body(8, skills=["x" * 101]), "skills"),
    ("members", member_body(8, certificates=[{"name": "证"}] * 1000), "certificates"),
    ("equipment", team_body(equipment=[{"type": "rope", "quantity": 1}] * 10_000), "equipment"),
])
def test_list_fields_are_bounded(client, forces, path, body, field):
    url = (f"/api/v1/teams/{forces['team']['id']}/members" if path == "members"
           else f"/api/v1/orgs/{forces['org']['id']}/teams")
    r = client.post(url, json=body, headers=forces["org_headers"])
    assert r.status_code == 422 and field in error_of(r)["details"]


def test_member_skills_patch_and_training_lists_are_bounded(client, forces):
    r = client.patch(f"/api/v1/members/{forces['member']['id']}",
                     json={"skills": ["绳索"] * 1000}, headers=forces["org_headers"])
    assert r.status_code == 422 and "skills" in error_of(r)["details"]
    r = client.post("/api/v1/trainings", json={
        "held_on": "2026-03-01", "hours": "2", "topic": "演练",
        "team_ids": [forces["team"]["id"]], "member_ids": list(range(1, 20_002))},
        headers=forces["org_headers"])
    assert r.status_code == 422 and "member_ids" in error_of(r)["details"]


# ---------------------------------------------------------------- dates as ISO 8601

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")


def test_member_dates_are_iso_8601(client, forces):
    mid = forces["member"]["id"]
    client.post(f"/api/v1/members/{mid}/certificates", json={"name": "急救员证",
                "expires_on": "2027-05-01"}, headers=forces["org_headers"])
    client.post(f"/api/v1/members/{mid}/insurance", json={
        "insurer": "人保", "policy_number": "P-1", "starts_on": "2026-01-01",
        "ends_on": "2026-12-31", "coverage_amount": "1000"}, headers=forces["org_headers"])
    for url in (f"/api/v1/members/{mid}", f"/api/v1/teams/{forces['team']['id']}/members"):
        body = client.get(url, headers=forces["org_headers"]).get_json()
        member = body["items"][0] if "items" in body else body
        assert member["certificates"][0]["expires_on"] == "2027-05-01"
        policy = member["insurance"][0]
        assert (policy["starts_on"], policy["ends_on"]) == ("2026-01-01", "2026-12-31")
        assert policy["coverage_amount"] == "1000.00"


def test_org_and_team_times_are_iso_8601(client, forces):
    org = client.get(f"/api/v1/orgs/{forces['org']['id']}",
                     headers=forces["admin_headers"]).get_json()
    assert ISO_TIME.match(org["submitted_at"]) and ISO_TIME.match(org["reviewed_at"])
    assert ISO_DATE.match(org["verify_by"])
    client.patch(f"/api/v1/teams/{forces['team']['id']}",
                 json={"grade": 2, "graded_on": "2025-06-01"}, headers=forces["org_headers"])
    teams = client.get("/api/v1/teams", headers=forces["org_headers"]).get_json()
    assert teams["features"][0]["properties"]["graded_on"] == "2025-06-01"


# ---------------------------------------------------------------- joint training


def test_joint_training_shows_only_the_callers_members(client, forces, actors):
    _user, other_headers = actors.make("org_admin")
    other_org = client.post("/api/v1/orgs", json=org_body(2), headers=other_headers).get_json()
    other_team = client.post(f"/api/v1/orgs/{other_org['id']}/teams", json=team_body(),
                             headers=other_headers).get_json()
    other_member = client.post(f"/api/v1/teams/{other_team['id']}/members",
                               json=member_body(2), headers=other_headers).get_json()
    mine = forces["member"]["id"]
    r = client.post("/api/v1/trainings", json={
        "held_on": "2026-03-01", "hours": "3", "topic": "联合演练",
        "team_ids": [forces["team"]["id"], other_team["id"]],
        "member_ids": [mine, other_member["id"]]}, headers=forces["admin_headers"])
    assert r.status_code == 201
    assert r.get_json()["member_ids"] == sorted([mine, other_member["id"]])
    seen = client.get("/api/v1/trainings", headers=forces["org_headers"]).get_json()["items"]
    assert [t["member_ids"] for t in seen] == [[mine]]
    theirs = client.get("/api/v1/trainings", headers=other_headers).get_json()["items"]
    assert [t["member_ids"] for t in theirs] == [[other_member["id"]]]
    bureau = client.get("/api/v1/trainings", headers=actors.header("dispatcher")).get_json()
    assert bureau["items"][0]["member_ids"] == sorted([mine, other_member["id"]])


# ---------------------------------------------------------------- the same rules in pages


def _csrf(client, url):
    """The CSRF token of a page (kept in the client's session cookie)."""
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _sign_in(client, username):
    """Sign in through the login form."""
    response = client.post("/login", data={"csrf_token": _csrf(client, "/login"),
                                           "username": username,
                                           "password": "correct horse battery"})
    assert response.status_code == 302


def test_the_registration_page_names_a_swapped_location(client, actors):
    user, _headers = actors.make("org_admin")
    _sign_in(client, user.username)
    form = {"csrf_token": _csrf(client, "/registry/register"), "name": "山城救援队",
            "credit_code": org_body(5)["credit_code"], "contact_name": "李四",
            "contact_phone": "13812345678", "address": "", "lon": "29.5", "lat": "106.5",
            "crs": "wgs84"}
    swapped = client.post("/registry/register", data=form)
    assert swapped.status_code == 422
    assert "经纬度似乎填反了" in swapped.get_data(as_text=True)
    far = client.post("/registry/register", data={**form, "lon": "2.35", "lat": "48.85"})
    assert far.status_code == 422 and "超出服务区域" in far.get_data(as_text=True)


def test_the_team_page_keeps_a_dispatched_team_dispatched(client, forces, actors):
    _dispatch(client, forces, actors)
    _sign_in(client, forces["org_admin"].username)
    page = f"/registry/teams/{forces['team']['id']}"
    r = client.post(f"{page}/status", data={"csrf_token": _csrf(client, page),
                                            "status": "available"})
    # Refused with the reason on the page itself (409: the dispatch holds the status).
    assert r.status_code == 409 and "调度" in r.get_data(as_text=True)
    team = client.get(f"/api/v1/teams/{forces['team']['id']}", headers=forces["org_headers"])
    assert team.get_json()["status"] == "dispatched"
