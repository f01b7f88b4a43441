"""The registry's lists (organisations, review queue, teams): search, filters, paging, audited
xlsx exports; batch review (all or none, audited one by one, 409 naming the decided); reasons
for rejecting, removing a member and making a team unavailable; labelled insurance form."""

import io
import re
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from shapely.geometry import shape

from emergency.audit.models import AuditEntry
from tests.conftest import square
from tests.factories import add_member, add_team, credit_code, register_org

PASSWORD = "correct horse battery"


def _csrf(client, url):
    """The CSRF token of a page."""
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _signed_in(app, actors, role, **scope):
    """A fresh client signed in through the login form as a new user of that role."""
    user, _headers = actors.make(role, **scope)
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": _csrf(client, "/login"),
                                           "username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _audit(db, action):
    """Audit entries of an action, oldest first."""
    return db.query(AuditEntry).filter(AuditEntry.action == action).order_by(AuditEntry.id).all()


@pytest.fixture
def districts(db):
    """Two districts: 渝中 around 106.57/29.55 and 江北 around 107.2/29.6."""
    from emergency.geo import service as geo

    geo.create_area(db, "990000", "测试市", "city", shape(square(106.0, 29.0, 2.0)))
    geo.create_area(db, "990101", "测试渝中", "district", shape(square(106.4, 29.4, 0.4)),
                    "990000")
    geo.create_area(db, "990102", "测试江北", "district", shape(square(107.0, 29.4, 0.4)),
                    "990000")
    db.flush()


@pytest.fixture
def registry(client, actors, districts):
    """Submitted and approved organisations in two districts, teams, an expiring policy."""
    admin = actors.header("admin")
    north = {"type": "Point", "coordinates": [107.2, 29.6]}
    waiting = [register_org(client, actors, n, approve=False, name=f"待审救援队{n}")[0]
               for n in (101, 102)]
    far, _u, _h = register_org(client, actors, 103, approve=False, name="江北待审队",
                               location=north)
    approved, _user, headers = register_org(client, actors, 104, admin_headers=admin,
                                            name="=SUM(A1)山地队")
    water = add_team(client, approved["id"], headers, name="水域一队", category="water")
    mountain = add_team(client, approved["id"], headers, name="山地一队")
    member = add_member(client, water["id"], headers, n=7)
    soon = date.today() + timedelta(days=10)
    assert client.post(f"/api/v1/members/{member['id']}/insurance", headers=headers, json={
        "insurer": "人保", "policy_number": "P7", "starts_on": "2025-01-01",
        "ends_on": soon.isoformat(), "coverage_amount": "100000"}).status_code == 201
    return {"admin": admin, "waiting": waiting, "far": far, "approved": approved,
            "org_headers": headers, "water": water, "mountain": mountain, "member": member}


def _ids(html, attribute):
    """The ids of the rows of a list page."""
    return [int(i) for i in re.findall(rf'{attribute}="(\d+)"', html)]


def test_org_list_searches_filters_and_masks(app, actors, registry):
    page = _signed_in(app, actors, "planner")
    html = page.get("/registry/orgs").get_data(as_text=True)
    assert len(_ids(html, "data-org-id")) == 4 and "138****5678" in html
    assert "13812345678" not in html
    assert _ids(page.get("/registry/orgs?q=待审救援").get_data(as_text=True), "data-org-id") == \
        sorted((o["id"] for o in registry["waiting"]), reverse=True)
    by_code = page.get(f"/registry/orgs?q={credit_code(103).lower()}").get_data(as_text=True)
    assert _ids(by_code, "data-org-id") == [registry["far"]["id"]]
    assert _ids(page.get("/registry/orgs?district=990102").get_data(as_text=True),
                "data-org-id") == [registry["far"]["id"]]
    assert _ids(page.get("/registry/orgs?status=approved&category=water")
                .get_data(as_text=True), "data-org-id") == [registry["approved"]["id"]]
    assert _ids(page.get("/registry/orgs?category=diving").get_data(as_text=True),
                "data-org-id") == []
    assert _ids(page.get("/registry/orgs?expiring=1").get_data(as_text=True),
                "data-org-id") == [registry["approved"]["id"]]
    # Nonsense filters are dropped, never an error.
    assert page.get("/registry/orgs?status=x&district=%27&limit=7&offset=-3").status_code == 200
    html = page.get("/registry/orgs").get_data(as_text=True)
    assert 'for="org-filters-q"' in html and "测试江北" in html


