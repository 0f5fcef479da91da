/* Data quality page: completeness distribution bars and trend lines (ECharts, no CDN). */
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("quality-charts");
    if (!holder || typeof echarts === "undefined") return;
    var data = JSON.parse(holder.textContent);
    var labels = data.labels;
    data.models.forEach(function (m) {
      var dist = document.getElementById("dist-" + m.key);
      if (dist && !dist.dataset.drawn) {
        dist.dataset.drawn = "1";
        echarts.init(dist).setOption({
          grid: { left: 36, right: 8, top: 8, bottom: 24 },
          tooltip: { trigger: "axis" },
          xAxis: { type: "category", axisLabel: { interval: 0, fontSize: 10 },
                   data: m.distribution.map(function (b) { return b.label; }) },
          yAxis: { type: "value", minInterval: 1 },
          series: [{ name: labels.records, type: "bar", data: m.distribution.map(function (b) { return b.count; }),
                     itemStyle: { color: "#206bc4" } }],
        });
      }
      var trend = document.getElementById("trend-" + m.key);
      if (trend && !trend.dataset.drawn && m.trend.length) {
        trend.dataset.drawn = "1";
        var dates = m.trend.map(function (t) { return t.date; });
        echarts.init(trend).setOption({
          grid: { left: 36, right: 36, top: 52, bottom: 24 },
          tooltip: { trigger: "axis" },
          legend: { top: 0, textStyle: { fontSize: 10 }, itemWidth: 12 },
          xAxis: { type: "category", data: dates },
          yAxis: [{ type: "value", max: 100 }, { type: "value", minInterval: 1 }],
          series: [
            { name: labels.average, type: "line", data: m.trend.map(function (t) { return t.average; }), smooth: true },
            { name: labels.no_owner, type: "line", yAxisIndex: 1, data: m.trend.map(function (t) { return t.no_owner; }) },
            { name: labels.idle, type: "line", yAxisIndex: 1, data: m.trend.map(function (t) { return t.idle; }) },
            { name: labels.invalid, type: "line", yAxisIndex: 1, data: m.trend.map(function (t) { return t.invalid; }) },
          ],
        });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
})();
