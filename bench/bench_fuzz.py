"""A longer schemathesis run of the whole API, as every role, on SpatiaLite and PostGIS.

The suite fuzzes with a small budget on SpatiaLite only (tests/hardening/test_hardening_fuzz.py);
this runs many more examples per operation, positive and negative, on both backends, against
a scratch database holding the demonstration data (so ids and scopes hit real objects). It
prints every failure (5xx, or a response that does not match the OpenAPI document) and exits
non-zero when there is one that tests/hardening/test_hardening_fuzz.py does not already know.

    .venv/bin/python bench/bench_fuzz.py [--backend spatialite|postgis|both] [--examples N]
        [--only TEXT ...]

Scratch databases are removed afterwards; nothing listens on the network (WSGI in-process).
With the default 40 examples a run of both backends takes roughly 10-20 minutes on two cores.
"""

import argparse
import sys
import tempfile
import time

from common import DATA_KEY, scratch_database

ROLES = ("admin", "planner", "dispatcher", "grid_staff", "org_admin", "auditor")


def _headers(app):
    """A bearer header per role (grid staff get a demo grid, org_admin a demo organisation)."""
    from sqlalchemy import select

    from emergency.auth import service
    from emergency.db import new_session
    from emergency.geo.models import Grid

    session = new_session()
    session.info["actor"] = "bench"
    grid = session.scalar(select(Grid.code).limit(1))
    org_id = None
    try:
        from registry.models import Organisation

        org_id = session.scalar(select(Organisation.id).limit(1))
    except ImportError:
        pass
    headers = {}
    for role in ROLES:
        name = f"fuzz-{role}"
        service.create_user(session, name, role, "correct horse battery",
                            [grid] if role == "grid_staff" and grid else (),
                            org_id if role == "org_admin" else None)
        headers[role] = {"Authorization": f"Bearer {service.create_token(session, name, 1)}"}
    session.commit()
    session.close()
    headers["anonymous"] = {}
    return headers


def run(backend, examples, only):
    """Fuzz one backend; returns the failures not yet known to the suite."""
    from emergency import create_app, migrate
    from emergency.demo import load
    from tests.hardening.hardening_fuzz import fuzz
    from tests.hardening.test_hardening_fuzz import _known

    with (tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp,
          scratch_database(backend, tmp, "fuzz") as url):
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                          "EMERGENCY_DATA_KEY": DATA_KEY, "UPLOAD_FOLDER": f"{tmp}/uploads"})
        with app.app_context():
            migrate.upgrade()
            load()
            headers = _headers(app)
        started = time.monotonic()
        failures, calls = fuzz(app, headers, max_examples=examples, only=only)
        took = time.monotonic() - started
    new = [f for f in failures if not _known(f)]
    print(f"\n== {backend}: {calls} calls in {took:.0f} s, {len(failures)} failures "
          f"({len(new)} not yet known)")
    for label, role, mode, text in failures:
        marker = "NEW " if (label, role, mode, text) in new else "known "
        print(f"-- {marker}{label} as {role} ({mode})\n{text}\n")
    return new


def main():
    """Parse options and fuzz the chosen backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("spatialite", "postgis", "both"), default="both")
    parser.add_argument("--examples", type=int, default=40)
    parser.add_argument("--only", nargs="*", help="fuzz only operations containing this text")
    args = parser.parse_args()
    backends = ("spatialite", "postgis") if args.backend == "both" else (args.backend,)
    new = []
    for backend in backends:
        new += run(backend, args.examples, args.only)
    sys.exit(1 if new else 0)


if __name__ == "__main__":
    main()
