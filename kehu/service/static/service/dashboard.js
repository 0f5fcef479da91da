/* The service dashboard's charts, from the json_script "service-dashboard-data" (the same numbers
   as the tables beside them). Drawn without animation (screenshots right after loading). */
(function () {
  "use strict";
  var COLORS = ["#206bc4", "#4299e1", "#2fb344", "#f59f00", "#d63939", "#ae3ec9", "#17a2b8", "#667382"];
  var PRIORITY = { 1: "#667382", 2: "#206bc4", 3: "#f59f00", 4: "#d63939" };

  function init(id) {
    var el = document.getElementById(id);
    if (!el || el.dataset.drawn) return null;
    el.dataset.drawn = "1";
    var chart = echarts.init(el);
    window.addEventListener("resize", function () { chart.resize(); });
    return chart;
  }

  function bars(id, rows, name, colorOf, horizontal) {
    var chart = init(id);
    if (!chart || !rows.length) return;
    var cats = rows.map(function (r) { return r.label; });
    var data = rows.map(function (r, i) {
      return { value: r.count, itemStyle: { color: colorOf ? colorOf(r, i) : COLORS[0] } };
    });
    var category = { type: "category", data: cats, axisLabel: { interval: 0, hideOverlap: true } };
    var value = { type: "value", minInterval: 1 };
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? Object.assign({ inverse: true }, category) : value,
      series: [{ name: name, type: "bar", data: data, barMaxWidth: 32,
                 label: { show: true, position: horizontal ? "right" : "top" } }]
    });
  }

  function draw() {
    var holder = document.getElementById("service-dashboard-data");
    if (!holder || typeof echarts === "undefined") return;
    var d = JSON.parse(holder.textContent);
    var L = d.labels;
    bars("chart-open-status", d.open.by_status, L.tickets, function (r, i) { return COLORS[i % COLORS.length]; });
    bars("chart-open-priority", d.open.by_priority, L.tickets, function (r) { return PRIORITY[r.key] || COLORS[0]; });
    bars("chart-open-queue", d.open.by_queue, L.tickets, null, true);
    bars("chart-backlog", d.backlog_age, L.tickets, function (r, i) {
      return ["#2fb344", "#74b816", "#f59f00", "#f76707", "#d63939"][i] || COLORS[0];
    });
    var sla = init("chart-sla");
    if (sla && d.sla.with_targets) {
      sla.setOption({
        animation: false,
        tooltip: { trigger: "item" },
        legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["45%", "70%"], center: ["50%", "45%"], label: { formatter: "{b}: {c}" },
          data: [
            { name: L.met, value: d.sla.met, itemStyle: { color: "#2fb344" } },
            { name: L.breached, value: d.sla.breached, itemStyle: { color: "#d63939" } },
            { name: L.running, value: d.sla.running, itemStyle: { color: "#adb5bd" } }
          ] }]
      });
    }
    bars("chart-csat-dist", d.csat.distribution.map(function (r) {
      return { label: r.score + "★", count: r.count };
    }), L.answers, function (r, i) { return ["#d63939", "#f76707", "#f59f00", "#74b816", "#2fb344"][i]; });
    var csat = init("chart-csat-trend");
    if (csat && d.csat.trend.length) {
      csat.setOption({
        animation: false,
        grid: { left: 8, right: 8, top: 52, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis" },
        legend: { data: [L.average, L.answers], top: 0 },
        xAxis: { type: "category", data: d.csat.trend.map(function (r) { return r.month; }) },
        yAxis: [{ type: "value", min: 1, max: 5 },
                { type: "value", minInterval: 1, splitLine: { show: false } }],
        series: [
          { name: L.answers, type: "bar", yAxisIndex: 1, barMaxWidth: 28, itemStyle: { color: "#dbe7f6" },
            data: d.csat.trend.map(function (r) { return r.count; }) },
          { name: L.average, type: "line", symbolSize: 8, itemStyle: { color: "#f59f00" }, label: { show: true, position: "top" },
            data: d.csat.trend.map(function (r) { return r.average; }) }
        ]
      });
    }
    var nps = init("chart-nps-trend");
    if (nps && d.nps && d.nps.trend.length) {
      nps.setOption({
        animation: false,
        grid: { left: 8, right: 8, top: 52, bottom: 8, containLabel: true },
        tooltip: { trigger: "axis" },
        legend: { data: [L.nps, L.answers], top: 0 },
        xAxis: { type: "category", data: d.nps.trend.map(function (r) { return r.month; }) },
        yAxis: [{ type: "value", min: -100, max: 100 },
                { type: "value", minInterval: 1, splitLine: { show: false } }],
        series: [
          { name: L.answers, type: "bar", yAxisIndex: 1, barMaxWidth: 28, itemStyle: { color: "#dbe7f6" },
            data: d.nps.trend.map(function (r) { return r.count; }) },
          { name: L.nps, type: "line", symbolSize: 8, itemStyle: { color: "#206bc4" }, label: { show: true, position: "top" },
            data: d.nps.trend.map(function (r) { return r.score; }) }
        ]
      });
    }
  }
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", draw);
})();
