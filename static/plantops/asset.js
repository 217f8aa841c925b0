/*
 * The asset page: current values and one last-hour chart per signal, kept live over
 * /ws/assets/<id>/. After every (re)connect it sends "resume" with its newest point and merges
 * what comes back, so a Wi-Fi drop leaves no hole in the charts.
 */
"use strict";

(() => {
  const initial = JSON.parse(document.getElementById("asset-initial").textContent);
  const WINDOW_MS = initial.window_ms;
  const SLIDE_EVERY_MS = 15000;
  const COLORS = { ink: "#0b0d10", muted: "#454b54", grid: "#d3d7dc", line: "#1746a2", limit: "#b3261e", excursion: "#c2410c" };
  const FONT = getComputedStyle(document.body).fontFamily;
  const CONFIG = { displayModeBar: false, responsive: true, scrollZoom: false, doubleClick: false, showTips: false };

  const head = document.querySelector(".asset-head");
  const assetId = Number(head.dataset.assetId);

  const limitOf = (text) => (text === "" ? null : Number(text));
  const charts = new Map();
  document.querySelectorAll("[data-chart]").forEach((element) => {
    charts.set(element.dataset.chart, {
      element,
      times: [],
      values: [],
      min: limitOf(element.dataset.min),
      max: limitOf(element.dataset.max),
      unit: element.dataset.unit,
      // The server's "stale" rule: a pause this long is drawn as a gap, not bridged by a line.
      gapMs: Math.max(15, 5 * Number(element.dataset.intervalS)) * 1000,
    });
  });

  function newestTime() {
    let newest = 0;
    for (const chart of charts.values()) {
      if (chart.times.length) newest = Math.max(newest, chart.times[chart.times.length - 1]);
    }
    return newest;
  }

  function merge(chart, points) {
    const last = chart.times.length ? chart.times[chart.times.length - 1] : -Infinity;
    const appendsInOrder = points.every(([time], i) => time > (i ? points[i - 1][0] : last));
    if (appendsInOrder) {
      for (const [time, value] of points) {
        chart.times.push(time);
        chart.values.push(value);
      }
      return;
    }
    // A catch-up can overlap what live updates already brought: keep each moment once.
    const byTime = new Map(chart.times.map((time, i) => [time, chart.values[i]]));
    for (const [time, value] of points) byTime.set(time, value);
    chart.times = [...byTime.keys()].sort((a, b) => a - b);
    chart.values = chart.times.map((time) => byTime.get(time));
  }

  function dropBefore(chart, cutoff) {
    let count = 0;
    while (count < chart.times.length && chart.times[count] < cutoff) count += 1;
    chart.times.splice(0, count);
    chart.values.splice(0, count);
  }

  function isOutside(chart, value) {
    return (chart.min !== null && value < chart.min) || (chart.max !== null && value > chart.max);
  }

  // Plotly shows numeric dates as UTC; shifting by the local offset shows the tablet's clock.
  function traces(chart, shift) {
    const x = [];
    const y = [];
    const outside = [];
    chart.times.forEach((time, i) => {
      if (i && time - chart.times[i - 1] > chart.gapMs) {
        x.push(time - 1 + shift);
        y.push(null);
        outside.push(null);
      }
      const value = chart.values[i];
      x.push(time + shift);
      y.push(value);
      outside.push(isOutside(chart, value) ? value : null);
    });
    const hovertemplate = `%{y:.1f} ${chart.unit}<br>%{x|%H:%M:%S}<extra></extra>`;
    return [
      { x, y, type: "scatter", mode: "lines", line: { color: COLORS.line, width: 3 }, hovertemplate },
      {
        x,
        y: outside,
        type: "scatter",
        mode: "lines+markers",
        line: { color: COLORS.excursion, width: 4 },
        marker: { color: COLORS.excursion, size: 7 },
        hovertemplate,
      },
    ];
  }

  // The expected range is always in view, so a line near its limit looks near its limit.
  function valueRange(chart) {
    const limits = [chart.min, chart.max].filter((limit) => limit !== null);
    let low = Infinity;
    let high = -Infinity;
    for (const value of chart.values.concat(limits)) {
      if (value < low) low = value;
      if (value > high) high = value;
    }
    if (low === Infinity) return [0, 1];
    const pad = (high - low) * 0.08 || 1;
    return [low - pad, high + pad];
  }

  function layout(chart, start, end, revision) {
    const shapes = [];
    const annotations = [];
    for (const [limit, label] of [[chart.max, "max"], [chart.min, "min"]]) {
      if (limit === null) continue;
      const line = { color: COLORS.limit, width: 2, dash: "dash" };
      shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: limit, y1: limit, line });
      annotations.push({
        xref: "paper", x: 1, xanchor: "right", y: limit, yanchor: "bottom", showarrow: false,
        text: `<b>${label} ${PlantOps.formatLimit(limit)}</b>`, font: { color: COLORS.limit, size: 14 },
        bgcolor: "rgba(255, 255, 255, 0.85)",
      });
    }
    if (!chart.times.length) {
      annotations.push({
        xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false,
        text: "No readings in the last hour", font: { color: COLORS.muted, size: 18 },
      });
    }
    const axis = { fixedrange: true, gridcolor: COLORS.grid, linecolor: COLORS.ink, ticks: "outside", tickcolor: COLORS.ink };
    return {
      datarevision: revision,
      margin: { l: 64, r: 12, t: 8, b: 36 },
      font: { family: FONT, size: 15, color: COLORS.ink },
      paper_bgcolor: "#ffffff",
      plot_bgcolor: "#ffffff",
      showlegend: false,
      dragmode: false,
      hovermode: "closest",
      xaxis: { ...axis, type: "date", range: [start, end], tickformat: "%H:%M", nticks: 7 },
      yaxis: { ...axis, range: valueRange(chart), zeroline: false, nticks: 5 },
      shapes,
      annotations,
    };
  }

  // Redraws are batched into one animation frame; a hidden tab draws nothing until shown.
  const dirty = new Set();
  let frame = 0;
  let revision = 0;

  function redraw(slug) {
    dirty.add(slug);
    if (!frame) frame = requestAnimationFrame(drawDirty);
  }

  function drawDirty() {
    frame = 0;
    const end = Math.max(Date.now(), newestTime());
    const start = end - WINDOW_MS;
    const shift = -new Date(end).getTimezoneOffset() * 60000;
    revision += 1;
    for (const slug of dirty) {
      const chart = charts.get(slug);
      dropBefore(chart, start);
      // react, not newPlot: Plotly diffs against the chart already on screen.
      Plotly.react(chart.element, traces(chart, shift), layout(chart, start + shift, end + shift, revision), CONFIG);
    }
    dirty.clear();
  }

  function applyPoints(points) {
    for (const [slug, series] of Object.entries(points)) {
      const chart = charts.get(slug);
      if (!chart || !series.length) continue;
      merge(chart, series);
      redraw(slug);
    }
  }

  function applyTile(tile) {
    if (!tile) return;
    PlantOps.renderStatus(head.querySelector('[data-role="status"]'), tile);
    PlantOps.renderState(head, tile);
    for (const signal of tile.signals) {
      const value = document.querySelector(`[data-signal="${CSS.escape(signal.slug)}"][data-role="value"]`);
      if (!value) continue;
      PlantOps.renderReading(value, signal);
      const time = value.closest(".signal-card").querySelector('[data-role="reading-time"]');
      time.setAttribute("datetime", signal.ts || "");
      if (!signal.ts) time.textContent = "No readings yet";
      else {
        const clock = PlantOps.formatClock(new Date(signal.ts));
        time.textContent = signal.stale ? `No new data since ${clock}` : `at ${clock}`;
      }
    }
  }

  applyPoints(initial.points);
  applyTile(initial.tile);
  charts.forEach((_, slug) => redraw(slug));
  PlantOps.tickDurations();
  setInterval(PlantOps.tickDurations, 30000);
  // Slide every chart's hour forward even when no data comes, so a silence shows as a gap.
  setInterval(() => charts.forEach((_, slug) => redraw(slug)), SLIDE_EVERY_MS);

  PlantOps.live(`/ws/assets/${assetId}/`, {
    onOpen(send) {
      send({ type: "resume", since_ms: newestTime() });
    },
    onMessage(message) {
      if (message.type === "asset.snapshot") applyTile(message.tile);
      if (message.type !== "asset.update") return;
      applyPoints(message.points || {});
      applyTile(message.tile);
    },
  });
})();
