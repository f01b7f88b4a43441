"""The operations map builder and the home page that shows it."""

import json
import re

from maps import providers
from maps.assets import external_urls
from maps.operations import operations_map
from maps.pages import page_parts
from maps.tilemath import snap_bbox, tile_bounds
from risk.cellstore import share_level
from tests.factories import Forces

LABELS = {k: k for k in (
    "areas grids risk teams hazards incidents code level cells counts grid organisation "
    "status category severity overdue type response_level search not_found disasters "
    "disaster_casualties disaster_other kind dead missing injured affected houses_collapsed "
    "losses_yuan measures measure_number measure_authority").split()}
LABELS["risk_levels"] = {1: "major", 2: "high", 3: "moderate", 4: "low"}
LABELS["categories"] = {"water": "水域救援"}


def _config(parts):
    """The ViewportLayers configuration: map data in the page body (maps.data)."""
    found = re.findall(r'<script type="application/json" class="map-data" id="[^"]+">(.*?)'
                       r"</script>", parts["html"], re.S)
    return next(c for c in map(json.loads, found) if c["kind"] == "viewport")


def test_operations_map_draws_city_layers_from_tiles_and_points_by_viewport_offline():
    parts = page_parts(operations_map(LABELS, assessment_id=7))
    config = _config(parts)
    names = [(d["name"], d["params"]) for d in config["layers"]]
    assert ("teams", {"category": "water"}) in names
    assert {"areas", "grids", "hazards", "incidents"} <= {n for n, _p in names}
    by_name = {d["name"]: d for d in config["layers"]}
    # the city-scale layers from vector tiles: the run's cells (a click fetches the cell)
    # and the areas; the live, clustered point layers by viewport
    assert by_name["risk"]["tiles"] == "/api/v1/maps/tiles/risk/{z}/{x}/{y}.mvt?assessment=7"
    assert by_name["risk"]["detail"] == "/api/v1/risk/assessments/7/cells/{id}"
    assert by_name["risk"]["colour_by"] == "level" and by_name["risk"]["stroke_by"] == "worst"
    assert by_name["areas"]["tiles"] == "/api/v1/maps/tiles/areas/{z}/{x}/{y}.mvt"
    assert not any(d.get("tiles") for d in config["layers"]
                   if d["name"] not in ("risk", "areas"))
    # the teams layers ask the forces map's layer (points, or squares when a view is full),
    # drawn by the script it shares with the forces map
    teams = [d for d in config["layers"] if d["name"] == "teams"]
    assert len(teams) == 6 and {d["url"] for d in teams} == {"/api/v1/maps/layers/forces"}
    assert len({d["cluster"] for d in teams}) == 1
    assert "/maps/static/maps/team-squares.js" in parts["header"]
    assert "/static/vendor/leaflet.vectorgrid/" in parts["header"] + parts["script"]
    assert config["search"] == "search"
    html = parts["header"] + parts["html"] + parts["script"]
    assert external_urls(html) == []
    assert "/static/vendor/leaflet.markercluster/dist/leaflet.markercluster.js" in html


def test_without_a_finished_run_there_is_no_risk_layer():
    config = _config(page_parts(operations_map(LABELS)))
    assert "risk" not in [d["name"] for d in config["layers"]]


def test_script_cannot_be_closed_by_a_label():
    labels = {**LABELS, "hazards": "</script><script>alert(1)</script>"}
    parts = page_parts(operations_map(labels))
    assert "alert(1)" not in parts["script"]  # labels are data, never in the script
    assert "</script><script>alert(1)" not in parts["html"]
    assert _config(parts)["layers"][-2]["label"] == labels["hazards"]


def test_snapped_bbox_covers_the_view_on_the_tile_grid():
    bbox = (106.51, 29.51, 106.62, 29.58)
    snapped = snap_bbox(bbox, 10)
    assert snapped[0] <= bbox[0] and snapped[1] <= bbox[1]
    assert snapped[2] >= bbox[2] and snapped[3] >= bbox[3]
    assert snap_bbox((106.52, 29.52, 106.61, 29.57), 10) == snapped
    west, south, east, north = tile_bounds(0, 0, 0)
    assert (west, east) == (-180, 180) and round(north, 4) == 85.0511 == -round(south, 4)


def test_a_bins_level_is_the_worst_level_with_a_tenth_of_the_cells():
    counts = [[0, 1, 2, 97], [0, 10, 0, 90], [5, 5, 0, 90], [0, 0, 0, 0]]
    assert share_level(counts).tolist() == [4, 2, 2, 4]


def test_home_page_shows_the_map_and_keeps_the_role_links(client, actors, place):
    headers = actors.header("admin")
    page = client.get("/", headers=headers)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'id="operations-map"' in text and 'id="home-links"' in text
    assert "/api/v1/maps" in text
    assert external_urls(text) == []


def _teams_layer(client, headers, category):
    """The home page's teams layer of a category, as its map data describes it."""
    config = _config({"html": client.get("/", headers=headers).get_data(as_text=True)})
    return next(d for d in config["layers"]
                if d["name"] == "teams" and d["params"]["category"] == category)


def test_the_teams_layers_answer_squares_when_a_view_is_full_and_points_when_few(
        client, actors, monkeypatch):
    forces = Forces(client, actors)
    org, headers = forces.org()
    made = [forces.team(headers, org["id"], 106.50 + i / 1000, 29.5, members=0)
            for i in range(4)]
    forces.team(headers, org["id"], 106.52, 29.52, category="water", members=0)
    me = actors.header("dispatcher")
    layer = _teams_layer(client, me, "mountain")

    def view(zoom):
        response = client.get(layer["url"], headers=me, query_string={
            "bbox": "106.0,29.0,107.0,30.0", "zoom": zoom, **layer["params"]})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    # Few teams in view: each a point with what its popup shows (organisation, status).
    few = view(12)
    assert "aggregated" not in few["meta"] and few["meta"]["total"] == 4
    assert {f["id"] for f in few["features"]} == {t["id"] for t in made}
    for f in few["features"]:
        assert f["properties"]["org_name"] == org["name"]
        assert f["properties"]["status"] == "available"
        assert {k for k, _label in layer["popup_fields"]} <= set(f["properties"])
    assert layer["popup_values"]["status"]["available"] == "待命"  # shown in the popup
    # More than RAW_TEAM_LIMIT in view: squares with their counts, not a list of teams.
    monkeypatch.setattr(providers, "RAW_TEAM_LIMIT", 3)
    full = view(8)
    assert full["meta"]["aggregated"] == "bins" and full["meta"]["in_bins"] == 4
    assert sum(f["properties"]["count"] for f in full["features"]) == 4
    assert len(full["features"]) < 4  # the four teams 100 m apart share a square at z8
    assert all("name" not in f["properties"] for f in full["features"])