def test_org_list_pages(app, actors, client, districts):
    for n in range(21):
        register_org(client, actors, 200 + n, approve=False)
    page = _signed_in(app, actors, "admin")
    first = page.get("/registry/orgs?limit=20").get_data(as_text=True)
    second = page.get("/registry/orgs?limit=20&offset=20").get_data(as_text=True)
    assert len(_ids(first, "data-org-id")) == 20 and len(_ids(second, "data-org-id")) == 1
    assert 'id="org-pages"' in first and 'aria-current="page"' in first
    assert not set(_ids(first, "data-org-id")) & set(_ids(second, "data-org-id"))


def test_org_export_is_formula_safe_and_audited(app, actors, registry, db):
    page = _signed_in(app, actors, "auditor")
    response = page.get("/registry/orgs/export.xlsx?status=approved")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.values)
    assert len(rows) == 2 and rows[1][1] == "=SUM(A1)山地队"
    assert sheet.cell(row=2, column=2).data_type == "s"
    assert "138****5678" in rows[1] and "13812345678" not in str(rows)
    entry = _audit(db, "organisation.export")[-1]
    assert entry.changes == {"status": "approved", "rows": 1}
    org_admin = _signed_in(app, actors, "org_admin")
    assert org_admin.get("/registry/orgs/export.xlsx").status_code == 403


def test_team_list_filters_and_export(app, actors, registry, db):
    page = _signed_in(app, actors, "dispatcher")
    html = page.get("/registry/teams").get_data(as_text=True)
    assert set(_ids(html, "data-team-id")) == {registry["water"]["id"],
                                               registry["mountain"]["id"]}
    assert "=SUM(A1)山地队" in html
    assert _ids(page.get("/registry/teams?category=water").get_data(as_text=True),
                "data-team-id") == [registry["water"]["id"]]
    assert _ids(page.get("/registry/teams?q=山地一").get_data(as_text=True),
                "data-team-id") == [registry["mountain"]["id"]]
    assert _ids(page.get("/registry/teams?expiring=1").get_data(as_text=True),
                "data-team-id") == [registry["water"]["id"]]
    assert _ids(page.get("/registry/teams?district=990102").get_data(as_text=True),
                "data-team-id") == []
    assert _ids(page.get("/registry/teams?status=unavailable").get_data(as_text=True),
                "data-team-id") == []
    rows = list(load_workbook(io.BytesIO(page.get("/registry/teams/export.xlsx?category=water")
                                         .data)).active.values)
    assert [r[1] for r in rows[1:]] == ["水域一队"] and rows[1][8] == 1
    assert _audit(db, "team.export")[-1].changes == {"category": "water", "rows": 1}


def test_review_queue_filters_oldest_first(app, actors, registry):
    page = _signed_in(app, actors, "admin")
    html = page.get("/registry/review").get_data(as_text=True)
    waiting = [o["id"] for o in registry["waiting"]] + [registry["far"]["id"]]
    assert _ids(html, "<tr data-org-id") == waiting
    assert 'id="review-dialog"' in html and 'aria-labelledby="review-dialog-title"' in html
    assert _ids(page.get("/registry/review?district=990101").get_data(as_text=True),
                "<tr data-org-id") == waiting[:2]
    assert _ids(page.get("/registry/review?status=approved").get_data(as_text=True),
                "<tr data-org-id") == waiting  # the queue is always the submitted ones
    export = page.get(re.search(r'id="export-xlsx" href="([^"]+)"', html).group(1)
                      .replace("&amp;", "&"))
    assert len(list(load_workbook(io.BytesIO(export.data)).active.values)) == 4
    assert _signed_in(app, actors, "planner").get("/registry/review").status_code == 403


