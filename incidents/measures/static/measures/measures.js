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
  // Bound by delegation: the console's panel redraws its lift buttons on live events.
  var dialog = $('lift-dialog'), form = $('lift-form');
  if (dialog && form) {
    var texts = data('lift-texts') || {};
    var note = $('lift-note'), error = $('lift-error'), confirm = $('lift-confirm');
    var opener = null;
    document.addEventListener('click', function (event) {
      var button = event.target.closest ? event.target.closest('[data-lift]') : null;
      if (!button) { return; }
      opener = button;
      form.action = button.dataset.lift;
      $('lift-number').textContent = button.dataset.number || '';
      note.value = '';
      note.removeAttribute('aria-invalid');
      error.textContent = '';
      dialog.showModal();
      note.focus();
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

  // ------------------------------------------------------------------ the console's panel
  // Redrawn from GET /api/v1/measures when a measure of this incident is issued or lifted
  // (emergency/static/live.js dispatches live:measure.created / live:measure.lifted).
  var pcfg = data('measure-panel-data');
  var list = $('measure-items');
  if (pcfg && list) {
    var withId = function (template, id) { return template.replace(/\/0(\/|$)/, '/' + id + '$1'); };
    var item = function (props) {
      var li = document.createElement('li');
      li.className = 'd-flex flex-wrap align-items-center gap-1 mb-1';
      li.dataset.measure = props.source + '-' + props.id;
      li.dataset.status = props.status;
      var link = document.createElement('a');
      link.className = 'me-1';
      link.href = withId(props.source === 'measure' ? pcfg.decision : pcfg.order, props.id);
      link.textContent = props.order_number + ' · ' + (pcfg.kinds[props.kind] || props.kind);
      var badge = document.createElement('span');
      badge.className = 'badge measure-status status-' + props.status;
      badge.textContent = (props.status === 'expired' ? '⚠ ' : '') +
        (pcfg.statuses[props.status] || props.status);
      li.appendChild(link);
      li.appendChild(badge);
      if (pcfg.can_write && props.source === 'measure' && props.status !== 'lifted') {
        var lift = document.createElement('button');
        lift.type = 'button';
        lift.className = 'btn btn-sm btn-outline-danger py-0';
        lift.dataset.lift = withId(pcfg.lift, props.id);
        lift.dataset.number = props.order_number;
        lift.textContent = pcfg.lift_label;
        li.appendChild(lift);
      }
      return li;
    };
    var redraw = function () {
      fetch(pcfg.api, {credentials: 'same-origin', headers: {Accept: 'application/geo+json'}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (collection) {
          if (!collection) { return; }
          list.textContent = '';
          collection.features.forEach(function (f) { list.appendChild(item(f.properties)); });
          if (!collection.features.length) {
            var empty = document.createElement('li');
            empty.className = 'text-muted';
            empty.textContent = pcfg.none;
            list.appendChild(empty);
          }
        })
        .catch(function () { /* the next event redraws it */ });
    };
    ['live:measure.created', 'live:measure.lifted'].forEach(function (type) {
      document.addEventListener(type, function (e) {
        if (e.detail && String(e.detail.incident_id) === String(pcfg.incident_id)) { redraw(); }
      });
    });
  }
}());
