"""The operations map: risk, teams by category, open hazards and live incidents, with a layer
control, place search and a legend. Pure (no Flask, no database).

The city-scale layers (areas, the risk run's cells) are drawn from vector tiles; the point
layers (teams, hazards, incidents, disaster reports) and measures by viewport as GeoJSON,
because they are clustered and refreshed by live events (docs/maps.md, "Operations map").
The teams layers (one per category, named ``teams`` on the page) ask the forces map's
``forces`` map layer: points with their popups when a view holds few teams of the category,
squares counted by the database when it holds many (a province's 10^5 teams), drawn as
cluster icons by team-squares.js as on the forces map.
"""

from emergency.vocabulary import CATEGORY_COLOURS, RISK_COLOURS
from maps.pages import base_map, fit_view
from maps.risk import cell_url
from maps.viewport import API_PREFIX, ViewportLayers, layer_def

HAZARD_COLOURS = {"reported": "#d32f2f", "verified": "#f57c00", "rectifying": "#fbc02d",
                  "rectified": "#1976d2"}
INCIDENT_COLOUR = "#000000"
# Direct disaster reports: purple where people died or are missing, else brown.
DISASTER_COLOUR, DISASTER_CASUALTY_COLOUR = "#795548", "#6a1b9a"
# Emergency measures' scopes: purple in force, red once expired without being lifted.
MEASURE_COLOURS = {"in_force": "#6a1b9a", "expired": "#c62828"}
# The layers each live event makes stale (maps/static/maps/operations-live.js refreshes them).
# A dispatch changes its team's status and may change its incident's.
LIVE_LAYERS = {"incident.created": ["incidents"], "incident.updated": ["incidents"],
               "dispatch.created": ["teams", "incidents"],
               "dispatch.updated": ["teams", "incidents"],
               "hazard.created": ["hazards"], "hazard.updated": ["hazards"],
               "disaster.created": ["disasters"],
               "measure.created": ["measures"], "measure.lifted": ["measures"]}
# The layers whose features in view are counted over the map (their labels' keys too);
# a layer answering squares counts the teams in them.
LIVE_COUNTS = ("incidents", "hazards", "teams")
# The map layer the teams layers ask (maps.providers.forces): points or counted squares.
TEAMS_URL = f"{API_PREFIX}/layers/forces"


def operations_layers(labels, assessment_id=None, base_areas=True):
    """The layer definitions of the operations map (see maps.viewport.layer_def), each with
    its own legend entries."""
    defs = [layer_def("areas", labels["areas"], colour="#b71c1c", fill=0.03, show=base_areas,
                      popup_fields=[("code", labels["code"]), ("level", labels["level"])],
                      tiles={}),
            layer_def("grids", labels["grids"], colour="#6a1b9a", fill=0.0, show=False,
                      popup_fields=[("code", labels["code"])])]
    if assessment_id:
        # From the run's vector tiles: cells near (id, level, gap; a click fetches the
        # cell's risk, teams and grid), squares far (with their counts per level).
        defs.append(layer_def(
            "risk", labels["risk"], fill=0.55, colour_by="level", colours=RISK_COLOURS,
            stroke_by="worst", tiles={"assessment": assessment_id},
            detail=cell_url(assessment_id),
            legend=[(labels["risk_levels"][lv], c, "fill") for lv, c in RISK_COLOURS.items()],
            popup_fields=[("level", labels["level"]), ("risk", labels["risk"]),
                          ("teams", labels["teams"]), ("cells", labels["cells"]),
                          *((f"count_{lv}", labels["risk_levels"][lv]) for lv in RISK_COLOURS),
                          ("grid_code", labels["grid"])]))
    for category, colour in CATEGORY_COLOURS.items():
        defs.append(layer_def("teams", labels["categories"].get(category, category), "point",
                              params={"category": category}, colour=colour, url=TEAMS_URL,
                              popup_fields=[("org_name", labels["organisation"]),
                                            ("status", labels["status"])],
                              popup_values={"status": labels.get("team_statuses", {})}))
    defs.append(layer_def(
        "disasters", labels["disasters"], "point", colour=DISASTER_COLOUR,
        colour_by="casualties", colours={"true": DISASTER_CASUALTY_COLOUR},
        legend=[(labels["disaster_casualties"], DISASTER_CASUALTY_COLOUR, "point"),
                (labels["disaster_other"], DISASTER_COLOUR, "point")],
        popup_fields=[(key, labels[key]) for key in (
            "kind", "dead", "missing", "injured", "affected", "houses_collapsed",
            "losses_yuan")]))
    states = labels.get("measure_statuses", {})
    defs.append(layer_def(
        "measures", labels["measures"], colour_by="status", colours=MEASURE_COLOURS,
        colour=MEASURE_COLOURS["in_force"], fill=0.15,
        legend=[(states.get(s, s), c, "fill") for s, c in MEASURE_COLOURS.items()],
        popup_fields=[("number", labels["measure_number"]), ("kind", labels["kind"]),
                      ("authority", labels["measure_authority"]),
                      ("status", labels["status"])]))
    statuses = labels.get("hazard_statuses", {})
    defs.append(layer_def("hazards", labels["hazards"], "point", colour_by="status",
                          colours=HAZARD_COLOURS, legend=[
                              (statuses.get(s, s), c, "point") for s, c in HAZARD_COLOURS.items()],
                          popup_fields=[
                              ("category", labels["category"]), ("severity", labels["severity"]),
                              ("status", labels["status"]), ("overdue", labels["overdue"])]))
    defs.append(layer_def("incidents", labels["incidents"], "point", colour=INCIDENT_COLOUR,
                          cluster=None, radius=9,
                          popup_fields=[("type", labels["type"]), ("status", labels["status"]),
                                        ("level", labels["response_level"])]))
    return defs


def operations_map(labels, assessment_id=None, tile_url="", attribution="", bounds=None,
                   omit=()):
    """The folium map of the home page; ``omit`` names layers the user may not read.

    The areas layer is on only over a tile base: without one the offline base
    (maps.pages.base_map) draws and names the areas already.
    """
    fmap = base_map(tile_url, attribution, canvas=True)
    if bounds:
        fit_view(fmap, [[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    layers = [d for d in operations_layers(labels, assessment_id, base_areas=bool(tile_url))
              if d["name"] not in omit]
    ViewportLayers(layers, legend_title=labels.get("legend"), legend_id="operations-legend",
                   search=labels["search"], not_found=labels["not_found"],
                   collapsed=True, hooks=("operations", ("team-squares.js", "operations-live.js"),
                                          operations_live_page(labels, omit))).add_to(fmap)
    return fmap


def operations_live_page(labels, omit=()):
    """What operations-live.js needs: the layers each event refreshes, the counts' labels and
    those of the teams' squares (team-squares.js)."""
    return {"live": LIVE_LAYERS,
            "counts": [[name, str(labels[name])] for name in LIVE_COUNTS if name not in omit],
            "in_view": str(labels.get("in_view", "")), "updated": str(labels.get("updated", "")),
            "squares": {key: str(labels.get(key, "")) for key in ("square", "zoom_in")}}
