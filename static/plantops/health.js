/*
 * The health panel of the asset page: remaining life over time with its interval drawn as a
 * band, the health index beside it, and the detector's evidence. Predictions come hourly, so
 * the panel simply asks again every minute; after a Wi-Fi drop the next ask catches it up.
 */
"use strict";

(() => {
  const panel = document.getElementById("health");
  if (!panel) return;
  const { colors: COLORS } = PlantOpsCharts;
  const REFRESH_MS = 60_000;
  let health = JSON.parse(document.getElementById("health-initial").textContent);

  function draw() {
    const element = document.getElementById("health-chart");
    if (!window.Plotly || !element) return;
    const history = health.history || [];
    // On the page's clock (clock.js): Plotly would draw the times as UTC.
    const x = history.map((p) => PlantOpsClock.wall(Date.parse(p.made_at)));
    const traces = [
      // The band: the interval's high end, then the low end filled up to it.
      { x, y: history.map((p) => p.rul_high_days), mode: "lines", line: { width: 0 }, hoverinfo: "skip", showlegend: false },
      {
        x,
        y: history.map((p) => p.rul_low_days),
        mode: "lines",
        line: { width: 0 },
        fill: "tonexty",
        fillcolor: COLORS.band,
        name: gettext("90% interval"),
        hoverinfo: "skip",
      },
      {
        x,
        y: history.map((p) => p.rul_days),
        mode: "lines+markers",
        line: { color: COLORS.blue, width: 4 },
        marker: { size: 6 },
        name: gettext("Remaining life (days)"),
        hovertemplate: `${gettext("%{y:.1f} days")}<extra></extra>`,
      },
      {
        x,
        y: history.map((p) => p.health_index),
        yaxis: "y2",
        mode: "lines",
        line: { color: COLORS.green, width: 3, dash: "dot" },
        name: gettext("Health index"),
        hovertemplate: `${gettext("health %{y:.2f}")}<extra></extra>`,
      },
    ];
    PlantOpsCharts.plot(
      element,
      traces,
      PlantOpsCharts.layout({
        margin: { l: 56, r: 56, t: 8, b: 48 },
        font: { ...PlantOpsCharts.font, size: 16 },
        // Below the time axis and its title, which names the zone.
        legend: { orientation: "h", y: -0.38 },
        yaxis: { title: { text: gettext("days") }, rangemode: "tozero", gridcolor: COLORS.grid },
        yaxis2: { overlaying: "y", side: "right", range: [0, 1.05], showgrid: false, title: { text: pgettext("a machine's health", "health") } },
        xaxis: { type: "date", gridcolor: COLORS.grid, title: PlantOpsCharts.timeTitle() },
      }),
    );
  }

  function render() {
    const level = panel.querySelector('[data-role="health-level"]');
    level.textContent = health.level_label;
    level.dataset.level = health.level;
    level.className = `health-level level-${health.level}`;
    const now = panel.querySelector('[data-role="rul-now"]');
    if (!health.current.length) {
      now.replaceChildren(
        Object.assign(document.createElement("p"), {
          className: "rul-figure rul-none",
          textContent: gettext("No remaining-life prediction yet: it needs a fitted model for this type of machine and a few hours of history."),
        }),
      );
    } else {
      now.replaceChildren(
        ...health.current.map((p) => {
          const figure = document.createElement("p");
          figure.className = "rul-figure";
          const mode = Object.assign(document.createElement("span"), { className: "rul-mode", textContent: p.failure_mode });
          const span = Object.assign(document.createElement("b"), { className: "rul-span", textContent: p.span });
          const note = Object.assign(document.createElement("span"), {
            className: "rul-note",
            textContent: interpolate(
              gettext("to failure · %(confidence)s% confidence · health %(health)s"),
              { confidence: p.confidence_pct, health: PlantOps.formatNumber(p.health_index, 2) },
              true,
            ),
          });
          figure.append(mode, span, note);
          return figure;
        }),
      );
    }
    const alerts = panel.querySelector('[data-role="health-alerts"]');
    alerts.hidden = !health.alerts.length;
    alerts.replaceChildren(
      ...health.alerts.map((a) => {
        const item = Object.assign(document.createElement("li"), { className: `health-alert priority-${a.priority}`, textContent: a.message });
        item.dataset.kind = a.kind;
        item.dataset.state = a.state;
        return item;
      }),
    );
    const evidence = panel.querySelector('[data-role="evidence"]');
    const items = health.evidence.length
      ? health.evidence.map((e) => [
          e.signal,
          interpolate(gettext("%(feature)s: %(z)s σ from its regime baseline"), { feature: e.feature, z: PlantOps.formatNumber(Number(e.z), 1) }, true),
        ])
      : health.current.flatMap((p) => p.drivers.map((d) => [d.column, ""]));
    if (!items.length) {
      evidence.replaceChildren(Object.assign(document.createElement("li"), { className: "muted", textContent: gettext("Nothing unusual.") }));
    } else {
      evidence.replaceChildren(
        ...items.map(([name, text]) => {
          const item = document.createElement("li");
          item.append(Object.assign(document.createElement("b"), { textContent: name }), text ? ` ${text}` : "");
          return item;
        }),
      );
    }
    draw();
  }

  async function refresh() {
    try {
      const response = await fetch(panel.dataset.healthUrl, {
        headers: { Accept: "application/json", ...PlantOps.background },
        credentials: "same-origin",
      });
      if (response.ok) {
        health = await response.json();
        render();
      }
    } catch (error) {
      // Offline: the next round tries again; the page keeps what it has.
    }
  }

  window.addEventListener("load", draw);
  window.addEventListener("online", refresh);
  setInterval(refresh, REFRESH_MS);
})();
