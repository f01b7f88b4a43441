/* The hazards map (maps/hazards.py): the icon of a cluster of reports, drawn red when it holds
 * an overdue report so a supervisor sees them at low zoom. folium's marker cluster names this
 * function (iconCreateFunction = EmergencyMaps.hazardClusterIcon); the overdue flag rides in
 * each marker's options (the styles of the page's map data). */
(function () {
  'use strict';
  window.EmergencyMaps.hazardClusterIcon = function (cluster) {
    var children = cluster.getAllChildMarkers();
    var late = children.some(function (m) { return m.options.overdue; });
    var size = children.length < 100 ? 34 : (children.length < 1000 ? 42 : 50);
    var box = document.createElement('div'), count = document.createElement('span');
    count.textContent = String(children.length);
    box.appendChild(count);
    return L.divIcon({
      html: box,
      className: 'marker-cluster ' + (late ? 'marker-cluster-large' : 'marker-cluster-small'),
      iconSize: new L.Point(size, size)});
  };
})();
