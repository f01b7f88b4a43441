"""Bytes per row, on PostGIS, of the tables that grow with the country: the basis of the Citus
sizing in docs/scale.md.

Inserts N synthetic risk cells (1 km squares as in a real run, every column filled) and N
members (personal data encrypted with the real cipher, as the registry stores it) into a
scratch database, then reads PostgreSQL's own sizes: heap, indexes and TOAST per row. Prints
the machine's load average with the figures.

    .venv/bin/python bench/bench_row_sizes.py [--rows 50000]
"""

import argparse
import random
import tempfile
import time

from common import DATA_KEY, create_database, drop_database, load_average, migrated_engine


def _cells(engine, rows):
    """N cells of one assessment, 1 km squares in a block (like a run's output)."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import MultiPolygon, box
    from sqlalchemy import insert

    from emergency.db import utcnow
    from emergency.geo.models import Area
    from risk.models import RiskAssessment, RiskCell

    rng = random.Random(1)
    with engine.begin() as conn:
        conn.execute(insert(Area.__table__), {
            "code": "990101", "name": "基准区", "level": "district", "parent_code": None,
            "geom": from_shape(MultiPolygon([box(106, 29, 108, 31)]), srid=4326)})
        run = conn.execute(insert(RiskAssessment.__table__).values(
            area_code="990101", cell_size_m=1000, status="done", progress=1.0, layers=[],
            params={}, created_at=utcnow(), cell_count=rows).returning(
            RiskAssessment.id)).scalar()
        side, step = int(rows ** 0.5) + 1, 0.009
        batch = []
        for n in range(rows):
            r, c = divmod(n, side)
            lon, lat = 106 + c * step, 29 + r * step
            batch.append({
                "assessment_id": run, "row": r, "col": c, "area_code": "990101",
                "grid_code": f"990101-{n % 997:03d}", "area_m2": 1e6,
                "hazard": rng.random(), "exposure": rng.random(),
                "vulnerability": rng.random(), "capacity": rng.random(),
                "teams": rng.randint(0, 5), "likelihood": rng.randint(1, 5),
                "consequence": rng.randint(1, 5), "risk": rng.random(),
                "level": rng.randint(1, 4), "gap": rng.random() < 0.05,
                "geom": from_shape(MultiPolygon([box(lon, lat, lon + step, lat + step)]),
                                   srid=4326)})
            if len(batch) == 5000:
                conn.execute(insert(RiskCell.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(RiskCell.__table__), batch)


def _members(engine, rows):
    """N members of one team, personal data encrypted with the registry's cipher."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point
    from sqlalchemy import insert

    from emergency.db import utcnow
    from registry.crypto import cipher_for
    from registry.models import Organisation, RescueTeam, TeamMember

    cipher = cipher_for(DATA_KEY)
    rng = random.Random(2)
    with engine.begin() as conn:
        point = from_shape(Point(106.5, 29.5), srid=4326)
        org = conn.execute(insert(Organisation.__table__).values(
            name="基准救援队", credit_code="91500000MA5U000000", contact_name="联系人",
            contact_phone_enc=cipher.encrypt("13800000000"), contact_phone_masked="138****0000",
            location=point).returning(Organisation.id)).scalar()
        team = conn.execute(insert(RescueTeam.__table__).values(
            org_id=org, name="一队", category="mountain", location=point).returning(
            RescueTeam.id)).scalar()
        batch = []
        for n in range(rows):
            idn = f"5001{n:013d}X"  # 18 characters, one per member
            phone = f"13{rng.randint(100000000, 999999999)}"
            batch.append({
                "team_id": team, "name": "张三丰", "id_number_enc": cipher.encrypt(idn),
                "id_number_masked": idn[:6] + "********" + idn[-4:],
                "phone_enc": cipher.encrypt(phone),
                "phone_masked": phone[:3] + "****" + phone[-4:],
                "person_hash": cipher.lookup_hash(idn), "skills": ["rope", "first_aid"],
                "created_at": utcnow()})
            if len(batch) == 5000:
                conn.execute(insert(TeamMember.__table__), batch)
                batch = []
        if batch:
            conn.execute(insert(TeamMember.__table__), batch)


def _sizes(engine, table):
    """(rows, heap+TOAST bytes per row, index bytes per row)."""
    from sqlalchemy import text

    with engine.connect() as conn:
        conn.execute(text(f"ANALYZE {table}"))
        rows = conn.scalar(text(f"SELECT count(*) FROM {table}"))
        heap = conn.scalar(text(f"SELECT pg_table_size('{table}')"))
        index = conn.scalar(text(f"SELECT pg_indexes_size('{table}')"))
    return rows, heap / rows, index / rows


def main():
    """Fill, measure, print, drop."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-rows-")
    url, _fresh = create_database("postgis", folder, "rowsizes")
    engine = migrated_engine(url)
    try:
        began = time.perf_counter()
        _cells(engine, args.rows)
        cells_s = time.perf_counter() - began
        began = time.perf_counter()
        _members(engine, args.rows)
        members_s = time.perf_counter() - began
        for table, seconds in (("risk_cells", cells_s), ("members", members_s)):
            rows, heap, index = _sizes(engine, table)
            print(f"{table}: {rows} rows, {heap:.0f} B/row heap+TOAST, {index:.0f} B/row "
                  f"indexes, {heap + index:.0f} B/row in all; inserted at "
                  f"{rows / seconds:.0f} rows/s; {load_average()}")
    finally:
        engine.dispose()
        drop_database(url)


if __name__ == "__main__":
    main()
