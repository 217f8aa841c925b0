/*
 * The asset page: current values and one chart per signal. "Live" charts the last hour of raw
 * readings, kept live over /ws/assets/<id>/: after every (re)connect the page sends "resume"
 * with its newest point and merges what comes back, so a Wi-Fi drop leaves no hole.
 *
 * The longer ranges (8 h … 30 days) chart minute rollups fetched from /assets/<id>/trend: a
 * mean line inside a min–max band, refetched every minute. Live points keep arriving meanwhile
 * and keep the live hour current for the way back, but are never drawn on a trend: one raw
 * reading is not a bucket's mean.
 */
"use strict";

(() => {
  const initial = JSON.parse(document.getElementById("asset-initial").textContent);
  const WINDOW_MS = initial.window_ms;
  const SLIDE_EVERY_MS = 15000;
  const TREND_REFRESH_MS = 60000;
  const TREND_RETRY_MS = 10000;
  const { colors: COLORS, axis } = PlantOpsCharts;
  // Out-of-range stretches: this page's own orange, darker than the palette's (5:1 on white, not
  // 2.6:1), so a thin line of it stands out.
  const EXCURSION = "#c2410c";

  const head = document.querySelector(".asset-head");
  const assetId = Number(head.dataset.assetId);
  const signalsBox = document.querySelector(".signals");
  const rangeBar = document.querySelector(".chart-ranges");
  const rangeButtons = [...rangeBar.querySelectorAll("[data-range]")];
  const rangeNote = rangeBar.querySelector('[data-role="range-note"]');

  const limitOf = (text) => (text === "" ? null : Number(text));
  const charts = new Map();
  document.querySelectorAll("[data-chart]").forEach((element) => {
    charts.set(element.dataset.chart, {
      element,
      name: element.dataset.name,
      times: [],
      values: [],
      min: limitOf(element.dataset.min),
      max: limitOf(element.dataset.max),
      unit: element.dataset.unit,
      // The server's "stale" rule: a pause this long is drawn as a gap, not bridged by a line.
      gapMs: Math.max(15, 5 * Number(element.dataset.intervalS)) * 1000,
      // When the reading shown beside the chart was taken (ms); older ones never replace it.
      shownAt: -Infinity,
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

  // The stretches of a line outside the expected range, drawn over it in the excursion colour.
  function excursionTrace(chart, x, y, hover) {
    return {
      x,
      y: y.map((value) => (value !== null && isOutside(chart, value) ? value : null)),
      type: "scatter",
      mode: "lines+markers",
      line: { color: EXCURSION, width: 4 },
      marker: { color: EXCURSION, size: 7 },
      ...hover,
    };
  }

  // Plotly shows numeric dates as UTC: each time is moved to the page's clock by its own offset
  // (clock.js), so an hour across a change to or from summer time is drawn as the wall reads.
  function liveTraces(chart) {
    const x = [];
    const y = [];
    chart.times.forEach((time, i) => {
      if (i && time - chart.times[i - 1] > chart.gapMs) {
        x.push(localTime(time - 1));
        y.push(null);
      }
      x.push(localTime(time));
      y.push(chart.values[i]);
    });
    const hovertemplate = `%{y:.1f} ${chart.unit}<br>%{x|%H:%M:%S}<extra></extra>`;
    return [
      { x, y, type: "scatter", mode: "lines", line: { color: COLORS.blue, width: 3 }, hovertemplate },
      excursionTrace(chart, x, y, { hovertemplate }),
    ];
  }

  // Each bucket shifted by its own offset: a month can span a change to or from summer time.
  const localTime = PlantOpsClock.wall;

  /**
   * A trend's traces: the min–max band, the mean line over it, and the mean's excursions.
   *
   * The band is one closed polygon per stretch without a gap (max forward, min back), filled
   * "toself": Plotly fills those stretches apart, where "tonexty" between a max and a min trace
   * would bridge every gap the server marked with a null bucket. A bucket alone between gaps
   * gets a dot, since a line of one point draws nothing.
   */
  function trendTraces(chart, buckets) {
    const x = [];
    const mean = [];
    const customdata = [];
    const bandX = [];
    const bandY = [];
    let stretch = [];
    const closeStretch = () => {
      if (!stretch.length) return;
      if (bandX.length) {
        bandX.push(null);
        bandY.push(null);
      }
      for (const [time, , , max] of stretch) {
        bandX.push(localTime(time));
        bandY.push(max);
      }
      for (const [time, min] of stretch.reverse()) {
        bandX.push(localTime(time));
        bandY.push(min);
      }
      stretch = [];
    };
    for (const bucket of buckets) {
      const [time, min, avg, max] = bucket;
      x.push(localTime(time));
      mean.push(avg);
      customdata.push([min, max]);
      if (avg === null) closeStretch();
      else stretch.push(bucket);
    }
    closeStretch();
    const alone = (i) => mean[i] !== null && (mean[i - 1] ?? null) === null && (mean[i + 1] ?? null) === null;
    const hovertemplate =
      `${pgettext("a trend's bucket", "mean")} %{y:.1f} ${chart.unit}<br>` +
      `${pgettext("lower limit", "min")} %{customdata[0]:.1f} · ${pgettext("upper limit", "max")} %{customdata[1]:.1f}` +
      "<br>%{x|%d %b %H:%M}<extra></extra>";
    return [
      {
        x: bandX, y: bandY, type: "scatter", mode: "lines", name: gettext("min–max"),
        fill: "toself", fillcolor: COLORS.band, line: { width: 0 }, hoverinfo: "skip",
      },
      {
        x, y: mean, customdata, type: "scatter", mode: "lines+markers", name: pgettext("a trend's bucket", "mean"),
        line: { color: COLORS.blue, width: 3 },
        marker: { color: COLORS.blue, size: mean.map((_, i) => (alone(i) ? 8 : 0)) },
        hovertemplate,
      },
      excursionTrace(chart, x, mean, { hovertemplate, customdata }),
    ];
  }

  // The expected range is always in view, so a line near its limit looks near its limit.
  function valueRange(chart, values) {
    const limits = [chart.min, chart.max].filter((limit) => limit !== null);
    let low = Infinity;
    let high = -Infinity;
    for (const value of values.concat(limits)) {
      if (value === null) continue;
      if (value < low) low = value;
      if (value > high) high = value;
    }
    if (low === Infinity) return [0, 1];
    const pad = (high - low) * 0.08 || 1;
    return [low - pad, high + pad];
  }

  /** The chart's frame: limits, axes and, for a chart with nothing to draw, the words said in
   * its place (PlantOpsCharts.plot): what is missing ("the last 24 h"). */
  function layout(chart, { start, end, values, span, tickformat }) {
    const shapes = [];
    const annotations = [];
    for (const [limit, label] of [[chart.max, pgettext("upper limit", "max")], [chart.min, pgettext("lower limit", "min")]]) {
      if (limit === null) continue;
      const line = { color: COLORS.red, width: 2, dash: "dash" };
      shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: limit, y1: limit, line });
      annotations.push({
        xref: "paper", x: 1, xanchor: "right", y: limit, yanchor: "bottom", showarrow: false,
        text: `<b>${label} ${PlantOps.formatLimit(limit)}</b>`, font: { color: COLORS.red, size: 14 },
        bgcolor: "rgba(255, 255, 255, 0.85)",
      });
    }
    if (!values.some((value) => value !== null)) {
      annotations.push(PlantOpsCharts.emptyNote(span === "hour" ? gettext("No readings in the last hour") : interpolate(gettext("No readings in the last %(span)s"), { span }, true)));
    }
    return PlantOpsCharts.layout({
      datarevision: revision,
      margin: { l: 64, r: 12, t: 8, b: 56 },
      showlegend: false,
      dragmode: false,
      hovermode: "closest",
      xaxis: { ...axis, type: "date", range: [start, end], tickformat, nticks: 7, title: PlantOpsCharts.timeTitle() },
      yaxis: { ...axis, range: valueRange(chart, values), zeroline: false, nticks: 5 },
      shapes,
      annotations,
    });
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
    revision += 1;
    for (const slug of dirty) {
      const chart = charts.get(slug);
      // Trimmed under a trend too, so the live hour is ready (and no longer) when Live is chosen.
      dropBefore(chart, start);
      if (range !== "live") continue;
      const view = { start: localTime(start), end: localTime(end), values: chart.values, span: "hour", tickformat: "%H:%M" };
      // react, not newPlot: Plotly diffs against the chart already on screen.
      PlantOpsCharts.plot(chart.element, liveTraces(chart), layout(chart, view));
    }
    dirty.clear();
  }

  // --- Range choice: the live hour, or a trend from the minute rollups -------------------

  let range = "live";
  let trendRequest = null;
  let trendTimer = 0;

  const labelOf = (key) => rangeButtons.find((button) => button.dataset.range === key).dataset.label;

  function showNote(text, state = "") {
    rangeNote.textContent = text;
    rangeNote.dataset.state = state;
  }

  function describeBucket(ms) {
    const minutes = Math.round(ms / 60000);
    return minutes % 60
      ? interpolate(gettext("%(minutes)s min"), { minutes }, true)
      : interpolate(gettext("%(hours)s h"), { hours: minutes / 60 }, true);
  }

  function drawTrend(trend) {
    revision += 1;
    // Over a week or a month the ticks are days.
    const tickformat = trend.end_ms - trend.start_ms > 2 * 86400000 ? "%d %b" : "%H:%M";
    for (const [slug, chart] of charts) {
      const buckets = trend.signals[slug] || [];
      const values = buckets.flatMap(([, min, , max]) => [min, max]);
      const view = {
        start: localTime(trend.start_ms), end: localTime(trend.end_ms), values, span: labelOf(trend.range), tickformat,
      };
      PlantOpsCharts.plot(chart.element, trendTraces(chart, buckets), layout(chart, view));
    }
    // Faded until now (also after a failed first load): the charts showed the previous range.
    signalsBox.removeAttribute("aria-busy");
    showNote(
      interpolate(
        gettext("Last %(span)s: line is the mean per %(bucket)s, band is min to max."),
        { span: labelOf(trend.range), bucket: describeBucket(trend.bucket_ms) },
        true,
      ),
    );
  }

  async function loadTrend() {
    const key = range;
    clearTimeout(trendTimer);
    if (trendRequest) trendRequest.abort();
    const request = new AbortController();
    trendRequest = request;
    let retryMs = TREND_REFRESH_MS;
    try {
      const url = `${rangeBar.dataset.trendUrl}?range=${encodeURIComponent(key)}`;
      const response = await fetch(url, {
        signal: request.signal,
        cache: "no-store",
        redirect: "manual",
        headers: PlantOps.background,
      });
      // The session ended: the login page, then back here.
      if (response.type === "opaqueredirect") {
        const next = encodeURIComponent(location.pathname + location.search);
        location.assign(`${document.body.dataset.loginUrl}?next=${next}`);
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const trend = await response.json();
      if (range !== key) return;
      drawTrend(trend);
    } catch (error) {
      if (error.name === "AbortError" || range !== key) return;
      retryMs = TREND_RETRY_MS;
      showNote(interpolate(gettext("Could not load the last %(span)s. Trying again…"), { span: labelOf(key) }, true), "error");
    } finally {
      if (trendRequest === request) {
        trendRequest = null;
        // Rollups grow every minute: refetch, so the right edge of a trend keeps up with now.
        if (range === key) trendTimer = setTimeout(loadTrend, retryMs);
      }
    }
  }

  function chooseRange(key) {
    range = key;
    for (const button of rangeButtons) button.setAttribute("aria-pressed", String(button.dataset.range === key));
    // In the address, so a reload (or a tablet waking up) shows the same range.
    history.replaceState(null, "", key === "live" ? location.pathname : `${location.pathname}?range=${key}`);
    const span = key === "live" ? "hour" : labelOf(key);
    const chartLabel = (name) =>
      key === "live"
        ? interpolate(gettext("%(name)s, last hour"), { name }, true)
        : interpolate(gettext("%(name)s, last %(span)s"), { name, span }, true);
    charts.forEach((chart) => chart.element.setAttribute("aria-label", chartLabel(chart.name)));
    clearTimeout(trendTimer);
    if (trendRequest) trendRequest.abort();
    trendRequest = null;
    if (key === "live") {
      signalsBox.removeAttribute("aria-busy");
      showNote(gettext("Last hour: every reading, as it arrives."));
      charts.forEach((_, slug) => redraw(slug));
      return;
    }
    signalsBox.setAttribute("aria-busy", "true");
    showNote(interpolate(gettext("Loading the last %(span)s…"), { span }, true));
    loadTrend();
  }

  rangeButtons.forEach((button) => button.addEventListener("click", () => chooseRange(button.dataset.range)));

  // The value beside each chart moves with its points; the tile (the status, and whether a
  // silent signal is stale) comes from the server at most once a second.
  function showReading(slug, signal) {
    const value = document.querySelector(`[data-signal="${CSS.escape(slug)}"][data-role="value"]`);
    if (!value) return;
    PlantOps.renderReading(value, signal);
    const time = value.closest(".signal-card").querySelector('[data-role="reading-time"]');
    time.setAttribute("datetime", signal.ts || "");
    if (!signal.ts) time.textContent = gettext("No readings yet");
    else {
      const clock = PlantOps.formatClock(new Date(signal.ts));
      time.textContent = interpolate(
        signal.stale ? gettext("No new data since %(time)s") : pgettext("a reading's time", "at %(time)s"),
        { time: clock },
        true,
      );
    }
  }

  function applyPoints(points) {
    for (const [slug, series] of Object.entries(points)) {
      const chart = charts.get(slug);
      if (!chart || !series.length) continue;
      merge(chart, series);
      redraw(slug);
      const [time, value] = series[series.length - 1];
      if (time > chart.shownAt) {
        chart.shownAt = time;
        const ts = new Date(time).toISOString();
        showReading(slug, { value, ts, in_range: !isOutside(chart, value), stale: false });
      }
    }
  }

  function applyTile(tile) {
    if (!tile) return;
    PlantOps.renderStatus(head.querySelector('[data-role="status"]'), tile);
    PlantOps.renderState(head, tile);
    for (const signal of tile.signals) {
      const chart = charts.get(signal.slug);
      const takenAt = signal.ts ? Date.parse(signal.ts) : -Infinity;
      // A tile read just before a newer batch was stored must not turn the value back.
      if (chart && takenAt < chart.shownAt) continue;
      if (chart) chart.shownAt = takenAt;
      showReading(signal.slug, signal);
    }
  }

  applyPoints(initial.points);
  applyTile(initial.tile);
  const asked = new URLSearchParams(location.search).get("range");
  chooseRange(rangeButtons.some((button) => button.dataset.range === asked) ? asked : "live");
  PlantOps.tickDurations();
  setInterval(PlantOps.tickDurations, 30000);
  // Slide every chart's hour forward even when no data comes, so a silence shows as a gap.
  setInterval(() => charts.forEach((_, slug) => redraw(slug)), SLIDE_EVERY_MS);

  PlantOps.live(`/ws/assets/${assetId}/`, {
    onOpen(send) {
      send({ type: "resume", since_ms: newestTime() });
      // Back after a drop: the trend may have missed some refreshes.
      if (range !== "live") loadTrend();
    },
    onMessage(message) {
      if (message.type === "asset.snapshot") applyTile(message.tile);
      if (message.type !== "asset.update") return;
      applyPoints(message.points || {});
      applyTile(message.tile);
    },
  });
})();
