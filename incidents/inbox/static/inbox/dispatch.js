/* One dispatch on a phone: accept or decline it (with a reason), advance it, name the members
 * who go, and check them in and out on scene with the phone's location. Every change goes
 * through the JSON API; the page then re-reads the dispatch, its members and check-ins, as it
 * does on a live event for this dispatch. Refusals are shown next to the button, input kept. */
(function () {
  'use strict';

  var root = document.getElementById('dispatch-page');
  if (!root) { return; }
  var P = window.EmergencyPages;
  var C = window.InboxCommon;
  var text = C.labels();
  var el = P.el;
  var id = Number(root.dataset.dispatchId);
  var canAnswer = root.dataset.canAnswer === '1';
  var base = '/api/v1/dispatches/' + id;
  var STEPS = ['en_route', 'on_scene', 'completed'];
  var NAMING = ['accepted', 'en_route', 'on_scene'];
  var CHECKING = ['en_route', 'on_scene'];
  var dispatch = JSON.parse(document.getElementById('dispatch-data').textContent);
  var members = [];
  var rowErrors = {};  // member_id → the refusal shown in that member's row (kept on redraw)

  function byId(name) { return document.getElementById(name); }

  function show(node, visible) {
    if (node) { node.classList.toggle('d-none', !visible); }
  }

  function busy(button, on) {
    button.disabled = on;
    button.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  // --------------------------------------------------------------- the dispatch and its steps

  function applyStatus() {
    var badge = byId('dispatch-status');
    badge.textContent = text.statuses[dispatch.status] || dispatch.status;
    badge.setAttribute('data-status', dispatch.status);
    if (!canAnswer) { return; }
    show(byId('answer'), dispatch.status === 'requested');
    var next = STEPS.filter(function (s) { return (dispatch.next || []).indexOf(s) >= 0; })[0];
    var step = byId('step-btn');
    show(byId('advance'), Boolean(next));
    if (next) {
      step.textContent = text.steps[next];
      step.setAttribute('data-to', next);
    }
    show(byId('name-form'), NAMING.indexOf(dispatch.status) >= 0);
    // A refusal whose buttons the new state hides stays readable under the status.
    [['answer', 'answer-error'], ['advance', 'advance-error']].forEach(function (pair) {
      var box = byId(pair[1]);
      if (byId(pair[0]).classList.contains('d-none') && !box.classList.contains('d-none')) {
        var note = byId('status-note');
        note.textContent = box.textContent;
        note.title = box.title;
        show(note, true);
        C.clearError(box);
      }
    });
  }

  function transition(to, note, button, errorBox) {
    if (!window.confirm(to === 'declined' ? text.confirm_decline : text.confirm_steps[to])) {
      return;
    }
    C.clearError(errorBox);
    C.clearError(byId('status-note'));
    busy(button, true);
    P.api('POST', base + '/transition', {to: to, note: note}).then(function (res) {
      busy(button, false);
      if (!res.ok) {
        C.showError(errorBox, text, res);
        if (res.status === 409) { refresh(); }
        return;
      }
      if (to === 'declined') { byId('decline-reason').value = ''; }
      refresh();
    }, function () { busy(button, false); C.showError(errorBox, text, null); });
  }

  if (canAnswer) {
    byId('accept-btn').addEventListener('click', function () {
      transition('accepted', '', byId('accept-btn'), byId('answer-error'));
    });
    byId('decline-btn').addEventListener('click', function () {
      // The reason is checked by the server (422 without one), which names the field.
      transition('declined', byId('decline-reason').value.trim(), byId('decline-btn'),
                 byId('answer-error'));
    });
    byId('step-btn').addEventListener('click', function () {
      var button = byId('step-btn');
      transition(button.getAttribute('data-to'), '', button, byId('advance-error'));
    });
  }

  // ------------------------------------------------------------------- naming the members

  function chosen() {
    return Array.prototype.filter.call(document.querySelectorAll('.member-choice'),
      function (box) { return box.checked; }).map(function (box) { return Number(box.value); });
  }

  var form = byId('name-form');
  var touched = false;  // the user's unsaved choice is kept across refreshes
  if (form) {
    form.addEventListener('change', function () { touched = true; });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var button = byId('save-members');
      var errorBox = byId('members-error');
      C.clearError(errorBox);
      byId('members-saved').textContent = '';
      busy(button, true);
      P.api('POST', base + '/members', {member_ids: chosen()}).then(function (res) {
        busy(button, false);
        if (!res.ok) {
          C.showError(errorBox, text, res);
          if (res.status === 409) { refresh(); }  // the ticks stay as the user left them
          return;
        }
        touched = false;
        byId('members-saved').textContent = text.members_saved;
        refresh();
      }, function () { busy(button, false); C.showError(errorBox, text, null); });
    });
  }

  // -------------------------------------------------------------- members, check-in and out

  function hours(value) {
    return text.hours.replace('{hours}', Number(value || 0).toFixed(1));
  }

  function memberRow(member) {
    var state = el('span', {'class': 'badge ' + (member.checked_in ? 'text-bg-success' :
      'text-bg-light border'), 'data-state': member.checked_in ? 'in' : 'out',
      text: member.checked_in ? text.present : text.absent});
    var line = el('div', {'class': 'd-flex flex-wrap align-items-center gap-2'}, [
      el('span', {'class': 'fw-semibold member-name text-break', text: member.name}),
      el('span', {'class': 'text-muted small', text: member.phone_masked || ''}),
      state,
      el('span', {'class': 'small member-hours', text: hours(member.hours)})]);
    var row = el('li', {'class': 'list-group-item member-row',
                        'data-member-id': String(member.member_id)}, [line]);
    if (canAnswer && CHECKING.indexOf(dispatch.status) >= 0) {
      var kind = member.checked_in ? 'out' : 'in';
      var button = el('button', {type: 'button', 'data-kind': kind,
        'class': 'btn btn-sm mt-2 checkin-btn ' + (kind === 'in' ? 'btn-success' :
          'btn-outline-secondary'), text: kind === 'in' ? text.check_in : text.check_out});
      var errorBox = el('div', {'class': 'alert alert-danger py-1 small mt-2 mb-0 d-none ' +
                                'row-error', role: 'alert'});
      var refused = rowErrors[member.member_id];
      if (refused) {
        errorBox.textContent = refused.text;
        errorBox.title = refused.title;
        show(errorBox, true);
      }
      button.addEventListener('click', function () { check(member, kind, button, errorBox); });
      row.appendChild(button);
      row.appendChild(errorBox);
    }
    return row;
  }

  function renderMembers() {
    var list = byId('named-members');
    list.replaceChildren();
    if (!members.length) {
      list.appendChild(el('li', {'class': 'list-group-item text-muted small',
                                 text: text.no_named}));
    }
    members.forEach(function (m) { list.appendChild(memberRow(m)); });
    var present = members.filter(function (m) { return m.checked_in; });
    byId('on-scene-now').textContent = C.labelled(text.on_scene_now, String(present.length)) +
      (present.length ? ' · ' + present.map(function (m) { return m.name; }).join('、') : '');
    if (!touched) {
      var named = members.map(function (m) { return m.member_id; });
      document.querySelectorAll('.member-choice').forEach(function (box) {
        box.checked = named.indexOf(Number(box.value)) >= 0;
      });
    }
  }

  function renderLog(items) {
    var log = byId('checkin-log');
    log.replaceChildren();
    var names = {};
    members.forEach(function (m) { names[m.member_id] = m.name; });
    items.slice().reverse().forEach(function (c) {
      log.appendChild(el('li', {'class': 'checkin-entry', text: C.beijing(c.at) + ' · ' +
        (c.name || names[c.member_id] || ('#' + c.member_id)) + ' · ' +
        (c.kind === 'in' ? text.check_in : text.check_out)}));
    });
  }

  function send(member, kind, location, button, errorBox) {
    var body = {member_id: member.member_id, kind: kind};
    if (location) { body.location = location; }
    P.api('POST', base + '/checkins', body).then(function (res) {
      busy(button, false);
      if (!res.ok) {
        refuse(member, errorBox, res);
        if (res.status === 409) { refresh(); }
        return;
      }
      refresh();
    }, function () { busy(button, false); refuse(member, errorBox, null); });
  }

  function refuse(member, errorBox, res) {
    C.showError(errorBox, text, res);
    rowErrors[member.member_id] = {text: errorBox.textContent, title: errorBox.title};
  }

  // Without the phone's position the reason is shown, and the API's check-in without a
  // location is offered (the record then says only when, not where).
  function noLocation(message, member, kind, button, errorBox) {
    var geoBox = byId('geo-error');
    var fallback = el('button', {type: 'button', id: 'without-location',
      'class': 'btn btn-sm btn-outline-dark mt-2 d-block', text: text.without_location});
    fallback.addEventListener('click', function () {
      show(geoBox, false);
      busy(button, true);
      send(member, kind, null, button, errorBox);
    });
    geoBox.replaceChildren(el('span', {text: message}), fallback);
    show(geoBox, true);
  }

  // A check-in records where it was made: the phone's position, asked for on every tap.
  function check(member, kind, button, errorBox) {
    C.clearError(errorBox);
    delete rowErrors[member.member_id];
    show(byId('geo-error'), false);
    if (!navigator.geolocation) {
      noLocation(text.geo_missing, member, kind, button, errorBox);
      return;
    }
    busy(button, true);
    navigator.geolocation.getCurrentPosition(function (position) {
      send(member, kind, {type: 'Point', coordinates: [position.coords.longitude,
                                                     position.coords.latitude]},
           button, errorBox);
    }, function (failure) {
      busy(button, false);
      noLocation(failure.code === 1 ? text.geo_denied : text.geo_unavailable, member, kind,
                 button, errorBox);
    }, {enableHighAccuracy: true, timeout: 20000, maximumAge: 60000});
  }

  // ---------------------------------------------------------------------------- refreshing

  var pending = null;
  var again = false;

  function refresh() {
    if (pending) { again = true; return; }
    pending = Promise.all([P.api('GET', base), P.api('GET', base + '/members'),
                           P.api('GET', base + '/checkins')]).then(function (answers) {
      if (answers[0].ok) { dispatch = answers[0].data; }
      if (answers[1].ok) { members = answers[1].data.items || []; }
      applyStatus();
      renderMembers();
      if (answers[2].ok) { renderLog(answers[2].data.items || []); }
    }).catch(function () { return null; }).then(function () {
      pending = null;
      if (again) { again = false; refresh(); }
    });
  }

  document.addEventListener('live:dispatch.updated', function (e) {
    if (e.detail && Number(e.detail.id) === id) { refresh(); }
  });
  applyStatus();
  refresh();
})();
