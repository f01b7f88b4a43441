/* What the phone report pages share: the hazard report page (hazards/report.js) and the
 * direct disaster report page (disasters/report.js).
 *
 * ReportOutbox: every report is first kept in IndexedDB under its client_id, then sent;
 * whatever could not be sent is resent when the network returns, which is safe because the
 * server stores a report once per client_id. One flush runs at a time. A refusal (4xx other
 * than a stale CSRF token or a lost sign-in) marks the item refused with the server's words,
 * by the rule of every page (EmergencyPages.errorText); network trouble, 5xx, 401, 408 and
 * 429 leave it waiting. The queue and the last 30 reports sent are listed on the page.
 *
 * ReportPin: the location as one draggable pin on the map of the user's grids (gridmap.js,
 * window.HazardGrids): tap to place, drag to move, "use my location", or typed coordinates;
 * it says which grid holds the pin and refuses a point outside the user's grids.
 *
 * The page gives the texts (JSON in the page) and what is particular to it: how an item is
 * sent, how it reads in the lists, how a refused one goes back into the form. Text is only
 * ever set with textContent. */
(function () {
  'use strict';

  var STORE = 'queue';
  var RETRY_MS = 15000;
  var KEEP_SENT = 30;

  function $(id) { return document.getElementById(id); }

  function Retry(message) { this.message = message; }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    // randomUUID needs a secure context; plain-HTTP intranets still have getRandomValues.
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); });
    return h.slice(0, 4).join('') + '-' + h.slice(4, 6).join('') + '-' + h.slice(6, 8).join('') +
      '-' + h.slice(8, 10).join('') + '-' + h.slice(10).join('');
  }

  function retryable(status) {
    return status >= 500 || status === 401 || status === 408 || status === 429;
  }

  function listItem(text, cls) {
    var el = document.createElement('li');
    el.className = 'list-group-item ' + (cls || '');
    el.textContent = text;
    return el;
  }

  /* options: name (the IndexedDB database; "<name>-sent" keeps the sent list), msgs (the
   * page's texts), send(item, outbox) → a promise (use outbox.post and outbox.answer),
   * queueLine(item) and sentLine(entry) → the lists' texts, restore(item) → put a refused
   * item back into the form. */
  function ReportOutbox(options) {
    this.options = options;
    this.msgs = options.msgs;
    this.sentKey = options.name + '-sent';
    this.csrf = document.querySelector('meta[name="csrf-token"]').getAttribute('content');
    this.running = null;
    this.again = false;
  }

  ReportOutbox.prototype.newId = newId;
  ReportOutbox.Retry = Retry;

  ReportOutbox.prototype.store = function (mode, action) {
    var name = this.options.name;
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(name, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore(STORE, { keyPath: 'client_id' });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    }).then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var req = action(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  };

  ReportOutbox.prototype.save = function (item) {
    return this.store('readwrite', function (s) { return s.put(item); });
  };
  ReportOutbox.prototype.drop = function (id) {
    return this.store('readwrite', function (s) { return s.delete(id); });
  };
  ReportOutbox.prototype.queued = function () {
    return this.store('readonly', function (s) { return s.getAll(); });
  };

  ReportOutbox.prototype.sentList = function () {
    try { return JSON.parse(localStorage.getItem(this.sentKey) || '[]'); } catch (e) { return []; }
  };

  ReportOutbox.prototype.remember = function (entry) {
    var list = this.sentList().filter(function (e) { return e.client_id !== entry.client_id; });
    list.unshift(entry);
    localStorage.setItem(this.sentKey, JSON.stringify(list.slice(0, KEEP_SENT)));
  };

  // A POST with the page's CSRF token; no network is a Retry.
  ReportOutbox.prototype.post = function (url, body, json) {
    var headers = { 'X-CSRFToken': this.csrf, 'Accept': 'application/json' };
    if (json) { headers['Content-Type'] = 'application/json'; }
    var msgs = this.msgs;
    return fetch(url, { method: 'POST', headers: headers, body: body, credentials: 'same-origin' })
      .catch(function () { throw new Retry(msgs.waiting); });
  };

  // A CSRF refusal means the page's token is stale (signed in again elsewhere): fetch a
  // fresh one and keep the item queued rather than marking it refused.
  ReportOutbox.prototype.csrfRefused = function (resp) {
    if (resp.status !== 400) { return Promise.resolve(false); }
    var self = this;
    return resp.clone().json().then(function (body) {
      return /csrf/i.test((body && body.error && body.error.message) || '');
    }, function () { return false; }).then(function (stale) {
      if (!stale) { return false; }
      return fetch(window.location.pathname, { credentials: 'same-origin' }).then(function (page) {
        return page.text();
      }).then(function (html) {
        var m = /name="csrf-token" content="([^"]+)"/.exec(html);
        if (m) { self.csrf = m[1]; }
        return true;
      }, function () { return true; });
    });
  };

  /* An answer of the server: ok(data) for 200/201; a Retry for what may pass; otherwise
   * refused(text), the refusal as one line. */
  ReportOutbox.prototype.answer = function (resp, ok, refused) {
    var msgs = this.msgs;
    if (resp.status === 200 || resp.status === 201) { return resp.json().then(ok); }
    if (retryable(resp.status)) {
      throw new Retry(resp.status === 401 ? msgs.signin : 'HTTP ' + resp.status);
    }
    return this.csrfRefused(resp).then(function (stale) {
      if (stale) { throw new Retry(msgs.signin); }
      return resp.json().then(function (body) {
        return window.EmergencyPages.errorText({status: resp.status, data: body});
      }, function () { return 'HTTP ' + resp.status; }).then(refused);
    });
  };

  // One flush at a time; a call during a flush gets a promise that settles after a further
  // pass, so what it queued has been tried by then.
  ReportOutbox.prototype.flush = function () {
    var self = this;
    if (this.running) { this.again = true; return this.running; }
    this.running = this.queued().then(function (items) {
      items.sort(function (a, b) { return a.created - b.created; });
      return items.reduce(function (chain, item) {
        return chain.then(function () { return item.error ? null : self.options.send(item, self); });
      }, Promise.resolve());
    }).catch(function (err) {
      if (!(err instanceof Retry)) { console.error(err); }
    }).then(function () {
      self.running = null;
      self.render();
      if (self.again) { self.again = false; return self.flush(); }
    });
    return this.running;
  };

  ReportOutbox.prototype.render = function () {
    var self = this, msgs = this.msgs, net = $('net-status');
    net.textContent = navigator.onLine ? msgs.online : msgs.offline;
    net.className = 'alert py-2 ' + (navigator.onLine ? 'alert-success' : 'alert-warning');
    this.queued().then(function (items) {
      var list = $('queue-list');
      list.textContent = '';
      $('queue-count').textContent = String(items.filter(function (i) { return !i.error; }).length);
      items.forEach(function (item) {
        var text = self.options.queueLine(item) + ' · ' +
          (item.error ? msgs.failed + ': ' + item.error : msgs.waiting);
        var el = listItem(text, item.error ? 'list-group-item-danger queued-failed' : 'queued-item');
        el.dataset.clientId = item.client_id;
        if (item.error) {
          var edit = document.createElement('button');
          edit.type = 'button';
          edit.className = 'btn btn-sm btn-outline-danger d-block mt-1';
          edit.textContent = msgs.edit;
          edit.addEventListener('click', function () {
            self.options.restore(item);
            self.drop(item.client_id).then(function () { self.render(); });
          });
          el.appendChild(edit);
        }
        list.appendChild(el);
      });
    });
    var sent = $('sent-list');
    sent.textContent = '';
    this.sentList().forEach(function (entry) {
      var el = listItem(self.options.sentLine(entry), 'sent-item');
      el.dataset.clientId = entry.client_id;
      sent.appendChild(el);
    });
  };

  /* Keep and send one new item; resolves to {refused: text} (the queue keeps no copy: the
   * form still holds the input), {queued: true} (sent later) or {sent: entry}. */
  ReportOutbox.prototype.submit = function (item) {
    var self = this;
    return this.save(item).then(function () {
      self.render();
      return self.flush();
    }).then(function () { return self.queued(); }).then(function (items) {
      var left = items.filter(function (i) { return i.client_id === item.client_id; })[0];
      if (left && left.error) {
        return self.drop(item.client_id).then(function () {
          self.render();
          return {refused: left.error};
        });
      }
      if (left) { return {queued: true}; }
      return {sent: self.sentList().filter(function (e) {
        return e.client_id === item.client_id;
      })[0]};
    });
  };

  /* Resend on reconnection and every 15 s while online; the service worker (which keeps the
   * page for opening offline) at worker within scope. */
  ReportOutbox.prototype.start = function (worker, scope) {
    var self = this;
    window.addEventListener('online', function () { self.render(); self.flush(); });
    window.addEventListener('offline', function () { self.render(); });
    setInterval(function () { if (navigator.onLine) { self.flush(); } }, RETRY_MS);
    if ('serviceWorker' in navigator) {
      // Lets the page open with no network (needs HTTPS or localhost, like any service worker).
      navigator.serviceWorker.register(worker, { scope: scope }).catch(function () {});
    }
    this.render();
    this.flush();
  };

  /* The pin on the grid map; msgs gives pin, in_grid, outside, locating, located,
   * no_location. */
  function ReportPin(msgs) {
    var grids = window.HazardGrids || {map: null, features: [], contains: function () { return null; }};
    var marker = null;

    function gridName(feature) { return feature.properties.name || feature.properties.code; }
    function note(text) { $('location-note').textContent = text; }

    function place(lon, lat, pan) {
      $('lon').value = Number(lon).toFixed(6);
      $('lat').value = Number(lat).toFixed(6);
      show(pan);
    }

    function show(pan) {
      var lon = parseFloat($('lon').value), lat = parseFloat($('lat').value);
      if (!grids.map || !isFinite(lon) || !isFinite(lat)) { return; }
      if (marker) { marker.setLatLng([lat, lon]); } else {
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

    // The phone's position; on page load only when no pin is placed yet.
    function locate(onLoad) {
      if (!navigator.geolocation) { note(msgs.no_location); return; }
      note(msgs.locating);
      navigator.geolocation.getCurrentPosition(function (pos) {
        if (onLoad === true && $('lon').value && $('lat').value) { return; }
        place(pos.coords.longitude, pos.coords.latitude, true);
        note(msgs.located.replace('{m}', Math.round(pos.coords.accuracy)));
      }, function () { note(msgs.no_location); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    }

    // The pin's point as {lon, lat}, or {error} when there is none or it is outside.
    function point() {
      var lon = parseFloat($('lon').value), lat = parseFloat($('lat').value);
      if (!isFinite(lon) || !isFinite(lat)) { return {error: msgs.need_location}; }
      if (grids.features.length && !grids.contains(lon, lat)) {
        return {error: msgs.outside.replace('{grids}', grids.features.map(gridName).join('、'))};
      }
      return {lon: lon, lat: lat};
    }

    if (grids.map) {
      grids.map.on('click', function (e) { place(e.latlng.lng, e.latlng.lat, false); });
    }
    ['lon', 'lat'].forEach(function (id) {
      $(id).addEventListener('change', function () { show(true); });
    });
    $('locate').addEventListener('click', function () { locate(false); });
    return {place: place, note: note, locate: locate, point: point};
  }

  // The form's two boxes: a refusal, or the report sent with a link to it.
  function showError(text) {
    $('form-error').textContent = text;
    $('form-error').classList.remove('d-none');
    $('report-success').classList.add('d-none');
  }

  function showSent(text, href, linkText, extra) {
    var box = $('report-success');
    box.textContent = '';
    box.appendChild(document.createTextNode(text + ' '));
    var link = document.createElement('a');
    link.href = href;
    link.className = 'alert-link';
    link.textContent = linkText;
    box.appendChild(link);
    if (extra) { box.appendChild(document.createTextNode(' ' + extra)); }
    box.classList.remove('d-none');
    $('form-error').classList.add('d-none');
  }

  function hideBoxes() {
    $('form-error').classList.add('d-none');
    $('report-success').classList.add('d-none');
  }

  window.ReportOutbox = ReportOutbox;
  window.ReportPin = ReportPin;
  window.ReportForm = {showError: showError, showSent: showSent, hideBoxes: hideBoxes};
}());
