"""The hazards map: clustered report markers coloured by status, with photo popups.

Pure folium (no Flask, no database): the view passes report records from the service.
"""

import folium
from branca.element import MacroElement
from folium.plugins import FastMarkerCluster
from folium.template import Template

from maps.pages import base_map

STATUS_COLOURS = {
    "reported": "#d32f2f",
    "verified": "#f57c00",
    "rectifying": "#fbc02d",
    "rectified": "#1976d2",
    "closed": "#388e3c",
    "rejected": "#757575",
}

# Builds each marker from a compact row; every user-supplied text goes in via textContent,
# never as HTML, so a description cannot inject markup into the page.
MARKER_CALLBACK = """
function (row) {
    var colours = %(colours)s;
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]), {
        radius: row[9] ? 8 : 6, color: row[9] ? '#000' : colours[row[3]],
        weight: row[9] ? 2 : 1, fillColor: colours[row[3]], fillOpacity: 0.85});
    marker.options.overdue = row[9];
    marker.bindPopup(function () {
        var box = document.createElement('div');
        box.className = 'hazard-popup';
        var title = document.createElement('a');
        title.href = '/hazards/' + row[2];
        title.textContent = '#' + row[2] + ' ' + row[5] + ' · ' + row[6];
        box.appendChild(title);
        var lines = [row[4] + (row[9] ? ' ⚠ ' + %(overdue)s : ''), row[7], row[8]];
        lines.forEach(function (text) {
            var p = document.createElement('div');
            p.textContent = text;
            box.appendChild(p);
        });
        (row[10] || []).slice(0, 3).forEach(function (url) {
            var img = document.createElement('img');
            img.src = url; img.loading = 'lazy'; img.className = 'hazard-thumb';
            img.style.maxWidth = '96px'; img.style.margin = '2px';
            box.appendChild(img);
        });
        return box;
    });
    return marker;
}
"""

# Clusters holding an overdue report are drawn red so a supervisor sees them at low zoom.
CLUSTER_ICON = """
function (cluster) {
    var children = cluster.getAllChildMarkers();
    var late = children.some(function (m) { return m.options.overdue; });
    var size = children.length < 100 ? 34 : (children.length < 1000 ? 42 : 50);
    return L.divIcon({
        html: '<div><span>' + children.length + '</span></div>',
        className: 'marker-cluster ' + (late ? 'marker-cluster-large' : 'marker-cluster-small'),
        iconSize: new L.Point(size, size)});
}
"""


class Legend(MacroElement):
    """A fixed legend of status colours."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div id="hazard-legend" style="position:absolute;bottom:24px;left:12px;z-index:900;
             background:#fff;padding:6px 10px;border-radius:6px;font-size:13px;
             box-shadow:0 1px 4px rgba(0,0,0,.3)">
          {% for label, colour in this.items %}
          <div><span style="display:inline-block;width:12px;height:12px;border-radius:6px;
               background:{{ colour }};margin-right:6px"></span>{{ label }}</div>
          {% endfor %}
        </div>
        {% endmacro %}
    """)

    def __init__(self, items):
        """Items are (label, colour) pairs."""
        super().__init__()
        self._name = "Legend"
        self.items = items


def _row(record):
    """A compact marker row: lat, lon, id, status, labels, grid, due, overdue, thumbs."""
    lon, lat = record["location"]["coordinates"][:2]
    due = record["due_at"]
    due_text = due if isinstance(due, str) or due is None else due.isoformat()
    return [round(lat, 6), round(lon, 6), record["id"], record["status"],
            record["status_label"], record["category_label"], record["severity_label"],
            record["grid_code"], (due_text or "")[:16].replace("T", " "), record["overdue"],
            record.get("photos", [])[:3]]


def hazards_map(records, status_labels, overdue_label="overdue", tile_url="", attribution="",
                bounds=None, boundaries=None):
    """A clustered map of hazard reports; ``status_labels`` maps status → legend text."""
    import json

    fmap = base_map(tile_url, attribution, canvas=True)
    # Marker clustering needs a maximum zoom, which only tile layers give otherwise.
    fmap.options["max_zoom"] = 19
    if boundaries and boundaries.get("features"):
        folium.GeoJson(boundaries, name="areas", style_function=lambda _f: {
            "color": "#555", "weight": 1, "fillOpacity": 0.03},
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False)).add_to(fmap)
    rows = [_row(r) for r in records]
    callback = MARKER_CALLBACK % {"colours": json.dumps(STATUS_COLOURS),
                                  "overdue": json.dumps(str(overdue_label))}
    FastMarkerCluster(rows, callback=callback, name="hazards",
                      icon_create_function=CLUSTER_ICON, chunkedLoading=True).add_to(fmap)
    fmap.add_child(Legend([(status_labels.get(s, s), c) for s, c in STATUS_COLOURS.items()]))
    if rows:
        lats = [r[0] for r in rows]
        lons = [r[1] for r in rows]
        fmap.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]], max_zoom=15)
    elif bounds:
        fmap.fit_bounds(bounds)
    folium.LayerControl(collapsed=True).add_to(fmap)
    return fmap
