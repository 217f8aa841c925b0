/*
 * The maintenance KPI page's charts: PM compliance and the planned share per line, MTBF and
 * MTTR per asset, and planned against unplanned work per asset with the open backlog. The
 * server renders the tables and composes the charts (plantops/maintenance/charts.py).
 */
"use strict";

(() => {
  const figures = JSON.parse(document.getElementById("mkpi-chart-data").textContent);
  for (const [id, figure] of Object.entries(figures)) {
    const element = document.getElementById(id);
    if (element) PlantOpsCharts.draw(element, figure);
  }
})();
