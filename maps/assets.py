"""The one place that makes folium pages offline: every asset is served by the app itself.

folium 0.20 links Leaflet, jQuery, Bootstrap, Font Awesome and its plugins from public CDNs
(and VectorGridProtobuf an unpinned `@latest`). Government networks are closed, so those
links are pointed at the pinned copies that `npm ci` + `scripts/vendor_assets.py` put under
emergency/static/vendor/, and `external_urls` lets tests prove no page escapes.

Page builders call `offline(m)` on each map before rendering it (or `configure_offline()`
once at start-up for folium's class defaults), and never give folium a tile URL on the
internet: pass `tiles=None` and add a `folium.TileLayer` that points at the app's own tiles.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import folium.plugins  # noqa: F401  (imported so every plugin class exists before patching)
from branca.element import Element, Figure, Link
from folium.elements import JSCSSMixin

DEFAULT_STATIC_PREFIX = "/static/vendor"
VENDOR_DIR = Path(__file__).resolve().parents[1] / "emergency" / "static" / "vendor"

# Asset name -> file under VENDOR_DIR. The names are the ones folium gives its links (the
# first item of its (name, url) tuples, also the link's name in the page header), so one
# table serves both the class defaults and links added while rendering. Paths keep npm's
# own layout so url() references inside the CSS (fonts, sprites) still resolve.
VENDOR_FILES: dict[str, str] = {
    # folium.Map
    "leaflet": "leaflet/dist/leaflet.js",
    "leaflet_css": "leaflet/dist/leaflet.css",
    "jquery": "jquery/dist/jquery.min.js",
    "bootstrap": "bootstrap/dist/js/bootstrap.bundle.min.js",
    "bootstrap_css": "bootstrap/dist/css/bootstrap.min.css",
    "glyphicons_css": "glyphicons-only-bootstrap/css/bootstrap.min.css",
    "awesome_markers_font_css": "@fortawesome/fontawesome-free/css/all.min.css",
    "awesome_markers": "leaflet.awesome-markers/dist/leaflet.awesome-markers.js",
    "awesome_markers_css": "leaflet.awesome-markers/dist/leaflet.awesome-markers.css",
    "awesome_rotate_css": "folium/leaflet.awesome.rotate.css",
    # folium.plugins: MarkerCluster (and FastMarkerCluster), FeatureGroupSubGroup,
    # Fullscreen, LocateControl, VectorGridProtobuf
    "markerclusterjs": "leaflet.markercluster/dist/leaflet.markercluster.js",
    "markerclustercss": "leaflet.markercluster/dist/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/dist/MarkerCluster.Default.css",
    "featuregroupsubgroupjs": "leaflet.featuregroup.subgroup/dist/leaflet.featuregroup.subgroup.js",
    "Control.Fullscreen.js": "leaflet.fullscreen/Control.FullScreen.js",
    "Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    "Control_locate_min_js": "leaflet.locatecontrol/dist/L.Control.Locate.min.js",
    "Control_locate_min_css": "leaflet.locatecontrol/dist/L.Control.Locate.min.css",
    "vectorGrid": "leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js",
    # branca colormap legends add d3 v3 to the header while rendering.
    "d3": "d3/d3.min.js",
    # API docs page (not folium).
    "swagger_ui_js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger_ui_preset_js": "swagger-ui-dist/swagger-ui-standalone-preset.js",
    "swagger_ui_css": "swagger-ui-dist/swagger-ui.css",
    "swagger_ui_favicon": "swagger-ui-dist/favicon-32x32.png",
}

_HEADER_HOOK_NAME = "offline_assets"


def local_asset_url(name: str, static_prefix: str = DEFAULT_STATIC_PREFIX) -> str:
    """Return the app-local URL of a vendored asset, e.g. /static/vendor/leaflet/dist/leaflet.js."""
    return f"{static_prefix.rstrip('/')}/{VENDOR_FILES[name]}"


def missing_vendor_files() -> list[str]:
    """Return the VENDOR_FILES paths that are not on disk (vendoring not run or incomplete)."""
    return sorted(rel for rel in VENDOR_FILES.values() if not (VENDOR_DIR / rel).is_file())


def _jscss_classes() -> Iterator[type]:
    """Yield every folium class that declares its own default_js/default_css lists."""
    seen: set[type] = set()
    stack = [JSCSSMixin]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
                yield sub


def _localised(links: list[tuple[str, str]], static_prefix: str) -> list[tuple[str, str]]:
    """Return (name, url) links with every known name pointed at its local copy."""
    return [
        (name, local_asset_url(name, static_prefix) if name in VENDOR_FILES else url)
        for name, url in links
    ]


def configure_offline(static_prefix: str = DEFAULT_STATIC_PREFIX) -> None:
    """Point the default links of folium's Map and of every plugin at the local copies."""
    # Class-level and process-wide on purpose: call once at start-up and every folium
    # element built afterwards, anywhere, links local files. Keyed by name, so calling it
    # again (e.g. with another prefix) is safe. Unknown plugins keep their CDN links and
    # external_urls() reports them.
    for cls in _jscss_classes():
        for attr in ("default_js", "default_css"):
            links = cls.__dict__.get(attr)  # own lists only; subclasses inherit the patch
            if links:
                setattr(cls, attr, _localised(links, static_prefix))


