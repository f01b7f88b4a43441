/* The confirmation dialog of a workflow step taken by a form (warnings, price alerts; markup:
 * emergency/templates/_step_dialog.html). A button [data-step] opens #step-dialog with its
 * question (data-question) and its label on the confirm button (data-label); with
 * data-note-required the dialog asks for the reason and will not go on without one; with
 * data-action the form posts there (one dialog for the steps of many items on a list).
 * Cancelling sends nothing and gives the focus back to the button. Texts come from the
 * #step-texts JSON element and are only ever set with textContent. */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }
  var dialog = $('step-dialog'), form = $('step-form');
  if (!dialog || !form) { return; }
  var texts = JSON.parse(($('step-texts') || {}).textContent || '{}');
  var note = $('step-note'), error = $('step-error'), confirm = $('step-confirm');
  var opener = null, noteRequired = false;

  document.querySelectorAll('[data-step]').forEach(function (button) {
    button.addEventListener('click', function () {
      opener = button;
      if (button.dataset.action) { form.action = button.dataset.action; }
      $('step-dialog-title').textContent = button.dataset.question;
      confirm.textContent = button.dataset.label;
      noteRequired = button.hasAttribute('data-note-required');
      $('step-note-label').textContent = noteRequired ? texts.reason : texts.note;
      note.required = noteRequired;
      note.value = '';
      note.removeAttribute('aria-invalid');
      error.textContent = '';
      $('step-to').value = button.dataset.step;
      dialog.showModal();
      (noteRequired ? note : confirm).focus();
    });
  });
  $('step-cancel').addEventListener('click', function () { dialog.close(); });
  dialog.addEventListener('close', function () { if (opener) { opener.focus(); } });
  confirm.addEventListener('click', function () {
    if (noteRequired && !note.value.trim()) {
      error.textContent = texts.missing;
      note.setAttribute('aria-invalid', 'true');
      note.focus();
      return;
    }
    confirm.disabled = true;
    form.submit();
  });
}());
