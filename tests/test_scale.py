"""Hosts that share nothing but the database: the file store, readiness, the read replica."""

import hashlib
import io

import pytest
from sqlalchemy import text

from emergency import create_app
from emergency.db import WROTE_COOKIE, new_session
from emergency.errors import Invalid, NotFound
from emergency.files import DatabaseStore, FolderStore
from tests.conftest import (
    _copy_database,
    _template,
    app_config,
    committed_app,
    drop_database,
    error_of,
    free_port,
)
from tests.hazards.hazard_helpers import body, jpeg_with_gps, one_grid_and_staff


def _exercise(store):
    """The contract of every store kind, on one store."""
    data = bytes(range(256)) * 14  # 3,584 bytes: four chunks of 1,000
    assert store.put("hazards/ab/one.jpg", data, "image/jpeg") is True
    assert store.put("hazards/ab/one.jpg", b"other bytes", "image/jpeg") is False  # write-once
    assert store.put("a/first.bin", io.BytesIO(b"streamed")) is True
    stored = store.open("hazards/ab/one.jpg")
    assert (stored.size, stored.content_type) == (len(data), "image/jpeg")
    assert [len(c) for c in stored.chunks()] == [1000, 1000, 1000, 584]
    assert stored.read() == data
    assert store.open("a/first.bin").read() == b"streamed"
    assert list(store.keys()) == ["a/first.bin", "hazards/ab/one.jpg"]
    assert store.exists("a/first.bin") and not store.exists("a/none")
    with pytest.raises(NotFound):
        store.open("a/none")
    for bad in ("../etc/passwd", "/abs", "a//b", "a/./b", "", "a\\b"):
        with pytest.raises(Invalid):
            store.put(bad, b"x")
    store.delete("a/first.bin")
    assert list(store.keys()) == ["hazards/ab/one.jpg"]
    return stored


def test_database_store(db):
    stored = _exercise(DatabaseStore(chunk_bytes=1000).bind(db))
    assert stored.sha256 == hashlib.sha256(stored.read()).hexdigest()


def test_folder_store(tmp_path):
    _exercise(FolderStore(tmp_path / "files", chunk_bytes=1000))


@pytest.fixture
def two_hosts(backend, tmp_path):
    """Two apps ("hosts") on one committed scratch database, each with its own instance and
    upload folder, and a grid staff token: (host_a, host_b, headers)."""
    (tmp_path / "a").mkdir()
    with committed_app(backend, tmp_path / "a", "hosts") as host_a:
        url = host_a.config["DATABASE_URL"]
        host_b = create_app(app_config(url, tmp_path / "b"))
        with host_a.app_context():
            from emergency.auth import service as auth

            session = new_session()
            one_grid_and_staff(session, "host-staff")
            token = auth.create_token(session, "host-staff", 1)
            session.commit()
            session.close()
        try:
            yield host_a, host_b, {"Authorization": f"Bearer {token}"}
        finally:
            host_b.extensions["emergency.db"]["engine"].dispose()


