/*
 * Download buttons (templates/exports/_links.html). A button for "the last so many hours"
 * (`data-export-span-s`) gets its from/to when pressed, so a screen left open all shift still
 * downloads up to now. On the asset page the buttons follow the chart's range buttons: the
 * span, the aggregation and the label of each range come from #export-ranges.
 */
"use strict";

(() => {
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-export-span-s]");
    if (!link) return;
    const url = new URL(link.href, location.href);
    const end = new Date();
    url.searchParams.set("from", new Date(end.getTime() - Number(link.dataset.exportSpanS) * 1000).toISOString());
    url.searchParams.set("to", end.toISOString());
    link.href = url.toString();
  });

  const rangesData = document.getElementById("export-ranges");
  if (!rangesData) return;
  const ranges = JSON.parse(rangesData.textContent);
  const box = rangesData.closest("[data-export-links]");
  const follow = (key) => {
    const range = ranges[key];
    if (!range) return;
    box.querySelector('[data-role="export-label"]').textContent = range.label;
    for (const link of box.querySelectorAll("a[data-export-span-s]")) {
      link.dataset.exportSpanS = range.span_s;
      const url = new URL(link.href, location.href);
      url.searchParams.set("aggregation", range.aggregation);
      link.href = url.toString();
    }
  };
  for (const button of document.querySelectorAll(".chart-ranges [data-range]")) {
    button.addEventListener("click", () => follow(button.dataset.range));
  }
  follow(new URLSearchParams(location.search).get("range") || "live");
})();
