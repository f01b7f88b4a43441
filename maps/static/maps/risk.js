/* The four-colour risk map of one assessment run (maps/risk.py): cells by viewport, gap cells,
 * hazard layers and teams, a legend and a status line. Its configuration is map data
 * (maps/data.py); every text is written with textContent (layer names escaped for Leaflet's
 * layer control, which writes labels as HTML). */
(function () {
  'use strict';
  var E = window.EmergencyMaps;
  E.draw.risk = function (map, cfg) {
    var renderer = L.canvas({padding: 0.3});
    var cells = L.layerGroup().addTo(map);
    var control = L.control.layers(null, null, {collapsed: false}).addTo(map);
    control.addOverlay(cells, E.escaped(cfg.labels.cells));
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
      def.group = L.layerGroup(); control.addOverlay(def.group, E.escaped(def.label)); overlays.push(def);
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
  };
})();
