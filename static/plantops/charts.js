/*
 * What every Plotly chart on the floor screens shares: one palette, the page's font, a
 * touch-safe config, the base layout and the "nothing to show" note, all from the server's
 * plantops/core/charts.py (the page's {% chart_theme %}), `plot` for the charts the pages
 * compose and `draw` for the figures the server composes; both put words in place of a chart
 * with nothing to draw. A plain script loaded before the page's own (no build step);
 * everything hangs off window.PlantOpsCharts.
 */
"use strict";

window.PlantOpsCharts = (() => {
  const theme = JSON.parse(document.getElementById("chart-theme").textContent);
  const { colors, axis } = theme;
  // Month and day names in the page's language (plantops/core/charts.py's plotly_locale);
  // none in English, plotly.js's own.
  if (theme.locale) Plotly.register(theme.locale);
  const config = theme.locale ? { ...theme.config, locale: theme.locale.name } : theme.config;

  // The tablet's own fonts, as in floor.css: Plotly would otherwise fall back to its own.
  const font = { ...theme.font, family: getComputedStyle(document.body).fontFamily };

  // Plotly's decimal and thousands marks in the page's language (<html lang>): "2,5" in German.
  const decimalMark = (1.5).toLocaleString(document.documentElement.lang || "en").charAt(1);
  const separators = decimalMark === "," ? ",." : ".,";

  const layout = (extra) => ({
    separators,
    font: { ...font },
    paper_bgcolor: colors.paper,
    plot_bgcolor: colors.paper,
    ...extra,
  });

  const emptyNote = (text) => ({ ...theme.empty_note, text });

  // A time axis names the clock its times are on (the page's, clock.js).
  const timeTitle = () => ({
    text: interpolateZone(theme.time_title, PlantOpsClock.zone),
    font: { size: 14, color: colors.muted },
    standoff: 4,
  });
  const interpolateZone = (template, zone) => template.replace("%(zone)s", zone);

  // A value a trace draws: a number; not a 0 where the element says so (data-zero-is-empty:
  // counts, where all zeros means nothing happened, unlike a percentage or a reading of 0).
  const drawsSomething = (trace, zeroIsEmpty) =>
    Array.from((trace.orientation === "h" ? trace.x : trace.y) || []).some(
      (value) => typeof value === "number" && Number.isFinite(value) && !(zeroIsEmpty && value === 0),
    );

  // A chart with nothing to draw says so in words instead of an empty axis (Plotly would draw
  // one, dated 2000 to 2001): the element's data-empty, else the figure's own note.
  function showWords(element, chartLayout) {
    const note = (chartLayout.annotations || []).find((a) => a.xref === "paper" && a.x === 0.5 && a.y === 0.5);
    const text = element.dataset.empty || (note && note.text) || gettext("Nothing to show yet.");
    if (element.dataset.chartEmpty === text) return;
    Plotly.purge(element);
    element.replaceChildren(Object.assign(document.createElement("p"), { className: "chart-empty", textContent: text }));
    element.dataset.chartEmpty = text;
    // An image's words are its label only: without the role, the words are read.
    if (element.getAttribute("role") === "img") {
      element.removeAttribute("role");
      element.dataset.chartRole = "img";
    }
  }

  /** Draw `data` in `element`, or say in words that there is nothing to draw yet. */
  function plot(element, data, chartLayout) {
    const zeroIsEmpty = element.dataset.zeroIsEmpty !== undefined;
    if (!data.some((trace) => drawsSomething(trace, zeroIsEmpty))) return showWords(element, chartLayout);
    if (element.dataset.chartEmpty !== undefined) {
      element.replaceChildren();
      delete element.dataset.chartEmpty;
      if (element.dataset.chartRole) element.setAttribute("role", element.dataset.chartRole);
    }
    // react, so a redraw only diffs.
    return Plotly.react(element, data, chartLayout, config);
  }

  // A figure the server composed, drawn in the page's font.
  const draw = (element, figure) =>
    plot(element, figure.data, { separators, ...figure.layout, font: { ...figure.layout.font, family: font.family } });

  return { colors, font, config, axis, layout, emptyNote, timeTitle, plot, draw };
})();