def test_batch_approve_decides_each_and_audits_each(app, actors, registry, client, db):
    page = _signed_in(app, actors, "admin")
    ids = [o["id"] for o in registry["waiting"]]
    done = page.post("/registry/review", data={"csrf_token": _csrf(page, "/registry/review"),
                                               "ids": [str(i) for i in ids],
                                               "decision": "approve", "note": ""})
    assert done.status_code == 302
    for org_id in ids:
        org = client.get(f"/api/v1/orgs/{org_id}", headers=registry["admin"]).get_json()
        assert org["status"] == "approved" and org["verify_by"]
    reviews = [e for e in _audit(db, "organisation.review") if int(e.object_id) in ids]
    assert sorted(int(e.object_id) for e in reviews) == ids
    assert all(e.changes["decision"] == "approve" and e.changes["batch_size"] == 2
               for e in reviews)
    updates = {int(e.object_id) for e in _audit(db, "organisation.update")}
    assert set(ids) <= updates
    html = page.get("/registry/review").get_data(as_text=True)
    assert _ids(html, "<tr data-org-id") == [registry["far"]["id"]]


def test_batch_is_all_or_nothing_409_naming_the_decided(app, actors, registry, client):
    admin = registry["admin"]
    first, second = registry["waiting"]
    # Someone else decided the second one meanwhile.
    assert client.post(f"/api/v1/orgs/{second['id']}/review", headers=admin,
                       json={"decision": "reject", "note": "材料不全"}).status_code == 200
    refused = client.post("/api/v1/orgs/review", headers=admin, json={
        "ids": [first["id"], second["id"]], "decision": "approve"})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "already_decided" and second["name"] in error["message"]
    assert len(error["details"]["ids"]) == 1
    assert error["details"]["ids"][0].endswith(str(second["id"]))
    assert client.get(f"/api/v1/orgs/{first['id']}", headers=admin).get_json()["status"] == \
        "submitted"
    page = _signed_in(app, actors, "admin")
    html_refused = page.post("/registry/review", data={
        "csrf_token": _csrf(page, "/registry/review"),
        "ids": [str(first["id"]), str(second["id"])], "decision": "approve"})
    assert html_refused.status_code == 409
    body = html_refused.get_data(as_text=True)
    assert 'id="review-error"' in body and second["name"] in body
    assert f'id="pick-{first["id"]}" data-name="{first["name"]}" checked' in body
    assert client.get(f"/api/v1/orgs/{first['id']}", headers=admin).get_json()["status"] == \
        "submitted"
    missing = client.post("/api/v1/orgs/review", headers=admin, json={
        "ids": [first["id"], 987654], "decision": "approve"})
    assert missing.status_code == 404
    assert client.post("/api/v1/orgs/review", headers=actors.header("planner"), json={
        "ids": [first["id"]], "decision": "approve"}).status_code == 403


def test_reject_needs_a_reason_single_and_batch(app, actors, registry, client):
    admin = registry["admin"]
    first, second = registry["waiting"]
    bare = client.post(f"/api/v1/orgs/{first['id']}/review", headers=admin,
                       json={"decision": "reject", "note": "  "})
    assert bare.status_code == 422 and bare.get_json()["error"]["code"] == "reason_required"
    assert "note" in bare.get_json()["error"]["details"]
    batch = client.post("/api/v1/orgs/review", headers=admin,
                        json={"ids": [first["id"], second["id"]], "decision": "reject"})
    assert batch.status_code == 422
    page = _signed_in(app, actors, "admin")
    token = _csrf(page, "/registry/review")
    no_reason = page.post(f"/registry/orgs/{first['id']}/review",
                          data={"csrf_token": token, "decision": "reject", "note": ""})
    assert no_reason.status_code == 422
    assert "请填写驳回理由" in no_reason.get_data(as_text=True)
    for org in (first, second):
        assert client.get(f"/api/v1/orgs/{org['id']}", headers=admin).get_json()["status"] == \
            "submitted"
    rejected = page.post("/registry/review", data={
        "csrf_token": token, "ids": [str(first["id"]), str(second["id"])],
        "decision": "reject", "note": "统一社会信用代码与名称不符"})
    assert rejected.status_code == 302
    org = client.get(f"/api/v1/orgs/{second['id']}", headers=admin).get_json()
    assert org["status"] == "rejected" and org["review_note"] == "统一社会信用代码与名称不符"
    none = page.post("/registry/review", data={"csrf_token": token, "decision": "approve"})
    assert none.status_code == 422


