/* The offline base (maps/pages.py base_map, when no tile server is configured): the areas of
 * our own data (/api/v1/maps/layers/areas: districts when far, streets nearer, communities
 * near), drawn lightly on a pane below every layer, named on the map. Names are placed
 * largest area first and one that would overlap a name already placed is left out. Texts are
 * written with textContent. */
(function () {
  'use strict';
  var E = window.EmergencyMaps;
  E.draw.basemap = function (map, cfg) {
    var panes = {base: map.createPane('offlineBase'), labels: map.createPane('offlineLabels')};
    panes.base.style.zIndex = 250;      // above tiles (200), below overlays (400)
    panes.labels.style.zIndex = 450;    // names above areas and cells, below markers (600)
    panes.base.style.pointerEvents = panes.labels.style.pointerEvents = 'none';
    map.getContainer().classList.add('offline-base');
    var renderer = L.canvas({pane: 'offlineBase', padding: 0.3});
    var group = L.layerGroup().addTo(map), controller = null;

    function placeLabels(layers, level) {
      var placed = [], view = map.getBounds();
      layers.sort(function (a, b) { return b.size - a.size; });
      layers.forEach(function (item) {
        var at = item.layer.getCenter();
        if (!view.contains(at)) { return; }
        var tip = L.tooltip({permanent: true, direction: 'center', interactive: false,
                             pane: 'offlineLabels',
                             className: 'base-label base-label-' + level})
          .setLatLng(at).setContent(E.textNode('span', item.name));
        group.addLayer(tip);
        var el = tip.getElement(), r = el && el.getBoundingClientRect();
        if (!r || placed.some(function (p) {
          return r.left < p.right + 4 && r.right > p.left - 4 &&
                 r.top < p.bottom + 2 && r.bottom > p.top - 2; })) {
          group.removeLayer(tip);
        } else {
          placed.push(r);
        }
      });
      map.getContainer().dataset.baseLabels = placed.length;
    }

    function draw(body) {
      group.clearLayers();
      var level = (body.meta && body.meta.level) || 'district';
      var style = Object.assign({renderer: renderer, interactive: false},
                                cfg.styles[level] || cfg.styles.district);
      var named = [];
      L.geoJSON(body, {
        interactive: false,
        style: function () { return style; },
        onEachFeature: function (f, layer) {
          group.addLayer(layer);
          var b = layer.getBounds(), ne = map.project(b.getNorthEast()),
              sw = map.project(b.getSouthWest());
          var size = Math.abs((ne.x - sw.x) * (ne.y - sw.y));
          // A name only where its area is big enough on screen to hold it.
          if (f.properties.name && size > cfg.label_px) {
            named.push({layer: layer, name: f.properties.name, size: size});
          }
        }
      });
      map.getContainer().dataset.baseAreas = group.getLayers().length;
      placeLabels(named, level);
    }

    function load() {
      var b = map.getBounds();
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
        return Math.max(-180, Math.min(180, v)).toFixed(5); }).join(',');
      if (controller) { controller.abort(); }
      controller = new AbortController();
      fetch(cfg.url + '?' + new URLSearchParams({bbox: bbox, zoom: map.getZoom()}),
            {credentials: 'same-origin', signal: controller.signal})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) { if (body) { draw(body); } })
        .catch(function () {});
    }
    // As viewport.js: the first load after the page's scripts, once, at the final view.
    var started = false;
    map.on('moveend', function () { started = true; load(); });
    map.whenReady(function () {
      setTimeout(function () { if (!started) { started = true; load(); } }, 0);
    });
  };
})();
