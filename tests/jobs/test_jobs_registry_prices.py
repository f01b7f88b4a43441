"""Roster imports and exports and price imports as jobs (issue 21): the contract's synchronous
answers stay, ``async=1`` (or POST for the export) queues a job a worker runs; all rows or
none, a bad file fails with its report of rows and fields, a run retried after its effect
committed imports nothing twice, and the export's file goes to its owner only."""

import io
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook
from shapely.geometry import box
from sqlalchemy import func, select, update

from emergency.auth.models import User
from emergency.db import new_session
from emergency.files import app_store
from emergency.jobs import results
from emergency.jobs.models import JobRecord
from emergency.jobs.worker import JobHandle, run_in_thread, stop_thread
from prices import filejobs as price_jobs
from prices.models import PriceObservation
from prices.service import today
from registry import filejobs as roster_jobs
from registry.models import TeamMember
from tests.conftest import committed_app
from tests.factories import id_number, org_body, team_body
from tests.jobs.jobs_factories import planner, until

DISTRICT = "990101"


@pytest.fixture
def live(backend, tmp_path):
    """An app on its own committed database: an approved organisation with one team, its
    org_admin's and an administrator's headers."""
    with committed_app(backend, tmp_path, "jobsrp") as app:
        app.config["JOB_POLL_SECONDS"] = 0.2
        client = app.test_client()
        admin = planner(app, "admin-rp", role="admin", area=False)
        org_admin = planner(app, "orgadmin-rp", role="org_admin", area=False)
        org = client.post("/api/v1/orgs", json=org_body(1), headers=org_admin).get_json()
        approved = client.post(f"/api/v1/orgs/{org['id']}/review",
                               json={"decision": "approve"}, headers=admin)
        assert approved.status_code == 200, approved.get_json()
        _link(app, "orgadmin-rp", org["id"])
        team = client.post(f"/api/v1/orgs/{org['id']}/teams", json=team_body(),
                           headers=org_admin)
        assert team.status_code == 201, team.get_json()
        yield app, client, {"admin": admin, "org_admin": org_admin,
                            "team": team.get_json()["id"]}


def _link(app, username, org_id):
    """Make a user the admin of an organisation (committed)."""
    with app.app_context():
        session = new_session()
        session.execute(update(User).where(User.username == username).values(org_id=org_id))
        session.commit()
        session.close()


def roster(rows):
    """An .xlsx roster's bytes."""
    book = Workbook()
    book.active.append(["姓名", "身份证号", "手机号", "技能"])
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _count(app, model, *where):
    """Rows of a table on the committed database."""
    with app.app_context():
        session = new_session()
        try:
            return session.scalar(select(func.count()).select_from(model).where(*where))
        finally:
            session.close()


def _upload_keys(app):
    """Keys of uploads kept for jobs."""
    with app.app_context():
        session = new_session()
        try:
            return [k for k in app_store(session).keys() if k.startswith(results.UPLOADS)]
        finally:
            session.close()


def _ended(client, headers, job_id):
    """The job once it has ended, else None."""
    job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
    return job if job["status"] not in ("queued", "running") else None


def _job_record(app, job_id):
    """A job record once it has ended, else None (read on the committed database)."""
    with app.app_context():
        session = new_session()
        try:
            record = session.get(JobRecord, job_id)
            session.expunge(record)
            return record if record.status not in ("queued", "running") else None
        finally:
            session.close()


def _run_again(app, job_id, run):
    """Run a job's kind once more, as a worker would after its first run committed."""
    with app.app_context():
        session = new_session()
        record = session.get(JobRecord, job_id)
        handle = JobHandle(app.extensions["emergency.db"]["engine"], record)
        session.close()
        run(handle)


