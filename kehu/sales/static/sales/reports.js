/* Sales reports: funnel, conversion, loss reasons and forecast charts (ECharts, no CDN). Each chart
   has its table on the page; the data comes from the json_script "sales-charts". */
(function () {
  "use strict";
  function init(el, option) {
    if (!el || el.dataset.drawn) return;
    el.dataset.drawn = "1";
    echarts.init(el).setOption(option);
  }
  function draw() {
    var holder = document.getElementById("sales-charts");
    if (!holder || typeof echarts === "undefined") return;
    var data = JSON.parse(holder.textContent);
    if (data.funnel) {
      init(document.getElementById("chart-funnel"), {
        tooltip: { trigger: "item", formatter: "{b}: {c}" },
        series: [{ type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "8%",
                   label: { show: true, position: "inside", formatter: "{b} {c}" }, data: data.funnel }]
      });
    }
    if (data.conversion) {
      init(document.getElementById("chart-conversion"), {
        grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + " %"; } },
        xAxis: { type: "category", data: data.conversion.stages, axisLabel: { interval: 0 } },
        yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value} %" } },
        series: [{ name: data.conversion.label, type: "bar", data: data.conversion.rates, itemStyle: { color: "#206bc4" },
                   label: { show: true, position: "top", formatter: function (p) { return p.value === null ? "" : p.value + " %"; } } }]
      });
    }
    if (data.reasons) {
      init(document.getElementById("chart-reasons"), {
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["40%", "70%"], data: data.reasons }]
      });
    }
    if (data.labels) {
      init(document.getElementById("chart-forecast"), {
        grid: { left: 8, right: 32, top: 8, bottom: 24, containLabel: true },
        tooltip: { trigger: "axis" },
        xAxis: { type: "value" },
        yAxis: { type: "category", inverse: true, data: data.labels },
        series: [{ type: "bar", data: data.values, itemStyle: { color: "#2fb344" } }]
      });
    }
  }
  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });
})();
