/* The dispatch console (/maps/incidents/{id}). Everything the side panel shows is drawn here
 * from the page's JSON (#console-data) and redrawn from the JSON API when a live event about
 * this incident arrives (emergency/static/live.js: live:dispatch.created|updated,
 * live:incident.updated): level, status, forces required/dispatched/missing, recommended
 * teams (those filling a gap first), dispatches, the timeline and the after-action record.
 * Dispatching asks for a confirmation (task, members); metrics change with a reason; closing
 * asks for the after-action record. Every text goes in with textContent. */
(function () {
  'use strict';
  var panel = document.getElementById('console');
  if (!panel) { return; }
  var cfg = JSON.parse(document.getElementById('console-data').textContent);
  var T = cfg.texts;
  var incidentId = String(cfg.incident.id);
  var P = window.EmergencyPages;
  var el = P.el;
  var current = {incident: cfg.incident, recs: cfg.recommendations, dispatches: cfg.dispatches,
                 timeline: cfg.timeline};

  function $(id) { return document.getElementById(id); }

  // "%(name)s" holes filled with text (the result is only ever used as textContent).
  function fmt(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (all, key) {
      var v = values[key];
      return v === undefined || v === null ? '' : String(v);
    });
  }

  var beijing = P.localTime;  // Beijing time, as every page shows times

  function levelName(level) {
    return level === null || level === undefined ? T.no_level : (cfg.levels[String(level)] || String(level));
  }
  function statusName(status) { return cfg.statuses[status] || status || ''; }
  function categoryName(category) { return cfg.categories[category] || category || ''; }

  // ------------------------------------------------------------------ drawing

  function drawHeader(incident) {
    var level = $('response-level'), status = $('incident-status');
    level.textContent = levelName(incident.response_level);
    level.dataset.level = incident.response_level === null || incident.response_level === undefined ? '' : String(incident.response_level);
    status.textContent = statusName(incident.status);
    status.dataset.status = incident.status;
    var plan = $('plan-line');
    plan.textContent = '';
    plan.classList.toggle('text-muted', !incident.plan_title);
    plan.textContent = incident.plan_title ?
      incident.plan_title + (incident.plan_version ? ' (v' + incident.plan_version + ')' : '') :
      T.no_plan;
    var closeSection = $('close-section');
    if (closeSection) { closeSection.classList.toggle('d-none', incident.status === 'closed'); }
    var metricsSection = $('metrics-section');
    if (metricsSection) { metricsSection.classList.toggle('d-none', incident.status === 'closed'); }
    drawAfterAction(incident.after_action);
  }

  function drawForces(forces) {
    var tbody = document.querySelector('#forces tbody');
    tbody.textContent = '';
    if (!forces || !forces.length) {
      tbody.appendChild(el('tr', {}, [el('td', {colspan: '4', 'class': 'text-muted', text: T.no_forces})]));
      return;
    }
    forces.forEach(function (f) {
      var tr = el('tr', {'data-category': f.category}, [
        el('td', {text: categoryName(f.category)}), el('td', {text: String(f.required)}),
        el('td', {'class': 'dispatched', text: String(f.dispatched)}),
        el('td', {'class': 'missing', text: String(f.missing)})]);
      if (f.missing) { tr.className = 'table-warning'; }
      tbody.appendChild(tr);
    });
  }

  function missingCategories() {
    var missing = {};
    (current.incident.forces || []).forEach(function (f) { if (f.missing > 0) { missing[f.category] = true; } });
    return missing;
  }

  function fillsGap(team, missing) {
    return team.fills_gap === undefined ? Boolean(missing[team.category]) : Boolean(team.fills_gap);
  }

  function whyText(t) {
    var parts = [categoryName(t.category)];
    if (t.grade) { parts.push(fmt(T.why_grade, {grade: t.grade})); }
    parts.push(fmt(T.why_distance, {km: Number(t.distance_km).toFixed(1),
                                    radius: Number(t.service_radius_km)}));
    parts.push(fmt(T.why_insured, {insured: t.insured_members, members: t.members}));
    return parts.join(' · ');
  }

  function drawRecommendations(recs) {
    var tbody = document.querySelector('#recommendations tbody'), missing = missingCategories();
    var items = (recs.items || []).map(function (t, i) { return {t: t, i: i, gap: fillsGap(t, missing)}; });
    // Teams of a category still missing first; the API already ranks so, this keeps it so.
    items.sort(function (a, b) { return (b.gap - a.gap) || (a.i - b.i); });
    tbody.textContent = '';
    if (!items.length) {
      tbody.appendChild(el('tr', {}, [el('td', {colspan: '4', 'class': 'text-muted', text: T.no_teams})]));
    }
    items.forEach(function (item) {
      var t = item.t, name = el('td', {'class': 'team-name'});
      name.appendChild(el('span', {text: t.name}));
      if (item.gap) {
        name.appendChild(document.createTextNode(' '));
        name.appendChild(el('span', {'class': 'badge text-bg-warning fills-gap', title: T.fills_gap_title, text: T.fills_gap}));
      }
      name.appendChild(el('div', {'class': 'why', text: whyText(t)}));
      if (t.insured_members < t.members) {
        name.appendChild(el('div', {'class': 'text-warning-emphasis small insurance-warning',
                                    text: '⚠ ' + fmt(T.uninsured, {n: t.members - t.insured_members})}));
      }
      var action = el('td');
      if (cfg.can_dispatch && current.incident.status !== 'closed') {
        var button = el('button', {type: 'button', 'class': 'btn btn-sm btn-danger dispatch-btn',
                                   'data-team-id': String(t.team_id), 'data-members': String(t.members || 1),
                                   text: T.dispatch});
        button.addEventListener('click', function () { askDispatch(t, button); });
        action.appendChild(button);
      }
      var tr = el('tr', {'data-team-id': String(t.team_id), 'data-fills-gap': item.gap ? '1' : '0'}, [
        name, el('td', {text: Number(t.distance_km).toFixed(1)}),
        el('td', {text: t.insured_members + '/' + t.members}), action]);
      tbody.appendChild(tr);
    });
    var excluded = $('excluded');
    excluded.textContent = '';
    $('excluded-title').classList.toggle('d-none', !(recs.excluded || []).length);
    (recs.excluded || []).forEach(function (t) {
      excluded.appendChild(el('li', {'data-team-id': String(t.team_id),
        text: t.name + ' · ' + Number(t.distance_km).toFixed(1) + ' ' + T.km + ' · ' + (cfg.reasons[t.reason] || t.reason)}));
    });
  }

  function drawDispatches(items) {
    var tbody = document.querySelector('#dispatches tbody');
    tbody.textContent = '';
    items.forEach(function (d) {
      var status = el('td', {'class': 'status', 'data-status': d.status, text: statusName(d.status)});
      if (d.members_named !== undefined && d.members_named !== null && d.members_named > 0) {
        status.appendChild(el('div', {'class': 'small text-muted', text: fmt(T.members_named, {n: d.members_named})}));
      }
      var team = el('td', {text: d.team_name || ''});
      if (d.task) { team.appendChild(el('div', {'class': 'small text-muted task', text: d.task})); }
      tbody.appendChild(el('tr', {'data-dispatch-id': String(d.id)}, [
        el('td', {text: String(d.id)}), team, status]));
    });
    $('refreshed').textContent = beijing(new Date().toISOString());
  }

  function metricsText(metrics) {
    return Object.keys(metrics || {}).map(function (k) {
      return (cfg.metric_labels[k] || k) + ' ' + metrics[k];
    }).join('，');
  }

  // The team of a timeline entry: its name, else that of its dispatch on this page.
  function teamOf(d) {
    if (d.team) { return d.team; }
    var found = current.dispatches.filter(function (x) { return x.id === d.dispatch_id; })[0];
    return found ? found.team_name : '#' + (d.team_id || d.dispatch_id);
  }

  function sentence(e) {
    var d = e.detail || {}, actor = e.actor || '—', text;
    var note = d.note || d.reason || '';
    switch (e.kind) {
      case 'opened': text = fmt(T.t_opened, {actor: actor, level: levelName(d.response_level)}); break;
      case 'metrics': text = fmt(T.t_metrics, {actor: actor, metrics: metricsText(d.metrics)}); break;
      case 'level':
        text = fmt(T.t_level, {before: levelName(d.before), after: levelName(d.after)}); break;
      case 'status':
        text = fmt(T.t_status, {before: statusName(d.before), after: statusName(d.after)}); break;
      case 'closed': case 'close': text = fmt(T.t_closed, {actor: actor}); note = ''; break;
      case 'dispatch':
        text = !d.before && d.status === 'requested' ? fmt(T.t_dispatch_new, {actor: actor, team: d.team || ('#' + d.team_id)}) :
          fmt(T.t_dispatch, {team: d.team || ('#' + d.team_id), before: statusName(d.before), after: statusName(d.status)});
        // The service's warnings are English sentences; the one it gives today is translated.
        var uninsured = (d.warnings || []).map(function (w) {
          var m = /^(\d+) members uninsured$/.exec(w);
          return m ? fmt(T.uninsured, {n: m[1]}) : null;
        }).filter(Boolean);
        if (uninsured.length) { text += ' ' + fmt(T.warnings, {text: uninsured.join('; ')}); }
        break;
      case 'title': text = fmt(T.t_title, {actor: actor, title: d.title}); break;
      case 'members': case 'dispatch_members':
        text = fmt(T.t_members, {team: teamOf(d),
                                 n: d.count !== undefined ? d.count : (d.member_ids || d.members || []).length});
        break;
      case 'checkin': case 'checkout':
        if (d.member_ids && d.member_id === undefined) {
          text = teamOf(d) + '：' + fmt(T.t_checkout_auto, {n: d.member_ids.length});
          break;
        }
        text = fmt(d.kind === 'out' || e.kind === 'checkout' ? T.t_checkout : T.t_checkin,
                   {member: d.member_name || d.name || ('#' + d.member_id)});
        break;
      case 'requisition':
        text = fmt(T.t_requisition, {order: d.order_number || '', property: d.property || ''}); break;
      case 'requisition_return':
        text = fmt(T.t_requisition_return, {condition: T.conditions[d.condition] || d.condition}); break;
      case 'compensation':
        text = fmt(T.t_compensation, {id: d.compensation_id, status: T.claim_statuses[d.status] || d.status});
        break;
      case 'measure':
        text = fmt(d.status === 'lifted' ? T.t_measure_lifted : T.t_measure,
                   {actor: actor, order: d.order_number || '',
                    kind: (T.measure_kinds || {})[d.measure_kind] || d.measure_kind});
        break;
      case 'report':
        text = fmt(T.t_report, {actor: actor, kind: d.kind === 'follow_up' && d.seq ?
          fmt(T.report_follow_up_n, {n: d.seq - 1}) : (T.report_kinds[d.kind] || d.kind)});
        break;
      default: text = fmt(T.t_other, {actor: actor, kind: e.kind});
    }
    if (note && note !== 'first dispatch') { text += ' ' + fmt(T.reason, {note: note}); }
    return text;
  }

  function drawTimeline(items) {
    var list = $('timeline');
    list.textContent = '';
    items.forEach(function (e) {
      var when = el('time', {datetime: e.at, text: beijing(e.at) + ' · ' + (e.actor || '')});
      list.appendChild(el('li', {'data-kind': e.kind}, [when, el('span', {text: sentence(e)})]));
    });
  }

  function drawAfterAction(record) {
    var section = $('after-action'), dl = $('after-action-record');
    if (!section) { return; }
    section.classList.toggle('d-none', !record);
    dl.textContent = '';
    if (!record) { return; }
    var names = T.after_action;
    ['summary', 'dead', 'missing', 'injured', 'losses_yuan', 'lessons'].forEach(function (k) {
      if (record[k] === undefined) { return; }
      dl.appendChild(el('dt', {'class': 'col-5', text: names[k] || k}));
      dl.appendChild(el('dd', {'class': 'col-7', text: String(record[k])}));
    });
  }

  // ------------------------------------------------------------------ the map

  // The map and its groups, handed over by mapdata.js (maps/incidents.py MapData "console").
  var mapState = null, teamPlaces = {};
  window.EmergencyMaps.draw.console = function (map, mcfg, groups) {
    mapState = {map: map, colours: mcfg.colours, groups: groups};
    drawMap();
  };

  function rememberPlaces() {
    var teams = [].concat(current.recs.items || [], current.recs.excluded || []);
    teams.forEach(function (t) { if (t.location) { teamPlaces[t.team_id] = t.location.coordinates; } });
    current.dispatches.forEach(function (d) { if (d.location) { teamPlaces[d.team_id] = d.location.coordinates; } });
  }

  function tip(layer, text) { layer.bindTooltip(el('span', {text: text})); return layer; }

  // Redraws the recommended teams and the lines to dispatched teams (coloured by status).
  function drawMap() {
    rememberPlaces();
    if (!mapState || !mapState.groups.recommended || !mapState.groups.dispatched) { return; }
    var c = current.incident.location.coordinates, centre = [c[1], c[0]], colours = mapState.colours;
    var recommended = mapState.groups.recommended, dispatched = mapState.groups.dispatched;
    recommended.clearLayers();
    dispatched.clearLayers();
    (current.recs.items || []).forEach(function (t) {
      var spot = [t.location.coordinates[1], t.location.coordinates[0]];
      var text = t.name + ' · ' + Number(t.distance_km).toFixed(1) + ' ' + T.km;
      recommended.addLayer(tip(L.polyline([centre, spot], {color: colours.team, weight: 2, dashArray: '6 4'}), text));
      recommended.addLayer(tip(L.circleMarker(spot, {radius: 7, color: colours.team, fill: true,
                                                     fillColor: colours.team, fillOpacity: 0.85}), text));
    });
    var drawn = 0;
    current.dispatches.forEach(function (d) {
      var place = teamPlaces[d.team_id], colour = colours.status[d.status];
      if (!place || !colour) { return; }
      dispatched.addLayer(tip(L.polyline([centre, [place[1], place[0]]], {color: colour, weight: 3}),
                              (d.team_name || '') + ' · ' + statusName(d.status)));
      drawn += 1;
    });
    panel.dataset.mapDispatched = String(drawn);
  }

  function drawAll() {
    drawMap();
    drawHeader(current.incident);
    drawForces(current.incident.forces);
    drawRecommendations(current.recs);
    drawDispatches(current.dispatches);
    drawTimeline(current.timeline);
  }

  // ------------------------------------------------------------------ refreshing

  function getJSON(url) {
    return fetch(url, {headers: {'Accept': 'application/json'}, credentials: 'same-origin'})
      .then(function (r) { return r.ok ? r.json() : null; });
  }

  var refreshing = null, again = false;
  function refresh() {
    if (refreshing) { again = true; return refreshing; }
    var base = '/api/v1/incidents/' + incidentId;
    var recsUrl = base + '/recommendations?limit=10' + (cfg.category ? '&category=' + encodeURIComponent(cfg.category) : '');
    refreshing = Promise.all([getJSON(base), getJSON(base + '/dispatches'), getJSON(base + '/timeline'),
                              getJSON(recsUrl)])
      .then(function (got) {
        if (got[0]) { current.incident = got[0]; }
        if (got[1]) { current.dispatches = got[1].items; }
        if (got[2]) { current.timeline = got[2].items; }
        if (got[3]) { current.recs = got[3]; }
        drawAll();
      })
      .catch(function () { /* the next event or poll tries again */ })
      .then(function () {
        refreshing = null;
        if (again) { again = false; refresh(); }
      });
    return refreshing;
  }

  var pending = null;
  function soon() {
    if (pending) { return; }
    pending = window.setTimeout(function () { pending = null; refresh(); }, 150);
  }

  function aboutThisIncident(detail) {
    return detail && (String(detail.incident_id) === incidentId);
  }
  document.addEventListener('live:dispatch.created', function (e) { if (aboutThisIncident(e.detail)) { soon(); } });
  document.addEventListener('live:dispatch.updated', function (e) { if (aboutThisIncident(e.detail)) { soon(); } });
  document.addEventListener('live:measure.created', function (e) { if (aboutThisIncident(e.detail)) { soon(); } });
  document.addEventListener('live:measure.lifted', function (e) { if (aboutThisIncident(e.detail)) { soon(); } });
  document.addEventListener('live:incident.updated', function (e) {
    if (e.detail && String(e.detail.id) === incidentId) { soon(); }
  });
  // Without the live stream (blocked proxy, old browser) the page still catches up slowly.
  window.setInterval(function () {
    if (!window.EmergencyLive || window.EmergencyLive.state() !== 'live') { refresh(); }
  }, 20000);

  // ------------------------------------------------------------------ acting

  function showBox(id, text) {
    var box = $(id);
    box.textContent = text;
    box.classList.toggle('d-none', !text);
  }

  function clearErrors(scope) {
    scope.querySelectorAll('[data-error-for]').forEach(function (n) { n.textContent = ''; });
  }

  // A refusal: each field's messages next to the field, the message in the form's alert.
  function showRefusal(scope, boxId, res) {
    var e = res.data && res.data.error, rest = [];
    clearErrors(scope);
    if (!e) { showBox(boxId, T.network); return; }
    Object.keys(e.details || {}).forEach(function (field) {
      var target = scope.querySelector('[data-error-for="' + field.split('.')[0] + '"]');
      // The server's field messages open with the field's label: no key in front of them.
      var text = P.leaves(e.details[field]).join(' ');
      if (target) { target.textContent = text; } else { rest.push(text); }
    });
    showBox(boxId, [e.message].concat(rest).join(' — '));
  }

  var dialog = $('dispatch-dialog'), chosen = null;
  function askDispatch(team, button) {
    chosen = {team: team, button: button};
    $('dispatch-dialog-title').textContent = fmt(T.confirm_title, {team: team.name});
    $('dispatch-dialog-facts').textContent = whyText(team);
    $('dispatch-members').value = String(team.members || 1);
    $('dispatch-members').max = String(Math.max(team.members || 1, 1));
    dialog.showModal();
    $('dispatch-task').focus();
  }

  function confirmDispatch() {
    if (!chosen) { return; }
    var team = chosen.team, button = chosen.button;
    dialog.close();
    button.disabled = true;
    showBox('console-error', '');
    P.api('POST', '/api/v1/incidents/' + incidentId + '/dispatches', {
      team_id: team.team_id, task: $('dispatch-task').value.trim(),
      members_requested: Number($('dispatch-members').value) || 1
    }).then(function (res) {
      if (!res.ok) {
        button.disabled = false;
        showBox('console-error', P.errorText(res));
        return;
      }
      $('dispatch-task').value = '';
      if (team.insured_members < team.members) {
        showBox('console-warning', '⚠ ' + team.name + ': ' + fmt(T.uninsured, {n: team.members - team.insured_members}));
      }
      refresh();
    }).catch(function () { button.disabled = false; showBox('console-error', T.network); });
  }

  if (dialog) {
    $('dispatch-confirm').addEventListener('click', confirmDispatch);
    $('dispatch-cancel').addEventListener('click', function () { chosen = null; dialog.close(); });
  }

  var metricsForm = $('metrics-form');
  if (metricsForm) {
    metricsForm.addEventListener('submit', function (event) {
      event.preventDefault();
      var changed = {}, old = current.incident.metrics || {};
      metricsForm.querySelectorAll('input.metric').forEach(function (input) {
        if (input.value !== '' && Number(input.value) !== old[input.dataset.metric]) {
          changed[input.dataset.metric] = Number(input.value);
        }
      });
      var key = $('metric-add-key').value, value = $('metric-add-value').value;
      if (key && value !== '') { changed[key] = Number(value); }
      var save = $('metrics-save');
      save.disabled = true;
      $('metrics-saved').textContent = '';
      P.api('PATCH', '/api/v1/incidents/' + incidentId,
            {metrics: changed, note: $('metrics-note').value.trim()}).then(function (res) {
        save.disabled = false;
        if (!res.ok) { showRefusal(metricsForm, 'metrics-error', res); return; }
        clearErrors(metricsForm);
        showBox('metrics-error', '');
        $('metrics-note').value = '';
        current.incident = res.data;
        $('metrics-saved').textContent = T.saved + ' ' + levelName(res.data.response_level);
        refresh();
      }).catch(function () { save.disabled = false; showBox('metrics-error', T.network); });
    });
  }

  var closeForm = $('close-form');
  if (closeForm) {
    $('close-open').addEventListener('click', function () {
      closeForm.classList.toggle('d-none');
      if (!closeForm.classList.contains('d-none')) { $('close-summary').focus(); }
    });
    closeForm.addEventListener('submit', function (event) {
      event.preventDefault();
      var body = {};
      closeForm.querySelectorAll('[data-field]').forEach(function (input) {
        var v = input.value.trim(), k = input.dataset.field;
        if (k === 'dead' || k === 'missing' || k === 'injured') {
          body[k] = v === '' ? null : (/^\d+$/.test(v) ? Number(v) : v);
        } else { body[k] = v; }
      });
      var save = $('close-save');
      save.disabled = true;
      P.api('POST', '/api/v1/incidents/' + incidentId + '/close', body).then(function (res) {
        save.disabled = false;
        if (res.status === 409) {
          clearErrors(closeForm);
          showBox('close-error', fmt(T.active_refusal, {message: res.data && res.data.error ? res.data.error.message : ''}));
          return;
        }
        if (!res.ok) { showRefusal(closeForm, 'close-error', res); return; }
        showBox('close-error', '');
        current.incident = res.data;
        refresh();
      }).catch(function () { save.disabled = false; showBox('close-error', T.network); });
    });
  }

  drawAll();
  // Shown once drawn (app.css hides the panel until then): its tables filling in after the
  // first paint would push everything below them down under the reader's cursor.
  panel.setAttribute('data-drawn', '');
})();
