// Draws each dashboard chart with the vendored ECharts (never a CDN). The numbers come from a
// <script type="application/json"> next to the chart, the same rows as the table beside it.
(function () {
  "use strict";
  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart-id").replace(/^chart-/, ""));
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var category = { type: "category", data: data.x, axisLabel: { hideOverlap: true } };
    var value = { type: "value" };
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: data.horizontal ? 160 : 50, right: 20, top: 40, bottom: 40 },
      xAxis: data.horizontal ? value : category,
      yAxis: data.horizontal ? Object.assign({}, category, { inverse: true, axisLabel: { width: 150, overflow: "truncate" } }) : value,
      series: data.series.map(function (s) {
        return { name: s.name, type: data.type, data: s.data, smooth: data.type === "line", showSymbol: false };
      })
    });
    element.setAttribute("data-drawn", "1");
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".stats-chart"), draw);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
