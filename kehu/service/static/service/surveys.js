/* A survey's trend: the CSAT average or the NPS per month (line) over the number of answers (bars),
   from the json_script "survey-chart". Drawn without animation (screenshots right after loading). */
(function () {
  "use strict";
  function draw() {
    var holder = document.getElementById("survey-chart");
    var el = document.getElementById("survey-trend");
    if (!holder || !el || el.dataset.drawn || typeof echarts === "undefined") return;
    el.dataset.drawn = "1";
    var data = JSON.parse(holder.textContent);
    var nps = data.kind === "nps";
    var chart = echarts.init(el);
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { data: [data.value_label, data.count_label], top: 0 },
      xAxis: { type: "category", data: data.months },
      yAxis: [
        { type: "value", name: data.value_label, min: nps ? -100 : 1, max: nps ? 100 : 5 },
        { type: "value", name: data.count_label, minInterval: 1, splitLine: { show: false } }
      ],
      series: [
        { name: data.count_label, type: "bar", yAxisIndex: 1, data: data.counts, barMaxWidth: 28,
          itemStyle: { color: "#dbe7f6" } },
        { name: data.value_label, type: "line", data: data.values, symbolSize: 8,
          itemStyle: { color: nps ? "#206bc4" : "#f59f00" }, label: { show: true, position: "top" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
