/* Price alerts page: the confirmation dialog of a workflow step (note required for
 * referring and closing). Texts come from data attributes and a JSON script element and are
 * only ever set with textContent. */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }
  var dialog = $('step-dialog'), form = $('step-form');
  if (!dialog || !form) { return; }
  var texts = JSON.parse(($('step-texts') || {}).textContent || '{}');
  var note = $('step-note'), error = $('step-error'), confirm = $('step-confirm');
  var opener = null;
  document.querySelectorAll('[data-step][data-alert]').forEach(function (button) {
    button.addEventListener('click', function () {
      opener = button;
      form.action = form.dataset.actionTemplate.replace(/\/0\/step$/, '/' +
        encodeURIComponent(button.dataset.alert) + '/step');
      $('step-dialog-title').textContent = button.dataset.question;
      confirm.textContent = button.dataset.label;
      dialog.noteRequired = button.hasAttribute('data-note-required');
      $('step-note-label').textContent = dialog.noteRequired ? texts.reason : texts.note;
      note.required = dialog.noteRequired;
      note.value = '';
      note.removeAttribute('aria-invalid');
      error.textContent = '';
      $('step-to').value = button.dataset.step;
      dialog.showModal();
      (dialog.noteRequired ? note : confirm).focus();
    });
  });
  $('step-cancel').addEventListener('click', function () { dialog.close(); });
  dialog.addEventListener('close', function () { if (opener) { opener.focus(); } });
  confirm.addEventListener('click', function () {
    if (dialog.noteRequired && !note.value.trim()) {
      error.textContent = texts.missing;
      note.setAttribute('aria-invalid', 'true');
      note.focus();
      return;
    }
    confirm.disabled = true;
    form.submit();
  });
}());
