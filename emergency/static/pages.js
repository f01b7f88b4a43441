/* Small behaviours of every page, bound by data attributes instead of inline handlers (the
 * Content-Security-Policy runs no inline script without the page's nonce; emergency/csp.py). */
(function () {
  'use strict';
  function ready(fn) {
    if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', fn); }
    else { fn(); }
  }
  ready(function () {
    // <button data-print>: print the page.
    document.querySelectorAll('[data-print]').forEach(function (button) {
      button.addEventListener('click', function () { window.print(); });
    });
    // <select data-autosubmit>: submit its form when the choice changes.
    document.querySelectorAll('select[data-autosubmit]').forEach(function (select) {
      select.addEventListener('change', function () { select.form.submit(); });
    });
    // <button data-use-location>: fill the form's lon/lat fields from the device's position.
    document.querySelectorAll('[data-use-location]').forEach(function (button) {
      button.addEventListener('click', function () {
        if (!navigator.geolocation) { return; }
        navigator.geolocation.getCurrentPosition(function (p) {
          var form = button.form || document;
          form.querySelector('[name=lon]').value = p.coords.longitude.toFixed(6);
          form.querySelector('[name=lat]').value = p.coords.latitude.toFixed(6);
          form.querySelector('select[name=crs]').value = 'wgs84';
        });
      });
    });
  });
})();
