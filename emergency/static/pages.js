/* Small behaviours of every page, bound by data attributes instead of inline handlers (the
 * Content-Security-Policy runs no inline script without the page's nonce; emergency/csp.py),
 * and the helpers page scripts share (window.EmergencyPages: api, errorText, el). The phone
 * navigation's menu button is one of those behaviours (data-nav-toggle). */
(function () {
  'use strict';

  // Requests the page's scripts have in flight (every fetch, the maps' and tiles' included,
  // counted until its answer's headers arrive; the body's end is a Resource Timing entry).
  // live.js opens its never-ending event stream only when none is left, so a slow layer is
  // not raced by the stream and tools waiting for "no request in flight" see the page settle.
  var inFlight = 0;
  if (window.fetch) {
    var nativeFetch = window.fetch;
    var settled = function () { inFlight -= 1; };
    window.fetch = function () {
      var answer = nativeFetch.apply(this, arguments);
      inFlight += 1;
      answer.then(settled, settled);
      return answer;
    };
  }
  function requestsInFlight() { return inFlight; }

  // The JSON API from page scripts, with the page's CSRF token: {ok, status, data}; a body
  // that is not JSON gives data {}.
  function api(method, url, body) {
    var csrf = document.querySelector('meta[name="csrf-token"]').content;
    return fetch(url, {
      method: method, credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
                'X-CSRFToken': csrf},
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) {
        return {ok: r.ok, status: r.status, data: d};
      });
    });
  }

  // The texts inside an error's details value (nested objects and lists included).
  function leaves(value) {
    if (value === null || value === undefined) { return []; }
    if (typeof value !== 'object') { return [String(value)]; }
    return Object.keys(value).reduce(function (all, k) { return all.concat(leaves(value[k])); }, []);
  }

  // An API error answer as one line: its message and each field's messages (the server
  // writes them in the user's language, each opening with its field's label).
  function errorText(res) {
    var e = res.data && res.data.error;
    if (!e) { return 'HTTP ' + res.status; }
    var parts = Object.keys(e.details || {}).map(function (k) {
      return leaves(e.details[k]).join(' ');
    }).filter(function (text) { return text; });
    return e.message + (parts.length ? ' — ' + parts.join('; ') : '');
  }

  // An element with attributes (text: its textContent, never parsed as HTML) and children.
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(c); });
    return node;
  }

  // An ISO 8601 time (with its offset) as Beijing time, "YYYY-MM-DD HH:mm", the one format
  // of times on screen (the server's local_time filter); "" for none or an unreadable one.
  var BEIJING = new Intl.DateTimeFormat('en-CA', {timeZone: 'Asia/Shanghai', hour12: false,
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'});
  function localTime(iso) {
    if (!iso) { return ''; }
    var moment = new Date(iso), parts = {};
    if (isNaN(moment.getTime())) { return ''; }
    BEIJING.formatToParts(moment).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + '-' + parts.month + '-' + parts.day + ' ' +
      (parts.hour === '24' ? '00' : parts.hour) + ':' + parts.minute;
  }

  window.EmergencyPages = {api: api, errorText: errorText, leaves: leaves, el: el,
                           localTime: localTime, requestsInFlight: requestsInFlight};

  function ready(fn) {
    if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', fn); }
    else { fn(); }
  }
  // <button data-nav-toggle="ID" aria-controls="ID" aria-expanded>: shows or hides the
  // collapsed navigation on phones (Bootstrap's collapse classes, without Bootstrap's JS).
  // Escape closes it and gives the focus back to the button.
  function navToggle(button) {
    var target = document.getElementById(button.getAttribute('data-nav-toggle'));
    if (!target) { return; }
    function set(open) {
      target.classList.toggle('show', open);
      button.setAttribute('aria-expanded', open ? 'true' : 'false');
    }
    button.addEventListener('click', function () { set(!target.classList.contains('show')); });
    target.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && target.classList.contains('show')) { set(false); button.focus(); }
    });
  }

  // A table wider than a phone scrolls inside its .table-responsive box; keyboard users reach
  // that scrolling through the box itself (WCAG 2.1.1), named after the table's caption or
  // the heading before it. A box that does not scroll stays out of the tab order.
  function scrollableTables() {
    document.querySelectorAll('.table-responsive').forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute('tabindex')) {
          box.setAttribute('tabindex', '0');
          box.setAttribute('role', 'region');
          var table = box.querySelector('table'), name = table && (table.getAttribute('aria-label') ||
            (table.caption && table.caption.textContent));
          var heading = box.previousElementSibling;
          while (!name && heading && !/^H[1-6]$/.test(heading.tagName)) { heading = heading.previousElementSibling; }
          name = name || (heading && heading.textContent) || document.title;
          box.setAttribute('aria-label', name.trim());
        }
      } else if (box.getAttribute('role') === 'region') {
        box.removeAttribute('tabindex');
        box.removeAttribute('role');
        box.removeAttribute('aria-label');
      }
    });
  }

  ready(function () {
    document.querySelectorAll('[data-nav-toggle]').forEach(navToggle);
    scrollableTables();
    window.addEventListener('load', scrollableTables);
    var resized = null;
    window.addEventListener('resize', function () {
      window.clearTimeout(resized);
      resized = window.setTimeout(scrollableTables, 200);
    });
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
