"""Page weight (issue 17): every map page's HTML plus the scripts and styles it links, as
served compressed (gzip and brotli), stays under 300 KB before its features load. Sizes are
deterministic; bench/bench_page_weight.py gives the figures on the demo data."""

import json

import pytest

from risk import service as risk_service
from risk.layers import import_layer
from tests.maps.page_weight import page_assets, weigh

AIM = 300 * 1024
SITE = [106.52, 29.52]


@pytest.fixture
def pages(client, actors, place, db, tmp_path):
    """Every map page on a small place: an incident and a queued risk run over it."""
    headers = actors.header("admin")
    created = client.post("/api/v1/incidents", headers=headers, json={
        "title": "山体滑坡", "incident_type": "geological", "occurred_at": "2026-05-01T08:00:00Z",
        "location": {"type": "Point", "coordinates": SITE}, "metrics": {"injured": 1}})
    assert created.status_code == 201, created.get_json()
    path = tmp_path / "hazard.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"value": 3},
         "geometry": {"type": "Point", "coordinates": SITE}}]}))
    layer, _repaired = import_layer(db, str(path), "hazard", "hazard", value_field="value")
    run = risk_service.create_assessment(db, place["district"], 1000, [{"layer_id": layer.id}])
    db.flush()
    paths = ["/", "/maps/districts", "/maps/forces", "/maps/hazards", f"/maps/risk/{run.id}",
             f"/maps/incidents/{created.get_json()['id']}", "/incidents/new"]
    return headers, paths


def test_every_map_page_weighs_under_300_kb_compressed(client, pages):
    headers, paths = pages
    for path in paths:
        weight = weigh(client, path, headers)
        assert weight["total"]["br"] <= AIM, (path, weight["total"])
        assert weight["total"]["gzip"] <= AIM, (path, weight["total"])
        # Compression did its part: scripts and styles at a third or less.
        assert weight["total"]["br"] < weight["total"]["identity"] / 3, path


def test_map_pages_load_none_of_folium_s_unused_libraries(client, pages):
    headers, paths = pages
    for path in paths:
        html = client.get(path, headers=headers).get_data(as_text=True)
        assets = " ".join(page_assets(html))
        assert "leaflet/dist/leaflet.js" in assets, path
        for unused in ("jquery", "bootstrap.bundle", "fontawesome", "awesome-markers",
                       "glyphicons", "MarkerCluster.Default.css"):
            assert unused not in assets, (path, unused)


def test_page_assets_finds_scripts_and_style_sheets():
    html = ('<link rel="stylesheet" href="/a.css"><link href="/b.css" rel="stylesheet">'
            '<link rel="icon" href="/i.png"><script src="/c.js"></script><script>x</script>'
            '<script src="/c.js"></script>')
    assert page_assets(html) == ["/c.js", "/a.css", "/b.css"]
