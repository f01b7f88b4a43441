"""The demonstration data: Chongqing's 38 districts converted out of GCJ-02, idempotent load."""

import json

import pytest
from shapely.geometry import shape
from sqlalchemy import func, select

from emergency import create_app
from emergency.demo import load
from emergency.domains import metadata
from emergency.geo import chinacrs
from emergency.geo.demo import districts
from tests.conftest import app_config, drop_database, make_database


def _counts(engine):
    """Row counts of every application table (the audit log grows on purpose: excluded)."""
    tables_of = metadata()
    with engine.connect() as conn:
        return {t.name: conn.scalar(select(func.count()).select_from(t))
                for t in tables_of.sorted_tables if t.name not in ("audit_log",)}


@pytest.mark.slow
def test_demo_load_is_idempotent_and_has_38_districts(backend, tmp_path, monkeypatch):
    # The whole demo, its risk assessment on 5 km cells instead of 1 km (25 times fewer cells,
    # the same code; the risk tests run the model itself) so that the suite stays quick.
    from risk import demo as risk_demo

    monkeypatch.setattr(risk_demo, "CELL_M", 5000)
    url, engine = make_database(backend, tmp_path, "demo")
    try:
        app = create_app(app_config(url, tmp_path))
        with app.app_context():
            first_lines = load()
            first = _counts(engine)
            load()
            second = _counts(engine)
        assert first == second
        assert any("38 districts" in line for line in first_lines)
        client = app.test_client()
        from emergency.auth import service
        from emergency.db import new_session

        with app.app_context():
            session = new_session()
            token = service.create_token(session, "auditor", 1)
            session.commit()
            session.close()
        body = client.get("/api/v1/areas?level=district&limit=100",
                          headers={"Authorization": f"Bearer {token}"}).get_json()
        assert body["total"] == 38
        codes = {f["properties"]["code"] for f in body["features"]}
        assert "500103" in codes and "500101" in codes
    finally:
        app.extensions["emergency.db"]["engine"].dispose()
        engine.dispose()
        drop_database(url)


def test_district_boundaries_are_converted_out_of_gcj02():
    """The shipped boundaries sit where GCJ-02 → WGS-84 puts them (a few hundred metres off
    the raw GCJ-02 coordinates), not at the raw values."""
    for feat in districts()[:5]:
        geom = shape(feat["geometry"])
        x, y = geom.representative_point().coords[0]
        # Converting our WGS-84 point forward gives GCJ-02 that differs by 100-700 m here.
        gx, gy = chinacrs.wgs84_to_gcj02(x, y)
        assert 0.0005 < abs(gx - x) + abs(gy - y) < 0.01
        assert json.dumps(feat["properties"], ensure_ascii=False)
