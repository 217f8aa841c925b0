/*
 * The maintenance KPI page's charts: PM compliance and the planned share per line, MTBF and
 * MTTR per asset, and planned against unplanned work per asset with the open backlog. The figures and tables are rendered by the server.
 */
"use strict";

(() => {
  const data = JSON.parse(document.getElementById("mkpi-chart-data").textContent);
  const CONFIG = PlantOpsCharts.config;
  // Orange is repair and unplanned work on both charts, and unplanned bars are also hatched,
  // so the charts read without telling colours apart.
  const { ink: INK, blue: BLUE, orange: ORANGE, paper: PAPER } = PlantOpsCharts.colors;
  // Asset names and axis titles of any length: the margins grow to fit them, nothing is cut off.
  const axis = { ...PlantOpsCharts.axis, automargin: true };
  const empty = data.assets.length ? [] : [PlantOpsCharts.emptyNote("No assets to show")];
  const base = PlantOpsCharts.layout({
    bargap: 0.25,
    margin: { l: 64, r: 64, t: 40, b: 64 },
    height: 360,
    showlegend: true,
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    xaxis: { ...axis, type: "category" },
    annotations: empty,
  });
  const mostWork = Math.max(0, ...data.assets.map((_, i) => Math.max(data.planned[i] + data.unplanned[i], data.backlog[i])));
  const source = (i) => (data.reliability_from[i] === "work_orders" ? "from work orders" : "from breakdown states");

  Plotly.newPlot(
    document.getElementById("mkpi-lines-chart"),
    [
      {
        type: "bar",
        name: "PM compliance (%)",
        x: data.lines,
        y: data.line_pm_compliance,
        marker: { color: INK },
        hovertemplate: "%{x}: PM compliance %{y:.0f} %<extra></extra>",
      },
      {
        type: "bar",
        name: "Planned work (%)",
        x: data.lines,
        y: data.line_planned,
        marker: { color: BLUE },
        hovertemplate: "%{x}: %{y:.0f} % of work planned<extra></extra>",
      },
    ],
    {
      ...base,
      barmode: "group",
      annotations: data.lines.length ? [] : empty,
      yaxis: { ...axis, range: [0, 100], ticksuffix: " %", dtick: 25 },
    },
    CONFIG,
  );

  // MTBF runs to hundreds of hours and MTTR to a few: each gets its own scale, side by side.
  Plotly.newPlot(
    document.getElementById("mkpi-reliability-chart"),
    [
      {
        type: "bar",
        name: "MTBF (h)",
        x: data.assets,
        y: data.mtbf_h,
        yaxis: "y",
        offsetgroup: "mtbf",
        marker: { color: INK },
        customdata: data.assets.map((_, i) => source(i)),
        hovertemplate: "%{x}: MTBF %{y:.1f} h, %{customdata}<extra></extra>",
      },
      {
        type: "bar",
        name: "MTTR (h)",
        x: data.assets,
        y: data.mttr_h,
        yaxis: "y2",
        offsetgroup: "mttr",
        marker: { color: ORANGE },
        customdata: data.assets.map((_, i) => source(i)),
        hovertemplate: "%{x}: MTTR %{y:.1f} h, %{customdata}<extra></extra>",
      },
    ],
    {
      ...base,
      barmode: "group",
      yaxis: { ...axis, rangemode: "tozero", title: { text: "MTBF (h)" } },
      // Its own round steps, not the left scale's gridlines carried over (0.313, 0.625, …).
      yaxis2: { ...axis, tickmode: "auto", rangemode: "tozero", overlaying: "y", side: "right", showgrid: false, title: { text: "MTTR (h)" } },
    },
    CONFIG,
  );

  Plotly.newPlot(
    document.getElementById("mkpi-planned-chart"),
    [
      {
        type: "bar",
        name: "Planned",
        x: data.assets,
        y: data.planned,
        marker: { color: BLUE },
        hovertemplate: "%{x}: %{y} planned<extra></extra>",
      },
      {
        type: "bar",
        name: "Unplanned",
        x: data.assets,
        y: data.unplanned,
        marker: { color: ORANGE, pattern: { shape: "/", fillmode: "overlay", fgcolor: INK, size: 10, solidity: 0.2 } },
        hovertemplate: "%{x}: %{y} unplanned<extra></extra>",
      },
      {
        type: "scatter",
        mode: "markers",
        name: "Open backlog",
        x: data.assets,
        y: data.backlog,
        marker: { symbol: "diamond", size: 16, color: PAPER, line: { color: INK, width: 3 } },
        hovertemplate: "%{x}: %{y} open<extra></extra>",
      },
    ],
    {
      ...base,
      barmode: "stack",
      // Whole work orders: one tick each while they are few, else Plotly's own steps.
      yaxis: { ...axis, rangemode: "tozero", dtick: mostWork <= 10 ? 1 : null, title: { text: "work orders" } },
    },
    CONFIG,
  );
})();
