/* Phone page of direct disaster reports (灾情直报), on the outbox and pin the hazard report
 * page uses too (hazards/static/hazards/outbox.js): every report is kept on the phone under
 * its client_id, then sent, and resent until the server has it (it stores one report per
 * client_id). The counts are checked here first, each refusal naming the field as the page
 * labels it; a report refused later, from the queue, can be put back into the form. */
(function () {
  'use strict';
  var COUNTS = ['affected', 'dead', 'missing', 'injured', 'houses_collapsed', 'houses_damaged'];
  var msgs = JSON.parse(document.getElementById('disaster-i18n').textContent);
  var form = window.ReportForm;

  function $(id) { return document.getElementById(id); }

  function send(item, outbox) {
    return outbox.post('/api/v1/disaster-reports', JSON.stringify(item.body), true)
      .then(function (resp) {
        return outbox.answer(resp, function (data) {
          outbox.remember({client_id: item.client_id, id: data.id, grid_code: data.grid_code,
                           kind: item.label});
          return outbox.drop(item.client_id);
        }, function (text) { item.error = text; return outbox.save(item); });
      });
  }

  var pin = window.ReportPin(msgs);
  // For page scripts and tests: place the pin as a tap would.
  window.DisasterReportPin = {place: function (lon, lat) { pin.place(lon, lat, true); }};

  // A report refused from the queue goes back into the form.
  function restore(item) {
    var body = item.body;
    $('kind').value = body.kind;
    COUNTS.forEach(function (key) { $(key).value = body[key]; });
    $('losses_yuan').value = body.losses_yuan;
    $('note').value = body.note || '';
    pin.place(body.location.coordinates[0], body.location.coordinates[1], true);
    form.showError(msgs.refused + ' ' + item.error);
    $('disaster-form').scrollIntoView();
  }

  var outbox = new window.ReportOutbox({
    name: 'emergency-disasters', msgs: msgs, send: send, restore: restore,
    queueLine: function (item) { return item.label + ' · ' + item.client_id.slice(0, 8); },
    sentLine: function (e) { return '#' + e.id + ' · ' + e.kind + ' · ' + (e.grid_code || ''); }
  });

  // The numbers as the API takes them, or the first problem (named by the field's label).
  function numbers() {
    var found = {};
    for (var i = 0; i < COUNTS.length; i++) {
      var text = $(COUNTS[i]).value.trim() || '0';
      if (!/^\d{1,9}$/.test(text)) {
        $(COUNTS[i]).focus();
        return {error: msgs.bad_count.replace('{field}', msgs.fields[COUNTS[i]])};
      }
      found[COUNTS[i]] = parseInt(text, 10);
    }
    var losses = $('losses_yuan').value.trim() || '0';
    if (!/^\d{1,12}(\.\d{1,2})?$/.test(losses)) {
      $('losses_yuan').focus();
      return {error: msgs.bad_losses.replace('{field}', msgs.fields.losses_yuan)};
    }
    found.losses_yuan = losses;
    return {values: found};
  }

  function submit(event) {
    event.preventDefault();
    var at = pin.point();
    if (at.error) { form.showError(at.error); return; }
    var checked = numbers();
    if (checked.error) { form.showError(checked.error); return; }
    form.hideBoxes();
    var kind = $('kind');
    var clientId = outbox.newId();
    var body = {client_id: clientId, kind: kind.value, note: $('note').value, crs: 'wgs84',
                location: {type: 'Point', coordinates: [at.lon, at.lat]}};
    Object.keys(checked.values).forEach(function (k) { body[k] = checked.values[k]; });
    var item = {client_id: clientId, created: Date.now(), error: null,
                label: kind.options[kind.selectedIndex].text, body: body};
    $('submit-report').disabled = true;
    outbox.submit(item).then(function (result) {
      if (result.refused) { form.showError(msgs.refused + ' ' + result.refused); return; }
      $('disaster-form').reset();
      $('lon').value = at.lon.toFixed(6); $('lat').value = at.lat.toFixed(6);
      if (result.queued) { pin.note(msgs.queued); return; }
      if (result.sent) {
        form.showSent(msgs.sent.replace('{id}', result.sent.id),
                      '/disasters#disaster-' + encodeURIComponent(result.sent.id), msgs.open);
      }
    }).catch(function (err) { console.error(err); }).then(function () {
      $('submit-report').disabled = false;
    });
  }

  $('disaster-form').addEventListener('submit', submit);
  outbox.start('/disasters/sw.js', '/disasters/');
  pin.locate(true);
}());
