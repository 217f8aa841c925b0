/*
 * Printing (print.css lays the pages out on paper): the Print buttons, and the charts drawn
 * anew at the paper's width while a page prints, then given back to the screen.
 *
 * Why charts need it: Plotly sizes a chart to its box when it draws and when the window is
 * resized. Printing lays the page out again at the paper's width without resizing the window,
 * so a chart would keep the screen's width and be cut at the page's edge. A plain script,
 * loaded on every page.
 */
"use strict";

(() => {
  // A4 less print.css's 10 mm margins is 190 mm, 718 CSS px; less a card's border and padding.
  const PAPER_WIDTH = 680;
  // Each chart's own width and height while it is on paper, to give back afterwards.
  const onPaper = new Map();

  function paperWidth(chart) {
    // While the print styles apply (matchMedia below) the chart's box has its paper width;
    // at "beforeprint" it still has the screen's, so the paper's own is the bound.
    const box = chart.parentElement.getBoundingClientRect().width;
    return window.matchMedia("print").matches && box > 0 ? Math.min(PAPER_WIDTH, Math.floor(box)) : PAPER_WIDTH;
  }

  function toPaper() {
    for (const image of document.querySelectorAll('img[loading="lazy"]')) image.loading = "eager";
    if (!window.Plotly) return;
    for (const chart of document.querySelectorAll(".js-plotly-plot")) {
      if (!chart._fullLayout) continue; // not drawn (yet)
      if (!onPaper.has(chart)) onPaper.set(chart, { width: chart.layout.width, height: chart.layout.height });
      const width = paperWidth(chart);
      const height = Number(chart.dataset.printHeight) || chart._fullLayout.height;
      if (chart._fullLayout.width !== width || chart._fullLayout.height !== height) {
        Plotly.relayout(chart, { width, height });
      }
    }
  }

  function toScreen() {
    for (const [chart, size] of onPaper) {
      // null takes a size back out of the layout: the chart fits its box again.
      Plotly.relayout(chart, { width: size.width ?? null, height: size.height ?? null });
      if (size.width === undefined) Plotly.Plots.resize(chart);
    }
    onPaper.clear();
  }

  window.addEventListener("beforeprint", toPaper);
  window.addEventListener("afterprint", toScreen);
  // Also when print styles apply without a print, as in a browser's print emulation.
  window.matchMedia("print").addEventListener("change", (event) => (event.matches ? toPaper() : toScreen()));

  // Lazy photos further down the page are loaded first, so the paper shows them.
  function imagesLoaded() {
    const pending = [...document.images].filter((image) => {
      if (image.loading === "lazy") image.loading = "eager";
      return !image.complete;
    });
    const loaded = pending.map((image) => new Promise((done) => {
      image.addEventListener("load", done, { once: true });
      image.addEventListener("error", done, { once: true });
    }));
    const enough = new Promise((done) => setTimeout(done, 5000));
    return Promise.race([Promise.all(loaded), enough]);
  }

  document.addEventListener("click", (event) => {
    if (!event.target.closest('[data-action="print"]')) return;
    imagesLoaded().then(() => window.print());
  });
})();
