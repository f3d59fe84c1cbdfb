/* Small trend / distribution charts (workbench, third-party analysis, H5 personal centre): each
   .mdtj-minichart reads its table ({chart, columns, rows}) from a JSON script block and draws it
   with the local ECharts — the same table shape and palette as the 研判 views. */
(function () {
  "use strict";
  var palette = ["#2f6fdf", "#f0ad4e", "#5cb85c", "#d9534f", "#8e6bd1", "#20a8a8", "#999"];

  function option(t) {
    if (t.chart === "pie") {
      return {color: palette, tooltip: {trigger: "item", formatter: "{b}：{c}（{d}%）"},
              legend: {type: "scroll", bottom: 0, textStyle: {fontSize: 11}},
              series: [{type: "pie", radius: ["35%", "65%"], center: ["50%", "42%"], label: {show: false},
                        data: t.rows.map(function (r) { return {name: String(r[0]), value: r[1]}; })}]};
    }
    var series = t.columns.slice(1).map(function (name, j) {
      return {name: name, type: t.chart === "bar" ? "bar" : "line", smooth: true, symbolSize: 4,
              areaStyle: t.chart === "bar" || j ? undefined : {opacity: 0.12},
              data: t.rows.map(function (r) { return r[j + 1]; })};
    });
    return {color: palette, tooltip: {trigger: "axis"}, legend: {top: 0, textStyle: {fontSize: 11}},
            grid: {left: 4, right: 12, top: 28, bottom: 4, containLabel: true},
            xAxis: {type: "category", data: t.rows.map(function (r) { return String(r[0]); })},
            yAxis: {type: "value", minInterval: 1}, series: series};
  }

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-source"));
    if (!source || !window.echarts) { return; }
    var chart = window.echarts.init(el);
    chart.setOption(option(JSON.parse(source.textContent)));
    el.setAttribute("data-drawn", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function init() { document.querySelectorAll(".mdtj-minichart").forEach(draw); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
