/* A disaster report's page: its point and its grid on a small map. The data comes in as a
 * JSON script element; nothing is parsed as HTML. */
(function () {
  'use strict';
  var element = document.getElementById('disaster-map');
  var node = document.getElementById('disaster-map-data');
  if (!element || !node || !window.L) { return; }
  var cfg = JSON.parse(node.textContent);
  element.style.height = '280px';
  var map = L.map(element, {attributionControl: !!cfg.tiles});
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles, {attribution: cfg.attribution || '', maxZoom: 18}).addTo(map);
  }
  var bounds = null;
  if (cfg.grid) {
    var grid = L.geoJSON(cfg.grid, {style: {color: '#555', weight: 1, fillOpacity: 0.05},
                                    interactive: false}).addTo(map);
    bounds = grid.getBounds();
  }
  if (cfg.location && cfg.location.coordinates) {
    var at = [cfg.location.coordinates[1], cfg.location.coordinates[0]];
    L.circleMarker(at, {radius: 8, color: '#c8102e', weight: 2, fillOpacity: 0.8})
      .addTo(map);
    if (bounds) { bounds.extend(at); } else { map.setView(at, 15); }
  }
  if (bounds) { map.fitBounds(bounds, {padding: [12, 12], maxZoom: 16}); }
}());