class _LocalHeaderLinks(Element):
    """Header element that points known header links at local copies when the page renders."""

    def __init__(self, static_prefix: str):
        """Remember the URL prefix the vendored files are served under."""
        super().__init__()
        self._name = "LocalHeaderLinks"
        self.static_prefix = static_prefix

    def render(self, **kwargs) -> str:
        """Rewrite the sibling links, which all exist by now, and render to nothing."""
        # The figure renders its map (which adds links to the header) before the header
        # itself, and this element is the header's first child, so it runs after every
        # link was added and before any is written out. That also catches links added at
        # render time, such as branca's colormap d3, which no class default controls.
        for name, child in self._parent._children.items():
            if isinstance(child, Link) and name in VENDOR_FILES:
                child.url = local_asset_url(name, self.static_prefix)
        return ""


def offline(element: Element, static_prefix: str = DEFAULT_STATIC_PREFIX) -> Figure:
    """Make the page of one map (or any element) load only local assets; return its Figure."""
    root = element.get_root()
    if not isinstance(root, Figure):
        root = Figure().add_child(root)
    root.header.add_child(_LocalHeaderLinks(static_prefix), name=_HEADER_HOOK_NAME)
    # It must render before the links it rewrites; branca keeps children in an OrderedDict.
    root.header._children.move_to_end(_HEADER_HOOK_NAME, last=False)
    return root


# An absolute URL (with a scheme) or a protocol-relative one ("//host/..."); the body stops
# at quotes, whitespace, brackets and backslashes so it works inside HTML, JS and CSS.
_URL = re.compile(r"""(?P<scheme>\b(?:https?|wss?|ftp|file):)?//(?P<rest>[^\s"'<>()\\`]+)""", re.I)
# A protocol-relative URL must start with a host, so "//" in JS comments is not one.
_HOST = re.compile(
    r"(?:(?:[\w{}-]+\.)+[\w{}-]+|localhost|\[[0-9a-f:.]+\])(?::\d+)?(?:[/?#]|$)", re.I
)
# Things that contain URLs but never make the browser fetch them.
_NOT_LOADED = re.compile(
    r"<a\b[^>]*>"  # link targets, e.g. tile attribution
    r"|\bxmlns(?::\w+)?\s*=\s*(?:\"[^\"]*\"|'[^']*')"  # XML namespace names
    r"|<!DOCTYPE[^>]*>",
    re.I,
)
_JS_ESCAPE = re.compile(r"\\u00([0-9a-f]{2})", re.I)
_HTML_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&#34;": '"', "&#39;": "'"}


def _unescaped(html: str) -> str:
    """Undo the JSON and HTML escaping folium applies to HTML inside its JS options."""
    # Attribution arrives as "\u003ca href=\"...\"\u003e" inside a JS string; unescape it
    # so the anchor filter sees a real <a> tag rather than letting its href look loaded.
    text = _JS_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), html)
    text = text.replace('\\"', '"').replace("\\'", "'").replace("\\/", "/")
    for entity, char in _HTML_ENTITIES.items():
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")


def external_urls(html: str) -> list[str]:
    """Return every non-local URL a rendered page could load (scripts, CSS, images, tiles)."""
    # Strict by design: any absolute or protocol-relative URL counts, wherever it sits
    # (src/href, CSS url(), JS strings such as tile URL templates), except anchor targets
    # and namespace names, which browsers never fetch.
    text = _NOT_LOADED.sub(" ", _unescaped(html))
    found = []
    for match in _URL.finditer(text):
        if not match.group("scheme"):
            # Only where a URL can start (after a quote, "(" or "="), so "//" comments pass.
            before = text[max(0, match.start() - 64) : match.start()].rstrip()[-1:]
            if not before or before not in "\"'(=" or not _HOST.match(match.group("rest")):
                continue
        found.append(match.group(0).rstrip(".,;"))
    return list(dict.fromkeys(found))


def vendor_urls(html: str, static_prefix: str = DEFAULT_STATIC_PREFIX) -> list[str]:
    """Return every URL under static_prefix that a rendered page references, without duplicates."""
    pattern = re.escape(static_prefix.rstrip("/")) + r"/[^\s\"'<>()\\`?#]+"
    return list(dict.fromkeys(re.findall(pattern, _unescaped(html))))


def vendor_path(url: str, static_prefix: str = DEFAULT_STATIC_PREFIX) -> Path:
    """Return the file under VENDOR_DIR that a local vendor URL is served from."""
    prefix = static_prefix.rstrip("/") + "/"
    if not url.startswith(prefix):
        raise ValueError(f"{url!r} is not under {prefix!r}")
    return VENDOR_DIR / url[len(prefix) :].split("?", 1)[0].split("#", 1)[0]
