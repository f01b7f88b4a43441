"""Page weight of every map page before its features, on the demo data.

Run: .venv/bin/python bench/bench_page_weight.py [--backend spatialite|postgis]
     [--database URL]   (a database that already holds the demo: nothing is loaded)

For each map page (the operations map `/`, `/maps/districts`, `/maps/forces`,
`/maps/hazards`, `/maps/risk/ID` of the demo's finished run, `/maps/incidents/ID` of the
demo's live incident (else its newest), `/incidents/new`), signed in as the demo admin
through the Flask test client, it weighs the HTML and every script and style sheet the page
links — what a browser fetches before the first feature request (the layers by viewport,
the offline base's areas) — as served by the app: uncompressed, gzip and brotli
(Accept-Encoding). The floor is measured in the same run: an empty map page (the shell and a
`maps.pages.base_map()` with no layer) with the same vendored assets. Sizes are bytes of the
bodies (no headers); they do not depend on the machine's load. The aim (issue 17): every map
page <= 300 KB compressed. Images and fonts that style sheets name are left out: the browser
fetches them only when an element uses them (Leaflet's layer icon, once the control is
opened on a phone, is 0.7 KB).
"""

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from common import DATA_KEY, create_database, drop_database, migrated_engine

from tests.maps.page_weight import ENCODINGS, weigh

AIM = 300 * 1024
FLOOR = "/bench/floor"


def _app(url, folder):
    """The app on ``url`` with the floor page added (before any request is served)."""
    from emergency import create_app
    from emergency.auth.permissions import allow
    from emergency.auth.roles import EVERYONE
    from maps import pages
    from maps.views import render_map

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "EMERGENCY_DATA_KEY": DATA_KEY,
                      "UPLOAD_FOLDER": str(Path(folder) / "uploads")})

    @allow(EVERYONE)
    def floor():
        """An empty map page: the shell and a base map without layers."""
        return render_map(pages.base_map(), "floor")

    app.add_url_rule(FLOOR, "bench_floor", floor)
    return app


def _ids(app):
    """The demo's newest finished risk run and its live (else newest) incident."""
    from emergency.auth.models import User
    from emergency.db import new_session
    from incidents import service as incidents
    from risk import service as risk

    with app.app_context():
        session = new_session()
        admin = session.query(User).filter_by(username="admin").one()
        runs, _total = risk.list_assessments(session, status="done", limit=1)
        found, _total = incidents.list_incidents(session, admin, limit=50)
        live = [r["id"] for r in found if r["status"] != "closed"] or [r["id"] for r in found]
        session.close()
    return (runs[0]["id"] if runs else None), (live[0] if live else None)


def _sign_in(client):
    """Sign in as the demo admin through the login form."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = client.post("/login", data={"username": "admin", "password": "demo-admin-2026",
                                         "csrf_token": token})
    assert answer.status_code == 302, answer.status_code


def _kb(n):
    """Bytes as KB with one decimal."""
    return f"{n / 1024:.1f}"


def measure(app):
    """Rows of (page, html sizes, total sizes, asset count) for the floor and every map page."""
    risk_id, incident_id = _ids(app)
    paths = [FLOOR, "/", "/maps/districts", "/maps/forces", "/maps/hazards"]
    if risk_id:
        paths.append(f"/maps/risk/{risk_id}")
    if incident_id:
        paths.append(f"/maps/incidents/{incident_id}")
    paths.append("/incidents/new")
    client = app.test_client()
    _sign_in(client)
    rows = []
    for path in paths:
        weight = weigh(client, path)
        rows.append((path, weight["parts"][path], weight["total"], len(weight["parts"]) - 1))
    return rows


def report(rows):
    """Print the table: KB per encoding, the page over the floor, and the aim."""
    floor = rows[0][2]
    head = ("page", "HTML KB (raw/gz/br)", "total KB raw", "gzip", "br", "br over floor",
            "assets", "≤ 300 KB")
    print("| " + " | ".join(head) + " |")
    print("| --- | " + " | ".join("---:" for _ in head[1:]) + " |")
    for path, html, total, assets in rows:
        over = "—" if path == FLOOR else f"+{_kb(total['br'] - floor['br'])}"
        ok = "yes" if max(total["gzip"], total["br"]) <= AIM else "**no**"
        name = "floor (empty map page)" if path == FLOOR else f"`{path}`"
        print(f"| {name} | {'/'.join(_kb(html[e]) for e in ENCODINGS)} | "
              f"{_kb(total['identity'])} | {_kb(total['gzip'])} | {_kb(total['br'])} | "
              f"{over} | {assets} | {ok} |")


def main():
    """Parse arguments, build or reuse the demo database, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("spatialite", "postgis"), default="spatialite")
    parser.add_argument("--database", help="a database holding the demo already")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-weight-")
    url, made = args.database, False
    if not url:
        url, _fresh = create_database(args.backend, folder, "weight")
        migrated_engine(url).dispose()
        made = True
    try:
        app = _app(url, folder)
        if made:
            from emergency.demo import load

            started = time.monotonic()
            with app.app_context():
                load()
            print(f"demo loaded in {time.monotonic() - started:.0f} s", file=sys.stderr)
        report(measure(app))
        app.extensions["emergency.db"]["engine"].dispose()
    finally:
        if made:
            drop_database(url)


if __name__ == "__main__":
    main()