def test_removing_a_member_and_making_a_team_unavailable_need_reasons(app, actors, registry,
                                                                      client, db):
    water, member = registry["water"], registry["member"]
    page = _signed_in(app, actors, "admin")
    url = f"/registry/teams/{water['id']}"
    html = page.get(url).get_data(as_text=True)
    assert 'data-confirm-dialog="remove-dialog"' in html and 'id="status-dialog"' in html
    token = _csrf(page, url)
    remove = f"{url}/members/{member['id']}/remove"
    assert page.post(remove, data={"csrf_token": token, "note": " "}).status_code == 422
    assert client.get(f"/api/v1/members/{member['id']}",
                      headers=registry["admin"]).status_code == 200
    other_team = f"/registry/teams/{registry['mountain']['id']}/members/{member['id']}/remove"
    assert page.post(other_team, data={"csrf_token": token, "note": "x"}).status_code == 404
    assert page.post(remove, data={"csrf_token": token, "note": "本人申请退出"}).status_code == 302
    assert client.get(f"/api/v1/members/{member['id']}",
                      headers=registry["admin"]).status_code == 404
    assert _audit(db, "member.remove")[-1].changes == {"team_id": water["id"],
                                                       "reason": "本人申请退出"}
    status = f"{url}/status"
    bare = page.post(status, data={"csrf_token": token, "status": "unavailable"})
    assert bare.status_code == 422
    assert client.get(f"/api/v1/teams/{water['id']}",
                      headers=registry["admin"]).get_json()["status"] == "available"
    assert page.post(status, data={"csrf_token": token, "status": "unavailable",
                                   "note": "装备检修"}).status_code == 302
    assert _audit(db, "team.status")[-1].changes == {"from": "available", "to": "unavailable",
                                                     "reason": "装备检修"}
    # Back to available needs no reason.
    assert page.post(status, data={"csrf_token": token, "status": "available"}).status_code == 302


def test_insurance_form_is_labelled_and_names_bad_fields(app, actors, registry, client):
    water = registry["water"]
    page = _signed_in(app, actors, "org_admin", org_id=registry["approved"]["id"])
    url = f"/registry/teams/{water['id']}"
    html = page.get(url).get_data(as_text=True)
    for name in ("member", "insurer", "policy_number", "starts_on", "ends_on",
                 "coverage_amount"):
        assert f'for="f-{name}"' in html and f'id="f-{name}"' in html
    bad = page.post(f"{url}/insurance", data={
        "csrf_token": _csrf(page, url), "member": str(registry["member"]["id"]),
        "insurer": "人保", "policy_number": "", "starts_on": "2026-02-01",
        "ends_on": "2026-01-01", "coverage_amount": "1000"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "保单号" in text and 'value="人保"' in text
    member = client.get(f"/api/v1/members/{registry['member']['id']}",
                        headers=registry["admin"]).get_json()
    assert len(member["insurance"]) == 1
    reversed_dates = page.post(f"{url}/insurance", data={
        "csrf_token": _csrf(page, url), "member": str(registry["member"]["id"]),
        "insurer": "人保", "policy_number": "P9", "starts_on": "2026-02-01",
        "ends_on": "2026-01-01", "coverage_amount": "1000"})
    assert reversed_dates.status_code == 422 and "is-invalid" in \
        reversed_dates.get_data(as_text=True)


def test_review_queue_and_lists_in_english(app, actors, registry):
    page = _signed_in(app, actors, "admin")
    html = page.get("/registry/review?lang=en").get_data(as_text=True)
    assert "Approve selected" in html and "Reject selected" in html
    assert "Export Excel" in page.get("/registry/teams?lang=en").get_data(as_text=True)


def test_organisations_are_picked_by_name_initials_or_code(client, actors, registry):
    admin = registry["admin"]

    def picked(q, headers=admin):
        answer = client.get("/api/v1/pick/orgs", query_string={"q": q}, headers=headers)
        assert answer.status_code == 200
        return [item["value"] for item in answer.get_json()["items"]]

    far = str(registry["far"]["id"])
    assert picked("江北待审") == [far]
    assert far in picked("jbdsd")  # pinyin initials of 江北待审队
    assert picked(credit_code(103)) == [far]
    # An organisation administrator finds only their own.
    assert picked("", registry["org_headers"]) == [str(registry["approved"]["id"])]
