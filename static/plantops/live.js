/*
 * Live data for the floor screens: self-healing WebSockets, one per feed on a page, and the few
 * renderers the floor and asset pages share. A plain script (no modules, no build step);
 * everything hangs off window.PlantOps.
 */
"use strict";

window.PlantOps = window.PlantOps || {};

(() => {
  const MIN_DELAY_MS = 1000;
  const MAX_DELAY_MS = 30000;
  const CLOSE_UNAUTHENTICATED = 4401;
  const CLOSE_NOT_FOUND = 4404;
  // What a page fetches by itself is not someone using the tablet: it leaves the idle clock
  // alone (plantops.core.sessions), so an unattended tablet still signs out.
  const BACKGROUND = { "X-PlantOps-Background": "1" };
  PlantOps.background = BACKGROUND;

  const indicator = document.getElementById("connection");
  const banner = PlantOps.offlineBanner;

  // A page may hold several feeds (the floor's tiles and its line's alerts). The indicator and
  // the banner show the worst of them: one feed offline is the page offline.
  const feeds = [];
  const WORST_FIRST = ["gone", "offline", "connecting", "live"];
  // Words from the page's catalog (base.html loads Django's JavaScript catalog first).
  const STATE_TEXT = {
    gone: gettext("Not found"),
    offline: gettext("Offline"),
    connecting: gettext("Connecting"),
    live: pgettext("connection state", "Live"),
  };
  let countdownTimer = 0;
  const retryNow = () => feeds.forEach((feed) => feed.reconnectNow());

  function showConnection() {
    const state = WORST_FIRST.find((candidate) => feeds.some((feed) => feed.state === candidate)) || "connecting";
    indicator.hidden = false;
    indicator.dataset.state = state;
    indicator.querySelector(".conn-text").textContent = STATE_TEXT[state];
    clearInterval(countdownTimer);
    if (state === "gone") {
      banner.show(gettext("Not found"), gettext("This asset no longer exists. Go back to the floor view."));
    } else if (state === "offline") {
      banner.show(gettext("Offline — reconnecting…"), "", retryNow);
      countdown();
      countdownTimer = setInterval(countdown, 1000);
    } else {
      banner.hide();
    }
  }

  // "Next try in 12 s": the soonest of the offline feeds' retries.
  function countdown() {
    const offline = feeds.filter((feed) => feed.state === "offline");
    if (offline.some((feed) => feed.trying())) {
      banner.setDetail(gettext("Values on this screen may be out of date. Trying now…"));
      return;
    }
    const retryAt = Math.min(...offline.map((feed) => feed.retryAt));
    const seconds = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    banner.setDetail(
      interpolate(gettext("Values on this screen may be out of date. Next try in %(seconds)s s."), { seconds }, true),
    );
  }

  /**
   * Open a WebSocket to `path` and keep it open until the page goes away.
   *
   * Reconnects with exponential backoff, 1 s doubling to 30 s, with "equal jitter" (half the
   * delay fixed, half random) so a hall of tablets does not reconnect in step after an access
   * point comes back. `onOpen(send)` runs on every (re)connect: the place to ask for what was
   * missed. `path` is a string or a function returning one. `onMessage(message)` gets each parsed message. With `silenceMs`, a socket that
   * has been quiet that long is presumed dead (Wi-Fi can drop without the browser noticing)
   * and replaced.
   */
  PlantOps.live = function live(path, { onOpen = () => {}, onMessage, silenceMs = 0 }) {
    // `path` may be a function, asked again on each reconnect (e.g. for "?after=<last id>").
    const url = () =>
      `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${typeof path === "function" ? path() : path}`;
    let socket = null;
    let attempt = 0;
    let retryTimer = 0;
    let silenceTimer = 0;
    let leaving = false;
    let gone = false;

    const feed = {
      state: "connecting",
      retryAt: 0,
      trying: () => socket !== null,
      reconnectNow,
    };
    feeds.push(feed);

    function setState(state) {
      feed.state = state;
      showConnection();
    }

    function send(message) {
      if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    }

    function connect() {
      clearTimeout(retryTimer);
      if (gone || leaving || socket) return;
      if (!attempt) setState("connecting");
      socket = new WebSocket(url());
      let opened = false;
      socket.onopen = () => {
        opened = true;
        attempt = 0;
        setState("live");
        // The network is back: the page's other feeds need not wait out their backoff.
        feeds.forEach((other) => other.state === "offline" && other.reconnectNow());
        expectTraffic();
        onOpen(send);
      };
      socket.onmessage = (event) => {
        expectTraffic();
        onMessage(JSON.parse(event.data));
      };
      socket.onclose = (event) => closed(event.code, opened);
    }

    function expectTraffic() {
      if (!silenceMs) return;
      clearTimeout(silenceTimer);
      silenceTimer = setTimeout(abandon, silenceMs);
    }

    // A half-open socket may take minutes to report its close, so stop listening to it now.
    function abandon() {
      if (!socket) return;
      const dead = socket;
      dead.onopen = dead.onmessage = dead.onclose = null;
      dead.close();
      closed(1006);
    }

    async function closed(code, opened = true) {
      socket = null;
      clearTimeout(silenceTimer);
      if (leaving) return;
      if (!opened) {
        code = await whyRefused(code);
        if (socket || leaving) return; // "Retry now" was pressed meanwhile.
      }
      if (code === CLOSE_UNAUTHENTICATED) {
        const next = encodeURIComponent(location.pathname + location.search);
        location.assign(`${document.body.dataset.loginUrl}?next=${next}`);
        return;
      }
      if (code === CLOSE_NOT_FOUND) {
        gone = true;
        setState("gone");
        return;
      }
      const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt);
      const delay = base / 2 + (Math.random() * base) / 2;
      attempt += 1;
      feed.retryAt = Date.now() + delay;
      retryTimer = setTimeout(connect, delay);
      setState("offline");
    }

    // A server that closes before accepting rejects the handshake with an HTTP 403, so 4401 and
    // 4404 never reach the browser. Ask the page itself: a redirect means the session is gone,
    // a 404 that the asset is; no answer at all means the server or the network is down.
    async function whyRefused(code) {
      try {
        const response = await fetch(location.href, {
          method: "HEAD",
          redirect: "manual",
          cache: "no-store",
          headers: BACKGROUND,
        });
        if (response.type === "opaqueredirect") return CLOSE_UNAUTHENTICATED;
        // Not found, or no longer allowed (a role taken away): nothing to reconnect to.
        if (response.status === 404 || response.status === 403) return CLOSE_NOT_FOUND;
      } catch {
        // Unreachable: offline, handled like any other drop.
      }
      return code;
    }

    function reconnectNow() {
      if (!socket && !gone) connect();
    }

    window.addEventListener("online", reconnectNow);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) reconnectNow();
    });
    // Leaving the page closes the socket too; that is not "offline" and needs no banner.
    window.addEventListener("pagehide", () => {
      leaving = true;
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) {
        leaving = false;
        reconnectNow();
      }
    });

    connect();
    return { send };
  };

  // --- Renderers shared by the floor and asset pages ------------------------------------

  const STATE_LABELS = {
    running: gettext("Running"),
    idle: gettext("Idle"),
    down: gettext("Down"),
    planned_stop: gettext("Planned stop"),
    changeover: gettext("Changeover"),
  };
  // The tile's one word, by its status (the server's English label is for logs and the API).
  const STATUS_LABELS = {
    down: gettext("DOWN"),
    no_data: gettext("NO DATA"),
    out_of_range: gettext("CHECK"),
    stopped: gettext("STOPPED"),
    running: gettext("RUNNING"),
  };
  PlantOps.statusLabel = (status) => STATUS_LABELS[status] || status;

  // Numbers in the page's language (<html lang>): "2,5" in German, "2.5" in English.
  PlantOps.language = document.documentElement.lang || "en";
  const numberFormats = new Map();
  PlantOps.formatNumber = (value, digits) => {
    if (!numberFormats.has(digits)) {
      numberFormats.set(
        digits,
        new Intl.NumberFormat(PlantOps.language, {
          minimumFractionDigits: digits,
          maximumFractionDigits: digits,
          useGrouping: false,
        }),
      );
    }
    return numberFormats.get(digits).format(value);
  };

  // One decimal, none from 100 up: a tile cell has room for "1452 rpm", not "1452.3 rpm".
  // The templates round the same way, so the first live update does not change the format.
  PlantOps.formatValue = (value) => {
    if (value === null || value === undefined) return "—";
    return PlantOps.formatNumber(value, Math.abs(value) >= 100 ? 0 : 1);
  };

  // Limits as configured, without padding: "7.1", "1500", "0".
  PlantOps.formatLimit = (limit) =>
    new Intl.NumberFormat(PlantOps.language, { maximumFractionDigits: 1, useGrouping: false }).format(limit);

  // A 24-hour clock whatever the tablet's locale, as on the charts and in shift logs, in the
  // page's zone (clock.js), not the tablet's.
  PlantOps.formatClock = (date) => PlantOpsClock.time(date);

  function formatDuration(ms) {
    const minutes = Math.floor(Math.max(0, ms) / 60000);
    if (minutes < 1) return gettext("<1 min");
    if (minutes < 60) return interpolate(gettext("%(minutes)s min"), { minutes }, true);
    const hours = Math.floor(minutes / 60);
    // Short enough that "Running · for 2h 16m" fits on one line of a tile.
    if (hours < 48) return interpolate(gettext("%(hours)sh %(minutes)sm"), { hours, minutes: minutes % 60 }, true);
    const days = Math.floor(hours / 24);
    return interpolate(ngettext("%(days)s day", "%(days)s days", days), { days }, true);
  }

  PlantOps.renderStatus = (element, tile) => {
    for (const name of [...element.classList]) {
      if (name.startsWith("status-")) element.classList.remove(name);
    }
    element.classList.add(`status-${tile.status}`);
    element.dataset.status = tile.status;
    element.textContent = PlantOps.statusLabel(tile.status);
  };

  PlantOps.renderReading = (element, signal) => {
    element.textContent = PlantOps.formatValue(signal.value);
    element.dataset.inRange = String(signal.in_range);
    element.dataset.stale = String(signal.stale);
    element.classList.toggle("out-of-range", !signal.in_range);
    // Struck through: a value that is there but old. A dash has nothing to strike.
    element.classList.toggle("stale", signal.stale && signal.value !== null);
  };

  /** Fill the state label, reason and "for 12 min" inside `root` from a tile. */
  PlantOps.renderState = (root, tile) => {
    root.querySelector('[data-role="state-label"]').textContent =
      STATE_LABELS[tile.state] || tile.state || gettext("No state reported");
    const reason = root.querySelector('[data-role="state-reason"]');
    reason.textContent = tile.state_reason;
    reason.hidden = !tile.state_reason;
    const since = root.querySelector('[data-role="state-since"]');
    since.setAttribute("datetime", tile.state_since || "");
    PlantOps.renderSince(since);
  };

  PlantOps.renderSince = (element) => {
    const iso = element.getAttribute("datetime");
    if (!iso) {
      element.textContent = "";
      return;
    }
    const since = new Date(iso);
    element.textContent = interpolate(gettext("for %(duration)s"), { duration: formatDuration(Date.now() - since.getTime()) }, true);
    element.title = interpolate(gettext("Since %(time)s"), { time: PlantOpsClock.dateTime(since) }, true);
  };

  /** Keep every "for 12 min" on the page current. */
  PlantOps.tickDurations = () => {
    document.querySelectorAll('[data-role="state-since"]').forEach(PlantOps.renderSince);
  };
})();
