/* The forces map (maps/forces.py): hooks for its viewport layers, one per team category
 * (viewport.js loads and clusters them). A view holding few teams gets them as points: busy
 * teams are drawn faded and each has a popup (organisation, category, status, grade, radius,
 * members / insured, a link to the team). A view holding many gets squares counted by the
 * server: each is drawn as a cluster icon of its count in the category's colour (the cluster
 * group merges neighbouring ones, counts weighted), and a click zooms into it (team-squares.js,
 * shared with the operations map). The status line says how many teams the view holds.
 * Configuration is map data (maps/data.py); every text is written with textContent. */
(function () {
  'use strict';
  var E = window.EmergencyMaps;
  E.viewportHooks = E.viewportHooks || {};
  E.viewportHooks.forces = function (map, cfg) {
    var page = cfg.page, labels = page.labels;
    var squares = E.teamSquares(map, labels);  // team-squares.js
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
        var square = squares.marker(f, latlng, s);
        if (square) { return square; }
        var team = L.circleMarker(latlng, s);
        team.bindTooltip(E.textNode('span', f.properties.name));
        return team;
      },
      popup: function (def, f) { return squares.popup(def, f) || teamPopup(def, f); },
      status: function () {
        var teams = 0, aggregated = false;
        cfg.layers.forEach(function (d) {
          if (!d.meta || !map.hasLayer(d.group)) { return; }
          aggregated = aggregated || Boolean(d.meta.aggregated);
          teams += squares.teams(d);
        });
        var text = squares.fill(aggregated ? labels.in_squares : labels.in_view, {count: teams});
        map.getContainer().dataset.teams = String(teams);
        return text;
      }
    };
  };
})();
