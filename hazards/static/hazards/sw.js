/* Service worker of the phone reporting page: keeps the page and its assets (the map of the
 * user's grids included: Leaflet and gridmap.js; the grids are JSON inside the page) so the
 * page opens without a network; reports themselves are queued by report.js, never here. */
'use strict';
var CACHE = 'emergency-hazards-v2';
var LEAFLET = '/static/vendor/leaflet/dist/';
var SHELL = ['/hazards/report', '/hazards/static/hazards/report.js',
             '/hazards/static/hazards/gridmap.js', '/static/pages.js',
             '/static/vendor/bootstrap/dist/css/bootstrap.min.css', '/static/app.css',
             LEAFLET + 'leaflet.css', LEAFLET + 'leaflet.js',
             LEAFLET + 'images/marker-icon.png', LEAFLET + 'images/marker-icon-2x.png',
             LEAFLET + 'images/marker-shadow.png'];

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    // Only this page's older caches: the disaster report page's worker keeps its own
    // (emergency-disasters-*) on the same origin.
    return Promise.all(keys.filter(function (k) {
      return k.indexOf('emergency-hazards-') === 0 && k !== CACHE;
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
