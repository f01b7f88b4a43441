"""The forces map: rescue teams coloured by category, clustered, one layer per category."""

from html import escape

import folium
from folium.plugins import FeatureGroupSubGroup, MarkerCluster

from maps.pages import base_map

# Colour-blind safe palette (Okabe-Ito), one per YJ/T 1 category plus other.
CATEGORY_COLOURS = {
    "building_collapse": "#D55E00",
    "mountain": "#009E73",
    "water": "#0072B2",
    "diving": "#56B4E9",
    "medical": "#CC79A7",
    "other": "#7f7f7f",
}


def popup_html(team, labels):
    """The popup of one team: name, organisation, category, status, grade, readiness."""
    grade = team.get("grade")
    rows = [
        (labels["organisation"], team.get("org_name", "")),
        (labels["category"], labels["categories"].get(team["category"], team["category"])),
        (labels["status"], labels["statuses"].get(team["status"], team["status"])),
        (labels["grade"], labels["grades"].get(grade, "—") if grade else "—"),
        (labels["radius"], f"{team['service_radius_km']:g} km"),
        (labels["members"], f"{team.get('members', 0)} / {team.get('insured_members', 0)}"),
    ]
    body = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                   for k, v in rows)
    link = team.get("url")
    title = escape(team["name"])
    if link:
        title = f'<a href="{escape(link)}">{title}</a>'
    return f'<div class="team-popup"><b>{title}</b><table class="table table-sm mb-0">' \
           f"{body}</table></div>"


def legend_html(labels, counts):
    """A small legend: the colour and count of each category."""
    items = "".join(
        f'<div><span style="display:inline-block;width:12px;height:12px;border-radius:6px;'
        f'background:{colour};margin-right:4px"></span>'
        f'{escape(str(labels["categories"].get(cat, cat)))} ({counts.get(cat, 0)})</div>'
        for cat, colour in CATEGORY_COLOURS.items())
    return ('<div id="forces-legend" style="position:absolute;bottom:24px;left:12px;'
            'z-index:1000;background:#fff;padding:6px 10px;border-radius:4px;'
            f'box-shadow:0 1px 4px rgba(0,0,0,.3);font-size:13px">{items}</div>')


def forces_map(teams, labels, tile_url="", attribution="", districts=None):
    """A folium map of teams: clustered, coloured by category, a toggle layer per category."""
    fmap = base_map(tile_url, attribution)
    # MarkerCluster needs the map's maxZoom, which a map without a tile layer lacks.
    fmap.options.setdefault("max_zoom", 18)
    if districts and districts.get("features"):
        folium.GeoJson(districts, name=labels.get("districts", "districts"),
                       style_function=lambda _f: {"color": "#b71c1c", "weight": 1,
                                                  "fillOpacity": 0.03},
                       control=False).add_to(fmap)
    cluster = MarkerCluster(name=labels.get("teams", "teams"), control=False,
                            options={"maxClusterRadius": 50}).add_to(fmap)
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
        folium.CircleMarker(
            location=(team["lat"], team["lon"]), radius=8, color="#ffffff", weight=1.5,
            fill=True, fill_color=colour, fill_opacity=0.9 if team["status"] == "available"
            else 0.4,
            tooltip=escape(team["name"]),
            popup=folium.Popup(popup_html(team, labels), max_width=320),
        ).add_to(groups[category])
        points.append((team["lat"], team["lon"]))
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.get_root().html.add_child(folium.Element(legend_html(labels, counts)))
    if len(points) > 1:
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        fmap.fit_bounds([(min(lats), min(lons)), (max(lats), max(lons))])
    elif points:
        fmap.location, fmap.options["zoom"] = list(points[0]), 12
    return fmap
