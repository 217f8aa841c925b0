/*
 * An alert list kept current over /ws/alerts/: the supervisor's inbox, or the alert panel of a
 * tablet's lines on the floor view.
 * The server renders the list; this script only notices that it changed and fetches the list
 * again (the element's data-partial-url, else this page with ?partial=1) rather than patching
 * rows, so what the tablet shows is always exactly what the server would render. On reconnect
 * it asks for the events after the last it saw.
 * Events judged from late data (a gateway's backlog) never sound by themselves: the server sends
 * an "alert.announce" for those that still hold now, and stays quiet about those already over.
 */
"use strict";

(() => {
  const LAST_ID_KEY = "plantops.alerts.lastEventId";
  const SOUND_KEY = "plantops.alerts.sound";
  const LOUD_PRIORITIES = new Set(["critical", "high"]);
  const LOUD_KINDS = new Set(["raised", "realarmed"]);
  // Bursts (a line tripping, an acknowledge of 20 alerts) become one fetch.
  const REFRESH_DELAY_MS = 300;

  const list = document.querySelector("[data-alert-list]");
  const soundButton = document.getElementById("alert-sound");
  const lines = list.dataset.lines;

  // The page's own id is authoritative: it was read just before the list was rendered.
  let lastId = Number(list.dataset.afterId) || 0;
  sessionStorage.setItem(LAST_ID_KEY, String(lastId));
  let refreshTimer = 0;
  let refreshing = false;
  let refreshAgain = false;

  function remember(id) {
    if (id <= lastId) return;
    lastId = id;
    sessionStorage.setItem(LAST_ID_KEY, String(lastId));
  }

  function shownState(alertId) {
    const row = list.querySelector(`[data-state][data-alert-id="${alertId}"]`);
    return row ? row.dataset.state : null;
  }

  // Comments change nothing in a row; everything else (state, shelving, suppression,
  // assignment, a new occurrence) can.
  function changesList(event) {
    const state = shownState(event.alert_id);
    if (state === null) return event.state !== "normal";
    return state !== event.state || event.kind !== "commented";
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, REFRESH_DELAY_MS);
  }

  // Do not pull the list from under someone typing a reason or a comment: wait until they leave the field.
  function busyTyping() {
    const active = document.activeElement;
    return active && list.contains(active) && (active.matches("input[type=text], select") || active.tagName === "TEXTAREA");
  }

  async function refresh() {
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    if (busyTyping()) {
      list.addEventListener("focusout", scheduleRefresh, { once: true });
      return;
    }
    refreshing = true;
    try {
      const url = new URL(list.dataset.partialUrl || location.href, location.href);
      if (!list.dataset.partialUrl) url.searchParams.set("partial", "1");
      const response = await fetch(url, {
        cache: "no-store",
        credentials: "same-origin",
        headers: PlantOps.background,
      });
      if (response.redirected || !response.ok) {
        // Logged out or forbidden: a full load shows the login page or the error.
        if (response.redirected || response.status === 403) location.reload();
        return;
      }
      const html = await response.text();
      const checked = new Set([...list.querySelectorAll('input[name="alert"]:checked')].map((box) => box.value));
      const open = new Set([...list.querySelectorAll("details[open]")].map((details) => details.dataset.alertId));
      list.innerHTML = html;
      list.querySelectorAll('input[name="alert"]').forEach((box) => {
        box.checked = checked.has(box.value);
      });
      list.querySelectorAll("details[data-alert-id]").forEach((details) => {
        details.open = open.has(details.dataset.alertId);
      });
    } catch {
      scheduleRefresh(); // The socket's own reconnect shows the outage; try again shortly.
    } finally {
      refreshing = false;
      if (refreshAgain) {
        refreshAgain = false;
        scheduleRefresh();
      }
    }
  }

  // --- Optional sound: a short beep per critical/high alert raised or announced -----------

  let audio = null;
  let soundOn = sessionStorage.getItem(SOUND_KEY) === "on";

  function showSound() {
    if (!soundButton) return;
    soundButton.setAttribute("aria-pressed", String(soundOn));
    soundButton.textContent = soundOn ? gettext("Sound on") : gettext("Sound off");
  }

  function beep() {
    if (!soundOn || !audio) return;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "square";
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.25, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.4);
  }

  soundButton?.addEventListener("click", () => {
    soundOn = !soundOn;
    sessionStorage.setItem(SOUND_KEY, soundOn ? "on" : "off");
    // Browsers allow audio only after a tap, so the context is made here.
    if (soundOn && !audio) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume();
    showSound();
    if (soundOn) beep();
  });
  // After a reload the browser needs a new tap before it plays anything.
  if (soundOn) {
    document.addEventListener("pointerdown", () => {
      if (!audio) audio = new AudioContext();
    }, { once: true });
  }
  showSound();

  PlantOps.live(() => `/ws/alerts/?after=${lastId}${lines ? `&lines=${lines}` : ""}`, {
    onMessage(message) {
      if (message.type === "alert.caught_up") {
        remember(message.last_id);
        return;
      }
      if (message.type === "alert.announce") {
        if (LOUD_PRIORITIES.has(message.priority)) beep();
        return;
      }
      if (message.type !== "alert.event") return;
      const event = message.event;
      if (event.id <= lastId) return;
      remember(event.id);
      if (event.delivery !== "late" && LOUD_KINDS.has(event.kind) && LOUD_PRIORITIES.has(event.priority)) beep();
      if (changesList(event)) scheduleRefresh();
    },
  });
})();
