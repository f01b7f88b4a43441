/* The dispatch console (/maps/incidents/{id}): dispatch buttons and the live dispatch table.
 * The incident id and status labels come from the panel's data attributes; every text goes
 * in with textContent. */
(function () {
  'use strict';
  var panel = document.getElementById('console');
  var incidentId = panel.dataset.incidentId;
  var statuses = JSON.parse(panel.dataset.statuses);
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var errorBox = document.getElementById('console-error');

  function showError(text) {
    errorBox.textContent = text;
    errorBox.classList.remove('d-none');
  }

  // Rebuilds the dispatch table from the API; texts go in via textContent, never as HTML.
  function refresh() {
    return fetch('/api/v1/incidents/' + incidentId + '/dispatches',
                 {headers: {'Accept': 'application/json'}, credentials: 'same-origin'})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        var tbody = document.querySelector('#dispatches tbody');
        tbody.textContent = '';
        body.items.forEach(function (d) {
          var tr = document.createElement('tr');
          tr.dataset.dispatchId = d.id;
          [String(d.id), d.team_name, statuses[d.status] || d.status].forEach(function (text, i) {
            var td = document.createElement('td');
            td.textContent = text;
            if (i === 2) { td.className = 'status'; td.dataset.status = d.status; }
            tr.appendChild(td);
          });
          tbody.appendChild(tr);
        });
        document.getElementById('refreshed').textContent = new Date().toLocaleTimeString();
      });
  }

  document.querySelectorAll('.dispatch-btn').forEach(function (button) {
    button.addEventListener('click', function () {
      button.disabled = true;
      errorBox.classList.add('d-none');
      fetch('/api/v1/incidents/' + incidentId + '/dispatches', {
        method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'Accept': 'application/json',
                  'X-CSRFToken': csrf},
        body: JSON.stringify({team_id: Number(button.dataset.teamId),
                              members_requested: Number(button.dataset.members) || 1})
      }).then(function (r) {
        return r.json().then(function (body) { return {ok: r.ok, body: body}; });
      }).then(function (result) {
        if (!result.ok) {
          button.disabled = false;
          showError(result.body.error ? result.body.error.message : 'error');
          return;
        }
        button.textContent = statuses.requested;
        button.classList.replace('btn-danger', 'btn-outline-secondary');
        (result.body.warnings || []).forEach(function (w) { showError('⚠ ' + w); });
        refresh();
      }).catch(function () { button.disabled = false; showError('network error'); });
    });
  });
  // Live status: organisations answer from their own pages, so poll for their steps.
  setInterval(refresh, 10000);
})();
