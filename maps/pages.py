"""Pure builders that turn service output into folium maps (no Flask, no database)."""

import re

import folium
import shapely
from folium.utilities import get_bounds
from shapely.geometry import mapping, shape

from maps.assets import local_asset_url, offline
from maps.data import MapData, geojson

CHONGQING_CENTRE = (29.9, 107.8)
# The offline base: our own areas layer by viewport (districts, streets from z9, communities
# from z12: maps.providers.AREA_LEVEL_ZOOM), light lines on a pale land fill, and each level's
# names where the area is at least BASE_LABEL_PX square pixels on screen.
BASE_LAYER_URL = "/api/v1/maps/layers/areas"
BASE_STYLES = {
    "district": {"color": "#8d6e63", "weight": 1.4, "fillColor": "#faf7f0", "fillOpacity": 1},
    "street": {"color": "#a1887f", "weight": 1, "fillColor": "#faf7f0", "fillOpacity": 1},
    "community": {"color": "#bcaaa4", "weight": 0.8, "dashArray": "3 3",
                  "fillColor": "#faf7f0", "fillOpacity": 1},
}
BASE_LABEL_PX = 2500
# What our map pages load of folium's defaults: Leaflet only. Its jQuery, Bootstrap's script,
# Font Awesome, glyphicons and awesome-markers serve folium's own markers and popups, which
# our pages never use (mapdata.js draws everything; the shell links Bootstrap's CSS): ~80 KB
# compressed saved per page.
MAP_JS = [("leaflet", local_asset_url("leaflet"))]
MAP_CSS = [("leaflet_css", local_asset_url("leaflet_css"))]
# Outlines embedded in a page are simplified to about 100 m and rounded to ~1 m.
OUTLINE_TOLERANCE = 0.001
OUTLINE_DIGITS = 5


def base_map(tile_url="", attribution="", location=CHONGQING_CENTRE, zoom=7, canvas=True):
    """An offline folium map on the configured tiles (BASEMAP_TILE_URL, passed by every map
    page), or with none on the offline base: our areas drawn and named (basemap.js)."""
    # MarkerCluster needs the map's maxZoom, which folium leaves unset without a tile layer.
    fmap = folium.Map(location=location, zoom_start=zoom, tiles=None, prefer_canvas=canvas,
                      control_scale=True, max_zoom=18, min_zoom=4)
    fmap.default_js, fmap.default_css = MAP_JS, MAP_CSS
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=attribution or " ", name="base").add_to(fmap)
    else:
        MapData("basemap", {"url": BASE_LAYER_URL, "styles": BASE_STYLES,
                            "label_px": BASE_LABEL_PX}, scripts=("basemap.js",)).add_to(fmap)
    return fmap


def fit_view(fmap, bounds, **options):
    """Fit the map to ``bounds`` (folium's fit_bounds options) without the pan animation:
    the map is at its final view when the page's layers first ask for their data
    (viewport.js, basemap.js), so they ask once; animated, the default view's requests went
    out first and the same layers were asked again ~0.2 s later."""
    element = folium.map.FitBounds(bounds, **options)
    element.options["animate"] = False
    fmap.add_child(element)
    return fmap


def cluster_css(cluster):
    """A folium marker cluster's style sheets without MarkerCluster.Default.css: our icons
    (EmergencyMaps.clusterIcon) are drawn in the markers' colours."""
    return [link for link in cluster.default_css if link[0] != "markerclusterdefaultcss"]


def light_outlines(collection, tolerance=OUTLINE_TOLERANCE, digits=OUTLINE_DIGITS):
    """A FeatureCollection of outlines simplified and rounded for embedding in a page."""
    features = []
    for f in collection.get("features", []):
        geom = shapely.set_precision(
            shape(f["geometry"]).simplify(tolerance, preserve_topology=True), 10 ** -digits)
        features.append({**f, "geometry": mapping(geom)})
    return {**collection, "features": features}


def districts_layer(collection, group=None):
    """District boundaries as map data: drawn by our script, the name and code on hover."""
    return geojson(light_outlines(collection),
                   {"color": "#b71c1c", "weight": 1.5, "fillColor": "#ffcdd2", "fillOpacity": 0.35},
                   highlight={"weight": 3, "fillOpacity": 0.6},
                   tooltip_fields=("name", "code"), group=group)


def districts_map(collection, tile_url="", attribution="", label=None):
    """The districts page: every district drawn, the view fitted to them; ``label`` names
    them in the legend."""
    fmap = base_map(tile_url, attribution, canvas=False)
    MapData("features", {"features": [districts_layer(collection)]}).add_to(fmap)
    if label:
        MapData("legend", {"id": "districts-legend", "sections": [
            {"items": [[str(label), "#ffcdd2", "fill"]]}]}).add_to(fmap)
    if collection["features"]:
        fit_view(fmap, get_bounds(collection, lonlat=True))
    return fmap


# folium's inline scripts, in the header (its global switches) or anywhere else.
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def page_parts(fmap):
    """The head, body and script of a map, to embed in one of our own templates.

    Every inline script folium wrote is moved into ``script``, the one inline script of the
    page, which the template tags with the request's CSP nonce. (The header's script sets
    folium's global switches L_NO_TOUCH and L_DISABLE_3D, read by Leaflet as it loads; ours are
    folium's defaults, false, the same as unset, so running them later changes nothing.)
    """
    figure = offline(fmap)
    figure.render()
    header, html = figure.header.render(), figure.html.render()
    moved = _INLINE_SCRIPT.findall(header) + _INLINE_SCRIPT.findall(html)
    header, html = _INLINE_SCRIPT.sub("", header), _INLINE_SCRIPT.sub("", html)
    for part in (header, html):
        # Left: <script src=...> links and JSON data. Anything else is a new folium habit
        # that must not pass unnoticed (it would be refused by the CSP).
        for tag in re.findall(r"<script\b[^>]*>", part):
            if "src=" not in tag and 'type="application/json"' not in tag:
                raise ValueError(f"unexpected inline script in a folium page: {tag}")
    return {"header": header, "html": html,
            "script": "\n".join([*moved, figure.script.render()])}
