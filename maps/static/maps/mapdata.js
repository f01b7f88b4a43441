/* Draws the data of map pages. Every map page's data is JSON in a
 * <script type="application/json" class="map-data"> element (maps/data.py); this script reads
 * it and draws it on the folium map it names. Texts are written with textContent only: a name
 * can never become markup or code. Other scripts add draw functions to EmergencyMaps.draw. */
(function () {
  'use strict';
  var draw = {};

  // Leaflet writes layer-control labels and string tooltips with innerHTML: give it escaped text.
  function escaped(text) {
    var div = document.createElement('div');
    div.textContent = String(text);
    return div.innerHTML;
  }

  function textNode(tag, text, className) {
    var el = document.createElement(tag);
    el.textContent = String(text);
    if (className) { el.className = className; }
    return el;
  }

  // A popup: {title, url, rows: [[label, value]], lines: [text], images: [url], class}.
  function popupBox(p) {
    var box = document.createElement('div');
    box.className = p['class'] || 'map-popup';
    if (p.title !== undefined && p.title !== null) {
      var title = textNode(p.url ? 'a' : 'b', p.title);
      if (p.url) { title.href = p.url; }
      box.appendChild(title);
    }
    if (p.rows && p.rows.length) {
      var table = document.createElement('table');
      table.className = p.table_class || 'table table-sm mb-0';
      p.rows.forEach(function (r) {
        if (r[1] === undefined || r[1] === null) { return; }
        var row = table.insertRow();
        row.appendChild(textNode('th', r[0]));
        row.insertCell().textContent = String(r[1]);
      });
      box.appendChild(table);
    }
    (p.lines || []).forEach(function (text) { box.appendChild(textNode('div', text)); });
    (p.images || []).forEach(function (url) {
      var img = document.createElement('img');
      img.src = url; img.loading = 'lazy'; img.className = 'map-thumb';
      box.appendChild(img);
    });
    return box;
  }

  function fieldsTooltip(fields) {
    return function (layer) {
      var props = (layer.feature && layer.feature.properties) || {};
      var box = document.createElement('div');
      fields.forEach(function (k) {
        if (props[k] !== undefined && props[k] !== null) { box.appendChild(textNode('div', props[k])); }
      });
      return box;
    };
  }

  function build(f, styles) {
    var layer, style = typeof f.style === 'string' ? styles[f.style] : f.style;
    if (f.type === 'circle') {
      layer = L.circleMarker(f.at, style);
    } else if (f.type === 'line') {
      layer = L.polyline(f.points, style);
    } else if (f.type === 'geojson') {
      layer = L.geoJSON(f.data, {style: function () { return style; }});
      if (f.highlight) {
        layer.on('mouseover', function (e) { e.layer.setStyle(f.highlight); });
        layer.on('mouseout', function (e) { layer.resetStyle(e.layer); });
      }
      if (f.tooltip_fields && f.tooltip_fields.length) {
        layer.bindTooltip(fieldsTooltip(f.tooltip_fields), {sticky: true});
      }
      return layer;
    } else {
      return null;
    }
    if (f.tooltip !== undefined && f.tooltip !== null) {
      layer.bindTooltip(textNode('span', f.tooltip));
    }
    if (f.popup) {
      layer.bindPopup(function () { return popupBox(f.popup); }, {maxWidth: 320});
    }
    return layer;
  }

  // Features, each into its group (a folium layer named in cfg.groups) or onto the map;
  // a feature's style may name one of cfg.styles (shared by thousands of markers).
  draw.features = function (map, cfg, groups) {
    var batches = {}, styles = cfg.styles || {};
    cfg.features.forEach(function (f) {
      var layer = build(f, styles), key = groups[f.group] ? f.group : '';
      if (layer) { (batches[key] = batches[key] || []).push(layer); }
    });
    Object.keys(batches).forEach(function (key) {
      var target = groups[key] || map;
      // A marker cluster takes a batch at once (and in chunks), much faster than one by one.
      if (target.addLayers) { target.addLayers(batches[key]); }
      else { batches[key].forEach(function (layer) { target.addLayer(layer); }); }
    });
  };

  // A legend of [label, colour] rows in the bottom-left corner.
  draw.legend = function (map, cfg) {
    var legend = L.control({position: 'bottomleft'});
    legend.onAdd = function () {
      var div = L.DomUtil.create('div', 'map-legend');
      if (cfg.id) { div.id = cfg.id; }
      cfg.items.forEach(function (item) {
        var row = document.createElement('div'), swatch = document.createElement('i');
        swatch.style.background = item[1];
        row.appendChild(swatch);
        row.appendChild(document.createTextNode(item[0]));
        div.appendChild(row);
      });
      return div;
    };
    legend.addTo(map);
  };

  function run() {
    document.querySelectorAll('script.map-data').forEach(function (el) {
      var cfg = JSON.parse(el.textContent);
      var map = window[cfg.map], groups = {};
      if (!(map instanceof L.Map) || !draw[cfg.kind]) { return; }
      Object.keys(cfg.groups || {}).forEach(function (key) {
        var layer = window[cfg.groups[key]];
        if (layer instanceof L.Layer) { groups[key] = layer; }
      });
      draw[cfg.kind](map, cfg, groups);
    });
  }

  window.EmergencyMaps = {draw: draw, escaped: escaped, popupBox: popupBox, textNode: textNode};
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', run);
  } else {
    run();
  }
})();
