"""The one way data reaches a map page: JSON in a ``<script type="application/json">`` element,
drawn by our own static scripts (maps/static/maps/*.js), which write every text with
textContent and never build HTML or JS from it. Pure (no Flask).

folium's own markers, tooltips and popups paste their text into generated JavaScript (template
strings run ``${...}``, a backtick breaks the page, ``</script>`` ends it), and folium compiles
each element's output as a Jinja template once more, so ``{{ ... }}`` in a name runs on the
server. Page builders therefore give folium only structure (the map, empty groups, layer
control, bounds) and every name, title or geometry goes through ``MapData``; the folium script
then holds no user data, and carries the request's CSP nonce (emergency/csp.py).
"""

from branca.element import Element, MacroElement
from folium.template import Template
from jinja2.utils import htmlsafe_json_dumps

STATIC_PREFIX = "/maps/static/maps"
SCRIPTS = ("mapdata.js",)


def page_json(value):
    """JSON text that cannot end its script element (``<``, ``>``, ``&``, ``'`` escaped)."""
    return str(htmlsafe_json_dumps(value, ensure_ascii=False))


def _present(**fields):
    """The fields that are set (pages with thousands of features carry no empty keys)."""
    return {k: v for k, v in fields.items() if v is not None}


def circle(lat, lon, style, tooltip=None, popup=None, group=None):
    """A circle marker; ``popup`` is {title, url, rows: [[label, value]], lines, images};
    ``style`` is Leaflet path options, or the key of a style in the data's ``styles``."""
    return _present(type="circle", at=[lat, lon], style=style, tooltip=tooltip, popup=popup,
                    group=group)


def line(points, style, tooltip=None, group=None):
    """A polyline through (lat, lon) points."""
    return _present(type="line", points=[list(p) for p in points], style=style,
                    tooltip=tooltip, group=group)


def geojson(data, style, highlight=None, tooltip_fields=(), group=None):
    """A GeoJSON layer; ``tooltip_fields`` are properties shown, as text, on hover."""
    return _present(type="geojson", data=data, style=style, highlight=highlight,
                    tooltip_fields=list(tooltip_fields) or None, group=group)


class _JsonScript(Element):
    """A ``<script type="application/json">`` element holding one MapData's JSON."""

    # The JSON is a value interpolated into this template. It never passes through a folium
    # macro: folium compiles a macro's output as a Jinja template again, so text in it such
    # as "{{ ... }}" would run on the server.
    _template = Template(
        '<script type="application/json" class="map-data" id="{{ this.element_id }}">'
        "{{ this.json }}</script>")

    def __init__(self, element_id, json_text):
        """Keep the element's id and its (already HTML-safe) JSON text."""
        super().__init__()
        self.element_id, self.json = element_id, json_text


class MapData(MacroElement):
    """Data for one draw function of our static scripts, attached to a map.

    ``kind`` names the function (``features``, ``legend``, ``viewport``); ``groups``
    maps the keys features use in ``group`` to folium layers (feature groups, clusters) that
    the script adds them to; ``scripts`` are the static files the function lives in.
    """

    _template = Template("")  # no macros: nothing of the data goes through folium's templates

    def __init__(self, kind, config, groups=None, scripts=SCRIPTS):
        """Keep the config; it is serialised when the page renders (the map has a name then)."""
        super().__init__()
        self._name = "MapData"
        self.kind, self.config, self.groups, self.scripts = kind, config, groups or {}, scripts

    @property
    def json(self):
        """The element's JSON: the map's and groups' variable names, the kind, the data."""
        return page_json({"map": self._parent.get_name(), "kind": self.kind,
                          "groups": {k: g.get_name() for k, g in self.groups.items()},
                          **self.config})

    def render(self, **kwargs):
        """Put the JSON in the page body and link our static scripts once in the header."""
        figure = self.get_root()
        figure.header.add_child(
            Element(f'<link rel="stylesheet" href="{STATIC_PREFIX}/mapdata.css">'),
            name="static_mapdata.css")
        for name in ("mapdata.js", *self.scripts):
            figure.header.add_child(
                Element(f'<script src="{STATIC_PREFIX}/{name}"></script>'),
                name=f"static_{name}")
        figure.html.add_child(_JsonScript(self.get_name(), self.json), name=self.get_name())
        super().render(**kwargs)
