/* The public warnings page: the warned areas on a small Leaflet map (the app's own copy),
 * from <script type="application/json" id="public-warnings-data"> ({warnings:
 * FeatureCollection with id, title, level, level_label; districts: FeatureCollection drawn
 * as the offline base when no tile URL is configured; tiles: {url, attribution} or null}).
 * Titles are written with textContent; a click on an area goes to its entry in the list. */
(function () {
  'use strict';
  var COLOURS = {red: '#c8000f', orange: '#f39800', yellow: '#e0c400', blue: '#0060a8'};

  var printButton = document.getElementById('print-page');
  if (printButton) {
    printButton.addEventListener('click', function () { window.print(); });
  }
  var node = document.getElementById('public-warnings-data');
  var box = document.querySelector('[data-warning-map]');
  if (!node || !box || !window.L) { return; }
  var cfg = JSON.parse(node.textContent);
  // SVG (Leaflet's default): a handful of warnings over the districts, each path hoverable.
  var map = L.map(box, {zoomControl: true, attributionControl: Boolean(cfg.tiles)});
  if (cfg.tiles && cfg.tiles.url) {
    L.tileLayer(cfg.tiles.url, {attribution: cfg.tiles.attribution || '', maxZoom: 19})
      .addTo(map);
  } else if (cfg.districts) {
    L.geoJSON(cfg.districts, {interactive: false, style: function () {
      return {color: '#777', weight: 1, fill: true, fillColor: '#f4f4f4', fillOpacity: 1};
    }}).addTo(map);
  }
  var layer = L.geoJSON(cfg.warnings, {style: function (feature) {
    var colour = COLOURS[feature.properties.level] || '#555';
    return {color: colour, weight: 2, fillColor: colour, fillOpacity: 0.35};
  }}).addTo(map);
  layer.eachLayer(function (item) {
    var props = item.feature.properties || {};
    var label = document.createElement('span');
    label.textContent = (props.level_label || '') + ' · ' + (props.title || '');
    item.bindTooltip(label, {sticky: true});
    item.on('click', function () {
      var entry = document.getElementById('w' + props.id);
      if (entry) { entry.scrollIntoView({behavior: 'smooth'}); }
    });
  });
  if (layer.getLayers().length) {
    map.fitBounds(layer.getBounds(), {padding: [12, 12]});
  } else {
    map.setView([29.56, 106.55], 8);
  }
  box.dataset.ready = String(layer.getLayers().length);
}());
