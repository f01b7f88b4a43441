/* Record attendance: filter the officials by department and text, tick all shown, count. */
(function () {
  'use strict';
  var list = document.getElementById('a-officials');
  if (!list) { return; }
  var department = document.getElementById('a-department');
  var search = document.getElementById('a-search');
  var count = document.getElementById('a-count');
  var items = Array.prototype.slice.call(list.querySelectorAll('li[data-text]'));

  function boxes(onlyShown) {
    return items.filter(function (li) { return !onlyShown || !li.hidden; })
      .map(function (li) { return li.querySelector('input[type=checkbox]'); });
  }
  function recount() {
    count.textContent = String(boxes(false).filter(function (b) { return b.checked; }).length);
  }
  function apply() {
    var dep = department.value, text = search.value.trim().toLowerCase();
    items.forEach(function (li) {
      var ok = (!dep || li.dataset.department === dep) &&
        (!text || li.dataset.text.toLowerCase().indexOf(text) !== -1);
      li.hidden = !ok;
    });
  }
  department.addEventListener('change', apply);
  search.addEventListener('input', apply);
  list.addEventListener('change', recount);
  document.getElementById('a-tick-shown').addEventListener('click', function () {
    boxes(true).forEach(function (b) { b.checked = true; });
    recount();
  });
  document.getElementById('a-clear').addEventListener('click', function () {
    boxes(false).forEach(function (b) { b.checked = false; });
    recount();
  });
  apply();
  recount();
}());
