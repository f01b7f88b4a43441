/* The forces map (maps/forces.py): hooks for its viewport layers, one per team category
 * (viewport.js loads and clusters them). A view holding few teams gets them as points: busy
 * teams are drawn faded and each has a popup (organisation, category, status, grade, radius,
 * members / insured, a link to the team). A view holding many gets squares counted by the
 * server: each is drawn as a cluster icon of its count in the category's colour (the cluster
 * group merges neighbouring ones, counts weighted), and a click zooms into it. The status line
 * says how many teams the view holds. Configuration is map data (maps/data.py); every text is
 * written with textContent. */
(function () {
  'use strict';
  var E = window.EmergencyMaps;
  E.viewportHooks = E.viewportHooks || {};
  E.viewportHooks.forces = function (map, cfg) {
    var page = cfg.page, labels = page.labels;
    function fill(text, values) {
      return String(text).replace(/%\((\w+)\)s/g, function (m, k) {
        return values[k] === undefined ? m : String(values[k]); });
    }
    function teamPopup(def, f) {
      var p = f.properties, box = document.createElement('div');
      box.className = 'team-popup';
      var title = document.createElement(p.url ? 'a' : 'b');
      if (p.url) { title.href = p.url; }
      title.textContent = p.name;
      box.appendChild(title);
      var rows = [[labels.organisation, p.org_name],
                  [labels.category, page.categories[p.category] || p.category],
                  [labels.status, page.statuses[p.status] || p.status],
                  [labels.grade, p.grade ? (page.grades[String(p.grade)] || p.grade) : '—'],
                  [labels.radius, p.radius_km + ' km'],
                  [labels.members, p.members + ' / ' + p.insured]];
      var table = document.createElement('table');
      table.className = 'table table-sm mb-0';
      rows.forEach(function (r) {
        var row = table.insertRow(), th = document.createElement('th');
        th.textContent = r[0]; row.appendChild(th);
        row.insertCell().textContent = String(r[1] === null || r[1] === undefined ? '' : r[1]);
      });
      box.appendChild(table);
      return box;
    }
    function squarePopup(def, f) {
      var p = f.properties, box = document.createElement('div');
      box.className = 'team-square-popup';
      var head = document.createElement('b');
      head.textContent = def.label;
      box.appendChild(head);
      box.appendChild(E.textNode('div', fill(labels.square, {count: p.count,
                                                              available: p.available})));
      var zoom = document.createElement('button');
      zoom.type = 'button'; zoom.className = 'btn btn-sm btn-outline-primary mt-1';
      zoom.textContent = labels.zoom_in;
      zoom.addEventListener('click', function () { zoomInto(p); });
      box.appendChild(zoom);
      return box;
    }
    function zoomInto(p) {
      var b = p.bbox;
      map.closePopup();
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {maxZoom: map.getMaxZoom()});
    }
    return {
      style: function (def, f, s) {
        if (f.properties.status && f.properties.status !== 'available') {
          s.fillOpacity = page.fill.busy;
        } else {
          s.fillOpacity = page.fill.available;
        }
        return s;
      },
      point: function (def, f, latlng, s) {
        var p = f.properties;
        if (p.count === undefined) {
          var team = L.circleMarker(latlng, s);
          team.bindTooltip(E.textNode('span', p.name));
          return team;
        }
        var tally = {};
        tally[s.fillColor] = p.count;
        // A marker in the cluster group: its colour and count weigh in the clusters' icons.
        var marker = L.marker(latlng, {icon: E.ringIcon(tally, false), fillColor: s.fillColor,
                                       count: p.count, title: fill(labels.square, {
                                         count: p.count, available: p.available})});
        marker.on('dblclick', function () { zoomInto(p); });
        return marker;
      },
      popup: function (def, f) {
        return f.properties.count === undefined ? teamPopup(def, f) : squarePopup(def, f);
      },
      status: function () {
        var teams = 0, squares = false;
        cfg.layers.forEach(function (d) {
          if (!d.meta || !map.hasLayer(d.group)) { return; }
          if (d.meta.aggregated) { squares = true; teams += d.meta.in_bins || 0; }
          else { teams += d.meta.total || 0; }
        });
        var text = fill(squares ? labels.in_squares : labels.in_view, {count: teams});
        map.getContainer().dataset.teams = String(teams);
        return text;
      }
    };
  };
})();
