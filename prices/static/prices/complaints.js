/* Price complaints page: the complaints on a small map and picking the location of a new
 * one by clicking the map. Data comes from a JSON script element; text is set with
 * textContent (popups are built as DOM nodes). */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }
  var box = $('complaint-map');
  if (!box || !window.L) { return; }
  var cfg = JSON.parse($('complaint-map-data').textContent);
  var map = L.map(box, {preferCanvas: true, attributionControl: !!cfg.tiles});
  if (cfg.tiles) {
    L.tileLayer(cfg.tiles, {attribution: cfg.attribution || '', maxZoom: 18}).addTo(map);
  }
  var outlines = L.geoJSON(cfg.outlines, {style: {color: '#666', weight: 1, fill: false},
                                          interactive: false}).addTo(map);
  var markers = L.featureGroup().addTo(map);
  cfg.points.forEach(function (p) {
    if (!p.coordinates) { return; }
    var popup = document.createElement('div');
    var title = document.createElement('strong');
    title.textContent = p.kind + (p.commodity ? ' · ' + p.commodity : '');
    popup.appendChild(title);
    if (p.place) {
      var place = document.createElement('div');
      place.textContent = p.place;
      popup.appendChild(place);
    }
    L.circleMarker([p.coordinates[1], p.coordinates[0]],
                   {radius: 7, color: '#c8102e', fillOpacity: 0.7})
      .bindPopup(popup).addTo(markers);
  });
  if (markers.getLayers().length) { map.fitBounds(markers.getBounds().pad(0.3)); }
  else if (outlines.getLayers().length) { map.fitBounds(outlines.getBounds()); }
  else { map.setView([29.56, 106.55], 9); }

  var lon = $('c-lon'), lat = $('c-lat'), said = $('c-location');
  if (!lon) { return; }
  var chosen = null;
  function choose(latlng) {
    lon.value = latlng.lng.toFixed(6);
    lat.value = latlng.lat.toFixed(6);
    if (chosen) { map.removeLayer(chosen); }
    chosen = L.marker(latlng).addTo(map);
    said.textContent = cfg.texts.chosen.replace('%(lon)s', lon.value)
      .replace('%(lat)s', lat.value);
    said.classList.remove('text-danger');
  }
  map.on('click', function (e) { choose(e.latlng); });
  if (lon.value && lat.value) {
    choose(L.latLng(Number(lat.value), Number(lon.value)));
  }
}());
