/* Registry confirmations in a native modal <dialog> (focus moves in, Escape closes, focus
 * returns to the button that opened it): the review queue's approve and reject (one
 * registration or the chosen ones) and the team page's steps marked data-confirm-dialog
 * (removing a member, making a team unavailable). A required reason is checked before the
 * form is sent; the server checks it again. Text is set with textContent only. */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) { return String(values[key]); });
  }

  // Ask in ``dialog`` before ``form`` is sent. opts: title, names, reasonLabel,
  // reasonRequired, confirmLabel, decision (the confirm button's name=decision value).
  function ask(dialog, form, opts) {
    var note = dialog.querySelector('textarea'), error = dialog.querySelector('[role=alert]');
    var confirm = dialog.querySelector('[data-dialog-confirm]');
    var names = dialog.querySelector('.registry-dialog-names');
    dialog.querySelector('h2').textContent = opts.title;
    names.replaceChildren.apply(names, (opts.names || []).map(function (name) {
      var li = document.createElement('li'); li.textContent = name; return li;
    }));
    if (opts.reasonLabel) { dialog.querySelector('label').textContent = opts.reasonLabel; }
    note.setAttribute('form', form.id);
    confirm.setAttribute('form', form.id);
    if (opts.decision) { confirm.name = 'decision'; confirm.value = opts.decision; }
    if (opts.confirmLabel) { confirm.textContent = opts.confirmLabel; }
    dialog.reasonRequired = opts.reasonRequired;
    error.textContent = '';
    note.removeAttribute('aria-invalid');
    dialog.opener = document.activeElement;
    dialog.showModal();
    (opts.reasonRequired ? note : confirm).focus();
  }

  document.querySelectorAll('dialog.registry-dialog').forEach(function (dialog) {
    var note = dialog.querySelector('textarea'), error = dialog.querySelector('[role=alert]');
    dialog.querySelector('[data-dialog-cancel]').addEventListener('click', function () {
      dialog.close();
    });
    dialog.querySelector('[data-dialog-confirm]').addEventListener('click', function (event) {
      if (dialog.reasonRequired && !note.value.trim()) {
        event.preventDefault();
        error.textContent = dialog.getAttribute('data-reason-message') || '';
        note.setAttribute('aria-invalid', 'true');
        note.focus();
      }
    });
    dialog.addEventListener('close', function () {
      if (dialog.opener && dialog.opener.focus) { dialog.opener.focus(); }
    });
  });

  // Forms that ask first: data-confirm-dialog names the dialog, data-confirm-title its
  // question; data-confirm-when (a field name) and data-confirm-value ask only for that value.
  document.querySelectorAll('form[data-confirm-dialog]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (event.submitter && event.submitter.hasAttribute('data-dialog-confirm')) { return; }
      var field = form.getAttribute('data-confirm-when');
      if (field && form.elements[field].value !== form.getAttribute('data-confirm-value')) {
        return;
      }
      event.preventDefault();
      ask($(form.getAttribute('data-confirm-dialog')), form, {
        title: form.getAttribute('data-confirm-title'), reasonRequired: true});
    });
  });

  // The review queue.
  var textNode = $('review-text'), reviewForm = $('review-form');
  if (!textNode || !reviewForm) { return; }
  var text = JSON.parse(textNode.textContent), dialog = $('review-dialog');
  dialog.setAttribute('data-reason-message', text.reason_required);
  var picks = reviewForm.querySelectorAll('input[name=ids]'), chosen = $('review-chosen');
  var all = $('review-all');
  function chosenBoxes() {
    return Array.prototype.filter.call(picks, function (box) { return box.checked; });
  }
  function count() { chosen.textContent = fill(text.chosen, {n: chosenBoxes().length}); }
  picks.forEach(function (box) { box.addEventListener('change', count); });
  if (all) {
    all.addEventListener('change', function () {
      picks.forEach(function (box) { box.checked = all.checked; });
      count();
    });
  }
  count();
  reviewForm.querySelectorAll('[data-review]').forEach(function (button) {
    button.addEventListener('click', function () {
      var decision = button.getAttribute('data-review'), names;
      if (button.hasAttribute('data-org-id')) {
        $('review-only').value = button.getAttribute('data-org-id');
        names = [button.getAttribute('data-name')];
      } else {
        $('review-only').value = '';
        names = chosenBoxes().map(function (box) { return box.getAttribute('data-name'); });
        if (!names.length) { chosen.textContent = text.none_chosen; return; }
      }
      var reject = decision === 'reject';
      ask(dialog, reviewForm, {
        title: fill(reject ? text.reject_title : text.approve_title, {n: names.length}),
        names: names, decision: decision, reasonRequired: reject,
        reasonLabel: reject ? text.reason_label : text.note_label,
        confirmLabel: reject ? text.reject : text.approve});
    });
  });
})();
