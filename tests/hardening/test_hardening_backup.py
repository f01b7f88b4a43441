"""Backup and restore: demo data moved SpatiaLite → PostGIS → SpatiaLite arrives row for row."""

import json
import zipfile

import pytest
import shapely
from geoalchemy2 import Geometry
from geoalchemy2.shape import to_shape
from sqlalchemy import func, insert, select, text

from emergency import backup, create_app
from emergency.auth.models import User
from emergency.demo import load
from emergency.domains import metadata
from emergency.errors import Conflict, Invalid
from emergency.files import DatabaseStore
from tests.conftest import app_config, drop_database, make_database


def _rows(engine):
    """Every row of every application table, ordered by key, geometry as ISO WKB; the file
    store's tables as {key: bytes} (their rows' times are those of the restore)."""
    tables_of = metadata()
    out = {}
    with engine.connect() as conn:
        store = DatabaseStore().bind(conn)
        out["files"] = {key: store.open(key).read() for key in store.keys()}
        for table in tables_of.sorted_tables:
            if table.name in backup.FILE_TABLES:
                continue
            order = list(table.primary_key.columns)
            rows = []
            for row in conn.execute(select(table).order_by(*order)).mappings():
                rows.append({c.name: (shapely.to_wkb(to_shape(row[c.name]))
                                      if isinstance(c.type, Geometry) and row[c.name] is not None
                                      else row[c.name]) for c in table.columns})
            out[table.name] = rows
    return out


def _restore_into(backend, tmp_path, label, archive):
    """A fresh database of the backend with the archive restored into it (files into its
    database store): (url, engine)."""
    url, engine = make_database(backend, tmp_path, label)
    backup.restore(engine, archive, DatabaseStore())
    return url, engine


@pytest.mark.slow
def test_demo_round_trip_spatialite_postgis_spatialite(tmp_path, monkeypatch):
    # The whole demo, but its risk assessment on 5 km cells instead of 1 km (25 times fewer
    # cells) so that the suite stays quick; every table still holds rows.
    from risk import demo as risk_demo

    monkeypatch.setattr(risk_demo, "CELL_M", 5000)
    src_url, src = make_database("spatialite", tmp_path, "bk_src")
    app = create_app(app_config(src_url, tmp_path))
    with app.app_context():
        load()
    photo = b"\xff\xd8\xff\xe0 not really a jpeg \xff\xd9" * 40_000  # several chunks
    with src.begin() as conn:
        DatabaseStore(chunk_bytes=100_000).bind(conn).put("hazards/1/photo.jpg", photo)
    expected = _rows(src)
    assert expected["files"]["hazards/1/photo.jpg"] == photo
    assert expected["areas"] and expected["members"] and expected["audit_log"]
    assert expected["risk_cells"] and expected["hazard_reports"] and expected["incidents"]

    first = tmp_path / "sl.zip"
    manifest = backup.backup(src, first, DatabaseStore())
    assert "hazards/1/photo.jpg" in manifest["uploads"]
    assert manifest["tables"]["members"]["rows"] == len(expected["members"])
    # Every table but the database file store's, whose files travel as uploads/ members.
    assert set(manifest["tables"]) == {t.name for t in metadata().sorted_tables} - {
        "stored_files", "stored_file_chunks"}

    pg_url, pg = _restore_into("postgis", tmp_path, "bk_pg", first)
    try:
        assert _rows(pg) == expected
        # Sequences moved past the restored ids: a new row gets a fresh id.
        with pg.begin() as conn:
            new_id = conn.execute(insert(User).values(
                username="after-restore", role="admin", password_hash="x",
                display_name="x").returning(User.id)).scalar()
        assert new_id > max(r["id"] for r in expected["users"])
        with pg.begin() as conn:
            conn.execute(User.__table__.delete().where(User.id == new_id))

        second = tmp_path / "pg.zip"
        backup.backup(pg, second, DatabaseStore())
        _url, back = _restore_into("spatialite", tmp_path, "bk_back", second)
        assert _rows(back) == expected
        # The restored SpatiaLite file's spatial index holds every geometry.
        with back.connect() as conn:
            indexed = conn.scalar(text('SELECT count(*) FROM "idx_areas_geom"'))
        assert indexed == len(expected["areas"])
        back.dispose()
    finally:
        pg.dispose()
        drop_database(pg_url)
        src.dispose()


