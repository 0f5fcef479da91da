/* Receivables: the aging buckets as an ECharts bar chart (data from the json_script "receivables-chart"). */
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("receivables-chart");
    var el = document.getElementById("chart-aging");
    if (!holder || !el || el.dataset.drawn || typeof echarts === "undefined") return;
    el.dataset.drawn = "1";
    var data = JSON.parse(holder.textContent);
    echarts.init(el).setOption({
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0 } },
      yAxis: { type: "value", name: data.currency },
      series: [{ type: "bar", data: data.values,
                 itemStyle: { color: function (p) { return ["#74b816", "#f59f00", "#f76707", "#e8590c", "#d63939"][p.dataIndex]; } } }]
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
