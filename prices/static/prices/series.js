/* Price trend chart: the daily price (median over markets), its baseline and the alert
 * line, drawn with uPlot (served by the app) from a JSON script element. */
(function () {
  'use strict';

  var box = document.getElementById('price-chart');
  var source = document.getElementById('price-chart-data');
  if (!box || !source || !window.uPlot) { return; }
  var cfg = JSON.parse(source.textContent);
  function numbers(list) {
    return list.map(function (v) { return v === null ? null : Number(v); });
  }
  // Days as Unix seconds at Beijing midnight.
  var xs = cfg.days.map(function (d) { return Date.parse(d + 'T00:00:00+08:00') / 1000; });
  var data = [xs, numbers(cfg.price), numbers(cfg.baseline), numbers(cfg.limit)];

  function width() { return Math.max(280, box.clientWidth || 600); }
  function height() { return window.innerWidth < 576 ? 240 : 320; }

  var chart = new uPlot({
    width: width(),
    height: height(),
    tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), 'Asia/Shanghai'); },
    scales: {x: {time: true}},
    axes: [{}, {label: cfg.texts.yuan, size: 60}],
    series: [
      {},
      {label: cfg.texts.price, stroke: '#0068b7', width: 2, points: {show: xs.length < 60}},
      {label: cfg.texts.baseline, stroke: '#555', width: 1.5, dash: [6, 4]},
      {label: cfg.texts.limit, stroke: '#c8102e', width: 1.5, dash: [2, 3]}
    ]
  }, data, box);
  box.dataset.ready = '1';

  var resized = null;
  window.addEventListener('resize', function () {
    window.clearTimeout(resized);
    resized = window.setTimeout(function () {
      chart.setSize({width: width(), height: height()});
    }, 150);
  });
}());