@pytest.mark.committing
def test_photo_sent_to_one_host_is_served_by_another(two_hosts, tmp_path):
    host_a, host_b, headers = two_hosts
    report = host_a.test_client().post("/api/v1/hazards", json=body(), headers=headers)
    assert report.status_code == 201, report.get_json()
    sent = host_a.test_client().post(
        f"/api/v1/hazards/{report.get_json()['id']}/photos", headers=headers,
        data={"photo": (io.BytesIO(jpeg_with_gps()), "p.jpg")}, content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    photo = sent.get_json()
    # A photo streams from the store in a session of its own that the response's close ends
    # (a WSGI server always closes it; a test must too, or the connection stays out).
    with host_b.test_client().get(photo["url"], headers=headers) as served:
        assert served.status_code == 200 and served.mimetype == "image/jpeg"
        assert hashlib.sha256(served.data).hexdigest() == photo["sha256"]
        assert served.headers["ETag"].strip('"') == photo["sha256"]
    with host_b.test_client().get(photo["thumb_url"], headers=headers) as thumb:
        assert thumb.status_code == 200
    # Neither host kept anything on its own disk.
    assert not list((tmp_path / "a" / "uploads").rglob("*.jpg"))
    assert not list((tmp_path / "b" / "uploads").rglob("*.jpg"))


@pytest.mark.committing
def test_files_import_moves_old_local_files_into_the_store(backend, tmp_path):
    with committed_app(backend, tmp_path, "filesimp") as app:
        old = tmp_path / "uploads" / "hazards" / "ab"
        old.mkdir(parents=True)
        (old / "old.jpg").write_bytes(b"\xff\xd8 an old photo")
        (old / ".old.jpg.1.x.tmp").write_bytes(b"an unfinished write")
        runner = app.test_cli_runner()
        first = runner.invoke(args=["files", "import"])
        assert first.exit_code == 0, first.output
        assert "1 files copied" in first.output
        again = runner.invoke(args=["files", "import"])
        assert "0 files copied" in again.output and "1 were there already" in again.output
        with app.app_context():
            session = new_session()
            assert DatabaseStore().bind(session).open("hazards/ab/old.jpg").read() == \
                b"\xff\xd8 an old photo"
            session.close()
        stats = runner.invoke(args=["files", "stats"])
        assert "database store: 1 files" in stats.output


def test_ready_when_migrated_to_head(client):
    response = client.get("/api/v1/health/ready")
    assert response.status_code == 200, response.get_json()
    ready = response.get_json()
    assert ready["status"] == "ready" and ready["replica"] == "off"
    assert ready["revision"] and ready["database"] in ("spatialite", "postgis")
    assert client.get("/api/v1/health").get_json()["status"] == "ok"


@pytest.mark.parametrize("revision, reason", [
    (None, "not_migrated"), ("0016_filing_training", "behind"),
    ("9999_future", "unknown_revision")])
def test_not_ready_until_the_schema_is_at_head(tmp_path, revision, reason):
    # The decision is the same on both backends (it reads alembic_version): SpatiaLite files
    # are the cheap way to hold a database at any revision.
    app = create_app(app_config(f"sqlite:///{tmp_path}/old.sqlite", tmp_path))
    if revision:
        with app.extensions["emergency.db"]["engine"].begin() as conn:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})
    response = app.test_client().get("/api/v1/health/ready")
    assert response.status_code == 503
    assert error_of(response)["details"]["database"] == [reason]


def test_not_ready_when_the_database_is_unreachable(tmp_path):
    url = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"
    response = create_app(app_config(url, tmp_path)).test_client().get("/api/v1/health/ready")
    assert response.status_code == 503
    assert error_of(response)["details"]["database"] == ["database_unavailable"]


@pytest.fixture
def with_replica(tmp_path):
    """A PostGIS primary, and a "replica" that is a second database on the same server left
    behind on purpose (it never receives the primary's writes), so a test sees which one a
    read came from: (app, headers)."""
    with committed_app("postgis", tmp_path, "primary") as primary:
        replica_url = _copy_database("postgis", _template("postgis", ()), tmp_path, "replica")
        app = create_app(app_config(primary.config["DATABASE_URL"], tmp_path / "r",
                                    DATABASE_READ_URL=replica_url))
        with app.app_context():
            from emergency.auth import service as auth

            session = new_session()
            one_grid_and_staff(session, "replica-staff")
            token = auth.create_token(session, "replica-staff", 1)
            session.commit()
            session.close()
        try:
            yield app, {"Authorization": f"Bearer {token}"}
        finally:
            app.extensions["emergency.db"]["engine"].dispose()
            app.extensions["emergency.db"]["replica"].dispose()
            drop_database(replica_url)


@pytest.mark.committing
def test_lists_read_the_replica_but_a_writer_reads_its_own_writes(with_replica):
    app, headers = with_replica
    writer = app.test_client()
    created = writer.post("/api/v1/hazards", json=body(), headers=headers)
    assert created.status_code == 201
    assert writer.get_cookie(WROTE_COOKIE) is not None
    # The client that wrote reads the primary for a while: it sees its report.
    assert writer.get("/api/v1/hazards", headers=headers).get_json()["total"] == 1
    # Any other client reads the (here: stale) replica.
    assert app.test_client().get("/api/v1/hazards", headers=headers).get_json()["total"] == 0
    # A single report is always read from the primary.
    one = app.test_client().get(f"/api/v1/hazards/{created.get_json()['id']}", headers=headers)
    assert one.status_code == 200
    assert app.test_client().get("/api/v1/health/ready").get_json()["replica"] == "ok"


@pytest.mark.committing
def test_an_unreachable_replica_falls_back_to_the_primary(tmp_path):
    with committed_app("postgis", tmp_path, "noreplica") as primary:
        dead = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none?connect_timeout=2"
        app = create_app(app_config(primary.config["DATABASE_URL"], tmp_path / "r",
                                    DATABASE_READ_URL=dead))
        with app.app_context():
            from emergency.auth import service as auth

            session = new_session()
            one_grid_and_staff(session, "fallback-staff")
            token = auth.create_token(session, "fallback-staff", 1)
            session.commit()
            session.close()
        headers = {"Authorization": f"Bearer {token}"}
        try:
            listed = app.test_client().get("/api/v1/hazards", headers=headers)
            assert listed.status_code == 200 and listed.get_json()["total"] == 0
            ready = app.test_client().get("/api/v1/health/ready")
            assert ready.status_code == 200 and ready.get_json()["replica"] == "unavailable"
        finally:
            app.extensions["emergency.db"]["engine"].dispose()
            app.extensions["emergency.db"]["replica"].dispose()


