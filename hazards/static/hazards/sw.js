/* Service worker of the phone report pages: the hazard report page (served as
 * /hazards/sw.js) and the disaster report page (served as /disasters/sw.js); its own address
 * says which page it keeps. It keeps that page and its assets (the map of the user's grids
 * included: Leaflet, gridmap.js; the grids are JSON inside the page) so the page opens
 * without a network; reports themselves are queued by outbox.js, never here. */
'use strict';
var PAGE = self.location.pathname.split('/')[1] === 'disasters' ? 'disasters' : 'hazards';
var PREFIX = 'emergency-' + PAGE + '-';
var CACHE = PREFIX + 'v3';
var LEAFLET = '/static/vendor/leaflet/dist/';
var SHELL = ['/' + PAGE + '/report', '/' + PAGE + '/static/' + PAGE + '/report.js',
             '/hazards/static/hazards/outbox.js', '/hazards/static/hazards/gridmap.js',
             '/static/pages.js', '/static/vendor/bootstrap/dist/css/bootstrap.min.css',
             '/static/app.css', LEAFLET + 'leaflet.css', LEAFLET + 'leaflet.js',
             LEAFLET + 'images/marker-icon.png', LEAFLET + 'images/marker-icon-2x.png',
             LEAFLET + 'images/marker-shadow.png'];

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    // Only this page's older caches: the other report page's worker keeps its own.
    return Promise.all(keys.filter(function (k) {
      return k.indexOf(PREFIX) === 0 && k !== CACHE;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener('fetch', function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin ||
      SHELL.indexOf(url.pathname) < 0) {
    return;
  }
  // Network first, so an online phone always gets a fresh page (and CSRF token).
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(url.pathname).then(function (hit) {
      return hit || Response.error();
    });
  }));
});
