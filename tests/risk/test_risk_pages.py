"""Risk pages: the list with its forms, and the offline four-colour map."""

import io
import json
import re

from maps.assets import external_urls
from tests.risk.risk_factories import collection, make_area, rect, start, upload


def _run(client, actors, db):
    """A finished run of a 3 x 2 km area at 500 m; (run, headers)."""
    headers = actors.header("planner")
    area = make_area(db, size=(3000, 2000))
    layer = upload(client, headers, collection([(rect(0, 0, 1500, 2000), {"value": 3})]))
    run = start(client, headers, area, 500, [{"layer_id": layer.get_json()["id"]}]).get_json()
    return run, headers


def test_risk_map_is_offline_and_loads_cells_by_viewport(client, actors, db):
    run, _headers = _run(client, actors, db)
    page = client.get(f"/maps/risk/{run['id']}", headers=actors.header("grid_staff"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert external_urls(html) == []
    for name in ("重大风险", "较大风险", "一般风险", "低风险"):
        assert name in html
    # Cells by viewport and zoom from the risk map layer (cells, or bins when zoomed out).
    assert "/api/v1/maps/layers/risk" in html and f'"id": {run["id"]}' in html
    # Drawn by the viewport layers of the other map pages (one canvas renderer, in their static
    # script: no inline drawing code), with the page's hooks in risk.js.
    script = re.search(r'<script[^>]+src="([^"]*/viewport\.js)"', html).group(1)
    with client.get(script) as response:
        assert "L.canvas" in response.get_data(as_text=True)
    assert re.search(r'<script[^>]+src="[^"]*/risk\.js"', html)
    # Cells come from the API by viewport, never embedded in the page.
    assert '"row":' not in html and html.count('"Feature"') <= 1
    assert "/api/v1/layers/" in html and "/features" in html


def test_risk_pages_name_the_levels_in_the_pages_language(client, actors, db):
    run, headers = _run(client, actors, db)
    for path in (f"/maps/risk/{run['id']}", "/risk"):
        english = client.get(f"{path}?lang=en", headers=headers).get_data(as_text=True)
        assert "Major risk" in english and "Low risk" in english
        assert "重大风险" not in english and "较大" not in english, path
        chinese = client.get(f"{path}?lang=zh", headers=headers).get_data(as_text=True)
        assert "重大风险" in chinese and "Major risk" not in chinese, path


def test_risk_map_of_unknown_run_is_404(client, actors):
    page = client.get("/maps/risk/999999", headers={**actors.header("planner"),
                                                     "Accept": "text/html"})
    assert page.status_code == 404


def test_list_page_and_forms(client, actors, db):
    run, headers = _run(client, actors, db)
    page = client.get("/risk", headers=headers)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/maps/risk/{run['id']}" in html and 'id="layer-form"' in html
    assert 'id="layer-form"' not in client.get(
        "/risk", headers=actors.header("grid_staff")).get_data(as_text=True)
    client.application.config["WTF_CSRF_ENABLED"] = False
    # Pages put a CSRF token in the session cookie; Flask-Login's strong session protection
    # then refuses the bearer token on the next request, so each step uses a fresh client.
    client = client.application.test_client()
    data = json.dumps(collection([(rect(0, 0, 500, 500), {"v": 1})])).encode()
    response = client.post("/risk/layers", headers=headers, data={
        "file": (io.BytesIO(data), "zones.geojson"), "name": "页面图层", "role": "hazard",
        "value_field": "v"}, content_type="multipart/form-data")
    assert response.status_code == 302
    with client.session_transaction() as cookie:
        assert cookie["_flashes"][0][0] == "success", cookie["_flashes"]
    client = client.application.test_client()
    listed = client.get("/api/v1/layers", headers=headers)
    assert listed.status_code == 200, listed.get_json()
    layers = listed.get_json()["items"]
    assert layers[0]["name"] == "页面图层"
    response = client.post("/risk/assessments", headers=headers, data={
        "area_code": "880000", "cell_size_m": "1000", "layer_id": [str(layers[0]["id"])]})
    assert response.status_code == 302
    client = client.application.test_client()
    runs = client.get("/api/v1/risk/assessments", headers=headers).get_json()
    assert runs["total"] == 2 and runs["items"][0]["status"] == "done"
