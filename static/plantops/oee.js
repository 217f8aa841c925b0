/*
 * OEE screens: a line's current shift (/lines/<id>/oee/) and the floor's board (/oee/).
 * Both are rendered by the server and kept current over a WebSocket that sends the whole
 * screen on every (re)connect and then at most one update every few seconds, so a tablet back
 * from a Wi-Fi drop shows the right figures at once, with nothing to merge.
 */
"use strict";

(() => {
  const percent = (ratio) => (ratio === null || ratio === undefined ? "—" : `${Math.round(ratio * 100)}%`);
  // The usual reading of OEE on a shop floor: 85% is world class, under 60% needs attention.
  const band = (ratio) => (ratio === null || ratio === undefined ? "none" : ratio >= 0.85 ? "good" : ratio >= 0.6 ? "fair" : "poor");

  function setText(root, role, text) {
    const element = root.querySelector(`[data-role="${role}"]`);
    if (element) element.textContent = text;
  }

  function minutes(seconds) {
    if (seconds < 90) return `${seconds} s`;
    if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
    return `${(seconds / 3600).toFixed(1)} h`;
  }

  function localTime(iso) {
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  // --- the line page -----------------------------------------------------------------------
  const head = document.querySelector(".oee-head");
  if (head) {
    const lineId = Number(head.dataset.lineId);
    const stopsBox = document.querySelector('[data-role="stops"]');
    const reasonForm = document.getElementById("reason-form");
    let screen = JSON.parse(document.getElementById("oee-initial").textContent);
    // Only the line page has charts: the board loads no Plotly and no charts.js.
    const { colors: COLORS, config: CONFIG } = PlantOpsCharts;
    // The bands' colours as on the tiles, but a darker amber: the tiles' is too light for a bar on white.
    const BAND_COLORS = { good: COLORS.green, fair: "#b7791f", poor: COLORS.red };

    const layout = (extra) =>
      PlantOpsCharts.layout({
        margin: { l: 56, r: 16, t: 8, b: 48 },
        font: { ...PlantOpsCharts.font, size: 16 },
        ...extra,
      });

    function drawTrend() {
      const element = document.getElementById("oee-trend");
      if (!window.Plotly || !element) return;
      const hours = screen.hourly || [];
      // OEE above 100 % means an ideal cycle time set too slow: show it, not clip it.
      const top = Math.max(100, ...hours.map((h) => (h.oee === null ? 0 : Math.round(h.oee * 100))));
      Plotly.react(
        element,
        [
          {
            type: "bar",
            x: hours.map((h) => localTime(h.hour)),
            y: hours.map((h) => (h.oee === null ? 0 : Math.round(h.oee * 100))),
            marker: { color: hours.map((h) => BAND_COLORS[band(h.oee)] || COLORS.grid) },
            hovertemplate: "%{x}: %{y}%<extra></extra>",
          },
        ],
        layout({ yaxis: { range: [0, top], ticksuffix: "%", gridcolor: COLORS.grid }, xaxis: { type: "category" } }),
        CONFIG,
      );
    }

    function drawPareto() {
      const element = document.getElementById("oee-pareto");
      const bars = (screen.pareto || []).slice().reverse(); // largest at the top
      if (window.Plotly && element) {
        Plotly.react(
          element,
          [
            {
              type: "bar",
              orientation: "h",
              y: bars.map((b) => b.label),
              x: bars.map((b) => Math.round(b.seconds / 6) / 10),
              marker: { color: COLORS.blue },
              hovertemplate: "%{y}: %{x} min<extra></extra>",
            },
          ],
          layout({ margin: { l: 200, r: 16, t: 8, b: 48 }, xaxis: { ticksuffix: " min", gridcolor: COLORS.grid, rangemode: "tozero" } }),
          CONFIG,
        );
      }
      const list = document.querySelector('[data-role="pareto"]');
      list.replaceChildren(
        ...(screen.pareto.length
          ? screen.pareto.map((bar) => {
              const item = document.createElement("li");
              item.dataset.code = bar.code;
              const label = document.createElement("span");
              label.textContent = bar.label;
              const value = document.createElement("strong");
              value.textContent = minutes(bar.seconds);
              item.append(label, " ", value);
              return item;
            })
          : [Object.assign(document.createElement("li"), { className: "empty", textContent: "No down time this shift." })]),
      );
    }

    function stopText(stop) {
      return ` · ${stop.state} · ${localTime(stop.start)} · ${minutes(stop.seconds)}${stop.ongoing ? ", still stopped" : ""}`;
    }

    function drawStops() {
      const stops = screen.stops || [];
      setText(document, "stop-count", String(stops.length));
      const shown = [...stopsBox.querySelectorAll("[data-stop-id]")];
      if (shown.length && shown.map((item) => item.dataset.stopId).join() === stops.map((stop) => String(stop.id)).join()) {
        // The same stops: update their lengths in place, so nothing moves under a finger.
        shown.forEach((item, i) => {
          const summary = item.querySelector("summary");
          summary.lastChild.textContent = stopText(stops[i]);
        });
        return;
      }
      const open = new Set([...stopsBox.querySelectorAll("details[open]")].map((d) => d.closest("[data-stop-id]").dataset.stopId));
      stopsBox.replaceChildren(
        ...(stops.length
          ? stops.map((stop) => {
              const item = document.createElement("li");
              item.className = "stop";
              item.dataset.stopId = stop.id;
              const details = document.createElement("details");
              details.open = open.has(String(stop.id));
              const summary = document.createElement("summary");
              summary.className = "stop-summary";
              const who = document.createElement("strong");
              who.textContent = stop.asset;
              summary.append(who, document.createTextNode(stopText(stop)));
              details.append(summary);
              if (reasonForm) {
                const form = reasonForm.content.firstElementChild.cloneNode(true);
                form.action = `/lines/${lineId}/stops/${stop.id}/reason`;
                details.append(form);
              }
              item.append(details);
              return item;
            })
          : [Object.assign(document.createElement("li"), { className: "empty", textContent: "Every stop this shift has a reason." })]),
      );
    }

    function drawMachines() {
      const body = document.querySelector('[data-role="machines"]');
      const cell = (tag, text) => Object.assign(document.createElement(tag), { textContent: text });
      const time = (seconds) => (seconds === null || seconds === undefined ? "—" : minutes(seconds));
      body.replaceChildren(
        ...(screen.assets || []).map((machine) => {
          const row = document.createElement("tr");
          const name = cell("th", machine.name);
          name.scope = "row";
          row.append(
            name,
            cell("td", percent(machine.oee)),
            cell("td", percent(machine.availability)),
            cell("td", String(machine.breakdowns)),
            cell("td", time(machine.mtbf_s)),
            cell("td", time(machine.mttr_s)),
          );
          return row;
        }),
      );
    }

    function render() {
      const oee = screen.oee || {};
      setText(head, "shift", screen.shift ? `${screen.shift.name} · ${localTime(screen.shift.start)}–${localTime(screen.shift.end)}` : "No shift planned");
      setText(head, "oee-value", percent(oee.oee));
      head.querySelector('[data-role="oee"]').dataset.band = band(oee.oee);
      setText(head, "availability", percent(oee.availability));
      setText(head, "performance", percent(oee.performance));
      setText(head, "quality", percent(oee.quality));
      drawTrend();
      drawPareto();
      drawMachines();
      drawStops();
    }

    window.addEventListener("load", render);
    render();
    PlantOps.live(`/ws/lines/${lineId}/oee/`, {
      silenceMs: 90000,
      onMessage(message) {
        if (message.type === "oee.screen") {
          screen = message.screen;
          render();
        }
      },
    });
  }

  // --- the floor's OEE board ---------------------------------------------------------------
  const board = document.querySelector('[data-role="board"]');
  if (board) {
    function renderBoard(lines) {
      for (const line of lines) {
        const tile = board.querySelector(`[data-line-id="${line.id}"]`);
        if (!tile) continue;
        tile.dataset.band = band(line.oee);
        setText(tile, "oee-value", percent(line.oee));
        setText(tile, "parts", line.oee === null ? "" : `A ${percent(line.availability)} · P ${percent(line.performance)} · Q ${percent(line.quality)}`);
      }
    }
    board.querySelectorAll("[data-line-id]").forEach((tile) => {
      const value = tile.querySelector('[data-role="oee-value"]').textContent;
      tile.dataset.band = value === "—" ? "none" : band(Number.parseInt(value, 10) / 100);
    });
    PlantOps.live("/ws/oee/", {
      silenceMs: 90000,
      onMessage(message) {
        if (message.type === "oee.board") renderBoard(message.lines);
      },
    });
  }
})();
