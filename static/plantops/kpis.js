/*
 * The alarm KPI page's rate chart: alarms per 10 minutes for each operator position, with the
 * flood threshold drawn across. The figures and tables are rendered by the server.
 */
"use strict";

(() => {
  const element = document.getElementById("kpi-rate-chart");
  const data = JSON.parse(document.getElementById("kpi-chart-data").textContent);
  const FONT = getComputedStyle(document.body).fontFamily;
  const CONFIG = { displayModeBar: false, responsive: true, scrollZoom: false, doubleClick: false, showTips: false };
  // High-contrast colours that stay apart for the common colour-vision deficiencies.
  const PALETTE = ["#0b0d10", "#1b4fd1", "#ff7a00", "#0b7a35", "#d0021b", "#7a3db8", "#5b6168"];

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
    marker: { color: PALETTE[i % PALETTE.length] },
    hovertemplate: `${position}: %{y} alarms<br>%{x}<extra></extra>`,
  }));
  const end = x.length ? x[x.length - 1] : null;
  const axis = { fixedrange: true, gridcolor: "#d5d9de", linecolor: "#0b0d10", ticks: "outside", tickcolor: "#0b0d10" };
  const layout = {
    barmode: "group",
    bargap: 0.1,
    margin: { l: 56, r: 12, t: positions.length > 1 ? 40 : 8, b: 48 },
    height: positions.length > 1 ? 360 : 320,
    font: { family: FONT, size: 15, color: "#0b0d10" },
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    showlegend: positions.length > 1,
    legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    xaxis: { ...axis, type: "date", nticks: 8 },
    yaxis: { ...axis, rangemode: "tozero", title: { text: "alarms / 10 min" } },
    shapes: x.length
      ? [{
          type: "line", xref: "x", yref: "y", x0: x[0], x1: end, y0: data.flood_threshold, y1: data.flood_threshold,
          line: { color: "#d0021b", width: 2, dash: "dash" },
        }]
      : [],
    annotations: positions.length
      ? []
      : [{ text: "No alarms in this period", showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { size: 18, color: "#454b54" } }],
  };
  Plotly.newPlot(element, traces, layout, CONFIG);
})();