def test_roster_import_and_export_run_as_jobs(live):
    app, client, who = live
    team, org_admin = who["team"], who["org_admin"]
    url = f"/api/v1/teams/{team}/members/import"
    good = roster([(f"队员{i}", id_number(100 + i), f"139{i:08d}", "绳索，急救")
                   for i in range(30)])
    # The contract's synchronous answer stays.
    sync = client.post(url, headers=org_admin,
                       data={"file": (io.BytesIO(roster([("甲", id_number(1), "13900000001",
                                                           "")])), "a.xlsx")})
    assert sync.status_code == 201 and sync.get_json() == {"imported": 1}

    queued = client.post(f"{url}?async=1", headers=org_admin,
                         data={"file": (io.BytesIO(good), "名册.xlsx")})
    assert queued.status_code == 202, queued.get_json()
    body = queued.get_json()
    assert (body["kind"], body["status"], body["subject_id"]) == (
        "registry.import_roster", "queued", team)
    assert queued.headers["Location"] == f"/api/v1/jobs/{body['id']}"
    assert len(_upload_keys(app)) == 1

    # What the request can check it refuses at once: no file, another organisation's team.
    none = client.post(f"{url}?async=1", headers=org_admin, data={})
    assert none.status_code == 422 and "file" in none.get_json()["error"]["details"]
    stranger = planner(app, "orgadmin-other", role="org_admin", area=False)
    refused = client.post(f"{url}?async=1", headers=stranger,
                          data={"file": (io.BytesIO(good), "x.xlsx")})
    assert refused.status_code == 403
    missing = client.post("/api/v1/teams/999999/members/import?async=1", headers=org_admin,
                          data={"file": (io.BytesIO(good), "x.xlsx")})
    assert missing.status_code == 404
    # Bad rows are the job's to find: it fails with each row and field, storing none.
    bad = client.post(f"{url}?async=1", headers=org_admin, data={"file": (io.BytesIO(roster(
        [("乙", id_number(200), "13900000200", ""), ("丙", "123", "555", "")])), "b.xlsx")})
    assert bad.status_code == 202
    assert len(_upload_keys(app)) == 2

    worker = run_in_thread(app)
    try:
        done = until(lambda: _ended(client, org_admin, body["id"]))
        assert done["status"] == "done", done
        assert (done["result"]["imported"], done["result"]["team_id"]) == (30, team)
        failed = until(lambda: _ended(client, org_admin, bad.get_json()["id"]))
        assert failed["status"] == "failed", failed
        assert failed["result"]["error"]["details"]["bad_rows"] == [3]
        assert _count(app, TeamMember, TeamMember.team_id == team) == 31  # 1 + 30, not 乙
        assert _upload_keys(app) == []
        listed = client.get(f"/api/v1/teams/{team}", headers=org_admin).get_json()
        assert listed["readiness"]["members"] == 31

        # The same job run again (its worker died after the commit) imports nothing.
        _run_again(app, body["id"], roster_jobs.run_import)
        assert _count(app, TeamMember, TeamMember.team_id == team) == 31

        # The export as a job: the file is the roster, masked, for its owner only.
        bureau = planner(app, "bureau-rp", role="dispatcher", area=False)
        exp = client.post(f"/api/v1/teams/{team}/members/export", headers=bureau)
        assert exp.status_code == 202, exp.get_json()
        finished = until(lambda: _ended(client, bureau, exp.get_json()["id"]))
        assert finished["status"] == "done", finished
        assert finished["result"]["file"]["name"] == f"team-{team}-roster.xlsx"
        got = client.get(finished["result_url"], headers=bureau)
        assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(got.data)).active
        ids = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert len(ids) == 31 and all("*" in i for i in ids)  # masked
        assert id_number(100) not in got.data.decode("latin-1")
        assert client.get(finished["result_url"], headers=org_admin).status_code == 403
        outsider = client.post(f"/api/v1/teams/{team}/members/export", headers=stranger)
        assert outsider.status_code == 403
        assert client.get(f"/api/v1/teams/{team}/members/export",
                          headers=bureau).status_code == 200  # the GET is still there
    finally:
        stop_thread(worker)


def _price_rows(prices):
    """Rows of one commodity in the test district, one a day up to yesterday."""
    last = len(prices) - 1
    return [["rice", "kg", "测试市场", DISTRICT,
             (today() - timedelta(days=1 + last - i)).isoformat(), p]
            for i, p in enumerate(prices)]


