/* Teams counted in squares by the server (the `forces` map layer, maps/providers.py: a view
 * holding many teams of a category answers squares with `count`, `available` and `bbox`,
 * `meta.aggregated: "bins"`), drawn alike on every page that shows them: the forces map
 * (forces.js) and the operations map (operations-live.js). Each square is a marker whose icon
 * is a cluster icon of its count in its layer's colour (EmergencyMaps.clusterIcon weighs it
 * by `count`, so neighbouring squares merge into clusters whose numbers are teams); a click
 * opens its count and a button zooming into the square, a double click zooms at once. Every
 * text is written with textContent. */
(function () {
  'use strict';
  var E = window.EmergencyMaps;

  // A translated text's "%(name)s" placeholders filled from values.
  function fill(text, values) {
    return String(text).replace(/%\((\w+)\)s/g, function (m, k) {
      return values[k] === undefined ? m : String(values[k]); });
  }

  // labels: {square: "%(count)s teams here, %(available)s available", zoom_in}.
  E.teamSquares = function (map, labels) {
    function isSquare(f) { return f.properties.count !== undefined; }
    function zoomInto(p) {
      var b = p.bbox;
      map.closePopup();
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]], {maxZoom: map.getMaxZoom()});
    }
    function text(p) { return fill(labels.square, {count: p.count, available: p.available}); }
    return {
      fill: fill,
      isSquare: isSquare,
      // The marker of a square in the colour of its style (null for a team).
      marker: function (f, latlng, s) {
        if (!isSquare(f)) { return null; }
        var p = f.properties, tally = {};
        tally[s.fillColor] = p.count;
        // A marker in the cluster group: its colour and count weigh in the clusters' icons.
        var marker = L.marker(latlng, {icon: E.ringIcon(tally, false), fillColor: s.fillColor,
                                       count: p.count, title: text(p)});
        marker.on('dblclick', function () { zoomInto(p); });
        return marker;
      },
      // A square's popup: its layer, its count and a button zooming into it (null for a team).
      popup: function (def, f) {
        if (!isSquare(f)) { return null; }
        var p = f.properties, box = document.createElement('div');
        box.className = 'team-square-popup';
        box.appendChild(E.textNode('b', def.label));
        box.appendChild(E.textNode('div', text(p)));
        var zoom = document.createElement('button');
        zoom.type = 'button'; zoom.className = 'btn btn-sm btn-outline-primary mt-1';
        zoom.textContent = labels.zoom_in;
        zoom.addEventListener('click', function () { zoomInto(p); });
        box.appendChild(zoom);
        return box;
      },
      // The teams a drawn layer holds: its squares' counts summed, else its features.
      teams: function (def) {
        var meta = def.meta || {};
        return meta.aggregated ? (meta.in_bins || 0) : (meta.total || 0);
      }
    };
  };
})();
