"""Registry benchmark: roster import and bbox team lists on SpatiaLite and PostGIS.

Run: .venv/bin/python bench/bench_registry.py [--quick] [--backend spatialite|postgis]

For each backend it measures, in the same run and on the same database:
- importing an .xlsx roster of 100,000 members through ``roster.import_roster`` (parse,
  validate check digits, seal ID numbers and phones, keyed hashes, one bulk insert), against
  a plain bulk insert of the same number of member rows (pre-computed values, no parsing,
  validation or encryption);
- listing teams by bbox through ``teams.list_teams`` (scope, join, GeoJSON, equipment,
  total count) over 50,000 teams, against a plain indexed query (``SELECT id`` through the
  same spatial-index filter of ``emergency.spatial``).
Each measurement runs once in a forked child: wall-clock time and the peak resident memory
above the child's start (VmHWM, native allocations included). --quick uses 10,000 members
and 10,000 teams.
"""

import argparse
import io
import os
import sys
import tempfile
import time
import types
import zipfile
from datetime import date

import numpy as np
import shapely
from common import DATA_KEY, create_database, drop_database, migrated_engine
from geoalchemy2.shape import from_shape
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from emergency import spatial
from emergency.audit import service as audit
from emergency.spatial import bulk
from registry import crypto, roster, service, teams
from registry import validators as v
from registry.models import RescueTeam, TeamMember

ADMIN = types.SimpleNamespace(role="admin", org_id=None, username="bench", id=0)
CHONGQING = (105.3, 28.2, 110.2, 32.2)


SHEET_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
    'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="'
    'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
    'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
    'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="'
    'xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
    'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships"><sheets><sheet name="roster" sheetId="1" r:id="rId1"/>'
    '</sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="'
    'http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>',
}


def make_roster(count):
    """An .xlsx roster of ``count`` valid fictitious members, as bytes (inline strings)."""
    # Written as raw SpreadsheetML: openpyxl needs ~20 s for 10^5 rows on this machine.
    rng = np.random.default_rng(7)
    phones = rng.integers(0, 10**8, count)

    def row(n, values):
        """One <row> of inline-string cells."""
        cells = "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in values)
        return f'<row r="{n}">{cells}</row>'

    lines = [row(1, ["姓名", "身份证号", "手机号", "skills"])]
    for i in range(count):
        born = date(1960 + i % 40, 1 + i % 12, 1 + i % 28)
        # Area code and sequence together make every row a different person.
        number = v.make_id_number(f"5001{(i // 1000) % 100:02d}", born, i % 1000)
        lines.append(row(i + 2, [f"队员{i}", number, f"139{phones[i]:08d}", "急救"]))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
             'openxmlformats.org/spreadsheetml/2006/main"><sheetData>' + "".join(lines) +
             "</sheetData></worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in SHEET_PARTS.items():
            archive.writestr(name, body)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


