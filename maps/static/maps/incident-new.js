/* Opening an incident (/incidents/new): a click on the map (or a place found by the search)
 * places the point; as the type, place or metrics change, POST /api/v1/incidents/evaluate
 * shows the response level and the plan that will apply before anything is saved; saving
 * posts /api/v1/incidents and opens the console. A refusal keeps the input and shows each
 * field's message next to it. Texts come from the page's JSON and go in with textContent. */
(function () {
  'use strict';
  var state = {map: null, marker: null, point: null, timer: null, seq: 0};

  function data() { return JSON.parse(document.getElementById('new-incident-data').textContent); }
  function $(id) { return document.getElementById(id); }

  // The map's draw function (maps/data.py MapData kind "picker"): clicks place the point.
  window.EmergencyMaps.draw.picker = function (map) {
    state.map = map;
    map.on('click', function (e) { place(e.latlng.lng, e.latlng.lat); });
  };

  function place(lon, lat) {
    state.point = [Number(lon.toFixed(6)), Number(lat.toFixed(6))];
    var latlng = [state.point[1], state.point[0]];
    if (state.map) {
      if (state.marker) { state.marker.setLatLng(latlng); }
      else {
        state.marker = L.circleMarker(latlng, {radius: 9, color: '#000', weight: 2,
                                               fillColor: '#d32f2f', fillOpacity: 0.9});
        state.marker.addTo(state.map);
      }
    }
    $('location-text').textContent = state.point[0].toFixed(5) + ', ' + state.point[1].toFixed(5);
    $('location-text').dataset.lon = state.point[0];
    $('location-text').dataset.lat = state.point[1];
    clearError('location');
    schedule();
  }

  function metrics() {
    var out = {};
    document.querySelectorAll('#metric-inputs input.metric').forEach(function (input) {
      if (input.value !== '' && isFinite(Number(input.value))) {
        out[input.dataset.metric] = Number(input.value);
      }
    });
    var key = $('other-key').value.trim(), value = $('other-value').value;
    if (key && value !== '' && isFinite(Number(value))) { out[key] = Number(value); }
    return out;
  }

  function clearError(field) {
    document.querySelectorAll(field ? '[data-error-for="' + field + '"]' : '[data-error-for]')
      .forEach(function (node) { node.textContent = ''; });
  }

  function showErrors(res, texts) {
    var e = res.data && res.data.error, general = [];
    clearError();
    if (!e) { general.push(texts.network); }
    else {
      Object.keys(e.details || {}).forEach(function (field) {
        var target = document.querySelector('[data-error-for="' + field.split('.')[0] + '"]');
        // The server's field messages open with the field's label: no key in front of them.
        var text = window.EmergencyPages.leaves(e.details[field]).join(' ');
        if (target) { target.textContent = text; } else { general.push(text); }
      });
      general.unshift(e.message);
    }
    $('form-error').textContent = general.join(' — ');
    $('form-error').classList.remove('d-none');
  }

  function body() {
    var when = $('occurred-at').value;
    return {title: $('incident-title').value.trim(), incident_type: $('incident-type').value,
            location: state.point ? {type: 'Point', coordinates: state.point} : null,
            occurred_at: when ? when + ':00+08:00' : null, metrics: metrics()};
  }

  function schedule() {
    if (state.timer) { window.clearTimeout(state.timer); }
    state.timer = window.setTimeout(evaluate, 250);
  }

  function evaluate() {
    var cfg = data(), b = body(), seq = ++state.seq;
    if (!b.incident_type || !b.location) { return; }
    window.EmergencyPages.api('POST', '/api/v1/incidents/evaluate', {
      incident_type: b.incident_type, location: b.location, metrics: b.metrics
    }).then(function (res) {
      if (seq !== state.seq) { return; }  // an older answer: a newer question is on its way
      var level = $('eval-level');
      if (!res.ok) {
        level.textContent = '—';
        level.dataset.level = '';
        $('eval-plan').textContent = res.data && res.data.error ? res.data.error.message : '—';
        $('eval-area').textContent = '—';
        return;
      }
      var r = res.data;
      level.dataset.level = r.response_level === null || r.response_level === undefined ?
        'none' : String(r.response_level);
      level.textContent = cfg.levels[r.response_level] || cfg.texts.no_level;
      $('eval-plan').textContent = r.plan_title ?
        r.plan_title + (r.plan_version ? ' (v' + r.plan_version + ')' : '') : cfg.texts.no_plan;
      $('eval-area').textContent = r.area_name || r.area_code || '—';
    }).catch(function () { /* the next change asks again */ });
  }

  function search() {
    var q = $('place-q').value.trim(), list = $('place-results'), cfg = data();
    if (!q) { return; }
    fetch('/api/v1/maps/search?q=' + encodeURIComponent(q),
          {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.ok ? r.json() : {items: []}; })
      .then(function (found) {
        list.textContent = '';
        if (!found.items.length) {
          list.appendChild(window.EmergencyPages.el('div', {'class': 'text-muted', text: cfg.texts.not_found}));
        }
        found.items.forEach(function (p) {
          var button = window.EmergencyPages.el('button', {type: 'button', 'class': 'list-group-item list-group-item-action', text: p.label});
          button.addEventListener('click', function () {
            if (state.map) {
              if (p.bbox) { state.map.fitBounds([[p.bbox[1], p.bbox[0]], [p.bbox[3], p.bbox[2]]]); }
              else { state.map.setView([p.lat, p.lon], 14); }
            }
            place(p.lon, p.lat);
            list.textContent = '';
          });
          list.appendChild(button);
        });
      });
  }

  function save(event) {
    event.preventDefault();
    var cfg = data(), button = $('save-incident');
    $('form-error').classList.add('d-none');
    clearError();
    button.disabled = true;
    window.EmergencyPages.api('POST', '/api/v1/incidents', body()).then(function (res) {
      if (res.ok) {
        window.location.assign(cfg.console_url.replace(/\/0$/, '/' + res.data.id));
        return;
      }
      button.disabled = false;
      showErrors(res, cfg.texts);
    }).catch(function () {
      button.disabled = false;
      showErrors({}, cfg.texts);
    });
  }

  function ready() {
    var form = $('incident-form');
    if (!form) { return; }
    form.addEventListener('submit', save);
    form.addEventListener('input', function (e) {
      if (e.target.matches('.metric, #other-key, #other-value')) { schedule(); }
    });
    $('incident-type').addEventListener('change', function () { clearError('incident_type'); schedule(); });
    $('place-search').addEventListener('click', search);
    $('place-q').addEventListener('keydown', function (e) {
      if (e.key === 'Enter') { e.preventDefault(); search(); }
    });
  }

  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', ready); }
  else { ready(); }
})();
