/* The small map of a grid staff member's own grids (their home page and the reporting page):
 * plain Leaflet from the app's vendor folder, the data as JSON in
 * <script type="application/json" id="grid-map-data"> ({grids: FeatureCollection with code
 * and name, tiles: {url, attribution} or null}), drawn into the element with [data-grid-map].
 * Grid names are written with textContent. window.HazardGrids offers the map and
 * contains(lon, lat) -> the grid feature holding the point (even-odd rule over every ring of
 * every polygon), or null; the reporting page checks a point with it before sending. */
(function () {
  'use strict';
  var STYLE = {color: '#1565c0', weight: 2, fillColor: '#64b5f6', fillOpacity: 0.2};

  function data() {
    var node = document.getElementById('grid-map-data');
    return node ? JSON.parse(node.textContent) : {grids: {features: []}};
  }

  // Ray casting over one ring of [lon, lat] positions.
  function inRing(lon, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) {
        inside = !inside;
      }
    }
    return inside;
  }

  function polygons(geometry) {
    if (!geometry) { return []; }
    if (geometry.type === 'Polygon') { return [geometry.coordinates]; }
    if (geometry.type === 'MultiPolygon') { return geometry.coordinates; }
    return [];
  }

  // Holes are rings too: a point inside the outer ring and a hole crosses an even number.
  function covers(feature, lon, lat) {
    return polygons(feature.geometry).some(function (rings) {
      return rings.reduce(function (inside, ring) {
        return inRing(lon, lat, ring) ? !inside : inside;
      }, false);
    });
  }

  var cfg = data();
  var features = (cfg.grids && cfg.grids.features) || [];
  var api = {
    map: null, layer: null, features: features,
    contains: function (lon, lat) {
      for (var i = 0; i < features.length; i++) {
        if (covers(features[i], lon, lat)) { return features[i]; }
      }
      return null;
    }
  };
  window.HazardGrids = api;

  var box = document.querySelector('[data-grid-map]');
  if (!box || !window.L) { return; }
  var map = L.map(box, {zoomControl: true, attributionControl: Boolean(cfg.tiles)});
  if (cfg.tiles && cfg.tiles.url) {
    L.tileLayer(cfg.tiles.url, {attribution: cfg.tiles.attribution || '', maxZoom: 19})
      .addTo(map);
  }
  api.map = map;
  api.layer = L.geoJSON(cfg.grids, {style: function () { return STYLE; }}).addTo(map);
  api.layer.eachLayer(function (layer) {
    var props = layer.feature.properties || {};
    var label = document.createElement('span');
    label.textContent = props.name || props.code || '';
    layer.bindTooltip(label, {permanent: features.length <= 6, direction: 'center',
                              className: 'grid-label'});
  });
  if (features.length) {
    map.fitBounds(api.layer.getBounds(), {padding: [12, 12]});
  } else {
    map.setView([29.56, 106.55], 10);
  }
  box.dataset.grids = String(features.length);
}());
