/* Plans pages: lifecycle buttons, drill form, finding status, and the plan editor.
   Every change goes through the JSON API with the page's CSRF token. */
(function () {
  "use strict";
  var api = window.EmergencyPages.api, errorText = window.EmergencyPages.errorText;
  var el = window.EmergencyPages.el;

  // Lifecycle buttons on the plan page: each step confirms in a dialog; archiving (废止)
  // and sending back from review ask for the reason, which the API requires.
  var dialog = document.getElementById("transition-dialog");
  if (dialog) {
    var steps = JSON.parse(document.getElementById("transition-dialogs").textContent);
    var form = document.getElementById("transition-form");
    var note = document.getElementById("transition-note");
    var noteError = document.getElementById("transition-dialog-error");
    var pending = null, opener = null;
    var closeDialog = function () {
      dialog.close();
      if (opener) { opener.focus(); }
    };
    document.querySelectorAll("[data-transition]").forEach(function (button) {
      button.addEventListener("click", function () {
        var spec = steps.steps[button.dataset.transition];
        pending = button;
        opener = button;
        document.getElementById("transition-dialog-title").textContent = spec.title;
        document.getElementById("transition-dialog-text").textContent = spec.text;
        document.getElementById("transition-note-label").textContent = spec.reason ? steps.reason : steps.note;
        document.getElementById("transition-confirm").textContent = spec.confirm;
        note.required = spec.reason;
        note.setAttribute("aria-required", spec.reason ? "true" : "false");
        note.value = "";
        note.classList.remove("is-invalid");
        noteError.textContent = "";
        dialog.showModal();
        note.focus();
      });
    });
    document.getElementById("transition-cancel").addEventListener("click", closeDialog);
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); closeDialog(); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (note.required && !note.value.trim()) {
        note.classList.add("is-invalid");
        noteError.textContent = steps.missing;
        note.focus();
        return;
      }
      var confirmButton = document.getElementById("transition-confirm");
      confirmButton.disabled = true;
      api("POST", "/api/v1/plans/" + pending.dataset.plan + "/transition",
          {to: pending.dataset.transition, note: note.value}).then(function (res) {
        confirmButton.disabled = false;
        if (res.ok) { window.location.reload(); return; }
        note.classList.toggle("is-invalid", Boolean(res.data.error && res.data.error.details &&
                                                     res.data.error.details.note));
        noteError.textContent = errorText(res);
      });
    });
  }

  // Finding status on the plan page.
  document.querySelectorAll("select[data-finding]").forEach(function (select) {
    select.addEventListener("change", function () {
      api("PATCH", "/api/v1/drills/" + select.dataset.drill + "/findings/" + select.dataset.finding,
          {status: select.value}).then(function (res) {
        select.classList.toggle("is-invalid", !res.ok);
        select.classList.toggle("is-valid", res.ok);
      });
    });
  });

  // Drill form on the plan page.
  var filingForm = document.getElementById("filing-form");
  if (filingForm) {
    filingForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var f = filingForm.elements;
      api("POST", "/api/v1/plans/" + filingForm.dataset.plan + "/filing", {
        authority: f.authority.value, filed_on: f.filed_on.value, number: f.number.value
      }).then(function (res) {
        if (res.ok) { window.location.reload(); return; }
        document.getElementById("filing-error").textContent = errorText(res);
      });
    });
  }

  var drillForm = document.getElementById("drill-form");
  if (drillForm) {
    drillForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var f = drillForm.elements;
      var teams = f.team_ids.value.split(",").filter(Boolean).map(Number);
      var findings = f.findings.value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
      api("POST", "/api/v1/plans/" + drillForm.dataset.plan + "/drills", {
        held_on: f.held_on.value, kind: f.kind.value, title: f.title.value,
        team_ids: teams, findings: findings
      }).then(function (res) {
        if (res.ok) { window.location.reload(); return; }
        document.getElementById("drill-error").textContent = errorText(res);
      });
    });
  }

  // The plan editor.
  var editor = document.getElementById("plan-editor");
  if (!editor) { return; }
  var plan = JSON.parse(document.getElementById("plan-data").textContent);
  var opts = JSON.parse(document.getElementById("editor-options").textContent);
  var text = JSON.parse(document.getElementById("editor-text").textContent);
  var sources = JSON.parse(document.getElementById("picker-sources").textContent);

  function fill(select, pairs, value, blank) {
    if (blank) { select.appendChild(el("option", {value: "", text: text.none})); }
    pairs.forEach(function (p) {
      var o = el("option", {value: p[0], text: p[1]});
      if (String(p[0]) === String(value)) { o.selected = true; }
      select.appendChild(o);
    });
  }
  function input(attrs, value) {
    var node = el("input", Object.assign({"class": "form-control form-control-sm"}, attrs));
    if (value !== undefined && value !== null) { node.value = value; }
    return node;
  }
  function removeButton(row) {
    var b = el("button", {type: "button", "class": "btn btn-sm btn-outline-secondary", text: text.remove});
    b.addEventListener("click", function () { row.remove(); });
    return b;
  }

  document.getElementById("f-title").value = plan.title || "";
  document.getElementById("f-owner").value = plan.owner || "";
  document.getElementById("f-drill").value = plan.drill_interval_months || "";
  document.getElementById("f-revision").value = plan.revision_interval_months || "";
  fill(document.getElementById("f-kind"), opts.kinds, plan.kind || "special");
  fill(document.getElementById("f-type"), opts.types, plan.incident_type || "flood");
  fill(document.getElementById("f-parent"), opts.parents, plan.parent_id, true);

  var sections = document.getElementById("sections");
  function addSection(s) {
    var row = el("div", {"class": "card card-body mb-2 section-row"});
    row.appendChild(input({placeholder: text.title, "aria-label": text.title, "data-part": "title", maxlength: "200"}, s.title));
    var body = el("textarea", {"class": "form-control form-control-sm mt-1", rows: "4", placeholder: text.body,
                               "aria-label": text.body, "data-part": "body"});
    body.value = s.body || "";
    row.appendChild(body);
    row.appendChild(el("div", {"class": "mt-1"}, [removeButton(row)]));
    sections.appendChild(row);
  }
  (plan.sections || []).forEach(addSection);
  document.getElementById("add-section").addEventListener("click", function () { addSection({}); });

  var ROWS = {
    criteria: function (c) {
      // The metric is picked from the list by its name (死亡人数), never typed as a key.
      var metric = window.Picker.build({
        label: text.metric, labelClass: "visually-hidden", source: sources.metrics,
        inputClass: "form-control form-control-sm", value: c.metric || "",
        text: c.metric ? (opts.metrics[c.metric] || c.metric) : "",
        texts: {none: text.pickNone, count: text.pickCount, remove: text.pickRemove}});
      metric.classList.add("flex-grow-1");
      var shown = metric.querySelector("input[type=text]");
      shown.setAttribute("data-part", "metric");
      shown.setAttribute("placeholder", text.metricHint);
      metric.querySelector("input[type=hidden]").setAttribute("data-part", "metric-key");
      var op = el("select", {"class": "form-select form-select-sm w-auto", "data-part": "op",
                             "aria-label": text.op});
      fill(op, opts.ops.map(function (o) { return [o, o]; }), c.op || ">=");
      var value = input({type: "number", step: "any", placeholder: text.value, "aria-label": text.value,
                         "data-part": "value"}, c.value);
      value.classList.add("w-auto");
      return [metric, op, value];
    },
    actions: function (a) {
      return [input({placeholder: text.unit, "aria-label": text.unit, "data-part": "unit"}, a.unit),
              input({placeholder: text.duty, "aria-label": text.duty, "data-part": "duty"}, a.duty)];
    },
    required_forces: function (f) {
      var cat = el("select", {"class": "form-select form-select-sm", "data-part": "category",
                              "aria-label": text.category});
      fill(cat, opts.categories, f.category);
      return [cat, input({type: "number", min: "1", placeholder: text.count, "aria-label": text.count,
                          "data-part": "count"}, f.count || 1)];
    }
  };

  var levels = document.getElementById("levels");
  var byLevel = {};
  (plan.response_levels || []).forEach(function (lv) { byLevel[lv.level] = lv; });
  [1, 2, 3, 4].forEach(function (n) {
    var lv = byLevel[n] || {criteria: [], actions: [], required_forces: []};
    var card = el("fieldset", {"class": "card card-body mb-2 level-row", "data-level": String(n)});
    var use = el("input", {type: "checkbox", "class": "form-check-input me-2", "data-part": "use",
                           "aria-label": text.use + " " + opts.levels[n]});
    use.checked = Boolean(byLevel[n]);
    card.appendChild(el("legend", {"class": "h6"}, [use, el("span", {text: opts.levels[n]})]));
    card.appendChild(input({placeholder: text.name, "aria-label": text.name, "data-part": "name", maxlength: "100"}, lv.name));
    Object.keys(ROWS).forEach(function (kind) {
      var box = el("div", {"class": "mt-2", "data-list": kind});
      var label = {criteria: text.criteria, actions: text.actions, required_forces: text.forces}[kind];
      box.appendChild(el("div", {"class": "small fw-bold", text: label}));
      var add = el("button", {type: "button", "class": "btn btn-sm btn-outline-secondary mt-1", text: text.add});
      function addRow(item) {
        var row = el("div", {"class": "d-flex flex-wrap gap-1 mt-1 item-row"});
        ROWS[kind](item).forEach(function (c) { row.appendChild(c); });
        row.appendChild(removeButton(row));
        box.insertBefore(row, add);
        window.Picker.attach(row);
      }
      box.appendChild(add);
      add.addEventListener("click", function () { addRow({}); use.checked = true; });
      (lv[kind] || []).forEach(addRow);
      card.appendChild(box);
    });
    levels.appendChild(card);
  });

  function part(row, name) { return row.querySelector('[data-part="' + name + '"]'); }
  function number(v) { return v === "" ? null : Number(v); }

  function collect() {
    var body = {
      title: document.getElementById("f-title").value,
      owner: document.getElementById("f-owner").value,
      kind: document.getElementById("f-kind").value,
      incident_type: document.getElementById("f-type").value,
      area_code: document.getElementById("f-area").value ||
        document.getElementById("f-area-name").value.trim(),
      parent_id: number(document.getElementById("f-parent").value),
      sections: [].map.call(sections.querySelectorAll(".section-row"), function (row) {
        return {title: part(row, "title").value, body: part(row, "body").value};
      }),
      response_levels: []
    };
    ["drill_interval_months", "revision_interval_months"].forEach(function (k) {
      var v = number(editor.querySelector('[data-key="' + k + '"]').value);
      if (v !== null) { body[k] = v; }
    });
    levels.querySelectorAll(".level-row").forEach(function (card) {
      if (!part(card, "use").checked) { return; }
      var rows = function (kind) { return card.querySelectorAll('[data-list="' + kind + '"] .item-row'); };
      body.response_levels.push({
        level: Number(card.dataset.level), name: part(card, "name").value,
        criteria: [].map.call(rows("criteria"), function (r) {
          // A name typed but not picked is sent as it is: the API reads 死亡人数 as deaths.
          var metric = part(r, "metric-key").value || part(r, "metric").value.trim();
          return {metric: metric, op: part(r, "op").value, value: number(part(r, "value").value)};
        }),
        actions: [].map.call(rows("actions"), function (r) {
          return {unit: part(r, "unit").value, duty: part(r, "duty").value};
        }),
        required_forces: [].map.call(rows("required_forces"), function (r) {
          return {category: part(r, "category").value, count: number(part(r, "count").value)};
        })
      });
    });
    return body;
  }

  editor.addEventListener("submit", function (event) {
    event.preventDefault();
    editor.querySelectorAll(".is-invalid").forEach(function (n) { n.classList.remove("is-invalid"); });
    var id = editor.dataset.plan;
    var body = collect();
    api(id ? "PATCH" : "POST", id ? "/api/v1/plans/" + id : "/api/v1/plans", body).then(function (res) {
      if (res.ok) { window.location.href = "/plans/" + res.data.id; return; }
      var details = (res.data.error && res.data.error.details) || {};
      Object.keys(details).forEach(function (key) {
        var path = key.split(".");
        var node = editor.querySelector('[data-key="' + path[0] + '"]');
        if (path[0] === "sections" && path.length > 2) {
          var row = sections.querySelectorAll(".section-row")[Number(path[1])];
          node = row && part(row, path[2]);
        } else if (path[0] === "response_levels" && path.length > 2) {
          var level = body.response_levels[Number(path[1])];
          var card = level && levels.querySelector('[data-level="' + level.level + '"]');
          if (card && path.length > 4) {
            var r = card.querySelectorAll('[data-list="' + path[2] + '"] .item-row')[Number(path[3])];
            node = r && part(r, path[4]);
          } else if (card) { node = part(card, path[2]) || card; }
        }
        if (node) { node.classList.add("is-invalid"); }
      });
      document.getElementById("editor-error").textContent = text.failed + " " + errorText(res);
    });
  });
})();
