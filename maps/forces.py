"""The forces map: rescue teams coloured by category, clustered, one layer per category."""

import folium
from folium.plugins import FeatureGroupSubGroup, MarkerCluster

from emergency.vocabulary import CATEGORY_COLOURS
from maps.data import MapData, circle, geojson
from maps.pages import base_map, cluster_css, light_outlines

# Clusters in their teams' category colours (maps/static/maps/mapdata.js), not
# markercluster's green, yellow and orange.
CLUSTER_ICON = "EmergencyMaps.clusterIcon"


def team_popup(team, labels):
    """The popup of one team: name (a link to its page), organisation, category, status,
    grade, service radius and readiness, as text for the page's script."""
    grade = team.get("grade")
    rows = [
        (labels["organisation"], team.get("org_name", "")),
        (labels["category"], labels["categories"].get(team["category"], team["category"])),
        (labels["status"], labels["statuses"].get(team["status"], team["status"])),
        (labels["grade"], labels["grades"].get(grade, "—") if grade else "—"),
        (labels["radius"], f"{team['service_radius_km']:g} km"),
        (labels["members"], f"{team.get('members', 0)} / {team.get('insured_members', 0)}"),
    ]
    return {"title": team["name"], "url": team.get("url"), "class": "team-popup",
            "rows": [[str(k), str(v)] for k, v in rows]}


def legend(labels, counts):
    """The legend: a section per category layer (its colour and count, shown while the layer
    is on), and the two fills that tell available teams from the others."""
    sections = [{"group": cat,
                 "items": [[f"{labels['categories'].get(cat, cat)} ({counts.get(cat, 0)})",
                            colour, "point"]]}
                for cat, colour in CATEGORY_COLOURS.items()]
    statuses = labels.get("statuses", {})
    if "available" in statuses:
        sections.append({"items": [[statuses["available"], "#424242", "point"],
                                   [labels.get("unavailable", "—"), "#bdbdbd", "point"]]})
    return {"id": "forces-legend", "title": labels.get("legend"), "sections": sections}


def forces_map(teams, labels, tile_url="", attribution="", districts=None):
    """A folium map of teams: clustered, coloured by category, a toggle layer per category.

    folium builds the map, the cluster and one empty group per category; the teams, their
    tooltips and popups are map data drawn by our script (maps.data).
    """
    fmap = base_map(tile_url, attribution)
    # MarkerCluster needs the map's maxZoom, which a map without a tile layer lacks.
    fmap.options.setdefault("max_zoom", 18)
    features = []
    # Without tiles the offline base draws and names the districts already.
    if tile_url and districts and districts.get("features"):
        features.append(geojson(light_outlines(districts), {"color": "#b71c1c", "weight": 1,
                                            "fillOpacity": 0.03}))
    cluster = MarkerCluster(name=labels.get("teams", "teams"), control=False,
                            icon_create_function=CLUSTER_ICON,
                            options={"maxClusterRadius": 50}).add_to(fmap)
    cluster.default_css = cluster_css(cluster)
    groups, counts = {}, {}
    for category in CATEGORY_COLOURS:
        name = labels["categories"].get(category, category)
        groups[category] = FeatureGroupSubGroup(cluster, name=str(name), show=True)
        fmap.add_child(groups[category])
    points = []
    for team in teams:
        category = team["category"] if team["category"] in groups else "other"
        counts[category] = counts.get(category, 0) + 1
        colour = CATEGORY_COLOURS[category]
        features.append(circle(
            team["lat"], team["lon"],
            {"radius": 8, "color": "#ffffff", "weight": 1.5, "fill": True,
             "fillColor": colour,
             "fillOpacity": 0.9 if team["status"] == "available" else 0.4},
            tooltip=team["name"], popup=team_popup(team, labels), group=category))
        points.append((team["lat"], team["lon"]))
    MapData("features", {"features": features}, groups=groups).add_to(fmap)
    MapData("legend", legend(labels, counts), groups=groups).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    if len(points) > 1:
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        fmap.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))])
    elif points:
        fmap.location, fmap.options["zoom"] = list(points[0]), 12
    return fmap
