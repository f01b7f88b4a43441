"""The four-colour risk map of one assessment run. Pure folium: no Flask, no database.

The page never embeds cells: its script (maps/static/maps/risk.js) fetches the visible bbox
at the map's zoom from the risk map layer (``/api/v1/maps/layers/risk``: every cell of a view
holding at most ``maps.providers.RAW_CELL_LIMIT``, else the cells counted per level in squares),
draws them on one canvas renderer, marks gap cells, and loads hazard layers and rescue teams
the same way when toggled on.
"""

from emergency.vocabulary import RISK_COLOURS, RISK_LEVEL_NAMES_ZH, RISK_LEVELS
from maps.data import MapData, geojson
from maps.pages import base_map

# The national four-colour scheme (emergency.vocabulary): 重大 red, 较大 orange, 一般 yellow,
# 低 blue; the page names each level in full (重大风险 ...).
LEVEL_NAMES = {lv: f"{RISK_LEVEL_NAMES_ZH[lv]}风险" for lv in RISK_LEVELS}
GAP_STYLE = {"color": "#000000", "dashArray": "4 3", "weight": 2}


def risk_map(run, cells_url, labels, bounds=None, area_geojson=None, hazard_layers=(),
             teams_url=None, tile_url="", attribution=""):
    """The risk map page's folium map.

    ``cells_url`` is the risk map layer (bbox, zoom, assessment_id); ``hazard_layers`` are
    dicts {label, url}; ``bounds`` is (minlon, minlat, maxlon, maxlat).
    """
    fmap = base_map(tile_url, attribution, canvas=True)
    if area_geojson:
        MapData("features", {"features": [geojson(
            area_geojson, {"color": "#333333", "weight": 1.5, "fillOpacity": 0})]}).add_to(fmap)
    overlays = [{"label": layer["label"], "url": layer["url"], "limit": 1500,
                 "colour": "#8e24aa", "radius": 4,
                 "fields": [["value", labels["value"]], ["likelihood", labels["likelihood"]],
                            ["consequence", labels["consequence"]]]}
                for layer in hazard_layers]
    if teams_url:
        overlays.append({"label": labels["teams_layer"], "url": teams_url, "limit": 1000,
                         "colour": "#00897b", "radius": 6,
                         "fields": [["category", labels["category"]],
                                    ["service_radius_km", labels["radius"]],
                                    ["grade", labels["grade"]], ["status", labels["status"]]]})
    config = {"cells_url": cells_url, "layers": overlays,
              "colours": RISK_COLOURS, "names": LEVEL_NAMES, "gap_style": GAP_STYLE,
              "levels": [{"level": lv, "name": LEVEL_NAMES[lv], "colour": RISK_COLOURS[lv]}
                         for lv in RISK_LEVELS],
              "labels": {k: str(v) for k, v in labels.items()}, "run": run}
    # The drawing code is static (maps/static/maps/risk.js); layer names are data.
    MapData("risk", config, scripts=("risk.js",)).add_to(fmap)
    if bounds:
        minx, miny, maxx, maxy = bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap
