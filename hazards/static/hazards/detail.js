/* A hazard report's page: workflow steps with an optional note and photos, through the API. */
(function () {
  var form = document.getElementById('step-form');
  if (!form) { return; }
  var id = document.getElementById('hazard-detail').dataset.id;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  function fail(resp) {
    return resp.json().then(function (b) { throw new Error(b.error ? b.error.message : resp.status); });
  }
  form.querySelectorAll('.step-button').forEach(function (button) {
    button.addEventListener('click', function () {
      var files = document.getElementById('step-photo').files;
      var uploads = Array.prototype.map.call(files, function (file) {
        var data = new FormData(); data.append('photo', file);
        return fetch('/api/v1/hazards/' + id + '/photos', {method: 'POST', body: data,
          headers: {'X-CSRFToken': csrf}}).then(function (r) { return r.ok ? r.json() : fail(r); });
      });
      Promise.all(uploads).then(function (photos) {
        return fetch('/api/v1/hazards/' + id + '/transition', {method: 'POST',
          headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
          body: JSON.stringify({to: button.dataset.to, note: document.getElementById('step-note').value,
                                photo_ids: photos.map(function (p) { return p.id; })})});
      }).then(function (r) { return r.ok ? window.location.reload() : fail(r); })
        .catch(function (e) { document.getElementById('step-error').textContent = e.message; });
    });
  });
}());
