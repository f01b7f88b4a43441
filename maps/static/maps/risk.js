/* The four-colour risk map of one assessment run (maps/risk.py): hooks for the viewport layers
 * (viewport.js loads and draws the cells, hazard layers and teams, and the legend of each):
 * gap cells outlined, the cells' popups and status line. Its configuration is map data (maps/data.py);
 * every text is written with textContent. */
(function () {
  'use strict';
  var E = window.EmergencyMaps;
  E.viewportHooks = E.viewportHooks || {};
  E.viewportHooks.risk = function (map, cfg) {
    var page = cfg.page, labels = page.labels;
    function table(rows) {
      var t = document.createElement('table'); t.className = 'risk-popup';
      rows.forEach(function (r) {
        if (r[1] === undefined || r[1] === null) { return; }
        var row = t.insertRow(), th = document.createElement('th');
        th.textContent = r[0]; row.appendChild(th); row.insertCell().textContent = String(r[1]);
      });
      return t;
    }
    function num(v) { return (typeof v === 'number') ? v.toFixed(3) : v; }
    function binPopup(f) {
      var p = f.properties, box = document.createElement('div');
      var head = document.createElement('b');
      head.textContent = labels.count.replace('%(total)s', p.cells);
      box.appendChild(head);
      box.appendChild(table(page.levels.map(function (lv) {
        var k = String(lv.level);  // GeoJSON bins: counts {"1": n}; tiles: count_1 = n
        return [lv.name, p.counts ? p.counts[k] : p['count_' + k]];
      }).concat([[labels.risk, num(p.risk)]])));
      return box;
    }
    function cellPopup(f) {
      if (f.properties.counts || f.properties.bin) { return binPopup(f); }
      var p = f.properties, L_ = labels, box = document.createElement('div');
      var head = document.createElement('b');
      head.textContent = page.names[p.level] + (p.gap ? ' · ' + L_.gap : '');
      box.appendChild(head);
      box.appendChild(table([[L_.risk, num(p.risk)], [L_.hazard, num(p.hazard)],
        [L_.exposure, num(p.exposure)], [L_.vulnerability, num(p.vulnerability)],
        [L_.capacity, num(p.capacity)], [L_.teams, p.teams],
        [L_.likelihood, p.likelihood], [L_.consequence, p.consequence],
        [L_.area, p.area_code], [L_.grid, p.grid_code]]));
      return box;
    }
    function overlayPopup(def, f) {
      var p = f.properties, rows = def.fields.map(function (k) { return [k[1], p[k[0]]]; });
      var box = document.createElement('div'), b = document.createElement('b');
      b.textContent = p.name || def.label; box.appendChild(b);
      box.appendChild(table(rows)); return box;
    }
    return {
      statusClass: 'risk-status',
      style: function (def, f, s) {
        // Hazard layers and teams in their layer's colour, whatever their features hold.
        if (def.name !== page.cells) {
          return s.radius === undefined
            ? {renderer: s.renderer, color: def.colour, weight: 1, fillOpacity: 0.2}
            : Object.assign(s, {fillColor: def.colour});
        }
        var p = f.properties;
        s = {renderer: s.renderer, weight: 0.5, color: page.colours[p.level],
             fillColor: page.colours[p.level], fillOpacity: 0.65};
        // A square of many cells is outlined in the colour of its most severe cell.
        if (p.worst && p.worst < p.level) { s.color = page.colours[p.worst]; s.weight = 1.5; }
        if (p.gap) { Object.assign(s, page.gap_style); }
        return s;
      },
      popup: function (def, f) {
        return def.name === page.cells ? cellPopup(f) : overlayPopup(def, f);
      },
      // The status line counts the cells; bench/bench_maps.py waits for data-cells.
      status: function (def, body, shown) {
        if (def.name !== page.cells) { return null; }
        var meta = body.meta || {};
        map.getContainer().dataset.cells = shown;
        return meta.aggregated
          ? labels.binned.replace('%(total)s', meta.in_bins).replace('%(bins)s', shown)
          : labels.count.replace('%(total)s', meta.total || shown);
      }
    };
  };
})();
