/* Measure pages: the print button, drawing a measure's scope on a map, and the dialog that
 * lifts a measure with a note. Data comes in as JSON script elements and data attributes;
 * text is only ever set with textContent. */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }
  function data(id) {
    var node = $(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  document.querySelectorAll('[data-print]').forEach(function (button) {
    button.addEventListener('click', function () { window.print(); });
  });

  // ------------------------------------------------------------------ drawing the scope
  var mapNode = $('scope-map');
  if (mapNode && window.L) {
    var cfg = data('measure-map-data') || {};
    var map = L.map(mapNode, {preferCanvas: true, attributionControl: !!cfg.tiles});
    if (cfg.tiles) {
      L.tileLayer(cfg.tiles, {attribution: cfg.attribution || '', maxZoom: 18}).addTo(map);
    }
    L.geoJSON(cfg.outlines || {type: 'FeatureCollection', features: []},
              {style: {color: '#666', weight: 1, fill: false}, interactive: false}).addTo(map);
    if (cfg.incident) {
      var c = cfg.incident.coordinates;
      L.circleMarker([c[1], c[0]], {radius: 7, color: '#c8102e', fillOpacity: 0.9,
                                    interactive: false}).addTo(map);
      map.setView([c[1], c[0]], 13);
    } else {
      map.setView([29.56, 106.55], 9);
    }
    var field = $('m-scope'), status = $('draw-status');
    var points = [], line = null, shape = null;
    var say = function (template, n) {
      status.textContent = template.replace('%(n)s', String(n));
    };
    var clearShapes = function () {
      if (line) { map.removeLayer(line); line = null; }
      if (shape) { map.removeLayer(shape); shape = null; }
    };
    var close = function () {
      if (points.length < 3) { return; }
      var ring = points.map(function (p) { return [+p[1].toFixed(6), +p[0].toFixed(6)]; });
      ring.push(ring[0].slice());
      field.value = JSON.stringify({type: 'Polygon', coordinates: [ring]});
      clearShapes();
      shape = L.polygon(points, {color: '#c8102e', weight: 2, fillOpacity: 0.25}).addTo(map);
      say(cfg.texts.closed, points.length);
    };
    map.on('click', function (e) {
      if (shape) { points = []; field.value = ''; }
      points.push([e.latlng.lat, e.latlng.lng]);
      clearShapes();
      line = L.polyline(points, {color: '#c8102e', weight: 2}).addTo(map);
      say(cfg.texts.points, points.length);
    });
    $('draw-close').addEventListener('click', close);
    $('draw-clear').addEventListener('click', function () {
      points = []; field.value = ''; clearShapes(); status.textContent = '';
    });
    if (field.value) {  // a drawing kept from a refused form
      try {
        shape = L.geoJSON(JSON.parse(field.value),
                          {style: {color: '#c8102e', weight: 2}}).addTo(map);
        map.fitBounds(shape.getBounds());
      } catch (err) { field.value = ''; }
    }
  }

  // ------------------------------------------------------------------ lifting dialog
  var dialog = $('lift-dialog'), form = $('lift-form');
  if (dialog && form) {
    var texts = data('lift-texts') || {};
    var note = $('lift-note'), error = $('lift-error'), confirm = $('lift-confirm');
    var opener = null;
    document.querySelectorAll('[data-lift]').forEach(function (button) {
      button.addEventListener('click', function () {
        opener = button;
        form.action = button.dataset.lift;
        $('lift-number').textContent = button.dataset.number || '';
        note.value = '';
        note.removeAttribute('aria-invalid');
        error.textContent = '';
        dialog.showModal();
        note.focus();
      });
    });
    $('lift-cancel').addEventListener('click', function () { dialog.close(); });
    dialog.addEventListener('close', function () { if (opener) { opener.focus(); } });
    confirm.addEventListener('click', function () {
      if (!note.value.trim()) {
        error.textContent = texts.missing;
        note.setAttribute('aria-invalid', 'true');
        note.focus();
        return;
      }
      confirm.disabled = true;
      form.submit();
    });
  }
}());
