/* Helpers the inbox pages share: their translated labels, Beijing time, and a server refusal
 * as one Chinese (or English) sentence. Text is always written with textContent. */
(function () {
  'use strict';

  function labels() {
    return JSON.parse(document.getElementById('inbox-labels').textContent);
  }

  // An ISO 8601 time as "YYYY-MM-DD HH:MM" in Beijing time ("" for none): the shared helper.
  var beijing = window.EmergencyPages.localTime;

  // A refused or failed API call ({ok, status, data} of EmergencyPages.api, or nothing when
  // the network failed) as a sentence in the page's language: the refusal's own code when the
  // page knows it, else its status; for invalid input (422), what is wrong with each field.
  function refusal(text, res) {
    if (!res || !res.status) { return text.errors.network; }
    var error = res.data && res.data.error;
    var message = (error && text.codes[error.code]) || text.errors[String(res.status)] ||
      text.errors.other;
    var hints = [];
    if (res.status === 422) {
      // The page's own hint for a field it knows, else the server's messages, which open
      // with the field's label (never the field's key).
      Object.keys((error && error.details) || {}).forEach(function (field) {
        var hint = text.fields[field] || window.EmergencyPages.leaves(error.details[field]).join(' ');
        if (hint && hints.indexOf(hint) < 0) { hints.push(hint); }
      });
    }
    return hints.length ? message + ' ' + hints.join(' ') : message;
  }

  // Show a refusal next to the button that caused it; the server's own words go in the title.
  function showError(node, text, res) {
    node.textContent = refusal(text, res);
    var error = res && res.data && res.data.error;
    node.title = error ? error.message : '';
    node.classList.remove('d-none');
  }

  function clearError(node) {
    node.textContent = '';
    node.title = '';
    node.classList.add('d-none');
  }

  // "label value": no space after a full-width (Chinese) colon.
  function labelled(label, value) {
    return label + (label.slice(-1) === '\uff1a' ? '' : ' ') + value;
  }

  function levelLabel(text, level) {
    return level ? (text.levels[String(level)] || String(level)) : text.no_level;
  }

  window.InboxCommon = {labels: labels, beijing: beijing, refusal: refusal,
                        showError: showError, clearError: clearError, levelLabel: levelLabel,
                        labelled: labelled};
})();
