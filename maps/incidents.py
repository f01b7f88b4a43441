"""The dispatch console map: the incident, recommended teams with distance lines, dispatches.

Pure folium (no Flask, no database): the view passes service output. Every team marker and
line carries the team id in its options so the console's script can restyle it when a
dispatch changes.
"""

import folium

from maps.pages import base_map

LEVEL_COLOURS = {1: "#b71c1c", 2: "#e65100", 3: "#f9a825", 4: "#1565c0", None: "#424242"}
TEAM_COLOUR = "#2e7d32"
EXCLUDED_COLOUR = "#9e9e9e"
DISPATCHED_COLOUR = "#1565c0"


def _latlon(point):
    """A GeoJSON point as folium's (lat, lon)."""
    lon, lat = point["coordinates"][:2]
    return lat, lon


def console_map(incident, recommended, excluded, dispatched, labels, tile_url="",
                attribution=""):
    """The console's map; ``labels`` holds translated strings (level, km, reasons)."""
    centre = _latlon(incident["location"])
    fmap = base_map(tile_url, attribution, location=centre, zoom=11)
    colour = LEVEL_COLOURS.get(incident.get("response_level"), LEVEL_COLOURS[None])
    folium.CircleMarker(centre, radius=11, color="#000", weight=2, fill=True,
                        fill_color=colour, fill_opacity=0.9,
                        tooltip=folium.Tooltip(f"{incident['title']} · {labels['level']}"),
                        ).add_to(fmap)
    bounds = [centre]
    teams = folium.FeatureGroup(name=labels["recommended"]).add_to(fmap)
    for team in recommended:
        spot = _latlon(team["location"])
        bounds.append(spot)
        tip = f"{team['name']} · {team['distance_km']:.1f} km"
        folium.PolyLine([centre, spot], color=TEAM_COLOUR, weight=2, dash_array="6 4",
                        tooltip=tip).add_to(teams)
        folium.CircleMarker(spot, radius=7, color=TEAM_COLOUR, fill=True,
                            fill_color=TEAM_COLOUR, fill_opacity=0.85, tooltip=tip,
                            ).add_to(teams)
    others = folium.FeatureGroup(name=labels["excluded"]).add_to(fmap)
    for team in excluded:
        spot = _latlon(team["location"])
        reason = labels["reasons"].get(team["reason"], team["reason"])
        folium.CircleMarker(spot, radius=5, color=EXCLUDED_COLOUR, fill=True,
                            fill_color=EXCLUDED_COLOUR, fill_opacity=0.6,
                            tooltip=f"{team['name']} · {reason}").add_to(others)
    sent = folium.FeatureGroup(name=labels["dispatched"]).add_to(fmap)
    for item in dispatched:
        if item.get("location") is None:
            continue
        spot = _latlon(item["location"])
        bounds.append(spot)
        folium.PolyLine([centre, spot], color=DISPATCHED_COLOUR, weight=3,
                        tooltip=f"{item['team_name']} · {item['status_label']}").add_to(sent)
    folium.LayerControl(collapsed=True).add_to(fmap)
    if len(bounds) > 1:
        fmap.fit_bounds(bounds, padding=(30, 30))
    return fmap