def _sheet(rows):
    """An .xlsx of price rows."""
    book = Workbook()
    book.active.append(["commodity", "unit", "market", "area_code", "observed_on", "price"])
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_price_import_runs_as_a_job(live):
    app, client, who = live
    with app.app_context():
        from emergency.geo import service as geo

        session = new_session()
        geo.create_area(session, "990000", "测试市", "city", box(106, 29, 107, 30))
        geo.create_area(session, DISTRICT, "测试区", "district", box(106.4, 29.4, 106.8, 29.8),
                        "990000")
        session.commit()
        session.close()
    headers = planner(app, "planner-rp", area=False)
    url = "/api/v1/prices/observations/import"
    data = _sheet(_price_rows(["5.00", "5.10", "4.90", "5.00", "5.20", "5.00", "6.50"]))
    queued = client.post(f"{url}?async=1", headers=headers,
                         data={"file": (io.BytesIO(data), "prices.xlsx")})
    assert queued.status_code == 202, queued.get_json()
    job = queued.get_json()
    assert job["kind"] == "prices.import_observations"
    # Refused at once: a foreign file type, and a file over the limit.
    odd = client.post(f"{url}?async=1", headers=headers,
                      data={"file": (io.BytesIO(b"x"), "prices.pdf")})
    assert odd.status_code == 422
    app.config["PRICE_IMPORT_MAX_BYTES"] = 100
    big = client.post(f"{url}?async=1", headers=headers,
                      data={"file": (io.BytesIO(data), "prices.xlsx")})
    assert big.status_code == 413
    app.config["PRICE_IMPORT_MAX_BYTES"] = 16 * 1024 * 1024
    bad_rows = _price_rows(["5.00", "-1"]) + [["rice", "kg", "测试市场", "000000",
                                               today().isoformat(), "5.00"]]
    bad = client.post(f"{url}?async=1", headers=headers,
                      data={"file": (io.BytesIO(_sheet(bad_rows)), "bad.xlsx")})
    assert bad.status_code == 202
    # A user deactivated after queueing gets a failed job, not an import.
    leaver = planner(app, "planner-leaver", area=False)
    left = client.post(f"{url}?async=1", headers=leaver,
                       data={"file": (io.BytesIO(data), "again.xlsx")})
    assert left.status_code == 202
    with app.app_context():
        session = new_session()
        session.execute(update(User).where(User.username == "planner-leaver")
                        .values(is_active=False))
        session.commit()
        session.close()

    worker = run_in_thread(app)
    try:
        done = until(lambda: _ended(client, headers, job["id"]))
        assert done["status"] == "done", done
        assert (done["result"]["rows"], done["result"]["created"],
                done["result"]["alerts_raised"]) == (7, 7, 1)
        failed = until(lambda: _ended(client, headers, bad.get_json()["id"]))
        assert failed["status"] == "failed", failed
        assert failed["result"]["error"]["details"]["bad_rows"] == [3, 4]
        assert _count(app, PriceObservation) == 7  # the bad file stored none
        gone = until(lambda: _job_record(app, left.get_json()["id"]))
        assert gone.status == "failed" and "no longer active" in gone.error, gone.error
        alerts = client.get("/api/v1/prices/alerts", headers=headers).get_json()
        assert len(alerts["items"]) == 1
        _run_again(app, job["id"], price_jobs.run_import)
        assert _count(app, PriceObservation) == 7
        assert _upload_keys(app) == []
    finally:
        stop_thread(worker)


def test_readiness_refresh_is_a_periodic_job(live):
    from emergency.jobs import kinds

    app, _client, _who = live
    assert kinds.PERIODIC["registry.refresh_readiness"].cron == "10 0 * * *"
    worker = run_in_thread(app)
    try:
        worker.run_periodic_now("registry.refresh_readiness")
        assert until(lambda: "registry.refresh_readiness" in worker.periodic_ran)
        assert worker.periodic_ran["registry.refresh_readiness"] >= 0
    finally:
        stop_thread(worker)
