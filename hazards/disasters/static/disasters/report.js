/* Phone page of direct disaster reports (灾情直报). The same way of working as the hazard
 * report page (hazards/static/hazards/report.js): every report is first kept in IndexedDB
 * under its client_id, then sent; whatever could not be sent is resent when the network
 * returns, which is safe because the server stores a report once per client_id. The pin
 * comes from gridmap.js (window.HazardGrids: the user's grids and contains(lon, lat)) and is
 * checked against those grids before anything is kept. A refusal keeps the form's input and
 * names the fields as the page labels them; a report refused later, from the queue, can be
 * put back into the form. Text is always set with textContent. */
(function () {
  'use strict';
  var DB_NAME = 'emergency-disasters';
  var STORE = 'queue';
  var SENT_KEY = 'emergency-disasters-sent';
  var RETRY_MS = 15000;
  var COUNTS = ['affected', 'dead', 'missing', 'injured', 'houses_collapsed', 'houses_damaged'];
  var msgs = JSON.parse(document.getElementById('disaster-i18n').textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');

  function $(id) { return document.getElementById(id); }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: 'client_id' }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function withStore(mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var req = action(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function save(item) { return withStore('readwrite', function (s) { return s.put(item); }); }
  function drop(id) { return withStore('readwrite', function (s) { return s.delete(id); }); }
  function queued() { return withStore('readonly', function (s) { return s.getAll(); }); }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    // randomUUID needs a secure context; plain-HTTP intranets still have getRandomValues.
    return Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (x) {
      return ('0' + x.toString(16)).slice(-2);
    }).join('');
  }

  function sentList() {
    try { return JSON.parse(localStorage.getItem(SENT_KEY) || '[]'); } catch (e) { return []; }
  }

  function remember(entry) {
    var list = sentList().filter(function (e) { return e.client_id !== entry.client_id; });
    list.unshift(entry);
    localStorage.setItem(SENT_KEY, JSON.stringify(list.slice(0, 30)));
  }

  function Retry(message) { this.message = message; }

  function errorText(resp) {
    return resp.json().then(function (body) {
      var e = body && body.error;
      if (!e) { return 'HTTP ' + resp.status; }
      var details = Object.keys(e.details || {}).map(function (k) {
        return (msgs.fields[k] || k) + ': ' + [].concat(e.details[k]).join(', ');
      });
      return e.message + (details.length ? ' (' + details.join('; ') + ')' : '');
    }, function () { return 'HTTP ' + resp.status; });
  }

  function retryable(status) { return status >= 500 || status === 401 || status === 408 || status === 429; }

  // A CSRF refusal means the page's token is stale: fetch a fresh one, keep the report queued.
  function csrfRefused(resp) {
    if (resp.status !== 400) { return Promise.resolve(false); }
    return resp.clone().json().then(function (body) {
      return /csrf/i.test((body && body.error && body.error.message) || '');
    }, function () { return false; }).then(function (stale) {
      if (!stale) { return false; }
      return fetch(window.location.pathname, { credentials: 'same-origin' }).then(function (page) {
        return page.text();
      }).then(function (html) {
        var m = /name="csrf-token" content="([^"]+)"/.exec(html);
        if (m) { csrf = m[1]; }
        return true;
      }, function () { return true; });
    });
  }

  function send(item) {
    return fetch('/api/v1/disaster-reports', {
      method: 'POST', credentials: 'same-origin', body: JSON.stringify(item.body),
      headers: { 'X-CSRFToken': csrf, 'Accept': 'application/json', 'Content-Type': 'application/json' }
    }).catch(function () { throw new Retry(msgs.waiting); }).then(function (resp) {
      if (resp.status === 200 || resp.status === 201) {
        return resp.json().then(function (data) {
          remember({ client_id: item.client_id, id: data.id, grid_code: data.grid_code, kind: item.label });
          return drop(item.client_id);
        });
      }
      if (retryable(resp.status)) { throw new Retry(resp.status === 401 ? msgs.signin : 'HTTP ' + resp.status); }
      return csrfRefused(resp).then(function (stale) {
        if (stale) { throw new Retry(msgs.signin); }
        return errorText(resp).then(function (text) { item.error = text; return save(item); });
      });
    });
  }

  // One flush at a time; a call during a flush waits for a further pass.
  var running = null, again = false;
  function flush() {
    if (running) { again = true; return running; }
    running = queued().then(function (items) {
      items.sort(function (a, b) { return a.created - b.created; });
      return items.reduce(function (chain, item) {
        return chain.then(function () { return item.error ? null : send(item); });
      }, Promise.resolve());
    }).catch(function (err) {
      if (!(err instanceof Retry)) { console.error(err); }
    }).then(function () {
      running = null;
      render();
      if (again) { again = false; return flush(); }
    });
    return running;
  }

  function li(text, cls) {
    var el = document.createElement('li');
    el.className = 'list-group-item ' + (cls || '');
    el.textContent = text;
    return el;
  }

  function render() {
    $('net-status').textContent = navigator.onLine ? msgs.online : msgs.offline;
    $('net-status').className = 'alert py-2 ' + (navigator.onLine ? 'alert-success' : 'alert-warning');
    queued().then(function (items) {
      var list = $('queue-list');
      list.textContent = '';
      $('queue-count').textContent = String(items.filter(function (i) { return !i.error; }).length);
      items.forEach(function (item) {
        var el = li(item.label + ' · ' + item.client_id.slice(0, 8) + ' · ' +
                    (item.error ? msgs.failed + ': ' + item.error : msgs.waiting),
                    item.error ? 'list-group-item-danger queued-failed' : 'queued-item');
        if (item.error) {
          var edit = document.createElement('button');
          edit.type = 'button';
          edit.className = 'btn btn-sm btn-outline-danger d-block mt-1';
          edit.textContent = msgs.edit;
          edit.addEventListener('click', function () { restore(item); });
          el.appendChild(edit);
        }
        list.appendChild(el);
      });
    });
    var sent = $('sent-list');
    sent.textContent = '';
    sentList().forEach(function (e) {
      sent.appendChild(li('#' + e.id + ' · ' + e.kind + ' · ' + (e.grid_code || ''), 'sent-item'));
    });
  }

  // The pin: one draggable marker on the grid map; the lon/lat fields follow it and it them.
  var grids = window.HazardGrids || { map: null, features: [], contains: function () { return null; } };
  var marker = null;

  function gridName(feature) { return feature.properties.name || feature.properties.code; }
  function note(text) { $('location-note').textContent = text; }

  function place(lon, lat, pan) {
    $('lon').value = Number(lon).toFixed(6);
    $('lat').value = Number(lat).toFixed(6);
    pin(pan);
  }

  function pin(pan) {
    var lon = parseFloat($('lon').value), lat = parseFloat($('lat').value);
    if (!grids.map || !isFinite(lon) || !isFinite(lat)) { return; }
    if (marker) { marker.setLatLng([lat, lon]); } else {
      marker = L.marker([lat, lon], { draggable: true, autoPan: true, title: msgs.pin, alt: msgs.pin })
        .addTo(grids.map);
      marker.on('dragend', function () { var at = marker.getLatLng(); place(at.lng, at.lat, false); });
    }
    if (pan) { grids.map.panTo([lat, lon]); }
    var grid = grids.contains(lon, lat);
    if (grid) { note(msgs.in_grid.replace('{grid}', gridName(grid))); }
  }

  // For page scripts and tests: place the pin as a tap would.
  window.DisasterReportPin = { place: function (lon, lat) { place(lon, lat, true); } };

  if (grids.map) { grids.map.on('click', function (e) { place(e.latlng.lng, e.latlng.lat, false); }); }
  ['lon', 'lat'].forEach(function (id) { $(id).addEventListener('change', function () { pin(true); }); });

  function locate(onLoad) {
    if (!navigator.geolocation) { note(msgs.no_location); return; }
    note(msgs.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      if (onLoad === true && $('lon').value && $('lat').value) { return; }
      place(pos.coords.longitude, pos.coords.latitude, true);
      note(msgs.located.replace('{m}', Math.round(pos.coords.accuracy)));
    }, function () { note(msgs.no_location); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  function showError(text) {
    $('form-error').textContent = text;
    $('form-error').classList.remove('d-none');
    $('report-success').classList.add('d-none');
  }

  function showSent(entry) {
    var box = $('report-success');
    box.textContent = '';
    box.appendChild(document.createTextNode(msgs.sent.replace('{id}', entry.id) + ' '));
    var link = document.createElement('a');
    link.href = '/disasters#disaster-' + encodeURIComponent(entry.id);
    link.className = 'alert-link';
    link.textContent = msgs.open;
    box.appendChild(link);
    box.classList.remove('d-none');
    $('form-error').classList.add('d-none');
  }

  function fill(body) {
    $('kind').value = body.kind;
    COUNTS.forEach(function (key) { $(key).value = body[key]; });
    $('losses_yuan').value = body.losses_yuan;
    $('note').value = body.note || '';
    place(body.location.coordinates[0], body.location.coordinates[1], true);
  }

  // A report refused from the queue goes back into the form and leaves the queue.
  function restore(item) {
    fill(item.body);
    showError(msgs.refused + ' ' + item.error);
    drop(item.client_id).then(render);
    $('disaster-form').scrollIntoView();
  }

  // The numbers as the API takes them, or the first problem (named by the field's label).
  function numbers() {
    var found = {};
    for (var i = 0; i < COUNTS.length; i++) {
      var text = $(COUNTS[i]).value.trim() || '0';
      if (!/^\d{1,9}$/.test(text)) {
        $(COUNTS[i]).focus();
        return { error: msgs.bad_count.replace('{field}', msgs.fields[COUNTS[i]]) };
      }
      found[COUNTS[i]] = parseInt(text, 10);
    }
    var losses = $('losses_yuan').value.trim() || '0';
    if (!/^\d{1,12}(\.\d{1,2})?$/.test(losses)) {
      $('losses_yuan').focus();
      return { error: msgs.bad_losses.replace('{field}', msgs.fields.losses_yuan) };
    }
    found.losses_yuan = losses;
    return { values: found };
  }

  function submit(event) {
    event.preventDefault();
    var lon = parseFloat($('lon').value), lat = parseFloat($('lat').value);
    if (!isFinite(lon) || !isFinite(lat)) { showError(msgs.need_location); return; }
    if (grids.features.length && !grids.contains(lon, lat)) {
      showError(msgs.outside.replace('{grids}', grids.features.map(gridName).join('、')));
      return;
    }
    var checked = numbers();
    if (checked.error) { showError(checked.error); return; }
    $('form-error').classList.add('d-none');
    $('report-success').classList.add('d-none');
    var kind = $('kind');
    var clientId = newId();
    var body = { client_id: clientId, kind: kind.value, note: $('note').value, crs: 'wgs84',
                 location: { type: 'Point', coordinates: [lon, lat] } };
    Object.keys(checked.values).forEach(function (k) { body[k] = checked.values[k]; });
    var item = { client_id: clientId, created: Date.now(), error: null,
                 label: kind.options[kind.selectedIndex].text, body: body };
    $('submit-report').disabled = true;
    save(item).then(function () { render(); return flush(); }).then(queued).then(function (items) {
      var left = items.filter(function (i) { return i.client_id === clientId; })[0];
      if (left && left.error) {
        // Refused: the form still holds the input; the queue keeps no copy.
        showError(msgs.refused + ' ' + left.error);
        return drop(clientId).then(render);
      }
      $('disaster-form').reset();
      $('lon').value = lon.toFixed(6); $('lat').value = lat.toFixed(6);
      if (left) { note(msgs.queued); return; }
      var entry = sentList().filter(function (e) { return e.client_id === clientId; })[0];
      if (entry) { showSent(entry); }
    }).catch(function (err) { console.error(err); }).then(function () {
      $('submit-report').disabled = false;
    });
  }

  $('disaster-form').addEventListener('submit', submit);
  $('locate').addEventListener('click', function () { locate(false); });
  window.addEventListener('online', function () { render(); flush(); });
  window.addEventListener('offline', render);
  setInterval(function () { if (navigator.onLine) { flush(); } }, RETRY_MS);
  if ('serviceWorker' in navigator) {
    // Lets the page open with no network (needs HTTPS or localhost, like any service worker).
    navigator.serviceWorker.register('/disasters/sw.js', { scope: '/disasters/' }).catch(function () {});
  }
  render();
  locate(true);
  flush();
}());
