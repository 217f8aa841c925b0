/*
 * The alarm KPI page's rate chart: alarms per 10 minutes for each operator position, with the
 * flood threshold drawn across. The figures and tables are rendered by the server.
 */
"use strict";

(() => {
  const element = document.getElementById("kpi-rate-chart");
  const data = JSON.parse(document.getElementById("kpi-chart-data").textContent);
  const { colors, axis } = PlantOpsCharts;
  // One colour per operator position; the palette first, then a purple and a grey that stay
  // apart from it for the common colour-vision deficiencies.
  const SERIES = [colors.ink, colors.blue, colors.orange, colors.green, colors.red, "#7a3db8", "#5b6168"];

  // Plotly has no time zones: hand it the tablet's local wall-clock time.
  const local = (iso) => {
    const date = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
  };

  const x = data.x.map(local);
  const positions = Object.keys(data.series);
  const traces = positions.map((position, i) => ({
    type: "bar",
    name: position,
    x,
    y: data.series[position],
    marker: { color: SERIES[i % SERIES.length] },
    hovertemplate: `${position}: %{y} alarms<br>%{x}<extra></extra>`,
  }));
  const end = x.length ? x[x.length - 1] : null;
  const layout = PlantOpsCharts.layout({
    barmode: "group",
    bargap: 0.1,
    margin: { l: 56, r: 12, t: positions.length > 1 ? 40 : 8, b: 48 },
    height: positions.length > 1 ? 360 : 320,
    showlegend: positions.length > 1,
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    xaxis: { ...axis, type: "date", nticks: 8 },
    yaxis: { ...axis, rangemode: "tozero", title: { text: "alarms / 10 min" } },
    shapes: x.length
      ? [{
          type: "line", xref: "x", yref: "y", x0: x[0], x1: end, y0: data.flood_threshold, y1: data.flood_threshold,
          line: { color: colors.red, width: 2, dash: "dash" },
        }]
      : [],
    annotations: positions.length ? [] : [PlantOpsCharts.emptyNote("No alarms in this period")],
  });
  Plotly.newPlot(element, traces, layout, PlantOpsCharts.config);
})();
