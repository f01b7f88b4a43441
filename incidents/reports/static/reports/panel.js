/* The information report panel (信息报告) on the dispatch console and the reports page:
 * redrawn from GET /api/v1/incidents/{id}/reports when a live event about the incident
 * arrives (emergency/static/live.js: live:incident.updated), and its badge turns to
 * "overdue" when the initial report's time passes with the page open. Every text goes in
 * with textContent. */
(function () {
  'use strict';
  var panel = document.getElementById('report-panel');
  var data = document.getElementById('report-panel-data');
  if (!panel || !data || !window.EmergencyPages) { return; }
  var cfg = JSON.parse(data.textContent);
  var T = cfg.texts, el = window.EmergencyPages.el;
  var incidentId = String(cfg.api_url.split('/').slice(-2)[0]);
  var BEIJING = new Intl.DateTimeFormat('en-CA', {timeZone: 'Asia/Shanghai', hour12: false,
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit'});
  var timer = null;

  function beijing(iso) {
    if (!iso) { return ''; }
    var p = {};
    BEIJING.formatToParts(new Date(iso)).forEach(function (x) { p[x.type] = x.value; });
    return p.year + '-' + p.month + '-' + p.day + ' ' + (p.hour === '24' ? '00' : p.hour) + ':' + p.minute;
  }

  function fmt(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (all, key) {
      return values[key] === undefined || values[key] === null ? '' : String(values[key]);
    });
  }

  function kindName(item) {
    return item.kind === 'follow_up' ? fmt(T.follow_up_n, {n: item.follow_up_number}) : (T.kinds[item.kind] || item.kind);
  }

  // The badge: final made, overdue, due by, made (late or on time).
  function drawState(state) {
    var badge = document.getElementById('report-state');
    if (!badge) { return; }
    var key, cls, text;
    var overdue = state.report_overdue ||
      (!state.initial_report_at && Date.now() >= new Date(state.report_due_at).getTime());
    var kinds = state.items ? state.items.map(function (i) { return i.kind; }) : (state.kinds || []);
    if (kinds.indexOf('final') >= 0) {
      key = 'closed'; cls = 'text-bg-secondary'; text = T.closed;
    } else if (overdue) {
      key = 'overdue'; cls = 'text-bg-danger'; text = fmt(T.overdue, {time: beijing(state.report_due_at)});
    } else if (!state.initial_report_at) {
      key = 'pending'; cls = 'text-bg-warning'; text = fmt(T.pending, {time: beijing(state.report_due_at)});
    } else {
      key = state.initial_report_late ? 'late' : 'reported';
      cls = state.initial_report_late ? 'text-bg-warning' : 'text-bg-success';
      text = fmt(state.initial_report_late ? T.late : T.reported, {time: beijing(state.initial_report_at)});
    }
    badge.className = 'badge ' + cls;
    badge.dataset.state = key;
    badge.textContent = text;
    if (timer) { window.clearTimeout(timer); timer = null; }
    if (key === 'pending') {
      var wait = new Date(state.report_due_at).getTime() - Date.now() + 1000;
      // Timers longer than ~24.8 days overflow; a due time that far off needs no timer.
      if (wait > 0 && wait < 2147483647) { timer = window.setTimeout(function () { drawState(state); }, wait); }
    }
  }

  function drawList(state) {
    var list = document.getElementById('report-list'), none = document.getElementById('report-none');
    if (list && state.items) {
      list.textContent = '';
      state.items.forEach(function (item) {
        var link = el('a', {href: cfg.report_url + '/' + item.id, text: kindName(item)});
        list.appendChild(el('li', {'data-report-id': String(item.id), 'data-kind': item.kind}, [
          link, document.createTextNode(' · ' + beijing(item.reported_at) + ' · ' + (item.signer || ''))]));
      });
      if (none) { none.hidden = state.items.length > 0; }
    }
    panel.querySelectorAll('.report-write').forEach(function (link) {
      link.hidden = (state.next_kinds || []).indexOf(link.dataset.kind) < 0;
    });
  }

  function refresh() {
    fetch(cfg.api_url, {headers: {'Accept': 'application/json'}, credentials: 'same-origin'})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) { if (state) { drawList(state); drawState(state); } })
      .catch(function () { /* the next event tries again */ });
  }

  document.addEventListener('live:incident.updated', function (e) {
    if (e.detail && String(e.detail.id) === incidentId) { refresh(); }
  });
  drawState(cfg);
})();
