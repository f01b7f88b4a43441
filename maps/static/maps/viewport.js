/* Layers loaded by viewport (maps/viewport.py): fetches each visible layer for the current bbox
 * and zoom from /api/v1/maps/layers/<name> (or the layer's own `url`; `zoom: false` sends
 * bbox and params only), draws it on one canvas renderer, clusters points, and adds a layer
 * control, a legend and place search. A page's script may register hooks for its layers in
 * EmergencyMaps.viewportHooks[cfg.hooks] (see risk.js, forces.js): a factory (map, cfg)
 * returning {style, popup, status, statusClass, point}. Its configuration is map data (maps/data.py); texts
 * are written with textContent (labels escaped for Leaflet's layer control, which writes them
 * as HTML). */
(function () {
  'use strict';
  var E = window.EmergencyMaps;
  E.viewportHooks = E.viewportHooks || {};
  E.draw.viewport = function (map, cfg) {
    var clustered = cfg.layers.some(function (def) { return def.cluster; });
    // markercluster needs a maxZoom, which a map without a tile layer does not have.
    if (clustered && map.options.maxZoom === undefined) { map.setMaxZoom(18); }
    var factory = cfg.hooks && E.viewportHooks[cfg.hooks];
    var hooks = factory ? factory(map, cfg) : {};
    var renderer = L.canvas({padding: 0.3});
    var control = L.control.layers(null, null, {collapsed: cfg.collapsed}).addTo(map);
    var counts = {};
    window.viewportLayers = window.viewportLayers || {};
    // refresh(names): load those layers again (all visible ones without names), e.g. when a
    // live event says their data changed; each draw fires 'viewportdraw' on the map.
    window.viewportLayers[map._container.id] = {map: map, counts: counts, defs: cfg.layers,
                                                refresh: function (names) { load(names); }};
    var status = L.control({position: 'bottomright'});
    status.onAdd = function () {
      this._div = L.DomUtil.create('div', hooks.statusClass || 'vl-status'); return this._div; };
    status.addTo(map);
    function colourOf(def, props) {
      if (props.colour) { return props.colour; }
      var key = def.colour_by ? props[def.colour_by] : null;
      return (key && def.colours[key]) || def.colour;
    }
    function popupOf(def, f) {
      var p = f.properties, box = document.createElement('div');
      box.className = 'vl-popup';
      var title = document.createElement(p.url ? 'a' : 'b');
      if (p.url) { title.href = p.url; }
      title.textContent = p.name || p.title ||
        (f.id === undefined || f.id === null ? def.label : '#' + f.id);
      box.appendChild(title);
      var table = document.createElement('table');
      def.popup_fields.forEach(function (pair) {
        var value = p[pair[0]];
        if (value === undefined || value === null || value === '') { return; }
        var names = (def.popup_values || {})[pair[0]] || {};
        if (Object.prototype.hasOwnProperty.call(names, String(value))) {
          value = names[String(value)];
        }
        if (typeof value === 'object') {
          value = Object.keys(value).map(function (k) { return k + ':' + value[k]; }).join(' ');
        }
        var row = table.insertRow(), th = document.createElement('th');
        th.textContent = pair[1]; row.appendChild(th);
        row.insertCell().textContent = String(value);
      });
      box.appendChild(table);
      return box;
    }
    var clusters = {};
    function clusterOf(def) {
      if (!def.cluster) { return null; }
      if (!clusters[def.cluster]) {
        // Cluster icons in the markers' own colours, those of the layer's legend.
        clusters[def.cluster] = L.markerClusterGroup({chunkedLoading: true, maxClusterRadius: 45,
                                                     showCoverageOnHover: false,
                                                     iconCreateFunction: E.clusterIcon}).addTo(map);
      }
      return clusters[def.cluster];
    }
    function clear(def) {
      var cluster = clusterOf(def);
      if (cluster) { cluster.removeLayers(def.drawn); } else { def.group.clearLayers(); }
      def.drawn = [];
    }
    // A layer with `tiles` (a URL template of /api/v1/maps/tiles/...) is drawn from vector
    // tiles by Leaflet.VectorGrid on canvas: styles and popups through the same hooks, the
    // features of the tiles in view counted for the status line and `counts`.
    function tileGrid(def) {
      var perTile = {};
      // The middle of a feature's first ring (tile units) as a LatLng: where tests and the
      // benchmark may click (def.samples).
      function middle(ring, extent, coords) {
        var x = 0, y = 0, size = 256 / extent;
        ring.forEach(function (p) { x += p.x; y += p.y; });
        x = coords.x * 256 + x / ring.length * size; y = coords.y * 256 + y / ring.length * size;
        return map.unproject([x, y], coords.z);
      }
      var Grid = L.VectorGrid.Protobuf.extend({
        _getVectorTilePromise: function (coords, bounds) {
          var key = coords.x + ':' + coords.y + ':' + coords.z;
          return L.VectorGrid.Protobuf.prototype._getVectorTilePromise.call(this, coords, bounds)
            .then(function (json) {
              var layer = json.layers[def.name], n = 0, cells = 0, bins = 0, at = null;
              (layer ? layer.features : []).forEach(function (f) {
                n += 1;
                if (f.properties.bin) {
                  bins += 1; cells += f.properties.cells || f.properties.count || 0;
                }
                if (!at) { at = middle(f.geometry[0], layer.extent, coords); }
              });
              perTile[key] = {z: coords.z, n: n, bins: bins, cells: cells, at: at,
                              features: layer ? layer.features : [],
                              extent: layer ? layer.extent : 4096};
              return json;
            });
        }
      });
      var styles = {};
      styles[def.name] = function (props) {
        var f = {properties: props}, c = colourOf(def, props);
        var s = {color: def.fill > 0.3 ? c : def.colour, weight: 1, fillColor: c,
                 fillOpacity: def.fill, radius: def.radius};
        // `stroke_by`: outlined in the colour its value names (a square of risk cells in
        // that of its most severe cell), as the GeoJSON layers' `stroke`.
        var stroke = def.stroke_by && def.colours[props[def.stroke_by]];
        if (stroke && stroke !== c) { s.color = stroke; s.weight = 1.5; }
        s = hooks.style ? hooks.style(def, f, s) : s;
        s.fill = true;
        return s;
      };
      // In the overlay pane: the offline base map's filled districts lie above the tile pane.
      // Not interactive: the page's own canvas lies above the tiles and takes the clicks,
      // so a click on the map is matched against the tile's features here (hit()).
      var grid = new Grid(def.tiles, {rendererFactory: L.canvas.tile, interactive: false,
                                      pane: 'overlayPane',
                                      vectorTileLayerStyles: styles, maxNativeZoom: 22,
                                      fetchOptions: {credentials: 'same-origin'}});
      grid.on('tileunload', function (e) {
        delete perTile[e.coords.x + ':' + e.coords.y + ':' + e.coords.z]; });
      grid.on('load', function () {
        var z = map.getZoom(), n = 0, bins = 0, cells = 0;
        Object.keys(perTile).forEach(function (k) {
          var t = perTile[k];
          if (t.z === z) { n += t.n; bins += t.bins; cells += t.cells; }
        });
        def.samples = Object.keys(perTile).map(function (k) { return perTile[k].at; })
          .filter(function (at) { return at; });
        def.meta = bins ? {aggregated: 'bins', in_bins: cells, total: n} : {total: n};
        report(def, {meta: def.meta}, n);
      });
      // The feature of the tile under a point (the last drawn, so the one on top): polygons
      // by the even-odd rule over all their rings, points within their radius.
      function hit(latlng) {
        var z = map.getZoom(), p = map.project(latlng, z);
        var tx = Math.floor(p.x / 256), ty = Math.floor(p.y / 256);
        var t = perTile[tx + ':' + ty + ':' + z];
        if (!t) { return null; }
        var scale = t.extent / 256, ux = (p.x - tx * 256) * scale, uy = (p.y - ty * 256) * scale;
        var reach = ((def.radius || 6) + 3) * scale, found = null;
        t.features.forEach(function (f) {
          if (f.type === 1) {
            var q = f.geometry[0][0] || f.geometry[0];
            if (Math.abs(q.x - ux) <= reach && Math.abs(q.y - uy) <= reach) { found = f; }
            return;
          }
          if (f.type !== 3) { return; }
          var inside = false;
          f.geometry.forEach(function (ring) {
            for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
              var a = ring[i], b = ring[j];
              if ((a.y > uy) !== (b.y > uy) &&
                  ux < (b.x - a.x) * (uy - a.y) / (b.y - a.y) + a.x) { inside = !inside; }
            }
          });
          if (inside) { found = f; }
        });
        return found;
      }
      function content(props, state) {
        var f = {properties: props, id: props.id};
        var box = (hooks.popup && hooks.popup(def, f)) || popupOf(def, f);
        box.setAttribute('data-detail', state);
        return box;
      }
      map.on('click', function (e) {
        if (!map.hasLayer(def.group)) { return; }
        // A feature drawn above the tiles (another layer's point) took this click.
        if (e.originalEvent && e.originalEvent.vlTaken) { return; }
        var found = hit(e.latlng);
        if (!found) { return; }
        var props = found.properties, id = props.id;
        var wanted = def.detail && id !== undefined && !props.bin;
        var popup = L.popup().setLatLng(e.latlng)
          .setContent(content(props, wanted ? 'loading' : 'tile')).openOn(map);
        if (!wanted) { return; }
        // Tiles carry only what drawing needs: the rest of the popup is the feature's own
        // record, fetched now (`detail`, a URL with {id}). Failing that, what the tile has.
        fetch(def.detail.replace('{id}', encodeURIComponent(id)), {credentials: 'same-origin'})
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (body) {
            if (!popup.isOpen()) { return; }
            popup.setContent(body ? content(Object.assign({}, props, body.properties || {}),
                                            'loaded') : content(props, 'failed'));
          })
          .catch(function () { if (popup.isOpen()) { popup.setContent(content(props, 'failed')); } });
      });
      return grid;
    }
    cfg.layers.forEach(function (def) {
      def.key = def.key || (def.name + (def.params.category ? ':' + def.params.category : ''));
      def.group = L.layerGroup();
      def.drawn = [];
      if (def.tiles) { def.group.addLayer(tileGrid(def)); }
      control.addOverlay(def.group, E.escaped(def.label));
      if (def.show) { def.group.addTo(map); }
    });
    map.on('overlayremove', function (e) {
      cfg.layers.forEach(function (def) {
        if (e.layer === def.group && !def.tiles) { clear(def); }
        if (e.layer === def.group) { counts[def.key] = 0; }
      });
    });
    function draw(def, body) {
      var layers = [];
      L.geoJSON(body, {
        style: function (f) {
          var c = colourOf(def, f.properties);
          var p = f.properties, stroke = p.stroke && p.stroke !== c;
          var s = {renderer: renderer, color: stroke ? p.stroke : (def.fill > 0.3 ? c : def.colour),
                   weight: stroke ? 1.5 : 1, fillColor: c, fillOpacity: def.fill};
          return hooks.style ? hooks.style(def, f, s) : s;
        },
        pointToLayer: function (f, latlng) {
          var c = colourOf(def, f.properties);
          var s = {renderer: renderer, radius: def.radius, color: '#fff', weight: 1, fillColor: c,
                   fillOpacity: 0.9};
          s = hooks.style ? hooks.style(def, f, s) : s;
          // A page's point hook may draw a feature otherwise (the forces map's squares).
          return (hooks.point && hooks.point(def, f, latlng, s)) || L.circleMarker(latlng, s);
        },
        onEachFeature: function (f, layer) {
          layer.bindPopup(function () {
            return (hooks.popup && hooks.popup(def, f)) || popupOf(def, f); });
          // The click is this feature's: a tile layer below leaves it (tileGrid).
          layer.on('click', function (ev) {
            if (ev.originalEvent) { ev.originalEvent.vlTaken = true; } });
          layers.push(layer);
        }
      });
      clear(def);
      var cluster = clusterOf(def);
      if (cluster) { cluster.addLayers(layers); }
      else { layers.forEach(function (l) { def.group.addLayer(l); }); }
      def.drawn = layers;
      report(def, body, layers.length);
    }
    // After a layer is drawn: its count, the status line, and 'viewportdraw' on the map.
    function report(def, body, shown) {
      counts[def.key] = shown;
      var note = [];
      cfg.layers.forEach(function (d) {
        if (!d.meta || !map.hasLayer(d.group)) { return; }
        if (d.meta.zoom_in) { note.push(d.label + ' ≥ z' + d.meta.zoom_in); }
        if (d.meta.truncated) { note.push(d.label + ' ' + d.meta.returned + '/' + d.meta.total); }
      });
      // A page's status hook writes its own line (null: the layer leaves it as it is).
      var text = hooks.status ? hooks.status(def, body, shown) : note.join(' · ');
      if (text !== null && text !== undefined) { status._div.textContent = text; }
      map.getContainer().dataset.loaded = Object.keys(counts).length;
      map.fire('viewportdraw', {def: def, count: shown});
    }
    function load(names) {
      var b = map.getBounds(), z = map.getZoom();
      // Longitudes past the antimeridian are clamped: the API takes -180..180 only.
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return Math.max(-180, Math.min(180, v)).toFixed(5); }).join(',');
      cfg.layers.forEach(function (def) {
        if (!map.hasLayer(def.group) || (names && names.indexOf(def.name) < 0)) { return; }
        if (def.tiles) {  // drawn by its tile grid; a refresh asks for the tiles again
          if (names) { def.group.eachLayer(function (g) { g.redraw(); }); }
          return;
        }
        if (def.controller) { def.controller.abort(); }
        var controller = def.controller = new AbortController();
        var view = def.zoom === false ? {bbox: bbox} : {bbox: bbox, zoom: z};
        var q = new URLSearchParams(Object.assign(view, def.params));
        // `pending` until this view's answer is drawn (or failed); `view` is the view the
        // drawn features answer. An aborted request leaves both to the one replacing it.
        def.pending = true;
        fetch((def.url || cfg.api + '/layers/' + def.name) + '?' + q,
              {credentials: 'same-origin', signal: controller.signal})
          .then(function (r) { return r.ok ? r.json() : {features: [], meta: {}}; })
          .then(function (body) {
            def.meta = body.meta || {};
            def.view = {bbox: bbox, zoom: z};
            draw(def, body);
          })
          .catch(function () {})
          .then(function () { if (def.controller === controller) { def.pending = false; } });
      });
    }
    // The first load waits for the page's own scripts: a page that fits its view to its
    // data (fit_view, unanimated) moves the map right after this, and its moveend loads
    // the final view once, instead of the default view first and then again.
    var started = false;
    map.on('moveend overlayadd', function () { started = true; load(); });
    map.whenReady(function () {
      setTimeout(function () { if (!started) { started = true; load(); } }, 0);
    });
    // One legend, a section per layer (its own entries), shown while the layer is on; then
    // the page's own rows (cfg.legend), if any.
    var sections = cfg.layers.map(function (def) {
      return {title: def.label, items: def.legend, note: def.legend_note, key: def.key,
              layer: def.group};
    });
    if (cfg.legend && cfg.legend.length) { sections.push({items: cfg.legend}); }
    E.legend(map, sections, cfg.legend_title, cfg.legend_id);
    if (cfg.search) {
      var search = L.control({position: 'topleft'});
      search.onAdd = function () {
        var div = L.DomUtil.create('div', 'vl-search');
        var form = document.createElement('form'), input = document.createElement('input');
        input.type = 'search'; input.name = 'q'; input.placeholder = cfg.search;
        input.className = 'vl-search-input';
        var results = document.createElement('div'); results.className = 'vl-results';
        form.appendChild(input); div.appendChild(form); div.appendChild(results);
        L.DomEvent.disableClickPropagation(div);
        var pin = null;
        function go(item) {
          var b = item.bbox;
          if (b) { map.fitBounds([[b[1], b[0]], [b[3], b[2]]]); }
          else { map.setView([item.lat, item.lon], 15); }
          if (pin) { map.removeLayer(pin); }
          pin = L.circleMarker([item.lat, item.lon], {radius: 9, color: '#000', weight: 2,
                                                      fillOpacity: 0}).addTo(map);
        }
        form.addEventListener('submit', function (e) {
          e.preventDefault();
          fetch(cfg.api + '/search?' + new URLSearchParams({q: input.value}),
                {credentials: 'same-origin'})
            .then(function (r) { return r.ok ? r.json() : {items: []}; })
            .then(function (body) {
              results.textContent = '';
              body.items.forEach(function (item) {
                var a = document.createElement('a'); a.textContent = item.label;
                a.addEventListener('click', function () { go(item); });
                results.appendChild(a);
              });
              if (body.items.length) { go(body.items[0]); }
              else { results.textContent = cfg.not_found; }
            });
        });
        return div;
      };
      search.addTo(map);
    }
  };
})();
