/* The grid staff's own reports on their home page, live: on a live hazard event (live.js
 * re-dispatches /api/v1/events on document as "live:hazard.created" / "live:hazard.updated",
 * only for reports the user may read) it fetches the rows again (#my-reports-live's data-url,
 * /hazards/mine: the same rows the page was drawn from), rebuilds the list with
 * createElement/textContent, marks the rows whose status changed and says so in the polite
 * status line. Without the live stream the list is as fresh as the last page load. */
(function () {
  'use strict';
  var QUIET_MS = 300;
  var live = document.getElementById('my-reports-live');
  var list = document.getElementById('my-reports');
  if (!live || !list) { return; }
  var labels = live.dataset, timer = null, busy = false, again = false;
  var seen = {};
  list.querySelectorAll('li[data-id]').forEach(function (li) { seen[li.dataset.id] = li.dataset.status; });

  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.textContent = value;
    if (className) { node.className = className; }
    return node;
  }

  function row(r, changed) {
    var li = text('li', '', 'list-group-item');
    li.dataset.id = String(r.id);
    li.dataset.status = r.status;
    var head = text('div', '', 'd-flex justify-content-between gap-2');
    var link = text('a', r.heading, 'text-break fw-bold');
    link.href = r.url;
    head.appendChild(link);
    head.appendChild(text('span', r.status_label, 'badge bg-dark align-self-start report-status'));
    li.appendChild(head);
    li.appendChild(text('div', r.grid + ' · ' + labels.labelReported + ' ' + r.reported,
                        'small text-muted'));
    if (changed) {
      li.classList.add('border-start', 'border-4', 'border-warning');
      li.dataset.changed = '1';
      li.appendChild(text('span', labels.labelChanged, 'visually-hidden'));
    }
    return li;
  }

  function show(body) {
    var next = {};
    var rows = body.items.map(function (r) {
      var id = String(r.id);
      next[id] = r.status;
      return row(r, seen[id] !== r.status);
    });
    seen = next;
    list.replaceChildren.apply(list, rows);
    list.hidden = rows.length === 0;
    document.getElementById('no-reports').hidden = rows.length !== 0;
    document.getElementById('my-reports-total').textContent = String(body.total);
    var now = new Date().toLocaleTimeString('zh-CN', {hour12: false, timeZone: 'Asia/Shanghai'});
    document.getElementById('my-reports-status').textContent = labels.labelUpdated + ' ' + now;
  }

  function refresh() {
    timer = null;
    if (busy) { again = true; return; }
    busy = true;
    fetch(labels.url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body) { show(body); } })
      .catch(function () {})
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }

  function soon() { if (timer === null) { timer = window.setTimeout(refresh, QUIET_MS); } }
  document.addEventListener('live:hazard.created', soon);
  document.addEventListener('live:hazard.updated', soon);
}());
