"""Pure builders that turn service output into folium maps (no Flask, no database)."""

import folium

from maps.assets import offline

CHONGQING_CENTRE = (29.9, 107.8)


def base_map(tile_url="", attribution="", location=CHONGQING_CENTRE, zoom=7, canvas=True):
    """An offline folium map; with no tile URL the area boundaries serve as the base."""
    # MarkerCluster needs the map's maxZoom, which folium leaves unset without a tile layer.
    fmap = folium.Map(location=location, zoom_start=zoom, tiles=None, prefer_canvas=canvas,
                      control_scale=True, max_zoom=18, min_zoom=4)
    if tile_url:
        folium.TileLayer(tiles=tile_url, attr=attribution or " ", name="base").add_to(fmap)
    return fmap


def districts_layer(collection, name="districts"):
    """District boundaries as a GeoJson layer with a name tooltip."""
    return folium.GeoJson(
        collection,
        name=name,
        style_function=lambda _f: {"color": "#b71c1c", "weight": 1.5, "fillColor": "#ffcdd2",
                                   "fillOpacity": 0.35},
        highlight_function=lambda _f: {"weight": 3, "fillOpacity": 0.6},
        tooltip=folium.GeoJsonTooltip(fields=["name", "code"], aliases=["", ""]),
    )


def districts_map(collection, tile_url="", attribution=""):
    """The districts page: every district drawn, the view fitted to them."""
    fmap = base_map(tile_url, attribution, canvas=False)
    layer = districts_layer(collection)
    layer.add_to(fmap)
    if collection["features"]:
        fmap.fit_bounds(layer.get_bounds())
    return fmap


def page_parts(fmap):
    """The head, body and script of a map, to embed in one of our own templates."""
    figure = offline(fmap)
    figure.render()
    return {"header": figure.header.render(), "html": figure.html.render(),
            "script": figure.script.render()}
