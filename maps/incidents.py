"""The dispatch console map (the incident, recommended teams with distance lines, dispatches)
and the map of the page that opens an incident (a click places the point).

Pure folium (no Flask, no database): the view passes service output. Every name and title
reaches the page as map data (maps.data), never inside folium's script.
"""

import folium
from folium.utilities import get_bounds

from maps.data import MapData, circle, geojson, line
from maps.pages import base_map, districts_layer, fit_view

LEVEL_COLOURS = {1: "#b71c1c", 2: "#e65100", 3: "#f9a825", 4: "#1565c0", None: "#424242"}
TEAM_COLOUR = "#2e7d32"
EXCLUDED_COLOUR = "#9e9e9e"
DISPATCHED_COLOUR = "#1565c0"
MEASURE_COLOUR = "#6a1b9a"  # emergency measures' scopes (purple: apart from levels and teams)
# Lines to dispatched teams by the dispatch's status (ended ones are not drawn).
STATUS_COLOURS = {"requested": "#ef6c00", "accepted": DISPATCHED_COLOUR,
                  "en_route": DISPATCHED_COLOUR, "on_scene": "#2e7d32", "completed": "#757575"}


def _latlon(point):
    """A GeoJSON point as folium's (lat, lon)."""
    lon, lat = point["coordinates"][:2]
    return lat, lon


def console_map(incident, recommended, excluded, dispatched, labels, tile_url="",
                attribution="", measures=()):
    """The console's map; ``labels`` holds translated strings (level, km, reasons).

    ``measures`` are the incident's emergency measures not lifted, each with its ``scope``
    (GeoJSON) and a ``label`` (number and kind), drawn as areas when ``labels`` names them.

    folium builds the map and one empty group per kind of team; the incident, the teams, the
    lines and every tooltip are map data drawn by our script (maps.data).
    """
    centre = _latlon(incident["location"])
    fmap = base_map(tile_url, attribution, location=centre, zoom=11)
    colour = LEVEL_COLOURS.get(incident.get("response_level"), LEVEL_COLOURS[None])
    features = [circle(*centre, {"radius": 11, "color": "#000", "weight": 2, "fill": True,
                                 "fillColor": colour, "fillOpacity": 0.9},
                       tooltip=f"{incident['title']} · {labels['level']}")]
    groups = {key: folium.FeatureGroup(name=str(labels[key])).add_to(fmap)
              for key in ("recommended", "excluded", "dispatched")}
    bounds = [centre]
    for team in recommended:
        spot = _latlon(team["location"])
        bounds.append(spot)
        tip = f"{team['name']} · {team['distance_km']:.1f} km"
        features.append(line([centre, spot], {"color": TEAM_COLOUR, "weight": 2,
                                              "dashArray": "6 4"}, tip, "recommended"))
        features.append(circle(*spot, {"radius": 7, "color": TEAM_COLOUR, "fill": True,
                                       "fillColor": TEAM_COLOUR, "fillOpacity": 0.85},
                               tooltip=tip, group="recommended"))
    for team in excluded:
        spot = _latlon(team["location"])
        reason = labels["reasons"].get(team["reason"], team["reason"])
        features.append(circle(*spot, {"radius": 5, "color": EXCLUDED_COLOUR, "fill": True,
                                       "fillColor": EXCLUDED_COLOUR, "fillOpacity": 0.6},
                               tooltip=f"{team['name']} · {reason}", group="excluded"))
    if measures and labels.get("measures"):
        groups["measures"] = folium.FeatureGroup(name=str(labels["measures"])).add_to(fmap)
        features.append(measures_layer(measures, group="measures"))
    for item in dispatched:
        if item.get("location") is None or item["status"] not in STATUS_COLOURS:
            continue
        spot = _latlon(item["location"])
        bounds.append(spot)
        features.append(line([centre, spot], {"color": STATUS_COLOURS[item["status"]],
                                              "weight": 3},
                             f"{item['team_name']} · {item['status_label']}", "dispatched"))
    MapData("features", {"features": features}, groups=groups).add_to(fmap)
    legend = console_legend(labels, colour)
    if "measures" in groups:
        legend["sections"].append({"group": "measures", "title": str(labels["measures"]),
                                   "items": [[str(labels["measures"]), MEASURE_COLOUR,
                                              "fill"]]})
    MapData("legend", legend, groups=groups).add_to(fmap)
    # The console script (maps/static/maps/console.js) redraws the recommended and the
    # dispatched teams into the same groups when a live event refreshes the panel.
    MapData("console", {"colours": {"team": TEAM_COLOUR, "status": STATUS_COLOURS}},
            groups=groups, scripts=()).add_to(fmap)
    folium.LayerControl(collapsed=True).add_to(fmap)
    if len(bounds) > 1:
        fit_view(fmap, bounds, padding=(30, 30))
    return fmap


def measures_layer(measures, group=None):
    """Emergency measures' scopes as one GeoJSON layer; number and kind shown on hover."""
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": m["scope"],
         "properties": {"measure": m["label"]}} for m in measures if m.get("scope")]}
    return geojson(collection, {"color": MEASURE_COLOUR, "weight": 2, "dashArray": "4 3",
                                "fillColor": MEASURE_COLOUR, "fillOpacity": 0.12},
                   highlight={"weight": 3, "fillOpacity": 0.25}, tooltip_fields=("measure",),
                   group=group)


def console_legend(labels, incident_colour):
    """The console's legend: the incident in its level's colour, then a section per group
    (recommended and left-out teams, the lines to dispatched teams by status)."""
    statuses = labels.get("statuses", {})
    by_colour = {}
    for status, colour in STATUS_COLOURS.items():
        by_colour.setdefault(colour, []).append(str(statuses.get(status, status)))
    incident = " · ".join(str(t) for t in (labels.get("incident"), labels["level"]) if t)
    return {"id": "console-legend", "title": labels.get("legend"), "sections": [
        {"items": [[incident, incident_colour, "point"]]},
        {"group": "recommended", "title": str(labels["recommended"]),
         "items": [[str(labels["recommended"]), TEAM_COLOUR, "point"]]},
        {"group": "excluded", "title": str(labels["excluded"]),
         "items": [[str(labels["excluded"]), EXCLUDED_COLOUR, "point"]]},
        {"group": "dispatched", "title": str(labels["dispatched"]),
         "items": [[" / ".join(names), colour, "line"] for colour, names in by_colour.items()]},
    ]}


def picker_map(outlines, tile_url="", attribution=""):
    """The map of /incidents/new: the districts for orientation; a click places the incident
    (``picker`` in maps/static/maps/incident-new.js, which also runs the page's form)."""
    fmap = base_map(tile_url, attribution, zoom=8, canvas=False)
    MapData("features", {"features": [districts_layer(outlines)]}).add_to(fmap)
    MapData("picker", {}, scripts=("incident-new.js",)).add_to(fmap)
    if outlines["features"]:
        fit_view(fmap, get_bounds(outlines, lonlat=True))
    return fmap
