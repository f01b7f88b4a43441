"""Offline folium pages: nothing loads from the internet and every local asset exists."""

import re

import branca.colormap
import folium
import pytest
from folium import plugins
from folium.elements import JSCSSMixin

from maps.assets import (
    DEFAULT_STATIC_PREFIX,
    VENDOR_DIR,
    VENDOR_FILES,
    configure_offline,
    external_urls,
    local_asset_url,
    missing_vendor_files,
    offline,
    vendor_path,
    vendor_urls,
)

LOCAL_TILES = "/tiles/osm/{z}/{x}/{y}.png"
LOCAL_MVT = "/maps/tiles/risk/{z}/{x}/{y}.pbf"
POINTS = [(30.27 + i * 0.01, 120.15 + i * 0.01) for i in range(20)]
POLYGON = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"name": "Zone A", "level": 3},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [120.1, 30.2]]],
            },
        }
    ],
}


@pytest.fixture
def pristine_folium(monkeypatch):
    """Undo configure_offline's class-level changes after the test, whatever it did."""
    for cls in [JSCSSMixin, *_all_subclasses(JSCSSMixin)]:
        for attr in ("default_js", "default_css"):
            if attr in cls.__dict__:
                monkeypatch.setattr(cls, attr, list(cls.__dict__[attr]))


def _all_subclasses(cls):
    """Return every subclass of cls, at any depth."""
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def build_emergency_map(legend=True):
    """Build a map with every folium feature the app's pages use, on local tiles."""
    m = folium.Map(location=[30.27, 120.15], zoom_start=10, tiles=None)
    folium.TileLayer(LOCAL_TILES, attr="Local tiles", name="Base").add_to(m)
    folium.Marker(POINTS[0], icon=folium.Icon()).add_to(m)  # glyphicon prefix by default
    folium.Marker(POINTS[1], icon=folium.Icon(icon="truck", prefix="fa", angle=45)).add_to(m)
    cluster = plugins.MarkerCluster(name="Teams").add_to(m)
    for lat_lon in POINTS:
        folium.Marker(lat_lon, popup="team").add_to(cluster)
    plugins.FastMarkerCluster(POINTS, name="Shelters").add_to(m)
    group = folium.FeatureGroup(name="Incidents").add_to(m)
    plugins.FeatureGroupSubGroup(group, name="Floods").add_to(m)
    folium.GeoJson(
        POLYGON,
        name="Risk zones",
        tooltip=folium.GeoJsonTooltip(fields=["name"]),
        popup=folium.GeoJsonPopup(fields=["level"]),
    ).add_to(m)
    plugins.VectorGridProtobuf(LOCAL_MVT, "Risk grid", {"interactive": True}).add_to(m)
    plugins.Fullscreen().add_to(m)
    plugins.LocateControl().add_to(m)
    if legend:
        branca.colormap.LinearColormap(["green", "red"], vmin=0, vmax=5).add_to(m)
    folium.LayerControl().add_to(m)
    return m


def assert_all_local(html):
    """Fail unless the page loads nothing external and every local asset is on disk."""
    assert external_urls(html) == []
    urls = vendor_urls(html)
    assert urls, "the page references no vendored asset at all"
    missing = [u for u in urls if not vendor_path(u).is_file()]
    assert missing == [], "run `npm ci && python scripts/vendor_assets.py`"


def test_default_folium_page_is_caught_loading_from_the_internet(monkeypatch):
    """Without our help folium pulls four CDNs and OSM tiles, and the detector sees each."""
    # folium's own module-level lists, untouched even if configure_offline ran earlier.
    cdn_links = folium.folium._default_js + folium.folium._default_css
    monkeypatch.setattr(folium.Map, "default_js", folium.folium._default_js)
    monkeypatch.setattr(folium.Map, "default_css", folium.folium._default_css)
    found = external_urls(folium.Map(location=[30, 120]).get_root().render())
    assert sorted(found) == sorted(
        [url for _, url in cdn_links] + ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"]
    )


def test_offline_map_with_all_plugins_loads_only_local_files(pristine_folium):
    """offline() alone makes a map with every plugin we use fully local."""
    m = build_emergency_map()
    html = offline(m).render()
    assert_all_local(html)
    for name in (
        "leaflet",
        "glyphicons_css",
        "awesome_rotate_css",
        "markerclusterjs",
        "featuregroupsubgroupjs",
        "Control.Fullscreen.js",
        "Control_locate_min_css",
        "vectorGrid",
        "d3",
    ):
        assert local_asset_url(name) in html


def test_configure_offline_makes_class_defaults_local(pristine_folium):
    """configure_offline() alone covers folium's and the plugins' default links."""
    configure_offline()
    html = build_emergency_map(legend=False).get_root().render()
    assert_all_local(html)


