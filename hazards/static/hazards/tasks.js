/* The task list of /hazards/tasks (as filtered and paged), live: on a live hazard event
 * (live.js re-dispatches /api/v1/events on document as "live:hazard.created" /
 * "live:hazard.updated"; the stream already holds only reports of the user's grids) it
 * fetches the list's rows again (#task-live's data-url: the page's own filters with
 * format=json, the same rows the page was rendered from), rebuilds the list with
 * createElement/textContent, updates the total badge, marks the rows that are new or
 * changed, and says so in the polite status line. Events within QUIET_MS are one refresh. */
(function () {
  'use strict';
  var QUIET_MS = 500;
  var MARK = ['border-start', 'border-4', 'border-warning'];

  function ready(fn) {
    if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', fn); }
    else { fn(); }
  }

  ready(function () {
    var live = document.getElementById('task-live');
    var list = document.getElementById('task-list');
    if (!live || !list) { return; }
    var labels = live.dataset, total = document.getElementById('task-total');
    var empty = document.getElementById('no-tasks'), status = document.getElementById('task-status');
    var timer = null, busy = false, again = false;

    // What a row shows that matters: status, deadline, overdue, escalated (the server writes
    // the same in each row's data-sig).
    function signature(r) {
      return [r.status, r.due, r.overdue ? 1 : 0, r.escalated ? 1 : 0].join('|');
    }
    var seen = {};
    list.querySelectorAll('a[data-id]').forEach(function (a) { seen[a.dataset.id] = a.dataset.sig; });

    function text(tag, value, className) {
      var node = document.createElement(tag);
      node.textContent = value;
      if (className) { node.className = className; }
      return node;
    }

    function row(r, changed) {
      var a = document.createElement('a');
      a.className = 'list-group-item list-group-item-action' +
        (r.overdue ? ' list-group-item-danger' : '');
      a.href = r.url;
      a.dataset.id = String(r.id);
      a.dataset.status = r.status;
      a.dataset.sig = signature(r);
      var head = document.createElement('div');
      head.className = 'd-flex justify-content-between gap-2';
      head.appendChild(text('strong', r.heading, 'text-break'));
      head.appendChild(text('span', r.status_label, 'badge bg-dark align-self-start'));
      a.appendChild(head);
      var meta = text('div', (r.grid || r.grid_code) + ' · ' + labels.labelReported + ' ' +
                      r.reported + ' · ' + labels.labelDue + ' ' + r.due + ' ', 'small');
      if (r.overdue) { meta.appendChild(text('span', labels.labelOverdue, 'badge bg-danger')); }
      if (r.escalated) {
        meta.appendChild(document.createTextNode(' '));
        meta.appendChild(text('span', labels.labelEscalated, 'badge bg-warning text-dark'));
      }
      a.appendChild(meta);
      a.appendChild(text('div', r.summary, 'small text-muted text-break'));
      if (changed) {
        MARK.forEach(function (c) { a.classList.add(c); });
        a.dataset.changed = '1';
        a.appendChild(text('span', labels.labelChanged, 'visually-hidden'));
      }
      return a;
    }

    function show(body) {
      var next = {}, changed = 0;
      var rows = body.items.map(function (r) {
        var id = String(r.id), sig = signature(r), same = seen[id] === sig;
        next[id] = sig;
        if (!same) { changed += 1; }
        return row(r, !same);
      });
      seen = next;
      list.replaceChildren.apply(list, rows);
      list.hidden = rows.length === 0;
      empty.hidden = rows.length !== 0;
      total.textContent = String(body.total);
      var now = new Date().toLocaleTimeString('zh-CN', {hour12: false, timeZone: 'Asia/Shanghai'});
      status.textContent = labels.labelUpdated + ' ' + now;
      live.dataset.changed = String(changed);
    }

    function refresh() {
      timer = null;
      if (busy) { again = true; return; }
      busy = true;
      fetch(labels.url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) { if (body) { show(body); } })
        .catch(function () {})
        .then(function () {
          busy = false;
          if (again) { again = false; refresh(); }
        });
    }

    function soon() { if (timer === null) { timer = window.setTimeout(refresh, QUIET_MS); } }
    document.addEventListener('live:hazard.created', soon);
    document.addEventListener('live:hazard.updated', soon);
  });
}());
