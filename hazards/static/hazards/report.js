/* Phone reporting page: every report is first kept in IndexedDB, then sent; whatever could
 * not be sent is resent when the network returns. Resending is safe: the server stores a
 * report once per client_id and a photo once per (report, file checksum).
 *
 * The location is a pin on the map of the user's grids (gridmap.js: tap to place, drag to
 * move, or "use my location", or typed coordinates), checked against those grids before
 * anything is kept. When the server refuses a report sent from the form, the form keeps the
 * input and says why (field names as the page labels them); a report refused later, from the
 * queue, can be put back into the form. A report sent is announced with a link to it. */
(function () {
  'use strict';
  var DB_NAME = 'emergency-hazards';
  var STORE = 'queue';
  var SENT_KEY = 'emergency-hazards-sent';
  var RETRY_MS = 15000;
  var msgs = JSON.parse(document.getElementById('hazard-i18n').textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
  var again = false;

  function $(id) { return document.getElementById(id); }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore(STORE, { keyPath: 'client_id' });
      };
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
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function save(item) { return withStore('readwrite', function (s) { return s.put(item); }); }
  function drop(id) { return withStore('readwrite', function (s) { return s.delete(id); }); }
  function queued() { return withStore('readonly', function (s) { return s.getAll(); }); }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    // randomUUID needs a secure context; plain-HTTP intranets still have getRandomValues.
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); });
    return h.slice(0, 4).join('') + '-' + h.slice(4, 6).join('') + '-' + h.slice(6, 8).join('') +
      '-' + h.slice(8, 10).join('') + '-' + h.slice(10).join('');
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

  // A refusal as one line, by the rule of every page (EmergencyPages.errorText): the message,
  // then each field's messages, which the server opens with the field's label.
  function errorText(resp) {
    return resp.json().then(function (body) {
      return window.EmergencyPages.errorText({status: resp.status, data: body});
    }, function () { return 'HTTP ' + resp.status; });
  }

  function retryable(status) { return status >= 500 || status === 401 || status === 408 || status === 429; }

  // A CSRF refusal means the page's token is stale (signed in again elsewhere): fetch a
  // fresh one and keep the report queued rather than marking it refused.
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

  function post(url, body, json) {
    var headers = { 'X-CSRFToken': csrf, 'Accept': 'application/json' };
    if (json) { headers['Content-Type'] = 'application/json'; }
    return fetch(url, { method: 'POST', headers: headers, body: body, credentials: 'same-origin' })
      .catch(function () { throw new Retry(msgs.waiting); });
  }

  function sendReport(item) {
    if (item.report_id) { return Promise.resolve(); }
    return post('/api/v1/hazards', JSON.stringify(item.body), true).then(function (resp) {
      if (resp.status === 200 || resp.status === 201) {
        return resp.json().then(function (data) {
          item.report_id = data.id;
          item.grid_code = data.grid_code;
          return save(item);
        });
      }
      if (retryable(resp.status)) {
        throw new Retry(resp.status === 401 ? msgs.signin : 'HTTP ' + resp.status);
      }
      return csrfRefused(resp).then(function (stale) {
        if (stale) { throw new Retry(msgs.signin); }
        return errorText(resp).then(function (text) { item.error = text; return save(item); });
      });
    });
  }

  function sendPhotos(item) {
    var chain = Promise.resolve();
    item.photos.forEach(function (photo) {
      chain = chain.then(function () {
        if (photo.sent || photo.error || item.error) { return; }
        var form = new FormData();
        form.append('photo', photo.blob, photo.name || 'photo.jpg');
        return post('/api/v1/hazards/' + item.report_id + '/photos', form, false).then(function (resp) {
          if (resp.status === 200 || resp.status === 201) {
            photo.sent = true;
            return save(item);
          }
          if (retryable(resp.status)) { throw new Retry('HTTP ' + resp.status); }
          return csrfRefused(resp).then(function (stale) {
            if (stale) { throw new Retry(msgs.signin); }
            return errorText(resp).then(function (text) { photo.error = text; return save(item); });
          });
        });
      });
    });
    return chain;
  }

  function sendItem(item) {
    return sendReport(item).then(function () {
      if (item.error) { return; }
      return sendPhotos(item).then(function () {
        remember({ client_id: item.client_id, id: item.report_id, grid_code: item.grid_code,
                   category: item.label, photos: item.photos.filter(function (p) { return p.sent; }).length,
                   failed_photos: item.photos.filter(function (p) { return p.error; }).length });
        return drop(item.client_id);
      });
    });
  }

  // One flush at a time; a call during a flush gets a promise that settles after a further
  // pass, so what it queued has been tried by then.
  var running = null;
  function flush() {
    if (running) { again = true; return running; }
    running = flushOnce().then(function () {
      running = null;
      if (again) { again = false; return flush(); }
    });
    return running;
  }

  function flushOnce() {
    return queued().then(function (items) {
      items.sort(function (a, b) { return a.created - b.created; });
      var chain = Promise.resolve();
      items.forEach(function (item) {
        chain = chain.then(function () {
          if (item.error) { return; }
          item.state = msgs.sending;
          return sendItem(item);
        });
      });
      return chain;
    }).catch(function (err) {
      if (!(err instanceof Retry)) { console.error(err); }
    }).then(render);
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
      var waiting = items.filter(function (i) { return !i.error; });
      $('queue-count').textContent = String(waiting.length);
      items.forEach(function (item) {
        var sent = item.photos.filter(function (p) { return p.sent; }).length;
        var text = item.label + ' · ' + item.client_id.slice(0, 8) + ' · ' +
          (item.error ? msgs.failed + ': ' + item.error : msgs.waiting) +
          ' · ' + msgs.photos + ' ' + sent + '/' + item.photos.length;
        var el = li(text, item.error ? 'list-group-item-danger queued-failed' : 'queued-item');
        el.dataset.clientId = item.client_id;
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
    var sentEl = $('sent-list');
    sentEl.textContent = '';
    sentList().forEach(function (e) {
      var el = li('#' + e.id + ' · ' + e.category + ' · ' + (e.grid_code || '') + ' · ' +
                  msgs.photos + ' ' + e.photos, 'sent-item');
      el.dataset.clientId = e.client_id;
      sentEl.appendChild(el);
    });
  }

  // The pin: one draggable marker on the grid map; the lon/lat fields follow it and it
  // follows them. HazardGrids (gridmap.js) draws the grids and tells which holds a point.
  var grids = window.HazardGrids || {map: null, features: [], contains: function () { return null; }};
  var marker = null;

  function gridName(feature) {
    return feature.properties.name || feature.properties.code;
  }

  function note(text) { $('location-note').textContent = text; }

  function place(lon, lat, pan) {
    $('lon').value = Number(lon).toFixed(6);
    $('lat').value = Number(lat).toFixed(6);
    pin(pan);
  }

  function pin(pan) {
    var lon = parseFloat($('lon').value), lat = parseFloat($('lat').value);
    if (!grids.map || !isFinite(lon) || !isFinite(lat)) { return; }
    if (marker) { marker.setLatLng([lat, lon]); }
    else {
      marker = L.marker([lat, lon], {draggable: true, autoPan: true, title: msgs.pin,
                                     alt: msgs.pin}).addTo(grids.map);
      marker.on('dragend', function () {
        var at = marker.getLatLng();
        place(at.lng, at.lat, false);
      });
    }
    if (pan) { grids.map.panTo([lat, lon]); }
    var grid = grids.contains(lon, lat);
    if (grid) { note(msgs.in_grid.replace('{grid}', gridName(grid))); }
  }

  // For page scripts and tests: place the pin as a tap would.
  window.HazardReportPin = {place: function (lon, lat) { place(lon, lat, true); }};

  if (grids.map) {
    grids.map.on('click', function (e) { place(e.latlng.lng, e.latlng.lat, false); });
  }
  ['lon', 'lat'].forEach(function (id) { $(id).addEventListener('change', function () { pin(true); }); });

  // The phone's position; on page load only when no pin is placed yet.
  function locate(onLoad) {
    if (!navigator.geolocation) { note(msgs.no_location); return; }
    note(msgs.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      if (onLoad === true && $('lon').value && $('lat').value) { return; }
      place(pos.coords.longitude, pos.coords.latitude, true);
      note(msgs.located.replace('{m}', Math.round(pos.coords.accuracy)));
    }, function () {
      note(msgs.no_location);
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  function previews() {
    var box = $('photo-previews');
    box.textContent = '';
    Array.prototype.forEach.call($('photo-input').files, function (file) {
      var img = document.createElement('img');
      img.src = URL.createObjectURL(file);
      img.alt = file.name;
      box.appendChild(img);
    });
  }

  function showError(text) {
    var error = $('form-error');
    error.textContent = text;
    error.classList.remove('d-none');
    $('report-success').classList.add('d-none');
  }

  // The sent report's number, a link to it, and how many photos were refused.
  function showSent(entry) {
    var box = $('report-success');
    box.textContent = '';
    box.appendChild(document.createTextNode(msgs.sent.replace('{id}', entry.id) + ' '));
    var link = document.createElement('a');
    link.href = '/hazards/' + encodeURIComponent(entry.id);
    link.className = 'alert-link';
    link.textContent = msgs.open;
    box.appendChild(link);
    if (entry.failed_photos) {
      box.appendChild(document.createTextNode(' ' + msgs.photos_failed.replace('{n}', entry.failed_photos)));
    }
    box.classList.remove('d-none');
    $('form-error').classList.add('d-none');
  }

  function clearForm(lon, lat) {
    $('hazard-form').reset();
    $('lon').value = lon; $('lat').value = lat;
    $('photo-previews').textContent = '';
  }

  // A report refused from the queue goes back into the form (photos too, where the browser
  // lets a page fill a file input) and leaves the queue.
  function restore(item) {
    var b = item.body;
    $('category').value = b.category;
    var severity = document.getElementById('severity-' + b.severity);
    if (severity) { severity.checked = true; }
    $('description').value = b.description || '';
    place(b.location.coordinates[0], b.location.coordinates[1], true);
    try {
      var files = new DataTransfer();
      item.photos.forEach(function (photo) {
        files.items.add(new File([photo.blob], photo.name || 'photo.jpg', {type: photo.blob.type}));
      });
      $('photo-input').files = files.files;
      previews();
    } catch (e) { /* the photos must be chosen again */ }
    showError(msgs.refused + ' ' + item.error);
    drop(item.client_id).then(render);
    $('hazard-form').scrollIntoView();
  }

  function submit(event) {
    event.preventDefault();
    var lon = parseFloat($('lon').value);
    var lat = parseFloat($('lat').value);
    if (!isFinite(lon) || !isFinite(lat)) { showError(msgs.need_location); return; }
    if (grids.features.length && !grids.contains(lon, lat)) {
      showError(msgs.outside.replace('{grids}', grids.features.map(gridName).join('、')));
      return;
    }
    $('form-error').classList.add('d-none');
    $('report-success').classList.add('d-none');
    var category = $('category');
    var clientId = newId();
    var item = {
      client_id: clientId, created: Date.now(), report_id: null, error: null,
      label: category.options[category.selectedIndex].text,
      body: { client_id: clientId, category: category.value,
              severity: document.querySelector('input[name="severity"]:checked').value,
              description: $('description').value, crs: 'wgs84',
              location: { type: 'Point', coordinates: [lon, lat] } },
      photos: Array.prototype.map.call($('photo-input').files, function (file) {
        return { blob: file, name: file.name, sent: false, error: null };
      })
    };
    $('submit-report').disabled = true;
    save(item).then(function () {
      render();
      return flush();
    }).then(function () {
      return queued();
    }).then(function (items) {
      var left = items.filter(function (i) { return i.client_id === clientId; })[0];
      if (left && left.error) {
        // Refused: the form still holds the input; the queue does not keep a copy.
        showError(msgs.refused + ' ' + left.error);
        return drop(clientId).then(render);
      }
      clearForm(lon, lat);
      if (left) { note(msgs.queued); return; }
      var entry = sentList().filter(function (e) { return e.client_id === clientId; })[0];
      if (entry) { showSent(entry); }
    }).catch(function (err) {
      console.error(err);
    }).then(function () {
      $('submit-report').disabled = false;
    });
  }

  $('hazard-form').addEventListener('submit', submit);
  $('locate').addEventListener('click', function () { locate(false); });
  $('photo-input').addEventListener('change', previews);
  window.addEventListener('online', function () { render(); flush(); });
  window.addEventListener('offline', render);
  setInterval(function () { if (navigator.onLine) { flush(); } }, RETRY_MS);
  if ('serviceWorker' in navigator) {
    // Lets the page open with no network (needs HTTPS or localhost, like any service worker).
    navigator.serviceWorker.register('/hazards/sw.js', { scope: '/hazards/' }).catch(function () {});
  }
  render();
  locate(true);
  flush();
}());