def test_configure_offline_is_idempotent_and_follows_the_prefix(pristine_folium):
    """A second call with another prefix moves every link to it."""
    configure_offline()
    configure_offline("/app/static/vendor")
    urls = [url for _, url in folium.Map.default_js + plugins.VectorGridProtobuf.default_js]
    assert urls and all(url.startswith("/app/static/vendor/") for url in urls)


def test_offline_uses_the_given_prefix(pristine_folium):
    """A page mounted under a sub-path links its assets there."""
    html = offline(build_emergency_map(), "/app/static/vendor").render()
    assert external_urls(html) == []
    assert "/app/static/vendor/leaflet/dist/leaflet.js" in html
    assert "/app/static/vendor/d3/d3.min.js" in html


def test_plugin_without_local_copy_is_reported(pristine_folium):
    """A plugin nobody vendored keeps its CDN link, and external_urls names it."""
    m = folium.Map(tiles=None)
    plugins.MiniMap(tile_layer=folium.TileLayer(LOCAL_TILES, attr="Local")).add_to(m)
    found = external_urls(offline(m).render())
    assert any("leaflet-minimap" in url for url in found)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdn.example.com/a.js"></script>',
        "<link rel='stylesheet' href='http://cdn.example.com/a.css'/>",
        '<img src="//cdn.example.com/a.png">',
        "<style>.x{background:url(https://cdn.example.com/a.png)}</style>",
        "<style>.x{background:url( //cdn.example.com/a.png )}</style>",
        'L.tileLayer("https://{s}.tile.example.com/{z}/{x}/{y}.png", {})',
        'L.tileLayer("//{s}.tile.example.com/{z}/{x}/{y}.png", {})',
        'L.vectorGrid.protobuf("https:\\/\\/tiles.example.com\\/{z}\\/{x}\\/{y}.pbf")',
        'var s = "wss://push.example.com/socket";',
        '<iframe src="http://localhost:8080/x"></iframe>',
    ],
)
def test_external_urls_finds_loaded_resources(snippet):
    """Scripts, stylesheets, images, CSS url() and tile templates are all reported."""
    assert len(external_urls(snippet)) == 1


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="/static/vendor/leaflet/dist/leaflet.js"></script>',
        '<a href="https://www.openstreetmap.org/copyright">OSM</a>',
        '"attribution": "\\u003ca href=\\"https://example.org/copyright\\"\\u003eX\\u003c/a\\u003e"',
        '<svg xmlns="http://www.w3.org/2000/svg"></svg>',
        "<!DOCTYPE html>",
        "// see leaflet.js for details\nvar a = 1; //no.url here",
        'L.tileLayer("/tiles/{z}/{x}/{y}.png")',
    ],
)
def test_external_urls_ignores_what_is_never_fetched(snippet):
    """Local paths, anchors, namespaces and comments are not loaded resources."""
    assert external_urls(snippet) == []


def test_vendor_path_maps_urls_to_files():
    """A vendor URL maps to the file under emergency/static/vendor; others are refused."""
    url = local_asset_url("leaflet_css")
    assert url == "/static/vendor/leaflet/dist/leaflet.css"
    assert vendor_path(url + "?v=1") == VENDOR_DIR / "leaflet" / "dist" / "leaflet.css"
    with pytest.raises(ValueError):
        vendor_path("/static/app.css")


def test_every_named_asset_is_vendored():
    """Every file the asset table names exists (vendoring ran and is complete)."""
    assert missing_vendor_files() == []


_CSS_URL = re.compile(r"""url\(\s*(?:"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|([^)]*?))\s*\)""")
_CSS_IMPORT = re.compile(r"""@import\s+["']([^"']+)["']""")


@pytest.mark.parametrize(
    "name", sorted(n for n, rel in VENDOR_FILES.items() if rel.endswith(".css"))
)
def test_css_references_resolve_to_vendored_files(name):
    """Fonts and images a vendored stylesheet points at exist beside it, none online."""
    css_path = VENDOR_DIR / VENDOR_FILES[name]
    css = css_path.read_text(encoding="utf-8")
    refs = [next(g for g in m.groups() if g is not None) for m in _CSS_URL.finditer(css)]
    refs += _CSS_IMPORT.findall(css)
    missing, online = [], []
    for ref in refs:
        if ref.startswith(("data:", "#")):
            continue  # inline data and SVG/VML fragment references load nothing
        if re.match(r"(?:[a-z]+:)?//", ref, re.I):
            online.append(ref)
            continue
        target = (css_path.parent / re.split(r"[?#]", ref, maxsplit=1)[0]).resolve()
        if not target.is_file() or VENDOR_DIR.resolve() not in target.parents:
            missing.append(ref)
    assert online == []
    assert missing == []


def test_default_prefix_is_flask_static_vendor():
    """The default prefix matches Flask's static URL for emergency/static/vendor."""
    assert DEFAULT_STATIC_PREFIX == "/static/vendor"
    assert VENDOR_DIR.parts[-3:] == ("emergency", "static", "vendor")
