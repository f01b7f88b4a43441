/* Warning pages: the small maps (the warned area of a warning; drawing an area on the
 * drafting form); a warning's steps are confirmed by the shared step dialog
 * (emergency/static/step-dialog.js). Data comes in as JSON
 * script elements; text is only ever set with textContent. */
(function () {
  'use strict';

  var COLOURS = {red: '#c8102e', orange: '#f39800', yellow: '#ffe100', blue: '#0068b7'};

  function $(id) { return document.getElementById(id); }
  function data(id) {
    var node = $(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function baseMap(element, cfg) {
    var map = L.map(element, {preferCanvas: true, attributionControl: !!cfg.tiles});
    if (cfg.tiles) {
      L.tileLayer(cfg.tiles, {attribution: cfg.attribution || '', maxZoom: 18}).addTo(map);
    }
    return map;
  }

  // ------------------------------------------------------------------ a warning's area
  var areaMap = $('area-map');
  if (areaMap && window.L) {
    var cfg = data('warning-map-data') || {};
    var map = baseMap(areaMap, cfg);
    if (cfg.geometry) {
      var colour = COLOURS[cfg.level] || '#555';
      var layer = L.geoJSON(cfg.geometry, {style: {color: colour, weight: 2,
                                                     fillColor: colour, fillOpacity: 0.35}})
        .addTo(map);
      map.fitBounds(layer.getBounds(), {padding: [10, 10]});
    } else {
      map.setView([29.56, 106.55], 8);
    }
  }

  // ------------------------------------------------------------------ drawing an area
  var drawMap = $('draw-map');
  if (drawMap && window.L) {
    var dcfg = data('warning-map-data') || {};
    var dmap = baseMap(drawMap, dcfg);
    var outlines = L.geoJSON(dcfg.outlines || {type: 'FeatureCollection', features: []},
                             {style: {color: '#666', weight: 1, fill: false},
                              interactive: false}).addTo(dmap);
    if (outlines.getLayers().length) { dmap.fitBounds(outlines.getBounds()); }
    else { dmap.setView([29.56, 106.55], 8); }
    var field = $('w-geometry'), status = $('draw-status');
    var points = [], line = null, shape = null;

    function say(template, n) { status.textContent = template.replace('%(n)s', String(n)); }
    function clearShapes() {
      if (line) { dmap.removeLayer(line); line = null; }
      if (shape) { dmap.removeLayer(shape); shape = null; }
    }
    function showOpen() {
      clearShapes();
      line = L.polyline(points, {color: '#c8102e', weight: 2}).addTo(dmap);
      say(dcfg.texts.points, points.length);
    }
    function close() {
      if (points.length < 3) { return; }
      var ring = points.map(function (p) { return [+p[1].toFixed(6), +p[0].toFixed(6)]; });
      ring.push(ring[0].slice());
      field.value = JSON.stringify({type: 'Polygon', coordinates: [ring]});
      clearShapes();
      shape = L.polygon(points, {color: '#c8102e', weight: 2, fillOpacity: 0.25}).addTo(dmap);
      say(dcfg.texts.closed, points.length);
    }
    dmap.on('click', function (e) {
      if (shape) { points = []; field.value = ''; }
      points.push([e.latlng.lat, e.latlng.lng]);
      showOpen();
    });
    $('draw-close').addEventListener('click', close);
    $('draw-clear').addEventListener('click', function () {
      points = []; field.value = ''; clearShapes(); status.textContent = '';
    });
    if (field.value) {  // a drawing kept from a refused form
      try {
        var kept = L.geoJSON(JSON.parse(field.value), {style: {color: '#c8102e', weight: 2}});
        shape = kept.addTo(dmap);
        dmap.fitBounds(kept.getBounds());
      } catch (err) { field.value = ''; }
    }
  }
}());
