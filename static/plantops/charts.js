/*
 * What every Plotly chart on the floor screens shares: one palette, the page's font, a
 * touch-safe config, the base layout and the "nothing to show" note. A plain script loaded
 * before the page's own (no build step); everything hangs off window.PlantOpsCharts.
 */
"use strict";

window.PlantOpsCharts = (() => {
  // floor.css's colours, so a chart's blue, green and red are the status tiles' blue, green and
  // red: high contrast on white, and apart for the common colour-vision deficiencies.
  const colors = {
    ink: "#0b0d10",
    muted: "#454b54",
    grid: "#d3d7dc",
    paper: "#ffffff",
    blue: "#1b4fd1",
    green: "#0b7a35",
    red: "#d0021b",
    orange: "#ff7a00",
    // A range drawn under its own blue line: the blue, see-through.
    band: "rgba(27, 79, 209, 0.28)",
  };

  // The tablet's own fonts, as in floor.css: Plotly would otherwise fall back to its own.
  const font = { family: getComputedStyle(document.body).fontFamily, size: 15, color: colors.ink };

  // Nothing a gloved finger can set off by accident: no toolbar, wheel zoom, double-tap reset or tips.
  const config = { displayModeBar: false, responsive: true, scrollZoom: false, doubleClick: false, showTips: false };

  // Axes that stay put and read from arm's length.
  const axis = { fixedrange: true, gridcolor: colors.grid, linecolor: colors.ink, ticks: "outside", tickcolor: colors.ink };

  const layout = (extra) => ({
    font: { ...font },
    paper_bgcolor: colors.paper,
    plot_bgcolor: colors.paper,
    ...extra,
  });

  // Centred where the bars or lines would be, so an empty chart says why it is empty.
  const emptyNote = (text) => ({
    text, showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { size: 18, color: colors.muted },
  });

  return { colors, font, config, axis, layout, emptyNote };
})();
