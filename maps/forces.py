"""The forces map: rescue teams coloured by category, one toggle layer per category, loaded by
viewport. Pure folium: no Flask, no database.

The page embeds no team: each category is a viewport layer (maps/viewport.py) fetching the
``forces`` map layer for the visible bbox and zoom, which answers the view's teams as points
when it holds few of them and counted in squares when it holds many (maps.providers.forces;
10^5 teams stay a few hundred squares). Every category shares one marker cluster whose icons
are rings in the categories' colours (EmergencyMaps.clusterIcon, weighted by the squares'
counts); the page's script (maps/static/maps/forces.js) draws squares as such icons (through
team-squares.js, shared with the operations map), styles busy teams faded, writes the team
popups and the status line.
"""

from emergency.vocabulary import CATEGORY_COLOURS
from maps.data import MapData, geojson
from maps.pages import base_map, fit_view, light_outlines
from maps.viewport import ViewportLayers, layer_def

AVAILABLE_FILL, BUSY_FILL = 0.9, 0.4


def legend(labels):
    """The legend rows after the category layers' own: the two fills that tell available
    teams from the others."""
    statuses = labels.get("statuses", {})
    if "available" not in statuses:
        return []
    return [(statuses["available"], "#424242", "point"),
            (labels.get("unavailable", "—"), "#bdbdbd", "point")]


def category_layers(labels, counts, categories):
    """One viewport layer per category: named in the layer control, its legend entry with
    the number of teams the user may see, all in one cluster."""
    layers = []
    for category in categories:
        name = labels["categories"].get(category, category)
        colour = CATEGORY_COLOURS[category]
        layer = layer_def("forces", name, "point", params={"category": category},
                          colour=colour, cluster="forces", radius=8,
                          legend=[(f"{name} ({counts.get(category, 0)})", colour, "point")])
        layer["key"] = category  # the legend section's data-layer and the count's key
        layers.append(layer)
    return layers


def bounds_of(overview, categories):
    """The extent of the teams of those categories, (minlon, minlat, maxlon, maxlat)."""
    boxes = [overview[c]["bbox"] for c in categories if c in overview]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def forces_map(overview, labels, category=None, tile_url="", attribution="", districts=None):
    """The forces map page's folium map.

    ``overview`` is ``{category: {"count", "bbox"}}`` of the teams the user may see
    (registry.teams.map_overview); ``category`` keeps one category's layer only.
    """
    fmap = base_map(tile_url, attribution)
    # Without tiles the offline base draws and names the districts already.
    if tile_url and districts and districts.get("features"):
        MapData("features", {"features": [geojson(
            light_outlines(districts), {"color": "#b71c1c", "weight": 1,
                                        "fillOpacity": 0.03})]}).add_to(fmap)
    categories = [category] if category in CATEGORY_COLOURS else list(CATEGORY_COLOURS)
    counts = {c: overview.get(c, {}).get("count", 0) for c in categories}
    page = {"labels": {k: str(v) for k, v in labels.items() if isinstance(v, str)},
            "categories": {k: str(v) for k, v in labels["categories"].items()},
            "statuses": {k: str(v) for k, v in labels["statuses"].items()},
            "grades": {str(k): str(v) for k, v in labels["grades"].items()},
            "fill": {"available": AVAILABLE_FILL, "busy": BUSY_FILL}}
    ViewportLayers(category_layers(labels, counts, categories),
                   legend=legend(labels),
                   hooks=("forces", ("team-squares.js", "forces.js"), page),
                   legend_id="forces-legend",
                   legend_title=labels.get("legend")).add_to(fmap)
    box = bounds_of(overview, categories)
    if box and (box[2] - box[0] > 1e-6 or box[3] - box[1] > 1e-6):
        fit_view(fmap, [[box[1], box[0]], [box[3], box[2]]])
    elif box:
        fmap.location, fmap.options["zoom"] = [box[1], box[0]], 12
    return fmap
