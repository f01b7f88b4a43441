/* Phone reporting page of hazard reports (the outbox and the pin: outbox.js). A report is
 * sent, then its photos one by one; resending is safe: the server stores a report once per
 * client_id and a photo once per (report, file checksum). When the server refuses a report
 * sent from the form, the form keeps the input and says why; a report refused later, from
 * the queue, can be put back into the form (photos too, where the browser lets a page fill a
 * file input). A report sent is announced with a link to it. */
(function () {
  'use strict';
  var msgs = JSON.parse(document.getElementById('hazard-i18n').textContent);
  var Retry = window.ReportOutbox.Retry, form = window.ReportForm;

  function $(id) { return document.getElementById(id); }

  function sendReport(item, outbox) {
    if (item.report_id) { return Promise.resolve(); }
    return outbox.post('/api/v1/hazards', JSON.stringify(item.body), true).then(function (resp) {
      return outbox.answer(resp, function (data) {
        item.report_id = data.id;
        item.grid_code = data.grid_code;
        return outbox.save(item);
      }, function (text) { item.error = text; return outbox.save(item); });
    });
  }

  function sendPhotos(item, outbox) {
    return item.photos.reduce(function (chain, photo) {
      return chain.then(function () {
        if (photo.sent || photo.error || item.error) { return; }
        var data = new FormData();
        data.append('photo', photo.blob, photo.name || 'photo.jpg');
        return outbox.post('/api/v1/hazards/' + item.report_id + '/photos', data, false)
          .then(function (resp) {
            return outbox.answer(resp, function () {
              photo.sent = true;
              return outbox.save(item);
            }, function (text) { photo.error = text; return outbox.save(item); });
          });
      });
    }, Promise.resolve());
  }

  function send(item, outbox) {
    return sendReport(item, outbox).then(function () {
      if (item.error) { return; }
      return sendPhotos(item, outbox).then(function () {
        outbox.remember({
          client_id: item.client_id, id: item.report_id, grid_code: item.grid_code,
          category: item.label, photos: item.photos.filter(function (p) { return p.sent; }).length,
          failed_photos: item.photos.filter(function (p) { return p.error; }).length});
        return outbox.drop(item.client_id);
      });
    });
  }

  var pin = window.ReportPin(msgs);
  // For page scripts and tests: place the pin as a tap would.
  window.HazardReportPin = {place: function (lon, lat) { pin.place(lon, lat, true); }};

  function previews() {
    var box = $('photo-previews');
    box.textContent = '';
    Array.prototype.forEach.call($('photo-input').files, function (file) {
      var img = document.createElement('img');
      img.src = URL.createObjectURL(file);
      img.alt = file.name;
      box.appendChild(img);
    });
  }

  // A report refused from the queue goes back into the form (photos too, where the browser
  // lets a page fill a file input).
  function restore(item) {
    var b = item.body;
    $('category').value = b.category;
    var severity = document.getElementById('severity-' + b.severity);
    if (severity) { severity.checked = true; }
    $('description').value = b.description || '';
    pin.place(b.location.coordinates[0], b.location.coordinates[1], true);
    try {
      var files = new DataTransfer();
      item.photos.forEach(function (photo) {
        files.items.add(new File([photo.blob], photo.name || 'photo.jpg', {type: photo.blob.type}));
      });
      $('photo-input').files = files.files;
      previews();
    } catch (e) { /* the photos must be chosen again */ }
    form.showError(msgs.refused + ' ' + item.error);
    $('hazard-form').scrollIntoView();
  }

  var outbox = new window.ReportOutbox({
    name: 'emergency-hazards', msgs: msgs, send: send, restore: restore,
    queueLine: function (item) {
      var sent = item.photos.filter(function (p) { return p.sent; }).length;
      return item.label + ' · ' + item.client_id.slice(0, 8) + ' · ' + msgs.photos + ' ' +
        sent + '/' + item.photos.length;
    },
    sentLine: function (e) {
      return '#' + e.id + ' · ' + e.category + ' · ' + (e.grid_code || '') + ' · ' +
        msgs.photos + ' ' + e.photos;
    }
  });

  function submit(event) {
    event.preventDefault();
    var at = pin.point();
    if (at.error) { form.showError(at.error); return; }
    form.hideBoxes();
    var category = $('category');
    var clientId = outbox.newId();
    var item = {
      client_id: clientId, created: Date.now(), report_id: null, error: null,
      label: category.options[category.selectedIndex].text,
      body: {client_id: clientId, category: category.value,
             severity: document.querySelector('input[name="severity"]:checked').value,
             description: $('description').value, crs: 'wgs84',
             location: {type: 'Point', coordinates: [at.lon, at.lat]}},
      photos: Array.prototype.map.call($('photo-input').files, function (file) {
        return {blob: file, name: file.name, sent: false, error: null};
      })
    };
    $('submit-report').disabled = true;
    outbox.submit(item).then(function (result) {
      if (result.refused) { form.showError(msgs.refused + ' ' + result.refused); return; }
      $('hazard-form').reset();
      $('lon').value = at.lon.toFixed(6); $('lat').value = at.lat.toFixed(6);
      $('photo-previews').textContent = '';
      if (result.queued) { pin.note(msgs.queued); return; }
      var entry = result.sent;
      if (entry) {
        form.showSent(msgs.sent.replace('{id}', entry.id), '/hazards/' + encodeURIComponent(entry.id),
                      msgs.open, entry.failed_photos ?
                        msgs.photos_failed.replace('{n}', entry.failed_photos) : '');
      }
    }).catch(function (err) { console.error(err); }).then(function () {
      $('submit-report').disabled = false;
    });
  }

  $('hazard-form').addEventListener('submit', submit);
  $('photo-input').addEventListener('change', previews);
  outbox.start('/hazards/sw.js', '/hazards/');
  pin.locate(true);
}());
