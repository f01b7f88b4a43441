/* Live updates of the operations map (maps/operations.py), as viewport hooks (viewport.js):
 * live.js re-dispatches each event of /api/v1/events on document as "live:<type>"; this
 * script refreshes only the layers that event makes stale (cfg.page.live: type -> layer names),
 * at most once per QUIET_MS however many events arrive (a burst is one refresh, and a steady
 * stream cannot postpone it forever), rings the features that changed, and shows over the map
 * how many incidents, hazards and teams are in view, with the time of the last live update.
 * Event data is used only for ids: what is drawn comes from the layers' JSON, re-fetched.
 * A teams layer holding many teams in view answers squares counted by the server, drawn as
 * on the forces map (team-squares.js) and counted as the teams they hold.
 * Every text is written with textContent. */
(function () {
  'use strict';
  var E = window.EmergencyMaps;
  var QUIET_MS = 500;     // events within this time are coalesced into one refresh
  var RING_MS = 60000;    // a changed feature is ringed when drawn within this time
  var RING = {color: '#ffd600', weight: 3};
  E.viewportHooks = E.viewportHooks || {};

  // Beijing time, as every time on screen.
  function clock(date) {
    return date.toLocaleTimeString('zh-CN', {hour12: false, timeZone: 'Asia/Shanghai'});
  }

  E.viewportHooks.operations = function (map, cfg) {
    var page = cfg.page, pending = {}, awaiting = {}, changed = {}, timer = null;
    var numbers = {}, stamp = null, squares = E.teamSquares(map, page.squares);

    function entry() { return (window.viewportLayers || {})[map.getContainer().id]; }

    var box = L.control({position: 'topright'});
    box.onAdd = function () {
      var div = L.DomUtil.create('div', 'ops-counts leaflet-control-layers');
      div.style.padding = '2px 8px';
      div.style.fontSize = '12px';
      div.appendChild(E.textNode('div', page.in_view, 'text-muted'));
      page.counts.forEach(function (pair) {
        var row = document.createElement('div');
        row.appendChild(document.createTextNode(pair[1] + ' '));
        var n = E.textNode('b', '—');
        n.setAttribute('data-layer', pair[0]);
        numbers[pair[0]] = n;
        row.appendChild(n);
        div.appendChild(row);
      });
      stamp = E.textNode('div', '', 'ops-updated text-muted');
      stamp.setAttribute('role', 'status');
      stamp.setAttribute('aria-live', 'polite');
      div.appendChild(stamp);
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    box.addTo(map);

    // The features in view of each counted layer (every category's teams layer summed, a
    // layer of squares by the teams in them); '—' when none of its layers is shown.
    function recount() {
      var current = entry();
      if (!current) { return; }
      Object.keys(numbers).forEach(function (name) {
        var shown = false, total = 0;
        current.defs.forEach(function (def) {
          if (def.name !== name || !def.group || !map.hasLayer(def.group)) { return; }
          shown = true;
          total += def.meta && def.meta.aggregated ? squares.teams(def)
            : (current.counts[def.key] || 0);
        });
        numbers[name].textContent = shown ? String(total) : '—';
        numbers[name].setAttribute('data-count', shown ? String(total) : '');
      });
    }

    map.on('viewportdraw', function (e) {
      recount();
      if (awaiting[e.def.name]) {
        delete awaiting[e.def.name];
        stamp.textContent = page.updated + ' ' + clock(new Date());
      }
    });
    map.on('overlayremove overlayadd', recount);

    function refresh() {
      timer = null;
      var names = Object.keys(pending), current = entry();
      pending = {};
      // Only shown layers are fetched, so only they will say "updated" when drawn.
      awaiting = {};
      (current ? current.defs : []).forEach(function (def) {
        if (names.indexOf(def.name) >= 0 && map.hasLayer(def.group)) { awaiting[def.name] = true; }
      });
      if (current && current.refresh && names.length) { current.refresh(names); }
    }

    function ring(name, id) {
      if (id === undefined || id === null) { return; }
      (changed[name] = changed[name] || {})[String(id)] = Date.now();
    }

    Object.keys(page.live).forEach(function (type) {
      document.addEventListener('live:' + type, function (e) {
        var d = e.detail || {};
        if (type.indexOf('dispatch.') === 0) {
          ring('incidents', d.incident_id);
          ring('teams', d.team_id);
        } else {
          ring(page.live[type][0], d.id);
        }
        page.live[type].forEach(function (name) { pending[name] = true; });
        if (timer === null) { timer = window.setTimeout(refresh, QUIET_MS); }
      });
    });

    return {
      style: function (def, f, s) {
        var at = (changed[def.name] || {})[String(f.id)];
        if (at && Date.now() - at < RING_MS) { s.color = RING.color; s.weight = RING.weight; }
        return s;
      },
      // A teams layer's squares: cluster icons of their counts, with their own popup; the
      // teams themselves (and every other layer) are drawn and popped up by viewport.js.
      point: function (def, f, latlng, s) {
        return def.name === 'teams' ? squares.marker(f, latlng, s) : null;
      },
      popup: function (def, f) {
        return def.name === 'teams' ? squares.popup(def, f) : null;
      }
    };
  };
})();
