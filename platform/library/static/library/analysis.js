(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("library-charts").textContent);
  document.querySelectorAll(".library-chart").forEach(function (el) {
    var d = data[el.dataset.key];
    if (!d || !d.names.length || !window.echarts) { el.style.display = "none"; return; }
    var chart = window.echarts.init(el);
    var line = el.dataset.key === "month";
    chart.setOption({
      tooltip: {trigger: line ? "axis" : "item"},
      xAxis: {type: "category", data: d.names, axisLabel: {interval: 0, rotate: d.names.length > 6 ? 30 : 0}},
      yAxis: {type: "value", minInterval: 1},
      series: [{type: line ? "line" : "bar", data: d.values, name: d.title}]
    });
  });
})();
