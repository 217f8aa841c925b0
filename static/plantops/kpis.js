/*
 * The alarm KPI page's rate chart: alarms per 10 minutes for each operator position, with the
 * flood threshold drawn across. The server renders the tables and composes the chart
 * (plantops/alerts/charts.py).
 */
"use strict";

(() => {
  const figure = JSON.parse(document.getElementById("kpi-chart-data").textContent);
  PlantOpsCharts.draw(document.getElementById("kpi-rate-chart"), figure);
})();
