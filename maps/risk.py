"""The four-colour risk map of one assessment run. Pure folium: no Flask, no database.

The page never embeds cells: its script fetches the visible bbox at the map's zoom from the
risk map layer (``/api/v1/maps/layers/risk``: every cell of a view holding at most
``maps.layers.RAW_CELL_LIMIT``, else the cells counted per level in squares), draws them on
one canvas renderer, marks gap cells, and loads hazard layers and rescue teams the same way
when toggled on.
"""

import json

import folium
from branca.element import MacroElement
from folium.template import Template

from maps.pages import base_map

# The national four-colour scheme for risk maps: 重大 red, 较大 orange, 一般 yellow, 低 blue.
LEVEL_COLOURS = {1: "#e60012", 2: "#f39800", 3: "#ffe100", 4: "#0068b7"}
LEVEL_NAMES = {1: "重大风险", 2: "较大风险", 3: "一般风险", 4: "低风险"}
GAP_STYLE = {"color": "#000000", "dashArray": "4 3", "weight": 2}


class RiskCells(MacroElement):
    """Loads cells, hazard layers and teams by viewport and draws them with a legend."""

    _template = Template("""
{% macro header(this, kwargs) %}
<style>
.risk-legend{background:#fff;padding:6px 9px;border-radius:4px;font-size:13px;
 box-shadow:0 1px 4px rgba(0,0,0,.3);line-height:1.6}
.risk-legend i{display:inline-block;width:14px;height:14px;margin-right:5px;
 vertical-align:-2px;border:1px solid #666}
.risk-legend i.gap{background:#fff;border:2px dashed #000}
.risk-note{max-width:210px;font-size:11px;line-height:1.3;color:#444;margin-top:3px}
.risk-status{background:rgba(255,255,255,.9);padding:2px 6px;font-size:12px;border-radius:3px}
.risk-popup th{padding-right:8px;font-weight:600;white-space:nowrap}
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var cfg = {{ this.config_json }};
  var renderer = L.canvas({padding: 0.3});
  var cells = L.layerGroup().addTo(map);
  var control = L.control.layers(null, null, {collapsed: false}).addTo(map);
  control.addOverlay(cells, cfg.labels.cells);
  var status = L.control({position: 'bottomright'});
  status.onAdd = function () {
    this._div = L.DomUtil.create('div', 'risk-status'); return this._div; };
  status.addTo(map);
  var legend = L.control({position: 'bottomleft'});
  legend.onAdd = function () {
    var div = L.DomUtil.create('div', 'risk-legend');
    var title = document.createElement('b'); title.textContent = cfg.labels.legend;
    div.appendChild(title);
    cfg.levels.forEach(function (lv) {
      var row = document.createElement('div'), sw = document.createElement('i');
      sw.style.background = lv.colour; row.appendChild(sw);
      row.appendChild(document.createTextNode(lv.name + ' (' + lv.level + ')'));
      div.appendChild(row);
    });
    var gap = document.createElement('div'), gi = document.createElement('i');
    gi.className = 'gap'; gap.appendChild(gi);
    gap.appendChild(document.createTextNode(cfg.labels.gap)); div.appendChild(gap);
    var note = document.createElement('div'); note.className = 'risk-note';
    note.textContent = cfg.labels.bins_note; div.appendChild(note);
    return div;
  };
  legend.addTo(map);
  function table(rows) {
    var t = document.createElement('table'); t.className = 'risk-popup';
    rows.forEach(function (r) {
      if (r[1] === undefined || r[1] === null) { return; }
      var row = t.insertRow(), th = document.createElement('th');
      th.textContent = r[0]; row.appendChild(th); row.insertCell().textContent = String(r[1]);
    });
    return t;
  }
  function num(v) { return (typeof v === 'number') ? v.toFixed(3) : v; }
  function binPopup(f) {
    var p = f.properties, box = document.createElement('div');
    var head = document.createElement('b');
    head.textContent = cfg.labels.count.replace('%(total)s', p.cells);
    box.appendChild(head);
    box.appendChild(table(cfg.levels.map(function (lv) {
      return [lv.name, p.counts[String(lv.level)]]; }).concat([[cfg.labels.risk, num(p.risk)]])));
    return box;
  }
  function cellPopup(f) {
    if (f.properties.counts) { return binPopup(f); }
    var p = f.properties, L_ = cfg.labels, box = document.createElement('div');
    var head = document.createElement('b');
    head.textContent = cfg.names[p.level] + (p.gap ? ' · ' + L_.gap : '');
    box.appendChild(head);
    box.appendChild(table([[L_.risk, num(p.risk)], [L_.hazard, num(p.hazard)],
      [L_.exposure, num(p.exposure)], [L_.vulnerability, num(p.vulnerability)],
      [L_.capacity, num(p.capacity)], [L_.teams, p.teams],
      [L_.likelihood, p.likelihood], [L_.consequence, p.consequence],
      [L_.area, p.area_code], [L_.grid, p.grid_code]]));
    return box;
  }
  var overlays = [];
  cfg.layers.forEach(function (def) {
    def.group = L.layerGroup(); control.addOverlay(def.group, def.label); overlays.push(def);
  });
  function bboxOf() {
    var b = map.getBounds();
    return [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
      return Math.max(-180, Math.min(180, v)).toFixed(5); }).join(',');
  }
  function get(url, params, done) {
    fetch(url + '?' + new URLSearchParams(params), {credentials: 'same-origin'})
      .then(function (r) { return r.ok ? r.json() : {features: [], total: 0}; })
      .then(done).catch(function () {});
  }
  var pending = null;
  function loadCells() {
    if (!map.hasLayer(cells)) { return; }
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(cfg.cells_url + '?' + new URLSearchParams({bbox: bboxOf(), zoom: map.getZoom(),
                                                      assessment_id: cfg.run.id}),
          {credentials: 'same-origin', signal: pending.signal})
      .then(function (r) { return r.ok ? r.json() : {features: [], meta: {}}; })
      .then(drawCells).catch(function () {});
  }
  function drawCells(body) {
    var meta = body.meta || {};
    cells.clearLayers();
    L.geoJSON(body, {
      style: function (f) {
        var p = f.properties, s = {renderer: renderer, weight: 0.5, color: cfg.colours[p.level],
          fillColor: cfg.colours[p.level], fillOpacity: 0.65};
        // A square of many cells is outlined in the colour of its most severe cell.
        if (p.worst && p.worst < p.level) { s.color = cfg.colours[p.worst]; s.weight = 1.5; }
        if (p.gap) { Object.assign(s, cfg.gap_style); }
        return s;
      },
      onEachFeature: function (f, layer) {
        layer.bindPopup(function () { return cellPopup(f); });
        cells.addLayer(layer);
      }
    });
    var shown = body.features.length;
    status._div.textContent = meta.aggregated
      ? cfg.labels.binned.replace('%(total)s', meta.in_bins).replace('%(bins)s', shown)
      : cfg.labels.count.replace('%(total)s', meta.total || shown);
    map.getContainer().dataset.cells = shown;
  }
  function loadOverlay(def) {
    if (!map.hasLayer(def.group)) { return; }
    get(def.url, {bbox: bboxOf(), limit: def.limit}, function (body) {
      def.group.clearLayers();
      L.geoJSON(body, {
        style: function () { return {renderer: renderer, color: def.colour, weight: 1,
                                      fillOpacity: 0.2}; },
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {renderer: renderer, radius: def.radius,
            color: '#fff', weight: 1, fillColor: def.colour, fillOpacity: 0.9});
        },
        onEachFeature: function (f, layer) {
          layer.bindPopup(function () {
            var p = f.properties, rows = def.fields.map(function (k) { return [k[1], p[k[0]]]; });
            var box = document.createElement('div'), b = document.createElement('b');
            b.textContent = p.name || def.label; box.appendChild(b);
            box.appendChild(table(rows)); return box;
          });
          def.group.addLayer(layer);
        }
      });
    });
  }
  function load() { loadCells(); overlays.forEach(loadOverlay); }
  map.on('moveend', load);
  map.on('overlayadd', load);
  map.whenReady(load);
})();
{% endmacro %}
""")

    def __init__(self, config):
        super().__init__()
        self._name = "RiskCells"
        self.config_json = json.dumps(config, ensure_ascii=False)


