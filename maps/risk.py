"""The four-colour risk map of one assessment run. Pure folium: no Flask, no database.

The page never embeds cells: it draws them from the risk layer's vector tiles
(``/api/v1/maps/tiles/risk/...``: cells near, squares counted per level far; maps/tile_layers.py)
with the viewport layers (maps/viewport.py, maps/static/maps/viewport.js), which load hazard
layers and rescue teams by viewport when toggled on. A tile carries a cell's id, level and
gap only; a click fetches the cell (``/api/v1/risk/assessments/ID/cells/CELL``) for its popup.
The page's script (maps/static/maps/risk.js) adds hooks: gap cells outlined, the popups, the
status line and the legend.
"""

from emergency.vocabulary import RISK_COLOURS, RISK_LEVEL_NAMES_ZH, RISK_LEVELS
from maps.data import MapData, geojson
from maps.pages import base_map, fit_view
from maps.viewport import ViewportLayers, layer_def

# The national four-colour scheme (emergency.vocabulary): 重大 red, 较大 orange, 一般 yellow,
# 低 blue; the page names each level in full (重大风险 ...).
LEVEL_NAMES = {lv: f"{RISK_LEVEL_NAMES_ZH[lv]}风险" for lv in RISK_LEVELS}
GAP_STYLE = {"color": "#000000", "dashArray": "4 3", "weight": 2}


def cell_url(run_id):
    """The URL of one cell of a run (``{id}`` left for the clicked cell): its popup's fields,
    which the tiles do not carry."""
    return f"/api/v1/risk/assessments/{int(run_id)}/cells/{{id}}"


def _overlay(name, label, url, limit, colour, radius, fields):
    """A hazard layer or the teams: bbox and limit (no zoom), off until toggled, unclustered."""
    layer = layer_def(name, label, params={"limit": limit}, show=False, colour=colour,
                      fill=0.2, cluster=None, radius=radius, url=url, zoom=False,
                      legend=[(label, colour, "point")])
    layer["fields"] = [[key, str(text)] for key, text in fields]
    return layer


def risk_map(run, cells_url, labels, bounds=None, area_geojson=None, hazard_layers=(),
             teams_url=None, tile_url="", attribution="", level_names=None):
    """The risk map page's folium map.

    ``cells_url`` is the risk map layer (bbox, zoom, assessment_id); ``hazard_layers`` are
    dicts {label, url}; ``bounds`` is (minlon, minlat, maxlon, maxlat); ``level_names`` the
    levels' names in the page's language (Chinese by default).
    """
    names = level_names or LEVEL_NAMES
    fmap = base_map(tile_url, attribution, canvas=True)
    if area_geojson:
        MapData("features", {"features": [geojson(
            area_geojson, {"color": "#333333", "weight": 1.5, "fillOpacity": 0})]}).add_to(fmap)
    legend = [(names[lv], RISK_COLOURS[lv], "fill") for lv in RISK_LEVELS]
    legend.append((labels["gap"], "#000000", "gap"))
    # The cells come as vector tiles (cells near, squares far: maps/tile_layers.py).
    layers = [layer_def("risk", labels["cells"], params={"assessment_id": run["id"]},
                        cluster=None, url=cells_url, legend=legend,
                        legend_note=labels.get("bins_note"), tiles={"assessment": run["id"]},
                        detail=cell_url(run["id"]))]
    hazard_fields = [("value", labels["value"]), ("likelihood", labels["likelihood"]),
                     ("consequence", labels["consequence"])]
    layers += [_overlay(f"hazard_{i}", layer["label"], layer["url"], 1500, "#8e24aa", 4,
                        hazard_fields) for i, layer in enumerate(hazard_layers)]
    if teams_url:
        layers.append(_overlay("teams", labels["teams_layer"], teams_url, 1000, "#00897b", 6,
                               [("category", labels["category"]),
                                ("service_radius_km", labels["radius"]),
                                ("grade", labels["grade"]), ("status", labels["status"])]))
    page = {"cells": "risk", "colours": RISK_COLOURS, "names": names,
            "gap_style": GAP_STYLE,
            "levels": [{"level": lv, "name": names[lv], "colour": RISK_COLOURS[lv]}
                       for lv in RISK_LEVELS],
            "labels": {k: str(v) for k, v in labels.items()}, "run": run}
    # The drawing code is static (viewport.js, with risk.js's hooks); layer names are data.
    ViewportLayers(layers, hooks=("risk", "risk.js", page), legend_id="risk-legend",
                   legend_title=labels.get("legend_title")).add_to(fmap)
    if bounds:
        minx, miny, maxx, maxy = bounds
        fit_view(fmap, [[miny, minx], [maxy, maxx]])
    return fmap
