/* The /users page: search, create, edit role and scope, deactivate and reactivate.
   Every change goes through the JSON API with the page's CSRF token; every text is set with
   textContent, never parsed as HTML. */
(function () {
  "use strict";
  var api = window.EmergencyPages.api, errorText = window.EmergencyPages.errorText;
  var el = window.EmergencyPages.el;
  var data = JSON.parse(document.getElementById("users-data").textContent);
  var text = data.text;
  var roleLabel = {};
  data.roles.forEach(function (r) { roleLabel[r.value] = r.label; });
  var list = document.getElementById("user-list");
  var status = document.getElementById("user-status");

  function codes(value) {
    return value.split(/[,，\s]+/).map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function scopeBody(form) {
    var f = form.elements;
    var org = f.org_id.value.trim();
    return {
      role: f.role.value, grid_codes: codes(f.grid_codes.value),
      org_id: org ? Number(org) : null, area_code: f.area_code.value.trim() || null
    };
  }

  // Names of grids, organisations and districts for the lines under each user: asked once
  // per code or id from the pickers' endpoints (which find by code or id too); until the
  // answer comes, and when nothing is found, the code itself shows.
  var known = {grids: {}, orgs: {}, areas: {}};

  function nameOf(kind, key) {
    key = String(key);
    if (!known[kind][key]) {
      var url = data.text.sources[kind];
      url += (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(key);
      known[kind][key] = fetch(url, {credentials: "same-origin",
                                     headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : {items: []}; })
        .catch(function () { return {items: []}; })
        .then(function (found) {
          var hit = (found.items || []).filter(function (it) {
            return String(it.value) === key;
          })[0];
          return hit ? (hit.name || hit.label) : key;
        });
    }
    return known[kind][key];
  }

  function named(kind, key) {
    var span = el("span", {"data-code": String(key), text: String(key)});
    nameOf(kind, key).then(function (name) { span.textContent = name; });
    return span;
  }

  function scopeLine(u) {
    var line = el("div", {"class": "small text-secondary user-scope"});
    function part(label, kind, keys) {
      if (line.childNodes.length) { line.appendChild(document.createTextNode(" · ")); }
      line.appendChild(document.createTextNode(label + ": "));
      keys.forEach(function (key, i) {
        if (i) { line.appendChild(document.createTextNode(", ")); }
        line.appendChild(named(kind, key));
      });
    }
    if (u.grid_codes.length) { part(text.grids, "grids", u.grid_codes); }
    if (u.org_id !== null) { part(text.org, "orgs", [u.org_id]); }
    if (u.area_code) { part(text.area, "areas", [u.area_code]); }
    return line;
  }

  function field(label, input) {
    var id = "f" + Math.random().toString(36).slice(2);
    input.id = id;
    return el("div", {"class": "col-12 col-md-6"}, [
      el("label", {"class": "form-label small mb-0", "for": id, text: label}), input]);
  }

  // A name picker (emergency/static/picker.js) in a form column: people choose grids,
  // organisations and districts by name; the hidden input carries the code or id.
  function picker(options) {
    options.texts = text.picker;
    options.labelClass = "form-label small mb-0";
    options.inputClass = "form-control form-control-sm";
    return el("div", {"class": "col-12 col-md-6"}, [window.Picker.build(options)]);
  }

  // The names of a user's grids, organisation and district, as the edit form's pickers show
  // them (the scope line above has usually asked for them already: the answers are cached).
  function scopeNames(u) {
    return Promise.all([
      Promise.all(u.grid_codes.map(function (c) { return nameOf("grids", c); })),
      u.org_id === null ? "" : nameOf("orgs", u.org_id),
      u.area_code ? nameOf("areas", u.area_code) : ""
    ]).then(function (names) { return {grids: names[0], org: names[1], area: names[2]}; });
  }

  function editForm(u, item, names) {
    var role = el("select", {"class": "form-select form-select-sm", name: "role"});
    data.roles.forEach(function (r) {
      var o = el("option", {value: r.value, text: r.label});
      if (r.value === u.role) { o.selected = true; }
      role.appendChild(o);
    });
    function input(name, value, extra) {
      var i = el("input", Object.assign({"class": "form-control form-control-sm", name: name},
                                        extra || {}));
      i.value = value === null || value === undefined ? "" : value;
      return i;
    }
    var error = el("p", {"class": "text-danger small mb-0", role: "alert"});
    var form = el("form", {"class": "mt-2 user-edit", method: "post"}, [
      el("div", {"class": "row g-2"}, [
        field(text.display_name, input("display_name", u.display_name, {maxlength: "100"})),
        field(text.role, role),
        picker({label: text.grids, name: "grid_codes", source: data.text.sources.grids,
                multiple: true, chosen: u.grid_codes.map(function (c, i) {
                  return {value: c, label: names.grids[i]};
                })}),
        picker({label: text.org, name: "org_id", source: data.text.sources.orgs,
                value: u.org_id, text: names.org}),
        picker({label: text.area, name: "area_code", source: data.text.sources.areas,
                value: u.area_code, text: names.area}),
        field(text.new_password, input("password", "", {type: "password", minlength: "8",
                                                         autocomplete: "new-password"}))
      ]),
      error,
      el("div", {"class": "d-flex gap-2 mt-2"}, [
        el("button", {"class": "btn btn-sm btn-danger", type: "submit", text: text.save}),
        el("button", {"class": "btn btn-sm btn-outline-secondary", type: "button",
                      "data-cancel": "", text: text.cancel})
      ])
    ]);
    form.querySelector("[data-cancel]").addEventListener("click", function () { form.remove(); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = scopeBody(form);
      body.display_name = form.elements.display_name.value.trim();
      if (form.elements.password.value) { body.password = form.elements.password.value; }
      api("PATCH", "/api/v1/users/" + u.id, body).then(function (res) {
        if (!res.ok) { error.textContent = errorText(res); return; }
        item.replaceWith(row(res.data));
        status.textContent = text.saved;
      });
    });
    return form;
  }

  function toggleActive(u, item) {
    var question = (u.active ? text.confirm_deactivate : text.confirm_reactivate)
      .replace("{name}", u.username);
    if (!window.confirm(question)) { return; }
    api("PATCH", "/api/v1/users/" + u.id, {active: !u.active}).then(function (res) {
      if (!res.ok) { status.textContent = errorText(res); return; }
      item.replaceWith(row(res.data));
      status.textContent = text.saved;
    });
  }

  function row(u) {
    var name = el("span", {"class": "fw-semibold user-name", text: u.username});
    var title = el("div", {"class": "d-flex flex-wrap align-items-center gap-2"}, [
      name,
      el("span", {"class": "text-secondary", text: u.display_name !== u.username ? u.display_name : ""}),
      el("span", {"class": "badge text-bg-secondary user-role", text: roleLabel[u.role] || u.role}),
      el("span", {"class": "badge user-state " + (u.active ? "text-bg-success" : "text-bg-dark"),
                  text: u.active ? text.active : text.inactive})
    ]);
    if (u.id === data.me) { title.appendChild(el("span", {"class": "small", text: text.you})); }
    var edit = el("button", {"class": "btn btn-sm btn-outline-secondary", type: "button",
                             "data-edit": "", text: text.edit});
    var buttons = el("div", {"class": "d-flex gap-2"}, [edit]);
    if (u.id !== data.me) {
      buttons.appendChild(el("button", {
        "class": "btn btn-sm " + (u.active ? "btn-outline-danger" : "btn-outline-success"),
        type: "button", "data-toggle-active": "", text: u.active ? text.deactivate : text.reactivate}));
    }
    var item = el("li", {"class": "list-group-item", "data-user": u.username}, [
      el("div", {"class": "d-flex flex-wrap justify-content-between align-items-start gap-2"}, [
        el("div", {"class": "text-break"}, [title, scopeLine(u)]),
        buttons])
    ]);
    var opening = false;
    edit.addEventListener("click", function () {
      if (opening || item.querySelector("form.user-edit")) { return; }
      opening = true;
      scopeNames(u).then(function (names) {
        opening = false;
        var form = editForm(u, item, names);
        item.appendChild(form);
        window.Picker.attach(form);
      });
    });
    var toggle = buttons.querySelector("[data-toggle-active]");
    if (toggle) { toggle.addEventListener("click", function () { toggleActive(u, item); }); }
    return item;
  }

  function render(users, total) {
    list.replaceChildren.apply(list, users.map(row));
    status.textContent = users.length ? text.total.replace("{n}", total) : text.none;
  }

  var search = document.getElementById("user-search");
  var roleFilter = document.getElementById("role-filter");
  var pending = null;
  function refresh(message) {
    var params = new URLSearchParams({limit: "200"});
    if (search.value.trim()) { params.set("q", search.value.trim()); }
    if (roleFilter.value) { params.set("role", roleFilter.value); }
    api("GET", "/api/v1/users?" + params.toString()).then(function (res) {
      if (res.ok) { render(res.data.items, res.data.total); } else { status.textContent = errorText(res); return; }
      if (message) { status.textContent = message; }
    });
  }
  search.addEventListener("input", function () { clearTimeout(pending); pending = setTimeout(function () { refresh(); }, 250); });
  roleFilter.addEventListener("change", function () { refresh(); });
  document.getElementById("search-form").addEventListener("submit", function (event) {
    event.preventDefault(); refresh();
  });

  var card = document.getElementById("create-card");
  var createForm = document.getElementById("create-form");
  document.getElementById("show-create").addEventListener("click", function () {
    card.classList.remove("d-none"); createForm.elements.username.focus();
  });
  document.getElementById("hide-create").addEventListener("click", function () {
    card.classList.add("d-none");
  });
  createForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = createForm.elements;
    var body = scopeBody(createForm);
    body.username = f.username.value.trim();
    body.password = f.password.value;
    body.display_name = f.display_name.value.trim();
    api("POST", "/api/v1/users", body).then(function (res) {
      if (!res.ok) { document.getElementById("create-error").textContent = errorText(res); return; }
      document.getElementById("create-error").textContent = "";
      createForm.reset();
      card.classList.add("d-none");
      search.value = "";
      refresh(text.created);
    });
  });

  render(data.users, data.total);
})();