def risk_map(run, cells_url, labels, bounds=None, area_geojson=None, hazard_layers=(),
             teams_url=None, tile_url="", attribution=""):
    """The risk map page's folium map.

    ``cells_url`` is the risk map layer (bbox, zoom, assessment_id); ``hazard_layers`` are
    dicts {label, url}; ``bounds`` is (minlon, minlat, maxlon, maxlat).
    """
    fmap = base_map(tile_url, attribution, canvas=True)
    if area_geojson:
        folium.GeoJson(area_geojson, name=labels["boundary"], control=False,
                       style_function=lambda _f: {"color": "#333333", "weight": 1.5,
                                                  "fillOpacity": 0}).add_to(fmap)
    overlays = [{"label": layer["label"], "url": layer["url"], "limit": 1500,
                 "colour": "#8e24aa", "radius": 4,
                 "fields": [["value", labels["value"]], ["likelihood", labels["likelihood"]],
                            ["consequence", labels["consequence"]]]}
                for layer in hazard_layers]
    if teams_url:
        overlays.append({"label": labels["teams_layer"], "url": teams_url, "limit": 1000,
                         "colour": "#00897b", "radius": 6,
                         "fields": [["category", labels["category"]],
                                    ["service_radius_km", labels["radius"]],
                                    ["grade", labels["grade"]], ["status", labels["status"]]]})
    config = {"cells_url": cells_url, "layers": overlays,
              "colours": LEVEL_COLOURS, "names": LEVEL_NAMES, "gap_style": GAP_STYLE,
              "levels": [{"level": lv, "name": LEVEL_NAMES[lv], "colour": LEVEL_COLOURS[lv]}
                         for lv in (1, 2, 3, 4)],
              "labels": {k: str(v) for k, v in labels.items()}, "run": run}
    RiskCells(config).add_to(fmap)
    if bounds:
        minx, miny, maxx, maxy = bounds
        fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap
