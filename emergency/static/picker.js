/* Picker: an accessible combobox (WAI-ARIA 1.2 combobox pattern with a listbox popup) that
 * finds things by the name people know — Chinese name, pinyin initials ("yzq" → 渝中区) or
 * code — and writes the chosen value (a code or id) into a hidden input.
 *
 * Markup (the page renders it; labels and texts come from the page's catalogue):
 *
 *   <div class="picker" data-picker data-source="/api/v1/pick/areas?level=district"
 *        data-text-none="无匹配项" data-text-count="{n} 项" data-text-remove="移除">
 *     <label class="form-label" for="area-q">区划</label>
 *     <input class="form-control" id="area-q" type="text" value="渝中区">
 *     <input type="hidden" name="area_code" id="area-code" value="500103">
 *   </div>
 *
 *   - data-source: a JSON endpoint answering GET ?q=<text> with {"items": [{value, label,
 *     hint}]} (the /api/v1/pick/* endpoints; extra query parameters may be in the URL).
 *   - data-multiple: choose several; the hidden input holds the values joined by commas and
 *     the choices show as removable chips (an initial list of choices can be given as JSON
 *     in data-chosen='[{"value": "7", "label": "蓝天救援队"}]').
 *   - The hidden input is the one marked data-picker-value, else the first hidden input.
 *   - The text input gets role=combobox, aria-expanded, aria-controls, aria-autocomplete and
 *     aria-activedescendant; the popup is a role=listbox of role=option items. Keys: Down/Up
 *     move, Enter chooses, Escape closes (a second Escape clears), Tab leaves. A polite live
 *     region reads the number of results.
 *   - Editing the text after a choice clears the hidden value, so only chosen values are
 *     sent; leaving the field with text that is exactly a result's name chooses it.
 *   - On every choice the container fires "picker:change" (detail: {value, item}).
 *
 * window.Picker.attach(root) enhances every [data-picker] under root (done for the document
 * on load; call it again for markup added later). window.Picker.build(options) makes the
 * markup for a picker in script-built forms: {id, label, name, source, value, text,
 * multiple, chosen, texts: {none, count, remove}, labelClass, inputClass}.
 * Text is only ever set with textContent: nothing typed or fetched is parsed as HTML.
 */
(function () {
  'use strict';

  var counter = 0;
  var DEFAULTS = {none: 'No matches', count: '{n} results', remove: 'Remove'};

  function make(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function texts(root) {
    return {none: root.dataset.textNone || DEFAULTS.none,
            count: root.dataset.textCount || DEFAULTS.count,
            remove: root.dataset.textRemove || DEFAULTS.remove};
  }

  function enhance(root) {
    if (root.dataset.pickerReady) { return; }
    root.dataset.pickerReady = '1';
    var input = root.querySelector('input:not([type=hidden])');
    var hidden = root.querySelector('input[data-picker-value]') ||
      root.querySelector('input[type=hidden]');
    if (!input || !hidden) { return; }
    var words = texts(root);
    var multiple = root.hasAttribute('data-multiple');
    var id = input.id || ('picker-' + (++counter));
    input.id = id;
    var list = make('ul', {id: id + '-list', role: 'listbox', 'class': 'picker-list'});
    list.hidden = true;
    var labelNode = root.querySelector('label[for="' + id + '"]');
    if (labelNode) {
      if (!labelNode.id) { labelNode.id = id + '-label'; }
      list.setAttribute('aria-labelledby', labelNode.id);
    }
    var status = make('div', {'class': 'visually-hidden', role: 'status',
                              'aria-live': 'polite', id: id + '-status'});
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('autocomplete', 'off');
    input.insertAdjacentElement('afterend', list);
    root.appendChild(status);

    var chips = null, chosen = [];
    if (multiple) {
      chips = make('ul', {'class': 'picker-chips list-unstyled', 'aria-label': labelNode ?
                          labelNode.textContent : ''});
      root.insertBefore(chips, list.nextSibling);
      try { chosen = JSON.parse(root.dataset.chosen || '[]'); } catch (e) { chosen = []; }
      drawChips();
    }

    var items = [], active = -1, timer = null, seq = 0, lastQuery = null;
    if (!multiple && hidden.value && input.value) { input.dataset.chosenLabel = input.value; }

    function drawChips() {
      chips.textContent = '';
      chosen.forEach(function (item, index) {
        var li = make('li', {'class': 'picker-chip'});
        li.appendChild(make('span', {}, item.label));
        var remove = make('button', {type: 'button', 'class': 'btn-close picker-remove',
                                     'aria-label': words.remove + ' ' + item.label});
        remove.addEventListener('click', function () {
          chosen.splice(index, 1);
          drawChips();
          input.focus();
          changed(null);
        });
        li.appendChild(remove);
        chips.appendChild(li);
      });
      hidden.value = chosen.map(function (c) { return c.value; }).join(',');
    }

    function changed(item) {
      root.dispatchEvent(new CustomEvent('picker:change', {
        bubbles: true, detail: {value: hidden.value, item: item}}));
    }

    function open(show) {
      list.hidden = !show;
      input.setAttribute('aria-expanded', show ? 'true' : 'false');
      if (!show) { setActive(-1); }
    }

    function setActive(index) {
      var options = list.querySelectorAll('[role=option]');
      options.forEach(function (o, i) {
        o.classList.toggle('active', i === index);
        o.setAttribute('aria-selected', i === index ? 'true' : 'false');
      });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute('aria-activedescendant', options[index].id);
        options[index].scrollIntoView({block: 'nearest'});
      } else {
        input.removeAttribute('aria-activedescendant');
      }
    }

    function draw(found) {
      items = found;
      list.textContent = '';
      found.forEach(function (item, i) {
        var li = make('li', {id: id + '-opt-' + i, role: 'option', 'class': 'picker-option',
                             'aria-selected': 'false', 'data-value': String(item.value)});
        li.appendChild(make('span', {'class': 'picker-label'}, item.label));
        if (item.hint) { li.appendChild(make('span', {'class': 'picker-hint'}, item.hint)); }
        // mousedown, not click: choosing must happen before the input's blur.
        li.addEventListener('mousedown', function (event) {
          event.preventDefault();
          choose(i);
        });
        list.appendChild(li);
      });
      if (!found.length) {
        list.appendChild(make('li', {'class': 'picker-empty', role: 'presentation'}, words.none));
      }
      status.textContent = found.length ? words.count.replace('{n}', found.length) : words.none;
      open(true);
      setActive(-1);
    }

    function search(text) {
      var mine = ++seq;
      var url = root.dataset.source;
      url += (url.indexOf('?') < 0 ? '?' : '&') + 'q=' + encodeURIComponent(text);
      lastQuery = text;
      return fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
        .then(function (r) { return r.ok ? r.json() : {items: []}; })
        .catch(function () { return {items: []}; })
        .then(function (data) {
          if (mine !== seq) { return null; }  // a newer query is on its way
          draw(data.items || []);
          return data.items || [];
        });
    }

    function choose(index) {
      var item = items[index];
      if (!item) { return; }
      // A choice ends the search: a query still waiting (typed before the click) must not
      // open the list again over the form.
      clearTimeout(timer);
      timer = null;
      seq += 1;
      if (multiple) {
        if (!chosen.some(function (c) { return String(c.value) === String(item.value); })) {
          chosen.push({value: String(item.value), label: item.label});
        }
        drawChips();
        input.value = '';
      } else {
        hidden.value = item.value;
        input.value = item.label;
        input.dataset.chosenLabel = item.label;
      }
      open(false);
      changed(item);
    }

    function exact(text) {
      var t = text.trim();
      for (var i = 0; i < items.length; i++) {
        var it = items[i];
        if (t && (t === it.label || t === it.name || t === String(it.value) ||
                  (it.aliases || []).indexOf(t) >= 0)) { return i; }
      }
      return -1;
    }

    input.addEventListener('input', function () {
      if (!multiple && input.value !== input.dataset.chosenLabel && hidden.value) {
        hidden.value = '';
        changed(null);
      }
      clearTimeout(timer);
      var text = input.value;
      timer = setTimeout(function () { timer = null; search(text); }, 150);
    });

    input.addEventListener('focus', function () {
      if (!multiple && hidden.value) { return; }
      if (lastQuery === null) { search(input.value); }
    });

    input.addEventListener('keydown', function (event) {
      var count = items.length;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        if (list.hidden || timer) { clearTimeout(timer); timer = null; search(input.value); return; }
        if (!count) { return; }
        var step = event.key === 'ArrowDown' ? 1 : -1;
        setActive(active < 0 ? (step > 0 ? 0 : count - 1) : (active + step + count) % count);
      } else if (event.key === 'Enter') {
        if (list.hidden && !timer) { return; }
        event.preventDefault();
        if (timer || input.value !== lastQuery) {
          // Typed faster than the list: answer for what is in the box now.
          clearTimeout(timer);
          timer = null;
          search(input.value).then(function () {
            var found = exact(input.value);
            choose(found >= 0 ? found : 0);
          });
          return;
        }
        if (active >= 0) { choose(active); return; }
        var hit = exact(input.value);
        choose(hit >= 0 ? hit : 0);
      } else if (event.key === 'Escape') {
        if (!list.hidden) { event.preventDefault(); open(false); return; }
        if (input.value) {
          event.preventDefault();
          input.value = '';
          if (!multiple && hidden.value) { hidden.value = ''; changed(null); }
        }
      } else if (event.key === 'Tab') {
        open(false);
      }
    });

    input.addEventListener('blur', function () {
      var text = input.value;
      var finish = function () {
        if (!multiple && !hidden.value && text.trim()) {
          var hit = exact(text);
          if (hit >= 0) { choose(hit); }
        }
        open(false);
      };
      // Typed a name and left at once: look it up before deciding.
      if (!multiple && !hidden.value && text.trim() && text !== lastQuery) {
        clearTimeout(timer);
        search(text).then(function () { finish(); });
      } else {
        finish();
      }
    });
  }

  function attach(root) {
    (root || document).querySelectorAll('[data-picker]').forEach(enhance);
  }

  function build(o) {
    var root = make('div', {'class': 'picker', 'data-picker': '', 'data-source': o.source});
    var t = o.texts || {};
    if (t.none) { root.dataset.textNone = t.none; }
    if (t.count) { root.dataset.textCount = t.count; }
    if (t.remove) { root.dataset.textRemove = t.remove; }
    if (o.multiple) {
      root.setAttribute('data-multiple', '');
      root.dataset.chosen = JSON.stringify(o.chosen || []);
    }
    var id = o.id || ('picker-' + (++counter));
    var label = make('label', {'for': id, 'class': o.labelClass || 'form-label'}, o.label);
    var input = make('input', {id: id, type: 'text',
                               'class': o.inputClass || 'form-control'});
    input.value = o.text || '';
    if (o.text) { input.dataset.chosenLabel = o.text; }
    var hidden = make('input', {type: 'hidden', 'data-picker-value': ''});
    if (o.name) { hidden.name = o.name; }
    hidden.value = o.value === undefined || o.value === null ? '' : o.value;
    root.appendChild(label);
    root.appendChild(input);
    root.appendChild(hidden);
    return root;
  }

  window.Picker = {attach: attach, build: build};
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { attach(document); });
  } else {
    attach(document);
  }
})();
