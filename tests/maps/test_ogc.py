"""OGC API – Features at /ogc: every path, parameter and error through the test client, and
GDAL's OAPIF driver (a client nobody here wrote) reading every collection from a live
server, paging and bbox included, with scopes and masking holding through both.

One committed data set and one server per module and backend (tests/maps/ogc_world.py);
the tests only read.
"""

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from shapely.geometry import box, shape
from sqlalchemy import text

from tests.auth.auth_helpers import sign_in
from tests.browser import live_server
from tests.conftest import error_of
from tests.factories import id_number
from tests.maps import ogc_world
from tests.maps.ogc_world import GRIDS, PHONES, TEAM_SPOTS

FIXED = ["areas", "grids", "teams", "hazards", "incidents", "warnings"]
CLIENT = Path(__file__).with_name("ogc_gdal_client.py")


@pytest.fixture(scope="module")
def world(backend, tmp_path_factory):
    """The data set and a live server on it, with a log of the paths it was asked for."""
    with ogc_world.world(backend, tmp_path_factory.mktemp("ogc")) as built:
        built.requests = []
        inner = built.app.wsgi_app

        def logged(environ, start_response):
            built.requests.append(environ["PATH_INFO"] + "?" + environ.get("QUERY_STRING", ""))
            return inner(environ, start_response)

        built.app.wsgi_app = logged
        with live_server(built.app) as base:
            built.base = base
            yield built


def get(world, path, who="admin", **query):
    """GET through the test client as a user (None: no credentials)."""
    headers = world.headers[who] if who else {}
    return world.app.test_client().get(path, headers=headers, query_string=query)


def ok(response, mimetype="application/json"):
    """The JSON of a 200 response of that media type."""
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == mimetype
    return json.loads(response.get_data(as_text=True))


def items(world, collection, who="admin", **query):
    """A page of items (GeoJSON)."""
    return ok(get(world, f"/ogc/collections/{collection}/items", who, **query),
              "application/geo+json")


def every_item(world, collection, who="admin", limit=2, **query):
    """Every feature, following the next links from pages of ``limit``: (ids, pages)."""
    page = items(world, collection, who, limit=limit, **query)
    ids, pages = [f["id"] for f in page["features"]], 1
    while nxt := [link["href"] for link in page["links"] if link["rel"] == "next"]:
        parts = urlsplit(nxt[0])
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        page = ok(world.app.test_client().get(parts.path, headers=world.headers[who],
                                               query_string=query), "application/geo+json")
        ids += [f["id"] for f in page["features"]]
        pages += 1
    return ids, pages


def db_count(world, sql, **params):
    """A count straight from the database."""
    with world.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def risk_id(world):
    """The risk run's collection id."""
    return f"risk-{world.ids['risk']}"


# ---- the service documents ---------------------------------------------------------------