def test_read_url_needs_postgresql(tmp_path):
    from emergency.config import ConfigError

    with pytest.raises(ConfigError, match="DATABASE_READ_URL"):
        create_app(app_config(f"sqlite:///{tmp_path}/x.sqlite", tmp_path,
                              DATABASE_READ_URL=f"sqlite:///{tmp_path}/y.sqlite"))


@pytest.fixture(scope="module")
def s3_endpoint():
    """A real S3-compatible HTTP server (moto's standalone server) with one bucket."""
    import subprocess
    import sys
    import time

    import boto3
    import requests

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # started within 30 s, or the test fails below
            try:
                requests.get(url, timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        boto3.client("s3", endpoint_url=url, aws_access_key_id="test",
                     aws_secret_access_key="test", region_name="us-east-1").create_bucket(
            Bucket="emergency-files")
        yield {"FILE_STORE": "s3", "S3_ENDPOINT_URL": url, "S3_BUCKET": "emergency-files",
               "S3_ACCESS_KEY_ID": "test", "S3_SECRET_ACCESS_KEY": "test",
               "S3_REGION": "us-east-1"}
    finally:
        server.terminate()
        server.wait(10)


def test_s3_store(s3_endpoint):
    from emergency.files import from_config

    _exercise(from_config({**s3_endpoint, "S3_PREFIX": "one/", "FILE_CHUNK_BYTES": 1000}))
    # Keys live under the prefix: a store with another prefix sees none of them.
    assert list(from_config({**s3_endpoint, "S3_PREFIX": "two/"}).keys()) == []


def test_photos_and_backups_through_s3(s3_endpoint, database, db, tmp_path, actors, place):
    from emergency import backup
    from emergency.files import from_config

    app = create_app(app_config(database[0], tmp_path, TEST_DB_SESSION=db, **s3_endpoint,
                                S3_PREFIX=f"photos-{database[0][-12:]}/"))
    client = app.test_client()
    _user, headers = actors.make("grid_staff", grids=[place["grids"][0]])
    report = client.post("/api/v1/hazards", json=body(), headers=headers).get_json()
    sent = client.post(f"/api/v1/hazards/{report['id']}/photos", headers=headers,
                       data={"photo": (io.BytesIO(jpeg_with_gps()), "p.jpg")},
                       content_type="multipart/form-data")
    assert sent.status_code == 201, sent.get_json()
    served = client.get(sent.get_json()["url"], headers=headers)
    assert hashlib.sha256(served.data).hexdigest() == sent.get_json()["sha256"]
    store = from_config(app.config)
    assert len(list(store.keys())) == 2  # the photo and its thumbnail, in the bucket
    manifest = backup.backup(database[1], tmp_path / "s3.zip", store)
    assert set(manifest["uploads"]) == set(store.keys())


@pytest.mark.committing
def test_list_pages_read_the_replica_but_a_writer_reads_its_own_writes(with_replica):
    app, headers = with_replica
    from emergency.auth import service as auth

    with app.app_context():
        session = new_session()
        auth.create_user(session, "replica-admin", "admin", "correct horse battery")
        admin = {"Authorization": f"Bearer {auth.create_token(session, 'replica-admin', 1)}"}
        session.commit()
        session.close()
    writer = app.test_client()
    assert writer.post("/api/v1/hazards", json=body(), headers=headers).status_code == 201
    made = writer.post("/api/v1/incidents", headers=admin, json={
        "title": "副本测试事件", "incident_type": "flood",
        "occurred_at": "2026-12-01T08:00:00+08:00",
        "location": {"type": "Point", "coordinates": [106.5, 29.5]}})
    assert made.status_code == 201, made.get_json()

    def tasks_total(client, who):
        page = client.get("/hazards/tasks?format=json&view=all", headers=who)
        assert page.status_code == 200
        return page.get_json()["total"]

    # The writer's pages read the primary for a while; any other client's the replica.
    assert tasks_total(writer, headers) == 1
    assert tasks_total(app.test_client(), headers) == 0
    assert "副本测试事件" in writer.get("/incidents", headers=admin).get_data(as_text=True)
    other = app.test_client().get("/incidents", headers=admin)
    assert other.status_code == 200 and "副本测试事件" not in other.get_data(as_text=True)
    assert app.test_client().get("/registry/teams", headers=admin).status_code == 200
