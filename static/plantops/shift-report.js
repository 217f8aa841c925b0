/*
 * A shift's report (/lines/<id>/oee/report/): draws the OEE of each hour, a figure the server
 * composed (plantops/oee/shift_report.py). The rest of the report is rendered by the server;
 * print.js fits the chart to the paper.
 */
"use strict";

(() => {
  const element = document.getElementById("report-hourly");
  if (!element || !window.Plotly) return;
  PlantOpsCharts.draw(element, JSON.parse(document.getElementById("report-hourly-figure").textContent));
})();