def test_landing_conformance_and_api_definition(world):
    landing = ok(get(world, "/ogc"))
    assert ok(get(world, "/ogc/")) == landing  # a trailing slash is the same path
    rels = {link["rel"]: link for link in landing["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["data"]["href"].endswith("/ogc/collections")
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    classes = ok(get(world, "/ogc/conformance"))["conformsTo"]
    assert {c.rsplit("/", 1)[1] for c in classes} == {"core", "geojson", "oas30"}
    api = ok(get(world, "/ogc/api"), "application/vnd.oai.openapi+json")
    assert api["openapi"].startswith("3.0")
    assert {"/", "/conformance", "/api", "/collections", "/collections/{collectionId}",
            "/collections/{collectionId}/items",
            "/collections/{collectionId}/items/{featureId}"} == set(api["paths"])
    limit = next(p for p in api["paths"]["/collections/{collectionId}/items"]["get"][
        "parameters"] if p["name"] == "limit")
    assert (limit["schema"]["default"], limit["schema"]["maximum"]) == (100, 10_000)


def test_collections_with_extents_from_the_data(world):
    body = ok(get(world, "/ogc/collections"))
    described = {c["id"]: c for c in body["collections"]}
    assert list(described) == [*FIXED, risk_id(world)]
    lons = [lon for spots in TEAM_SPOTS.values() for lon, _lat in spots]
    lats = [lat for spots in TEAM_SPOTS.values() for _lon, lat in spots]
    assert described["teams"]["extent"]["spatial"]["bbox"][0] == pytest.approx(
        [min(lons), min(lats), max(lons), max(lats)])
    assert "temporal" not in described["teams"]["extent"]
    first, last = described["incidents"]["extent"]["temporal"]["interval"][0]
    assert (first, last) == ("2026-11-01T00:00:00+00:00", "2026-11-28T00:00:00+00:00")
    assert described["hazards"]["extent"]["temporal"]["interval"][0][0] is not None
    risk = described[risk_id(world)]
    west, south, east, north = risk["extent"]["spatial"]["bbox"][0]
    assert 104.9 < west < east < 105.1 and 29.7 < south < north < 29.9
    for cid, collection in described.items():
        assert {link["rel"] for link in collection["links"]} >= {"self", "items"}
        assert ok(get(world, f"/ogc/collections/{cid}"))["id"] == cid
    for unknown in ("nothing", "risk-999999", "risk-x", "risk-0"):
        response = get(world, f"/ogc/collections/{unknown}")
        assert response.status_code == 404 and error_of(response)["code"] == "not_found"
        assert get(world, f"/ogc/collections/{unknown}/items").status_code == 404


# ---- items: paging, bbox, datetime --------------------------------------------------------


def test_items_page_with_counts_links_and_every_feature_once(world):
    page = items(world, "teams", limit=2)
    assert (page["numberMatched"], page["numberReturned"]) == (5, 2)
    assert page["timeStamp"].endswith("+00:00")
    rels = {link["rel"] for link in page["links"]}
    assert {"self", "next", "collection"} <= rels and "prev" not in rels
    second = items(world, "teams", limit=2, offset=2)
    prev = next(link["href"] for link in second["links"] if link["rel"] == "prev")
    assert parse_qs(urlsplit(prev).query)["offset"] == ["0"]
    last = items(world, "teams", limit=2, offset=4)
    assert last["numberReturned"] == 1 and "next" not in {lk["rel"] for lk in last["links"]}
    assert items(world, "teams", offset=50)["features"] == []
    # Teams and risk cells are paged by key: the next link names the last feature.
    nxt = next(lk["href"] for lk in page["links"] if lk["rel"] == "next")
    assert parse_qs(urlsplit(nxt).query)["cursor"] == [str(page["features"][-1]["id"])]
    by_key = items(world, "teams", limit=2, offset=2, cursor=page["features"][-1]["id"])
    assert [f["id"] for f in by_key["features"]] == [f["id"] for f in second["features"]]
    cells = items(world, risk_id(world), limit=3)
    row, col = (cells["features"][-1]["properties"][k] for k in ("row", "col"))
    after = items(world, risk_id(world), limit=3, offset=3, cursor=f"{row}.{col}")
    assert [f["id"] for f in after["features"]] == [
        f["id"] for f in items(world, risk_id(world), limit=3, offset=3)["features"]]
    assert get(world, f"/ogc/collections/{risk_id(world)}/items",
               cursor="3").status_code == 400
    ids, pages = every_item(world, "teams")
    assert pages == 3 and sorted(ids) == sorted(world.ids["teamsA"] + world.ids["teamsB"])
    cells, pages = every_item(world, risk_id(world), limit=150)
    total = db_count(world, "SELECT count(*) FROM risk_cells WHERE assessment_id = :a",
                     a=world.ids["risk"])
    assert pages == 3 and len(set(cells)) == len(cells) == total == 400
    # Over the maximum: lowered to it, not refused.
    assert items(world, "areas", limit=99_999)["numberReturned"] == 5


def test_bbox_keeps_the_features_meeting_the_box(world):
    near = items(world, "teams", bbox="106.505,29.505,106.525,29.525")
    assert sorted(f["id"] for f in near["features"]) == sorted(world.ids["teamsA"][:2])
    assert near["numberMatched"] == 2
    # The risk cells meeting a box, against shapely over every cell of the run.
    every = items(world, risk_id(world), limit=1000)["features"]
    # From a cell's centre, so no edge of the box runs along cell edges.
    west, south = shape(every[0]["geometry"]).centroid.coords[0]
    frame = (west, south, west + 0.004, south + 0.003)
    expected = {f["id"] for f in every if shape(f["geometry"]).intersects(box(*frame))}
    found = items(world, risk_id(world), limit=1000, bbox=",".join(map(str, frame)))
    assert {f["id"] for f in found["features"]} == expected and 0 < len(expected) < 400
    three_d = items(world, "teams", bbox="106.505,29.505,0,106.525,29.525,100")
    assert three_d["numberMatched"] == 2
    assert items(world, "grids", bbox="0,0,1,1")["numberMatched"] == 0


@pytest.mark.parametrize(("collection", "when", "expected"), [
    ("incidents", "2026-11-15", 1),
    ("incidents", "2026-11-15T00:00:00Z", 1),
    ("incidents", "2026-11-15T00:00:01Z", 0),
    ("incidents", "2026-11-10T00:00:00Z/..", 2),
    ("incidents", "../2026-11-10T00:00:00Z", 1),
    ("incidents", "/2026-11-10T00:00:00Z", 1),
    ("incidents", "2026-11-01T08:00:00+08:00/2026-11-15T08:00:00+08:00", 2),
    ("incidents", "../..", 3),
    ("hazards", "../2000-01-01", 0),
    ("hazards", "2000-01-01/..", 5),
    ("warnings", "2000-01-01/2000-12-31", 0),
    ("warnings", "2000-01-01/..", 2),
])
def test_datetime_instants_and_intervals(world, collection, when, expected):
    assert items(world, collection, datetime=when)["numberMatched"] == expected


@pytest.mark.parametrize(("path", "query", "param"), [
    ("teams", {"bbox": "1,2,3"}, "bbox"),
    ("teams", {"bbox": "a,b,c,d"}, "bbox"),
    ("teams", {"bbox": "0,50,1,40"}, "bbox"),
    ("teams", {"bbox": "170,0,-170,1"}, "bbox"),
    ("teams", {"bbox": "0,0,1,1", "bbox-crs": "EPSG:3857"}, "bbox-crs"),
    ("teams", {"limit": "0"}, "limit"),
    ("teams", {"limit": "ten"}, "limit"),
    ("teams", {"limit": "-5"}, "limit"),
    ("teams", {"offset": "-1"}, "offset"),
    ("teams", {"datetime": "2026-11-01"}, "datetime"),
    ("incidents", {"datetime": "yesterday"}, "datetime"),
    ("incidents", {"datetime": "2026-11-01T08:00:00"}, "datetime"),
    ("incidents", {"datetime": "2026-13-01"}, "datetime"),
    ("incidents", {"datetime": "2026-11-20/2026-11-01"}, "datetime"),
    ("incidents", {"datetime": "/"}, "datetime"),
    ("teams", {"colour": "red"}, "colour"),
    ("teams", {"f": "xml"}, "f"),
    ("teams", {"cursor": "x"}, "cursor"),
    ("incidents", {"cursor": "1"}, "cursor"),
    ("teams", {"limit": "0", "lang": "en"}, "limit"),
])
def test_bad_parameters_are_400_naming_the_parameter(world, path, query, param):
    response = get(world, f"/ogc/collections/{path}/items", **query)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request" and param in error["details"]
    if query.get("lang") == "en":
        assert error["message"] == "invalid parameter limit: a whole number from 1 to 10000"
    else:  # Chinese first
        assert error["message"].startswith(f"参数 {param} 无效")


def test_single_features_of_every_collection(world):
    wanted = {"areas": ogc_world.DISTRICT, "grids": GRIDS[1],
              "teams": world.ids["teamsB"][0], "hazards": world.ids["hazards"][0],
              "incidents": world.ids["incidents"][1],
              "warnings": world.ids["warnings"]["published"]}
    wanted[risk_id(world)] = items(world, risk_id(world), limit=1)["features"][0]["id"]
    for collection, fid in wanted.items():
        feature = ok(get(world, f"/ogc/collections/{collection}/items/{fid}"),
                     "application/geo+json")
        assert feature["type"] == "Feature" and feature["id"] == fid
        assert feature["geometry"]["type"] in ("Point", "MultiPolygon")
        listed = items(world, collection, limit=1000)["features"]
        assert next(f for f in listed if f["id"] == fid)["properties"] == \
            feature["properties"]
        assert {link["rel"] for link in feature["links"]} == {"self", "collection"}
        for missing in ("999999", "x1", "0"):
            response = get(world, f"/ogc/collections/{collection}/items/{missing}")
            assert response.status_code == 404, (collection, missing)
            assert error_of(response)["code"] == "not_found"


# ---- sign-in, scopes and masking ----------------------------------------------------------


def test_credentials_are_required_everywhere(world):
    paths = ["/ogc", "/ogc/conformance", "/ogc/api", "/ogc/collections",
             "/ogc/collections/teams", "/ogc/collections/teams/items",
             f"/ogc/collections/teams/items/{world.ids['teamsA'][0]}"]
    bad = {"Authorization": "Bearer not-a-token"}
    for path in paths:
        for response in (get(world, path, None),
                         world.app.test_client().get(path, headers=bad),
                         world.app.test_client().get(path, headers={"Accept": "text/html"})):
            assert response.status_code == 401, path
            assert error_of(response)["code"] == "unauthorized"
    browser = world.app.test_client()
    assert sign_in(browser, "auditor").status_code == 302
    assert ok(browser.get("/ogc/collections/teams/items"), "application/geo+json")[
        "numberMatched"] == 5


def test_scopes_are_the_json_apis(world):
    # Grid staff: their own grid's reports; no teams, no incidents.
    staff = ok(get(world, "/ogc/collections", "staff"))
    assert [c["id"] for c in staff["collections"]] == [
        "areas", "grids", "teams", "hazards", "warnings", risk_id(world)]
    mine = items(world, "hazards", "staff")
    assert mine["numberMatched"] == 3
    assert {f["properties"]["grid_code"] for f in mine["features"]} == {GRIDS[0]}
    other = world.ids["hazards"][-1]
    assert get(world, f"/ogc/collections/hazards/items/{other}", "staff").status_code == 403
    assert items(world, "teams", "staff")["numberMatched"] == 0
    assert get(world, "/ogc/collections/incidents/items", "staff").status_code == 403
    assert get(world, "/ogc/collections/incidents", "staff").status_code == 403
    # Only released warnings for roles outside the bureau.
    released = items(world, "warnings", "staff")["features"]
    assert [f["id"] for f in released] == [world.ids["warnings"]["published"]]
    draft = world.ids["warnings"]["draft"]
    assert get(world, f"/ogc/collections/warnings/items/{draft}", "staff").status_code == 404
    # An organisation's administrator: their own teams only, no reports.
    own = items(world, "teams", "orgA")
    assert sorted(f["id"] for f in own["features"]) == sorted(world.ids["teamsA"])
    foreign = world.ids["teamsB"][0]
    assert get(world, f"/ogc/collections/teams/items/{foreign}", "orgA").status_code == 403
    assert get(world, "/ogc/collections/hazards/items", "orgA").status_code == 403
    # A dispatcher scoped to another city sees none of this district's incidents.
    assert items(world, "incidents", "elsewhere")["numberMatched"] == 0


def test_no_personal_data_leaves(world):
    texts = []
    for collection in [*FIXED, risk_id(world)]:
        for feature in items(world, collection, limit=3)["features"]:
            texts.append(get(world, f"/ogc/collections/{collection}/items/{feature['id']}")
                         .get_data(as_text=True))
        texts.append(get(world, f"/ogc/collections/{collection}/items",
                         limit=1000).get_data(as_text=True))
    blob = "\n".join(texts)
    members = [id_number(n) for n in (10, 11, 12, 20, 21)]
    for secret in [*PHONES, *members, "队员", "13812345678", "张三", "斜坡裂缝",
                   "reporter", "client_id", "staff", "author", "approved_by", "contact"]:
        assert secret not in blob, secret


# ---- GDAL's OAPIF driver, in a process of its own -----------------------------------------


def gdal(world, who, *reads):
    """Run GDAL's OAPIF driver on the live server as ``who``; its results per read."""
    job = {"url": f"{world.base}/ogc", "token": world.token(who) if who else None,
           "reads": list(reads)}
    done = subprocess.run([sys.executable, str(CLIENT)], input=json.dumps(job),
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


TABLES = {"areas": "SELECT count(*) FROM areas", "grids": "SELECT count(*) FROM grids",
          "teams": "SELECT count(*) FROM teams",
          "hazards": "SELECT count(*) FROM hazard_reports",
          "incidents": "SELECT count(*) FROM incidents",
          "warnings": "SELECT count(*) FROM warnings"}


def test_gdal_reads_every_collection_page_by_page(world):
    collections = [*FIXED, risk_id(world)]
    start = len(world.requests)
    listed, *read = gdal(world, "admin", {}, *({"layer": c, "page_size": 2}
                                              for c in FIXED),
                         {"layer": risk_id(world), "page_size": 150})
    assert listed["layers"] == collections
    for collection, result in zip(collections, read, strict=True):
        assert "error" not in result, result
        sql = TABLES.get(collection, "SELECT count(*) FROM risk_cells WHERE assessment_id = "
                                     f"{world.ids['risk']}")
        assert len(result["ids"]) == len(set(result["ids"])) == db_count(world, sql), collection
    teams = next(r for c, r in zip(collections, read, strict=True) if c == "teams")
    assert sorted(map(int, teams["ids"])) == sorted(world.ids["teamsA"] + world.ids["teamsB"])
    assert teams["geometry_types"] == ["Point"] and "org_name" in teams["columns"]
    asked = [p for p in world.requests[start:] if p.startswith("/ogc/collections/teams/items")]
    offsets = {parse_qs(p.split("?", 1)[1]).get("offset", ["0"])[0] for p in asked}
    assert {"0", "2", "4"} <= offsets
    risk_pages = [p for p in world.requests[start:]
                  if p.startswith(f"/ogc/collections/{risk_id(world)}/items")
                  and "offset=" in p]
    assert len(risk_pages) >= 2


def test_gdal_bbox_and_scopes(world):
    every = items(world, risk_id(world), limit=1000)["features"]
    # From a cell's centre, so no edge of the box runs along cell edges.
    west, south = shape(every[0]["geometry"]).centroid.coords[0]
    frame = (west, south, west + 0.004, south + 0.003)
    expected = {f["id"] for f in every if shape(f["geometry"]).intersects(box(*frame))}
    cells, teams = gdal(world, "admin", {"layer": risk_id(world), "bbox": list(frame)},
                        {"layer": "teams", "bbox": [106.505, 29.505, 106.525, 29.525]})
    assert set(map(int, cells["ids"])) == expected
    assert sorted(map(int, teams["ids"])) == sorted(world.ids["teamsA"][:2])
    hazards, staff_teams, incidents = gdal(world, "staff", {"layer": "hazards"},
                                           {"layer": "teams"}, {"layer": "incidents"})
    assert len(hazards["ids"]) == 3
    assert {v["grid_code"] for v in hazards["values"]} == {GRIDS[0]}
    assert staff_teams["ids"] == [] and "error" in incidents
    (own,) = gdal(world, "orgA", {"layer": "teams"})
    assert sorted(map(int, own["ids"])) == sorted(world.ids["teamsA"])
    (refused,) = gdal(world, None, {})
    assert "401" in refused["error"]
