"""The operations map builder and the home page that shows it."""

import json
import re

from maps.assets import external_urls
from maps.operations import operations_map
from maps.pages import page_parts
from maps.tilemath import snap_bbox, tile_bounds
from risk.cellstore import share_level

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
