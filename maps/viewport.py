"""Layers loaded by viewport: a folium element whose static script (maps/static/maps/
viewport.js) fetches each visible layer for the current bbox and zoom from
/api/v1/maps/layers/<name>, draws it on one canvas renderer, clusters points, and adds a layer
control, a legend and place search. Pure (no Flask).

Usage in any page builder::

    fmap = base_map(tile_url, attribution)
    ViewportLayers([layer_def("risk", "Risk", params={"assessment_id": 7})]).add_to(fmap)
"""

from urllib.parse import urlencode

from folium.elements import JSCSSMixin

from maps.assets import local_asset_url
from maps.data import MapData

API_PREFIX = "/api/v1/maps"


def layer_def(name, label, kind="polygon", params=None, show=True, colour="#3949ab",
              colours=None, colour_by=None, fill=0.25, popup_fields=None, cluster="auto",
              radius=6, url=None, zoom=True, legend=None, legend_note=None, tiles=None,
              detail=None, stroke_by=None, popup_values=None):
    """The description of one viewport layer for ViewportLayers.

    Points are clustered; layers with the same ``cluster`` name share one cluster group
    (e.g. one teams layer per category); ``cluster=None`` draws points unclustered. ``url``
    replaces the maps layer endpoint; ``zoom=False`` sends only bbox and ``params`` (for
    endpoints taking bbox and limit, such as /api/v1/layers/ID/features). ``legend`` is the
    layer's own legend entries, (label, colour, symbol) with symbol one of ``point``, ``fill``,
    ``outline``, ``line``, ``dash``, ``late``, ``gap`` (default: one entry, the layer's name in
    its colour); the page shows them under the layer's name while the layer is on.
    ``tiles`` (a dict of query parameters, e.g. ``{"assessment": 7}``) draws the layer from
    the vector tiles of /api/v1/maps/tiles/<name>/{z}/{x}/{y}.mvt instead of by viewport;
    ``detail`` (a URL with ``{id}``) is then fetched when a feature is clicked, and its
    ``properties`` complete the tile's for the popup (tiles carry only what drawing needs).
    ``stroke_by`` outlines a feature in ``colours[properties[stroke_by]]`` when that differs
    from its fill (tiles; GeoJSON features may carry a ``stroke`` colour instead).
    ``popup_values`` names a popup field's values in the page's language
    (``{field: {value: label}}``, e.g. a team's status).
    """
    if cluster == "auto":
        cluster = name if kind == "point" else None
    layer = {"name": name, "label": str(label), "kind": kind, "params": params or {},
             "cluster": cluster, "radius": radius,
             "show": show, "colour": colour, "colours": colours or {},
             "colour_by": colour_by, "fill": fill,
             "popup_fields": [[k, str(v)] for k, v in (popup_fields or [])]}
    if legend is None:
        shape = "point" if kind == "point" else ("outline" if fill < 0.1 else "fill")
        legend = [(label, colour, shape)]
    layer["legend"] = legend_rows(legend)
    if legend_note:
        layer["legend_note"] = str(legend_note)
    if url:
        layer["url"] = url
    if not zoom:
        layer["zoom"] = False
    if stroke_by:
        layer["stroke_by"] = stroke_by
    if detail:
        layer["detail"] = detail
    if popup_values:
        layer["popup_values"] = {field: {str(k): str(v) for k, v in names.items()}
                                 for field, names in popup_values.items()}
    if tiles is not None:
        query = urlencode(sorted(tiles.items()))
        layer["tiles"] = f"{API_PREFIX}/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt" + (
            f"?{query}" if query else "")
    return layer


def legend_rows(rows):
    """Legend entries as [label, colour, symbol] (symbol ``fill`` when not given)."""
    return [[str(row[0]), row[1], row[2] if len(row) > 2 else "fill"] for row in rows]


class ViewportLayers(JSCSSMixin, MapData):
    """Loads, draws and refreshes viewport layers; optional search box and legend.

    The drawing code is static (maps/static/maps/viewport.js); labels are map data.
    """

    default_js = [("markerclusterjs", local_asset_url("markerclusterjs"))]
    # Not MarkerCluster.Default.css: cluster icons are drawn in the layers' colours.
    default_css = [("markerclustercss", local_asset_url("markerclustercss"))]

    def __init__(self, layers, legend=(), search=None, not_found="—", collapsed=False,
                 api=API_PREFIX, hooks=None, legend_title=None, legend_id=None):
        """``layers`` from layer_def(); ``search`` is the box's placeholder (None: no box).
        ``legend`` adds rows after the layers' own; ``legend_title`` makes the legend a box
        that folds away under that title.

        ``hooks`` is (name, script, page data): the page's static script registers style,
        popup and status hooks as EmergencyMaps.viewportHooks[name] and reads the data as
        ``cfg.page``; ``script`` may be a tuple of scripts, the hooks' own last (those
        before it shared with other pages, e.g. team-squares.js).
        """
        config = {"api": api, "layers": list(layers), "collapsed": collapsed,
                  "legend": legend_rows(legend),
                  "legend_title": str(legend_title) if legend_title else None,
                  "legend_id": legend_id,
                  "search": str(search) if search else None, "not_found": str(not_found)}
        scripts = ("viewport.js",)
        if hooks:
            name, script, page = hooks
            config.update(hooks=name, page=page)
            scripts += (script,) if isinstance(script, str) else tuple(script)
        super().__init__("viewport", config, scripts=scripts)
        if not any(layer["cluster"] for layer in config["layers"]):
            # Nothing clusters (the risk page): the page need not load markercluster.
            self.default_js, self.default_css = [], []
        if any(layer.get("tiles") for layer in config["layers"]):
            self.default_js = [*self.default_js, ("vectorGrid", local_asset_url("vectorGrid"))]
        self._name = "ViewportLayers"