@pytest.fixture
def small_backup(backend, tmp_path):
    """A backup of a small database of the backend (areas, a user, audit): (engine, path)."""
    from shapely.geometry import shape

    from emergency.auth import service as auth_service
    from emergency.db import new_session
    from emergency.geo import service as geo
    from tests.conftest import square

    url, engine = make_database(backend, tmp_path, "bk_small")
    app = create_app(app_config(url, tmp_path))
    with app.app_context():
        session = new_session()
        session.info["actor"] = "test"
        geo.create_area(session, "990000", "测试市", "city", shape(square(106.0, 29.0, 1.0)))
        geo.create_area(session, "990101", "测试区", "district",
                        shape(square(106.4, 29.4, 0.4)), "990000")
        auth_service.create_user(session, "keeper", "admin", "correct horse battery")
        session.commit()
        session.close()
    path = tmp_path / "small.zip"
    backup.backup(engine, path, str(tmp_path / "uploads"))
    yield engine, path
    engine.dispose()
    drop_database(url)


def _empty_target(backend, tmp_path):
    """A freshly migrated empty database of the backend: (url, engine)."""
    return make_database(backend, tmp_path, "bk_target")


def _counts(engine):
    """Row count of every application table."""
    with engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t))
                for t in metadata().sorted_tables}


def test_damaged_backup_is_refused_and_nothing_written(backend, tmp_path, small_backup):
    _engine, path = small_backup
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(damaged, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "tables/areas.jsonl":
                data = data.replace(b"\"name\": \"", b"\"name\": \"X", 1)
            dst.writestr(item, data)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    url, target = _empty_target(backend, tmp_path)
    try:
        for bad in (damaged, truncated):
            with pytest.raises(Invalid) as refused:
                backup.restore(target, bad, str(tmp_path / "up"))
            assert "file" in refused.value.details
        assert not any(_counts(target).values())
        # The intact file still restores into the same database afterwards.
        backup.restore(target, path, str(tmp_path / "up"))
        assert _counts(target)["areas"] > 0
        # A database that now holds rows is refused, and keeps what it had.
        before = _counts(target)
        with pytest.raises(Conflict, match="empty database"):
            backup.restore(target, path, str(tmp_path / "up"))
        assert _counts(target) == before
    finally:
        target.dispose()
        drop_database(url)


def test_backup_is_one_snapshot_while_others_write(backend, tmp_path, small_backup):
    engine, _ = small_backup
    users_before = _counts(engine)["users"]

    def write_meanwhile(table, _count):
        # After the first table is read, another connection commits a new user: the
        # snapshot must not see it, so counts match the moment the backup began.
        if table == metadata().sorted_tables[0].name:
            with engine.begin() as conn:
                conn.execute(insert(User).values(username=f"late-{backend}", role="admin",
                                                 password_hash="x", display_name="x"))

    path = tmp_path / "during.zip"
    manifest = backup.backup(engine, path, None, progress=write_meanwhile)
    assert manifest["tables"]["users"]["rows"] == users_before
    assert _counts(engine)["users"] == users_before + 1
    with zipfile.ZipFile(path) as zf:
        names = [json.loads(line)["username"]
                 for line in zf.read("tables/users.jsonl").splitlines()]
    assert f"late-{backend}" not in names


def test_cli_backup_and_restore(backend, tmp_path, small_backup):
    engine, _ = small_backup
    url, target = _empty_target(backend, tmp_path)
    try:
        src_url = engine.url.render_as_string(hide_password=False)
        out = tmp_path / "cli.zip"
        app = create_app(app_config(src_url, tmp_path))
        result = app.test_cli_runner().invoke(args=["backup", str(out)])
        assert result.exit_code == 0, result.output
        restore_app = create_app(app_config(url, tmp_path / "t"))
        result = restore_app.test_cli_runner().invoke(args=["restore", str(out)])
        assert result.exit_code == 0, result.output
        assert _counts(target)["areas"] == _counts(engine)["areas"]
        result = restore_app.test_cli_runner().invoke(args=["restore", str(out)])
        assert result.exit_code != 0
        assert "empty database" in result.output
    finally:
        target.dispose()
        drop_database(url)
