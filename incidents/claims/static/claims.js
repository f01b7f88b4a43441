/* Claim pages: a confirmation before a form marked data-confirm is sent (review, payment),
 * and the claim form's lines (add, remove, each amount and the live total). Text is written
 * with textContent only; lines are cloned from the page's <template>. */
(function () {
  'use strict';

  // Fen as integers, so the total adds up exactly as the server will compute it.
  function fen(text) {
    var value = String(text || '').replace(/,/g, '').trim();
    if (!/^\d+(\.\d+)?$/.test(value)) { return null; }
    return Math.round(parseFloat(value) * 100);
  }

  function yuan(cents) {
    var sign = cents < 0 ? '-' : '';
    cents = Math.abs(cents);
    var whole = Math.floor(cents / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
    var rest = String(cents % 100);
    return sign + whole + '.' + (rest.length < 2 ? '0' + rest : rest);
  }

  function lineAmount(line) {
    var qty = String(line.querySelector('[data-line-quantity]').value || '').trim();
    var price = fen(line.querySelector('[data-line-price]').value);
    if (price === null || !/^\d+(\.\d+)?$/.test(qty)) { return null; }
    return Math.round(parseFloat(qty) * price);
  }

  function recount(form) {
    var total = 0, complete = true;
    form.querySelectorAll('[data-claim-line]').forEach(function (line) {
      var amount = lineAmount(line);
      line.querySelector('[data-line-amount]').textContent = amount === null ? '—' : yuan(amount);
      if (amount === null) { complete = false; } else { total += amount; }
    });
    document.getElementById('claim-total').textContent = complete ? yuan(total) : '—';
  }

  function setUpClaimForm(form) {
    var lines = document.getElementById('claim-lines');
    var template = document.getElementById('claim-line-template');
    document.getElementById('add-line').addEventListener('click', function () {
      lines.appendChild(template.content.cloneNode(true));
      recount(form);
      var added = lines.lastElementChild;
      if (added) { added.querySelector('[data-line-kind]').focus(); }
    });
    lines.addEventListener('click', function (event) {
      var button = event.target.closest('[data-remove-line]');
      if (!button) { return; }
      button.closest('[data-claim-line]').remove();
      recount(form);
    });
    lines.addEventListener('input', function () { recount(form); });
    recount(form);
  }

  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      if (!form.checkValidity()) { return; }
      if (!window.confirm(form.getAttribute('data-confirm'))) { event.preventDefault(); }
    });
  });
  var claimForm = document.getElementById('claim-form');
  if (claimForm) { setUpClaimForm(claimForm); }

  // The appeal dialog: opened by its button, closed by Cancel (the form checks the reason).
  var appealDialog = document.getElementById('appeal-dialog');
  var appealOpen = document.getElementById('appeal-open');
  if (appealDialog && appealOpen) {
    appealOpen.addEventListener('click', function () {
      appealDialog.showModal();
      document.getElementById('appeal-reason-input').focus();
    });
    document.getElementById('appeal-cancel').addEventListener('click', function () {
      appealDialog.close();
    });
    appealDialog.addEventListener('close', function () { appealOpen.focus(); });
  }
})();
