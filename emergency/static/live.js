/* Live events for every signed-in page: one EventSource on /api/v1/events, the navbar
 * indicator (#live-indicator, data-state live|reconnecting|offline, its labels taken from the
 * element's data-label-* attributes), and each event re-dispatched on document as the
 * CustomEvents "live:<type>" and "live:any" with detail = the event's parsed JSON data.
 * Pages listen for those and re-fetch what they show from the JSON API.
 *
 * EventSource reconnects by itself after a dropped connection and sends Last-Event-ID, so
 * nothing is lost. It gives up only when the server answers with an error status (503 when the
 * worker's streams are full, 401 when the session ended); then this script opens a new one
 * after a growing, jittered delay, resuming from the last id it saw (?last_event_id=). */
(function () {
  'use strict';

  var URL_BASE = '/api/v1/events';
  var TYPES = ['incident.created', 'incident.updated', 'dispatch.created', 'dispatch.updated',
               'hazard.created', 'hazard.updated', 'warning.published', 'warning.lifted',
               'measure.created', 'measure.lifted'];
  var source = null;
  var lastId = null;
  var failures = 0;
  var timer = null;
  var state = 'offline';

  function indicator() { return document.getElementById('live-indicator'); }

  function setState(next) {
    state = next;
    var node = indicator();
    if (!node) { return; }
    node.setAttribute('data-state', next);
    var label = node.getAttribute('data-label-' + next);
    if (label !== null) { node.textContent = label; }
  }

  function emit(type, detail) {
    document.dispatchEvent(new CustomEvent('live:' + type, {detail: detail}));
    document.dispatchEvent(new CustomEvent('live:any', {detail: detail}));
  }

  function onMessage(message) {
    var detail;
    try { detail = JSON.parse(message.data); } catch (err) { return; }
    if (message.lastEventId) { lastId = message.lastEventId; }
    failures = 0;
    emit(message.type === 'message' ? (detail.type || 'message') : message.type, detail);
  }

  function scheduleReopen() {
    if (timer !== null) { return; }
    failures += 1;
    var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(failures, 5)));
    timer = window.setTimeout(function () { timer = null; open(); },
                              delay / 2 + Math.random() * delay / 2);
  }

  function open() {
    if (!window.EventSource) { setState('offline'); return; }
    var url = URL_BASE + (lastId ? '?last_event_id=' + encodeURIComponent(lastId) : '');
    if (source) { source.close(); }
    setState('reconnecting');
    var es = new EventSource(url, {withCredentials: true});
    source = es;
    es.addEventListener('open', function () { failures = 0; setState('live'); });
    es.addEventListener('error', function () {
      if (es !== source) { return; }  // an old stream, already replaced
      if (es.readyState === EventSource.CLOSED) {
        // Refused (503 full, 401 signed out) or the network is gone: try again later.
        setState('offline');
        es.close();
        scheduleReopen();
      } else {
        setState('reconnecting');  // EventSource retries by itself, with Last-Event-ID.
      }
    });
    es.addEventListener('message', onMessage);
    TYPES.forEach(function (type) { es.addEventListener(type, onMessage); });
  }

  window.EmergencyLive = {
    state: function () { return state; },
    lastEventId: function () { return lastId; }
  };

  window.addEventListener('pagehide', function () { if (source) { source.close(); } });
  window.addEventListener('pageshow', function (e) { if (e.persisted) { open(); } });

  // The stream is a request that never ends. It opens once the page has loaded, has no fetch
  // in flight (pages.js counts them) and has had no request finish for QUIET_MS (at most
  // MAX_DEFER_MS after load): the page's own data comes first, even a slow layer's, and
  // tools that wait for "no request in flight" (Playwright's networkidle, used by the
  // browser tests) still see the page settle. Nothing is lost meanwhile: the stream resumes
  // from the id the page was drawn with (data-last-event-id).
  var QUIET_MS = 1500;
  var MAX_DEFER_MS = 15000;

  function whenQuiet(fn) {
    var begun = Date.now();
    var timer = null;
    var done = false;
    var observer = null;
    function busy() {
      var pages = window.EmergencyPages;
      return pages && pages.requestsInFlight ? pages.requestsInFlight() > 0 : false;
    }
    function fire() {
      if (done) { return; }
      if (busy() && Date.now() - begun < MAX_DEFER_MS) { arm(); return; }
      done = true;
      if (observer) { observer.disconnect(); }
      fn();
    }
    function arm() {
      if (timer !== null) { window.clearTimeout(timer); }
      var left = MAX_DEFER_MS - (Date.now() - begun);
      timer = window.setTimeout(fire, Math.max(0, Math.min(QUIET_MS, left)));
    }
    if (window.PerformanceObserver) {
      try {
        observer = new PerformanceObserver(arm);
        observer.observe({type: 'resource'});
      } catch (err) { observer = null; }
    }
    arm();
  }

  function start() {
    var node = indicator();
    // The newest event id when the page was drawn: what happened since is not lost.
    var drawn = node && node.getAttribute('data-last-event-id');
    if (drawn && lastId === null) { lastId = drawn; }
    setState('reconnecting');
    whenQuiet(open);
  }

  if (document.readyState === 'complete') { start(); }
  else { window.addEventListener('load', start); }
}());
