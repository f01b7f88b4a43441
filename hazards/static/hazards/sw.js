/* Service worker of the phone reporting page: keeps the page and its assets so the page
 * opens without a network; reports themselves are queued by report.js, never here. */
'use strict';
var CACHE = 'emergency-hazards-v1';
var SHELL = ['/hazards/report', '/hazards/static/hazards/report.js',
             '/static/vendor/bootstrap/dist/css/bootstrap.min.css', '/static/app.css'];

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(SHELL);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
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
