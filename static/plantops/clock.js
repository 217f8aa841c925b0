/*
 * The page's clock: the time zone the server shows every time in (<body data-time-zone>, from
 * plantops.assets.clock), for the times scripts write and the charts they draw, so a tablet
 * shows the plant's clock whatever its own is set to. A plain script loaded by every page
 * before the page's own; everything hangs off window.PlantOpsClock.
 */
"use strict";

window.PlantOpsClock = (() => {
  const zone = document.body.dataset.timeZone || "UTC";
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  });
  // Offsets change on whole quarter hours at most: one look-up per quarter, not per point.
  const QUARTER_MS = 900000;
  const offsets = new Map();

  function offsetAt(ms) {
    const seen = {};
    for (const part of parts.formatToParts(new Date(ms))) seen[part.type] = Number(part.value);
    const wall = Date.UTC(seen.year, seen.month - 1, seen.day, seen.hour, seen.minute, seen.second);
    return wall - (ms - (((ms % 1000) + 1000) % 1000));
  }

  /** The zone's offset from UTC in ms at the instant `ms` (epoch ms): +3600000 for CET. */
  function offsetMs(ms) {
    const quarter = Math.floor(ms / QUARTER_MS);
    let offset = offsets.get(quarter);
    if (offset === undefined) {
      offset = offsetAt(quarter * QUARTER_MS);
      offsets.set(quarter, offset);
    }
    return offset;
  }

  // Plotly draws numeric dates as UTC: the instant moved by its own offset draws as the zone's
  // wall clock, each point by the offset of its time (a day can cross a summer-time change).
  const wall = (ms) => ms + offsetMs(ms);

  const time = (date, seconds = true) =>
    date.toLocaleTimeString([], {
      timeZone: zone,
      hour: "2-digit",
      minute: "2-digit",
      ...(seconds ? { second: "2-digit" } : {}),
      hourCycle: "h23",
    });

  const dateTime = (date) => date.toLocaleString([], { timeZone: zone, hourCycle: "h23" });

  // As the server writes it (plantops.core.clock.utc_offset): "UTC+01:00", "UTC-05:00", "UTC".
  function offsetLabel(ms) {
    const minutes = Math.round(offsetMs(ms) / 60000);
    if (!minutes) return "UTC";
    const whole = Math.abs(minutes);
    const pad = (n) => String(n).padStart(2, "0");
    return `UTC${minutes < 0 ? "-" : "+"}${pad(Math.floor(whole / 60))}:${pad(whole % 60)}`;
  }

  return { zone, offsetMs, wall, time, dateTime, offsetLabel };
})();
