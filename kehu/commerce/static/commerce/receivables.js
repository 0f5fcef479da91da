/* Receivables: the aging buckets as an ECharts bar chart (data from the json_script "receivables-chart").
   Drawn without the grow-in animation, so the bars stand at their height at once (a screenshot or
   a print taken right after loading showed them flat, mid-animation). Every bucket's bar carries
   its amount as a label, and a bucket with money in it is never drawn flat (a minimum bar height),
   however small it is next to the largest one. */
(function () {
  "use strict";
  var COLORS = ["#74b816", "#f59f00", "#f76707", "#e8590c", "#d63939"];
  function amount(value) {
    return Number(value || 0).toLocaleString(document.documentElement.lang || undefined,
      { minimumFractionDigits: 0, maximumFractionDigits: 0 });
  }
  function draw() {
    var holder = document.getElementById("receivables-chart");
    var el = document.getElementById("chart-aging");
    if (!holder || !el || el.dataset.drawn || typeof echarts === "undefined") return;
    el.dataset.drawn = "1";
    var data = JSON.parse(holder.textContent);
    var chart = echarts.init(el);
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 32, bottom: 8, containLabel: true },
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        valueFormatter: function (v) { return data.currency + " " + amount(v); }
      },
      xAxis: {
        type: "category",
        data: data.labels,
        axisTick: { alignWithLabel: true },
        axisLabel: { interval: 0, width: 64, overflow: "break", lineHeight: 14 }
      },
      yAxis: { type: "value", name: data.currency, axisLabel: { formatter: amount } },
      series: [{
        type: "bar",
        barMaxWidth: 56,
        barMinHeight: 3,
        data: data.values.map(function (v, i) {
          // an empty bucket: its label "0" without the minimum-height sliver
          return { value: v, itemStyle: { color: v ? COLORS[i % COLORS.length] : "transparent" } };
        }),
        label: { show: true, position: "top", fontSize: 11, formatter: function (p) { return amount(p.value); } }
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
