/* The dispatch inbox: the organisation's dispatches as cards, new requests first. A live
 * dispatch event (emergency/static/live.js) re-fetches the list from the API; the card it
 * names is highlighted and announced in the status region. */
(function () {
  'use strict';

  var root = document.getElementById('inbox');
  if (!root) { return; }
  var P = window.EmergencyPages;
  var C = window.InboxCommon;
  var text = C.labels();
  var el = P.el;
  var list = document.getElementById('inbox-list');
  var ACTIVE = ['accepted', 'en_route', 'on_scene'];
  var fresh = {};  // ids highlighted by a live event, kept across re-renders
  var pending = null;
  var queued = null;

  function rank(item) {
    if (item.status === 'requested') { return 0; }
    return ACTIVE.indexOf(item.status) >= 0 ? 1 : 2;
  }

  function sorted(items) {
    return items.slice().sort(function (a, b) {
      return rank(a) - rank(b) || (a.requested_at < b.requested_at ? 1 :
        a.requested_at > b.requested_at ? -1 : b.id - a.id);
    });
  }

  function title(item) {
    return item.incident_title || text.incident.replace('{id}', String(item.incident_id));
  }

  function fact(label, value) {
    return el('div', {'class': 'inbox-fact'}, [
      el('span', {'class': 'text-muted', text: label + ' '}), el('span', {text: value})]);
  }

  function card(item) {
    var isNew = item.status === 'requested';
    var classes = 'card dispatch-card mb-2' + (isNew ? ' dispatch-new border-danger' : '') +
      (fresh[item.id] ? ' dispatch-live' : '');
    var head = el('div', {'class': 'd-flex justify-content-between align-items-start gap-2'}, [
      el('h2', {'class': 'h6 mb-1 text-break'}, [
        el('a', {href: '/dispatches/' + item.id, 'class': 'stretched-link dispatch-link',
                 text: title(item)})]),
      el('span', {'class': 'badge dispatch-status text-bg-' + (isNew ? 'danger' : 'secondary'),
                  'data-status': item.status,
                  text: text.statuses[item.status] || item.status})]);
    if (isNew) {
      head.lastChild.before(el('span', {'class': 'badge text-bg-warning badge-new',
                                        text: text['new']}));
    }
    var kind = [];
    if (item.incident_type) { kind.push(text.types[item.incident_type] || item.incident_type); }
    if ('response_level' in item) { kind.push(C.levelLabel(text, item.response_level)); }
    var body = el('div', {'class': 'card-body p-2'}, [head]);
    if (kind.length) {
      body.appendChild(el('div', {'class': 'small text-danger mb-1', text: kind.join(' · ')}));
    }
    var facts = el('div', {'class': 'small'}, [
      fact(text.team, item.team_name || ''),
      fact(text.task, item.task || '—'),
      'members_named' in item ?
        fact(text.members_named, item.members_named + ' / ' + item.members_requested) :
        fact(text.members_requested, String(item.members_requested)),
      fact(text.requested_at, C.beijing(item.requested_at))]);
    if (item.distance_km !== null && item.distance_km !== undefined) {
      facts.insertBefore(fact(text.distance, item.distance_km + ' ' + text.km),
                         facts.lastChild);
    }
    body.appendChild(facts);
    return el('article', {'class': classes, 'data-dispatch-id': String(item.id),
                          'data-status': item.status}, [body]);
  }

  function render(data) {
    var items = sorted(data.items || []);
    list.replaceChildren();
    if (!items.length) {
      list.appendChild(el('p', {'class': 'text-muted', id: 'inbox-empty', text: text.empty}));
    }
    items.forEach(function (item) { list.appendChild(card(item)); });
    document.getElementById('inbox-total').textContent = '(' + (data.total || 0) + ')';
  }

  function announce(item, created) {
    var label = created ? text.live_created : text.live_updated;
    var parts = [title(item), item.team_name, item.task, text.statuses[item.status] || item.status];
    var line = C.labelled(label, parts.filter(Boolean).join(' · '));
    document.getElementById('inbox-announce').textContent = line;
    var note = document.getElementById('inbox-live-note');
    note.textContent = line;
    note.classList.remove('d-none');
  }

  // Re-fetch the list; ``id`` is the dispatch a live event named (highlighted). An event that
  // arrives during a fetch queues one more fetch, so the last change is always shown.
  function refresh(id, created) {
    if (id) { fresh[id] = true; }
    if (pending) { queued = {id: id, created: created}; return; }
    pending = P.api('GET', '/api/v1/dispatches?limit=' + root.dataset.limit).then(function (res) {
      if (!res.ok) { return; }
      render(res.data);
      var item = (res.data.items || []).filter(function (d) { return d.id === id; })[0];
      if (item) { announce(item, created); }
    }).catch(function () { return null; }).then(function () {
      pending = null;
      if (queued) {
        var next = queued;
        queued = null;
        refresh(next.id, next.created);
      }
    });
  }

  document.addEventListener('live:dispatch.created', function (e) {
    refresh(e.detail && e.detail.id, true);
  });
  document.addEventListener('live:dispatch.updated', function (e) {
    refresh(e.detail && e.detail.id, false);
  });
  render(JSON.parse(document.getElementById('inbox-data').textContent));
})();