def _rss_kib(field):
    """A memory figure of this process from /proc (VmRSS or VmHWM), in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def measure(fn, engine):
    """(seconds, peak MiB above the start) of ``fn`` run once in a forked child process."""
    # A child per measurement: peak RSS (VmHWM, reset through clear_refs) counts native
    # allocations too (calamine, OpenSSL), which tracemalloc would miss, in one untraced run.
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            engine.dispose(close=False)  # never share the parent's connections
            with engine.connect() as conn:  # open (and load SpatiaLite) before measuring
                conn.execute(text("SELECT 1"))
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
            base = _rss_kib("VmRSS")
            start = time.perf_counter()
            fn()
            seconds = time.perf_counter() - start
            peak = max(_rss_kib("VmHWM") - base, 0) / 1024
            os.write(write, f"{seconds} {peak}".encode())
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 200).decode()
    os.close(read)
    os.waitpid(pid, 0)
    if not answer:
        raise RuntimeError("measurement failed in the child process")
    seconds, peak = answer.split()
    return float(seconds), float(peak)


def session_for(engine):
    """A session that records the benchmark as its audit actor."""
    session = Session(bind=engine)
    session.info["actor"] = "bench"
    return session


def setup_org_team(engine, cipher):
    """One approved organisation with one team; returns (org_id, team_id)."""
    with session_for(engine) as session:
        org = service.register_org(session, cipher, ADMIN, "基准测试救援队",
                                   v.make_credit_code("52", "500103", "BN000001"), "测试",
                                   "13800000000", shapely.Point(106.5, 29.5))
        service.review_org(session, ADMIN, org.id, "approve")
        team = teams.create_team(session, ADMIN, org.id, "基准队", "mountain",
                                   shapely.Point(106.5, 29.5))
        session.commit()
        return org.id, team.id


def bench_import(engine, cipher, team_id, data, count):
    """Roster import vs a plain bulk insert of as many member rows; rolled back each time."""

    def run_import():
        with session_for(engine) as session:
            assert roster.import_roster(session, cipher, ADMIN, team_id, io.BytesIO(data)) \
                == count
            session.rollback()

    sealed = {"id_number_enc": "x" * 60, "id_number_masked": "500103********123X",
              "phone_enc": "y" * 60, "phone_masked": "139****0000"}
    rows = [{"team_id": team_id, "name": f"队员{i}", "skills": ["急救"],
             "person_hash": f"{i:064x}", **sealed} for i in range(count)]

    def run_plain():
        with session_for(engine) as session:
            # The same statements as the import (see spatial.bulk.insert_many).
            bulk.insert_many(session, TeamMember.__table__, rows)
            session.flush()
            session.rollback()

    return measure(run_import, engine), measure(run_plain, engine)


def load_teams(engine, org_id, count):
    """Bulk-insert ``count`` teams spread uniformly over Chongqing's bounding box."""
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = CHONGQING
    xs, ys = rng.uniform(minx, maxx, count), rng.uniform(miny, maxy, count)
    categories = ("building_collapse", "mountain", "water", "diving", "medical", "other")
    rows = [{"org_id": org_id, "name": f"队{i}", "category": categories[i % 6],
             "status": "available", "service_radius_km": 50,
             "location": from_shape(shapely.Point(x, y), srid=4326)}
            for i, (x, y) in enumerate(zip(xs, ys, strict=True))]
    with session_for(engine) as session:
        for start in range(0, count, 10_000):
            session.execute(insert(RescueTeam.__table__), rows[start:start + 10_000])
        session.commit()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def bench_list(engine, queries):
    """list_teams by bbox vs a plain indexed id query, over the same random boxes."""
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = CHONGQING
    boxes = []
    for _ in range(queries):
        x, y = rng.uniform(minx, maxx - 0.2), rng.uniform(miny, maxy - 0.2)
        boxes.append((x, y, x + 0.2, y + 0.2))
    found = {"service": 0, "plain": 0}
    teams = RescueTeam.__table__

    def run_service():
        with session_for(engine) as session:
            found["service"] = sum(len(teams.list_teams(session, ADMIN, bbox=b)[0])
                                   for b in boxes)
            session.rollback()

    def run_plain():
        with session_for(engine) as session:
            found["plain"] = sum(len(session.execute(
                select(teams.c.id).where(spatial.bbox_filter(session, teams, b, "location"))
                .limit(100)).all()) for b in boxes)
            session.rollback()

    result = measure(run_service, engine), measure(run_plain, engine)
    # Both paths must find the same teams (checked here, in the parent, once).
    run_service()
    run_plain()
    assert found["service"] == found["plain"], found
    return result, found["plain"] / queries


def report(backend, label, work, base):
    """One result line."""
    (t, m), (bt, bm) = work, base
    print(f"{backend:<10} {label:<38} {t:8.2f} s {m:8.1f} MiB | plain {bt:7.3f} s "
          f"{bm:7.1f} MiB | ratio time {t / bt:6.1f}x  memory {m / max(bm, 0.01):5.1f}x",
          flush=True)


def main(argv=None):
    """Run the benchmark on the chosen backends and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 members and teams")
    parser.add_argument("--backend", choices=("spatialite", "postgis"), action="append")
    args = parser.parse_args(argv)
    members = 10_000 if args.quick else 100_000
    team_count = 10_000 if args.quick else 50_000
    queries = 200
    audit.install()
    cipher = crypto.cipher_for(DATA_KEY)
    start = time.perf_counter()
    data = make_roster(members)
    print(f"roster: {members} rows, {len(data) / 2**20:.1f} MiB .xlsx "
          f"(made in {time.perf_counter() - start:.1f} s)", flush=True)
    for backend in args.backend or ("spatialite", "postgis"):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                url, _fresh = create_database(backend, tmp, "registry")
            except Exception as exc:  # PostGIS missing: say so and go on with the other
                print(f"{backend:<10} skipped: {exc}".splitlines()[0], file=sys.stderr)
                continue
            try:
                engine = migrated_engine(url, pool_size=2)
                org_id, team_id = setup_org_team(engine, cipher)
                work, base = bench_import(engine, cipher, team_id, data, members)
                report(backend, f"import .xlsx roster ({members} members)", work, base)
                load_teams(engine, org_id, team_count)
                (work, base), hits = bench_list(engine, queries)
                report(backend, f"list teams by bbox ({queries} q, {team_count} teams)",
                       work, base)
                print(f"{backend:<10} per query: {work[0] / queries * 1000:.2f} ms service, "
                      f"{base[0] / queries * 1000:.2f} ms plain, {hits:.1f} teams per box",
                      flush=True)
                engine.dispose()
            finally:
                drop_database(url)  # its connections too, should the run have failed


if __name__ == "__main__":
    main()
