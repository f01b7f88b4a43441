// The jobs page follows its queued and running jobs: progress and status are refreshed
// every few seconds from the JSON API; when one of them ends, the page is loaded again
// (its result link, error and buttons come from the server).
(function () {
  "use strict";
  var list = document.getElementById("jobs-list");
  if (!list) { return; }
  var texts = JSON.parse(list.getAttribute("data-texts") || "{}");
  var ACTIVE = ["queued", "running"];

  function active() {
    return Array.prototype.filter.call(list.querySelectorAll("[data-job]"), function (el) {
      return ACTIVE.indexOf(el.getAttribute("data-status")) >= 0;
    });
  }

  function apply(item) {
    var el = document.getElementById("job-" + item.id);
    if (!el) { return false; }
    var badge = el.querySelector(".job-status");
    if (badge) { badge.textContent = texts[item.status] || item.status; }
    var bar = el.querySelector(".job-progress");
    var percent = el.querySelector(".job-percent");
    if (bar && item.progress !== null) {
      bar.value = item.progress;
      if (percent) { percent.textContent = Math.round(item.progress * 100) + "%"; }
    }
    var ended = ACTIVE.indexOf(item.status) < 0;
    return ended && ACTIVE.indexOf(el.getAttribute("data-status")) >= 0;
  }

  function poll() {
    if (active().length === 0) { return; }
    fetch(list.getAttribute("data-api") + "?limit=100", {credentials: "same-origin",
      headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        var changed = false;
        if (body) {
          body.items.forEach(function (item) { changed = apply(item) || changed; });
        }
        if (changed) { window.location.reload(); } else { window.setTimeout(poll, 3000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  window.setTimeout(poll, 3000);
}());
