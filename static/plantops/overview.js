/*
 * The floor view: server-rendered tiles, kept current over /ws/floor/.
 * A snapshot arrives on every (re)connect and overwrites every tile, so nothing missed while
 * offline survives; updates carry only the tiles that changed.
 */
"use strict";

(() => {
  // Worst first: the order a supervisor reads the summary in.
  const SUMMARY = [
    ["down", PlantOps.statusLabel("down")],
    ["out_of_range", PlantOps.statusLabel("out_of_range")],
    ["no_data", PlantOps.statusLabel("no_data")],
    ["stopped", PlantOps.statusLabel("stopped")],
    ["running", PlantOps.statusLabel("running")],
  ];
  // The server pushes every tile every 10 s; three missed pushes means the socket is dead.
  const SILENCE_MS = 35000;

  const tiles = new Map();
  document.querySelectorAll(".tile[data-asset-id]").forEach((element) => {
    tiles.set(Number(element.dataset.assetId), element);
  });
  const summary = document.getElementById("floor-summary");

  function applyTile(tile) {
    const element = tile && tiles.get(tile.id);
    if (!element) return; // An asset added since the page loaded shows after a reload.
    element.dataset.status = tile.status;
    PlantOps.renderStatus(element.querySelector('[data-role="status"]'), tile);
    PlantOps.renderState(element, tile);
    for (const signal of tile.signals) {
      const value = element.querySelector(`[data-signal="${CSS.escape(signal.slug)}"]`);
      if (value) PlantOps.renderReading(value, signal);
    }
  }

  function renderSummary() {
    const counts = {};
    for (const element of tiles.values()) {
      counts[element.dataset.status] = (counts[element.dataset.status] || 0) + 1;
    }
    summary.replaceChildren(
      ...SUMMARY.map(([status, label]) => {
        const item = document.createElement("li");
        item.className = `summary-item status-${status}`;
        item.dataset.status = status;
        item.dataset.count = counts[status] || 0;
        const count = document.createElement("b");
        count.textContent = counts[status] || 0;
        item.append(count, ` ${label}`);
        return item;
      }),
    );
    summary.hidden = false;
  }

  PlantOps.live("/ws/floor/", {
    silenceMs: SILENCE_MS,
    onMessage(message) {
      if (message.type !== "floor.snapshot" && message.type !== "floor.update") return;
      message.tiles.forEach(applyTile);
      renderSummary();
    },
  });

  renderSummary();
  PlantOps.tickDurations();
  setInterval(PlantOps.tickDurations, 30000);
})();
