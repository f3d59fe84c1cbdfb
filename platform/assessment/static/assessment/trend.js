// 考核分析: total-score lines per unit (ECharts, served locally from node_modules).
(function () {
  var el = document.getElementById("assessment-trend");
  var data = document.getElementById("assessment-trend-data");
  if (!el || !data || !window.echarts) { return; }
  var chart = JSON.parse(data.textContent);
  var c = window.echarts.init(el);
  c.setOption({
    tooltip: {trigger: "axis"},
    legend: {type: "scroll", top: 0},
    grid: {top: 40, left: 40, right: 20, bottom: 30},
    xAxis: {type: "category", data: chart.periods},
    yAxis: {type: "value", name: "总分"},
    series: chart.series.map(function (s) { return {name: s.name, type: "line", data: s.data, connectNulls: true}; })
  });
  window.addEventListener("resize", function () { c.resize(); });
})();
