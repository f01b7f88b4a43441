"""The hazards map: clustered report markers coloured by status, with photo popups.

Pure folium (no Flask, no database): the view passes report records from the service.
"""

from folium.plugins import FastMarkerCluster

from maps.data import MapData, circle, geojson
from maps.pages import base_map, cluster_css, fit_view, light_outlines

STATUS_COLOURS = {
    "reported": "#d32f2f",
    "verified": "#f57c00",
    "rectifying": "#fbc02d",
    "rectified": "#1976d2",
    "closed": "#388e3c",
    "rejected": "#757575",
}

# Clusters are drawn in their reports' status colours (the legend's), ringed black when one is
# overdue so a supervisor sees them at low zoom: the icon function is static
# (maps/static/maps/mapdata.js); folium's cluster script only names it.
CLUSTER_ICON = "EmergencyMaps.clusterIcon"


def _styles():
    """Marker styles by status, and ``<status>:late`` for overdue reports (drawn bolder)."""
    styles = {}
    for status, colour in STATUS_COLOURS.items():
        styles[status] = {"radius": 6, "color": colour, "weight": 1, "fillColor": colour,
                          "fillOpacity": 0.85, "overdue": False}
        # ``overdue`` rides in the marker's options for the cluster icon (CLUSTER_ICON).
        styles[f"{status}:late"] = {**styles[status], "radius": 8, "color": "#000",
                                    "weight": 2, "overdue": True}
    return styles


def _marker(record, overdue_label):
    """One report as map data: a circle styled by status, its popup text and photos."""
    lon, lat = record["location"]["coordinates"][:2]
    due = record["due_at"]
    due_text = due if isinstance(due, str) or due is None else due.isoformat()
    late = bool(record["overdue"])
    status = record["status"] if record["status"] in STATUS_COLOURS else "rejected"
    popup = {"class": "hazard-popup", "url": f"/hazards/{int(record['id'])}",
             "title": f"#{record['id']} {record['category_label']} · "
                      f"{record['severity_label']}",
             "lines": [record["status_label"] + (f" ⚠ {overdue_label}" if late else ""),
                       record["grid_code"] or "", (due_text or "")[:16].replace("T", " ")],
             "images": list(record.get("photos", []))[:3]}
    return circle(round(lat, 6), round(lon, 6), f"{status}:late" if late else status,
                  popup=popup, group="hazards")


def hazards_map(records, status_labels, overdue_label="overdue", tile_url="", attribution="",
                bounds=None, boundaries=None, legend_title=None):
    """A clustered map of hazard reports; ``status_labels`` maps status → legend text.

    folium builds the map and an empty cluster; reports, area outlines (over tiles only: the
    offline base draws them otherwise) and the legend are map data drawn by our script
    (maps.data). The reports are the page's one layer, so there is no layer control.
    """
    fmap = base_map(tile_url, attribution, canvas=True)
    # Marker clustering needs a maximum zoom, which only tile layers give otherwise.
    fmap.options["max_zoom"] = 19
    features = []
    if tile_url and boundaries and boundaries.get("features"):
        features.append(geojson(light_outlines(boundaries),
                                {"color": "#555", "weight": 1, "fillOpacity": 0.03},
                                tooltip_fields=("name",)))
    cluster = FastMarkerCluster([], name="hazards", icon_create_function=CLUSTER_ICON,
                                control=False, chunkedLoading=True).add_to(fmap)
    cluster.default_css = cluster_css(cluster)
    features += [_marker(r, str(overdue_label)) for r in records]
    MapData("features", {"features": features, "styles": _styles()},
            groups={"hazards": cluster}, scripts=()).add_to(fmap)
    shown = {r["status"] for r in records} or set(STATUS_COLOURS)
    items = [[str(status_labels.get(s, s)), c, "point"] for s, c in STATUS_COLOURS.items()
             if s in shown]
    items.append([str(overdue_label), "#ffffff", "late"])
    MapData("legend", {"id": "hazard-legend", "title": legend_title,
                       "sections": [{"items": items}]}).add_to(fmap)
    points = [f["at"] for f in features if f["type"] == "circle"]
    if points:
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        fit_view(fmap, [[min(lats), min(lons)], [max(lats), max(lons)]], max_zoom=15)
    elif bounds:
        fit_view(fmap, bounds)
    return fmap
