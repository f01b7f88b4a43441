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

  // A legend symbol: a small element shaped like the layer's marks, in the entry's colour.
  // Shapes: point (circle marker), fill (polygon), outline (boundary), line, dash (dashed
  // line), late (an overdue marker, black ring), gap (a dashed black outline).
  var COLOUR = /^#[0-9a-f]{3,8}$/i, LINES = {outline: 1, line: 1, dash: 1, gap: 1};
  function colourOr(value, fallback) { return COLOUR.test(String(value)) ? value : fallback; }
  function symbol(shape, colour) {
    var i = document.createElement('i');
    shape = shape || 'fill';
    i.className = 'lg-sym lg-' + shape;
    i.setAttribute('aria-hidden', 'true');
    if (LINES[shape]) { i.style.borderColor = colourOr(colour, '#000'); }
    else { i.style.background = colourOr(colour, '#777'); }
    return i;
  }

  // One legend for a map, a section per layer: its entries ([label, colour, shape]) under the
  // layer's name, shown only while the layer is on the map (section.layer, toggled with it in
  // the layer control). A section of one entry named like its layer shows only that entry.
  // ``title`` makes the legend a <details> box that folds away (open on wide maps).
  function legendControl(map, sections, title, id) {
    var control = L.control({position: 'bottomleft'});
    var parts = [];
    control.onAdd = function () {
      var outer = L.DomUtil.create('div', 'map-legend lg');
      if (id) { outer.id = id; }
      var body = outer;
      if (title) {
        var details = document.createElement('details'), summary = document.createElement('summary');
        summary.textContent = title;
        details.appendChild(summary);
        details.open = map.getSize().x >= 600;
        outer.appendChild(details);
        body = details;
      }
      sections.forEach(function (sec) {
        if (!sec.items || !sec.items.length) { return; }
        var box = document.createElement('div');
        box.className = 'lg-section';
        if (sec.key) { box.dataset.layer = sec.key; }
        var single = sec.items.length === 1 && (!sec.title || sec.items[0][0] === sec.title);
        if (sec.title && !single) { box.appendChild(textNode('div', sec.title, 'lg-title')); }
        var list = document.createElement('ul');
        sec.items.forEach(function (item) {
          var li = document.createElement('li');
          li.appendChild(symbol(item[2], item[1]));
          li.appendChild(document.createTextNode(String(item[0])));
          list.appendChild(li);
        });
        box.appendChild(list);
        if (sec.note) { box.appendChild(textNode('div', sec.note, 'lg-note')); }
        body.appendChild(box);
        parts.push({box: box, layer: sec.layer});
      });
      L.DomEvent.disableClickPropagation(outer);
      L.DomEvent.disableScrollPropagation(outer);
      return outer;
    };
    function update() {
      parts.forEach(function (p) { if (p.layer) { p.box.hidden = !map.hasLayer(p.layer); } });
    }
    control.addTo(map);
    update();
    map.on('overlayadd overlayremove layeradd layerremove', update);
    return control;
  }

  // The icon of a cluster of circle markers: a ring in its markers' own colours (the layer's
  // legend), each colour's share of the ring its share of the markers, around the count
  // (dark on white, readable whatever the colours); a black outer ring when one is overdue.
  // A marker standing for several features (a square counted by the server) has ``count``.
  function clusterIcon(cluster) {
    var tally = {}, late = false;
    cluster.getAllChildMarkers().forEach(function (m) {
      var c = colourOr(m.options.fillColor || m.options.color, '#616161');
      tally[c] = (tally[c] || 0) + (m.options.count || 1);
      late = late || Boolean(m.options.overdue);
    });
    return ringIcon(tally, late);
  }

  // A ring icon of colour -> count ({colour: n}) around the total.
  function ringIcon(tally, late) {
    var order = Object.keys(tally);
    order.sort(function (a, b) { return tally[b] - tally[a]; });
    var n = 0, at = 0, stops = [];
    order.forEach(function (c) { n += tally[c]; });
    order.forEach(function (c) {
      var from = at * 360 / n;
      at += tally[c];
      stops.push(colourOr(c, '#616161') + ' ' + from.toFixed(1) + 'deg '
                 + (at * 360 / n).toFixed(1) + 'deg');
    });
    var size = n < 100 ? 36 : (n < 1000 ? 42 : 48);
    var box = document.createElement('div'), count = document.createElement('span');
    box.style.background = order.length > 1 ? 'conic-gradient(' + stops.join(',') + ')'
                                             : colourOr(order[0], '#616161');
    count.textContent = String(n);
    box.appendChild(count);
    return L.divIcon({html: box, iconSize: L.point(size, size),
                      className: 'marker-cluster emg-cluster' + (late ? ' emg-cluster-late' : '')});
  }

  // A legend: {sections: [{title, group, items, note}], title, id}, each section toggled with
  // the folium layer its ``group`` names; or the rows of one section as ``items``.
  draw.legend = function (map, cfg, groups) {
    var sections = (cfg.sections || [{items: cfg.items}]).map(function (sec) {
      return {title: sec.title, items: sec.items, note: sec.note, key: sec.group,
              layer: sec.group ? groups[sec.group] : null};
    });
    legendControl(map, sections, cfg.title, cfg.id);
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

  window.EmergencyMaps = {draw: draw, escaped: escaped, popupBox: popupBox, textNode: textNode,
                          legend: legendControl, symbol: symbol, clusterIcon: clusterIcon,
                          ringIcon: ringIcon};
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', run);
  } else {
    run();
  }
})();
