/*
 * OEE screens: a line's current shift (/lines/<id>/oee/) and the floor's board (/oee/).
 * Both are rendered by the server and kept current over a WebSocket that sends the whole
 * screen on every (re)connect and then at most one update every few seconds, so a tablet back
 * from a Wi-Fi drop shows the right figures at once, with nothing to merge. The screen's own
 * words (a stop's state, the Pareto's labels, the charts) come in the viewer's language; the
 * page's are translated here (Django's JavaScript catalog).
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
    if (seconds < 90) return interpolate(gettext("%(seconds)s s"), { seconds }, true);
    if (seconds < 5400) return interpolate(gettext("%(minutes)s min"), { minutes: Math.round(seconds / 60) }, true);
    return interpolate(gettext("%(hours)s h"), { hours: PlantOps.formatNumber(seconds / 3600, 1) }, true);
  }

  function localTime(iso) {
    return PlantOpsClock.time(new Date(iso), false);
  }

  // --- the line page -----------------------------------------------------------------------
  const head = document.querySelector(".oee-head");
  if (head) {
    const lineId = Number(head.dataset.lineId);
    const stopsBox = document.querySelector('[data-role="stops"]');
    const reasonForm = document.getElementById("reason-form");
    let screen = JSON.parse(document.getElementById("oee-initial").textContent);
    // The charts are figures the server composed (plantops/oee/charts.py) and sends with every
    // screen. Only the line page has charts: the board loads no Plotly and no charts.js.
    function drawFigure(id, figure) {
      const element = document.getElementById(id);
      if (window.Plotly && element && figure) PlantOpsCharts.draw(element, figure);
    }

    function drawTrend() {
      drawFigure("oee-trend", (screen.figures || {}).hourly);
    }

    function drawPareto() {
      drawFigure("oee-pareto", (screen.figures || {}).pareto);
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
          : [Object.assign(document.createElement("li"), { className: "empty", textContent: gettext("No down time this shift.") })]),
      );
    }

    function stopText(stop) {
      const still = stop.ongoing ? `, ${gettext("still stopped")}` : "";
      return ` · ${stop.state_label} · ${localTime(stop.start)} ${PlantOpsClock.offsetLabel(Date.parse(stop.start))} · ${minutes(stop.seconds)}${still}`;
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
          : [Object.assign(document.createElement("li"), { className: "empty", textContent: gettext("Every stop this shift has a reason.") })]),
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
      setText(head, "shift", screen.shift ? `${screen.shift.name} · ${localTime(screen.shift.start)}–${localTime(screen.shift.end)}` : gettext("No shift planned"));
      setText(head, "oee-value", percent(oee.oee));
      head.querySelector('[data-role="oee"]').dataset.band = band(oee.oee);
      setText(head, "availability", percent(oee.availability));
      setText(head, "performance", percent(oee.performance));
      setText(head, "quality", percent(oee.quality));
      setText(head, "no-data", percent(oee.no_data_share));
      // A dash says nothing: why there is no OEE (as the page first said it).
      const why = document.querySelector('[data-role="oee-why"]');
      why.hidden = oee.oee !== null && oee.oee !== undefined;
      why.textContent = screen.shift
        ? gettext("No OEE yet: the machines of this line have reported no state or count this shift.")
        : gettext("No shift planned: OEE is counted over the line's shifts.");
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
    // As the tiles are first rendered (templates/oee/board.html).
    const A = pgettext("availability, abbreviated", "A");
    const P = pgettext("performance, abbreviated", "P");
    const Q = pgettext("quality, abbreviated", "Q");
    const NO_DATA = pgettext("a share of planned time with no machine state", "no data");
    function renderBoard(lines) {
      for (const line of lines) {
        const tile = board.querySelector(`[data-line-id="${line.id}"]`);
        if (!tile) continue;
        tile.dataset.band = band(line.oee);
        setText(tile, "oee-value", percent(line.oee));
        const noData = line.no_data_share ? ` · ${NO_DATA} ${percent(line.no_data_share)}` : "";
        setText(tile, "parts", line.oee === null ? "" : `${A} ${percent(line.availability)} · ${P} ${percent(line.performance)} · ${Q} ${percent(line.quality)}${noData}`);
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
