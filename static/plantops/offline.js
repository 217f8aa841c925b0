/*
 * The offline banner (#offline-banner, in base.html). The live feeds (live.js) and the
 * work-order forms (work.js) both tell the operator that the network is gone, in their own
 * words; this is the one place that shows and hides the banner and marks the page offline
 * (body.is-offline), so the two cannot drift apart. A plain script, loaded on every page.
 */
"use strict";

window.PlantOps = window.PlantOps || {};

(() => {
  const banner = document.getElementById("offline-banner");
  const title = banner.querySelector("strong");
  const detail = banner.querySelector(".offline-detail");
  const retryButton = banner.querySelector('[data-action="reconnect"]');
  // What "Retry now" means depends on who showed the banner: reconnect the feeds, or reload.
  let retry = null;

  retryButton.addEventListener("click", () => retry?.());

  PlantOps.offlineBanner = {
    /** Show the banner; without `onRetry` there is nothing to retry, so no button. */
    show(titleText, detailText, onRetry = null) {
      title.textContent = titleText;
      detail.textContent = detailText;
      retry = onRetry;
      retryButton.hidden = !onRetry;
      banner.hidden = false;
      document.body.classList.add("is-offline");
    },
    /** Change only the detail line, e.g. a countdown to the next try. */
    setDetail(text) {
      detail.textContent = text;
    },
    hide() {
      banner.hidden = true;
      document.body.classList.remove("is-offline");
    },
  };
})();
