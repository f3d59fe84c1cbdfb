/* 研判 charts: every card fetches its table (same query string as the page), draws it with
   ECharts, can show it as a table, exports it to Excel, and drills through on click. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("an-config").textContent);
  var query = window.location.search.replace(/^\?/, "");
  var palette = ["#2f6fdf", "#f0ad4e", "#5cb85c", "#d9534f", "#8e6bd1", "#20a8a8", "#999"];

  function withQuery(url) {
    var q = query.split("&").filter(function (p) { return p && p.indexOf("screen=") !== 0; }).join("&");
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + q;
  }
  function drillTo(table, i) {
    var d = table.drill && table.drill[i];
    if (d) { window.location.href = cfg.drill + "?" + d; }
  }
  function renderTable(el, table) {
    var html = "<table class='table table-sm an-data'><thead><tr>";
    table.columns.forEach(function (c) { html += "<th>" + esc(c) + "</th>"; });
    html += "</tr></thead><tbody>";
    table.rows.forEach(function (r, i) {
      html += "<tr data-i='" + i + "'>";
      r.forEach(function (v, j) {
        var text = v === null || v === undefined ? "—" : v;
        html += "<td>" + (j === 0 && table.drill && table.drill[i] ? "<a href='" + cfg.drill + "?" + esc(table.drill[i]) + "'>" + esc(text) + "</a>" : esc(text)) + "</td>";
      });
      html += "</tr>";
    });
    el.innerHTML = html + "</tbody></table>";
  }
  function esc(v) {
    return String(v).replace(/[&<>"']/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]; });
  }
  function renderKpi(el, table) {
    var html = "<div class='an-kpis'>";
    table.rows.forEach(function (r, i) {
      var delta = r[3], cls = delta > 0 ? "up" : (delta < 0 ? "down" : "");
      html += "<a class='an-kpi' href='" + (table.drill[i] ? cfg.drill + "?" + esc(table.drill[i]) : "#") + "'><span class='an-kpi-label'>" + esc(r[0]) +
        "</span><span class='an-kpi-value'>" + (r[1] === null ? "—" : esc(r[1])) + "</span><span class='an-kpi-prev " + cls + "'>上期 " +
        (r[2] === null ? "—" : esc(r[2])) + (delta === null || delta === undefined ? "" : "（" + (delta > 0 ? "+" : "") + esc(delta) + "）") + "</span></a>";
    });
    el.innerHTML = html + "</div>";
  }
  function option(table) {
    var cats = table.rows.map(function (r) { return String(r[0]); });
    var series = table.columns.slice(1).map(function (name, j) {
      return {name: name, type: table.chart === "line" ? "line" : "bar", stack: table.chart === "stack" ? "s" : undefined,
              smooth: true, data: table.rows.map(function (r) { return r[j + 1]; })};
    });
    var horizontal = table.chart !== "line" && cats.length > 8;
    var catAxis = {type: "category", data: cats, axisLabel: {interval: horizontal ? 0 : "auto"}, inverse: horizontal};
    return {color: palette, tooltip: {trigger: "axis"}, legend: {top: 0},
            grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
            xAxis: horizontal ? {type: "value"} : catAxis, yAxis: horizontal ? catAxis : {type: "value"}, series: series};
  }
  function load(card) {
    var url = withQuery(card.getAttribute("data-url"));
    var chartEl = card.querySelector(".an-chart"), tableEl = card.querySelector(".an-table");
    card.querySelector(".an-export").setAttribute("href", url + "&format=xlsx");
    fetch(url, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (table) {
      if (table.error) { card.querySelector(".an-title").textContent = table.error; return; }
      card.querySelector(".an-title").textContent = table.title;
      renderTable(tableEl, table);
      if (table.chart === "kpi") { renderKpi(chartEl, table); return; }
      chartEl.style.height = Math.max(260, table.chart !== "line" && table.rows.length > 8 ? table.rows.length * 24 + 60 : 260) + "px";
      var chart = echarts.init(chartEl);
      chart.setOption(option(table));
      chart.on("click", function (p) { drillTo(table, p.dataIndex); });
      window.addEventListener("resize", function () { chart.resize(); });
      card.chart = chart;
    }).catch(function () { card.querySelector(".an-title").textContent = "数据加载失败，请稍后重试"; });
    card.querySelector(".an-toggle").addEventListener("click", function (e) {
      e.preventDefault();
      var showTable = tableEl.hidden;
      tableEl.hidden = !showTable; chartEl.hidden = showTable;
      this.textContent = showTable ? "图表" : "表格";
      if (!showTable && card.chart) { card.chart.resize(); }
    });
  }
  var range = document.getElementById("an-range");
  function customVisible() {
    Array.prototype.forEach.call(document.querySelectorAll(".an-custom"), function (el) {
      el.style.display = range.value === "custom" ? "" : "none";
    });
  }
  if (range) { range.addEventListener("change", customVisible); customVisible(); }
  Array.prototype.forEach.call(document.querySelectorAll(".an-card"), load);
})();
