/*
 * The model-health page's fits: start one with the Fit button and follow it live (stage,
 * percent, time taken, then the result or the error in words).
 *
 * The page starts from the runs rendered into it, and its socket sends the latest run of every
 * estimator again on each (re)connect, so a tablet back from a Wi-Fi drop is current at once.
 * Pushes may overtake one another: per run, only a higher revision is shown. The server words
 * each run (status, stage, outcome) in the page's language; the rest is worded here.
 */
"use strict";

(() => {
  const panels = new Map();
  document.querySelectorAll('[data-role="fit"]').forEach((panel) => {
    panels.set(`${panel.dataset.assetType}/${panel.dataset.failureMode}`, panel);
  });
  if (!panels.size) return;

  // Per panel: the run shown, and when its elapsed time was counted (this tablet's clock).
  const shown = new Map();

  function elapsedText(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return interpolate(gettext("%(seconds)s s"), { seconds: s }, true);
    if (s < 3600) {
      return interpolate(gettext("%(minutes)s min %(seconds)s s"), { minutes: Math.floor(s / 60), seconds: s % 60 }, true);
    }
    return interpolate(
      gettext("%(hours)s h %(minutes)s min"),
      { hours: Math.floor(s / 3600), minutes: Math.floor((s % 3600) / 60) },
      true,
    );
  }

  function part(panel, role) {
    return panel.querySelector(`[data-role="${role}"]`);
  }

  function renderElapsed(panel) {
    const entry = shown.get(panel);
    if (!entry) return;
    const { run, receivedAt } = entry;
    const extra = run.under_way ? (Date.now() - receivedAt) / 1000 : 0;
    const by = run.requested_by
      ? interpolate(gettext("Started by %(name)s"), { name: run.requested_by }, true)
      : gettext("Started on the command line");
    const time = elapsedText(run.elapsed_s + extra);
    const how =
      run.status === "queued"
        ? interpolate(gettext("waiting %(time)s"), { time }, true)
        : run.under_way
          ? interpolate(gettext("running %(time)s"), { time }, true)
          : interpolate(gettext("took %(time)s"), { time }, true);
    part(panel, "fit-meta").textContent = `${by} · ${how}`;
  }

  function render(run) {
    const panel = panels.get(`${run.asset_type}/${run.failure_mode}`);
    if (!panel) return;
    const current = shown.get(panel);
    if (current && (run.id < current.run.id || (run.id === current.run.id && run.revision < current.run.revision))) {
      return; // an older run, or an older state of this one
    }
    shown.set(panel, { run, receivedAt: Date.now() });
    panel.dataset.status = run.status;
    panel.dataset.runId = String(run.id);
    panel.dataset.revision = String(run.revision);
    part(panel, "fit-status").textContent = run.status_label;
    part(panel, "fit-percent").textContent = run.under_way ? `${run.percent} %` : "";
    const progress = part(panel, "fit-progress");
    progress.value = run.percent;
    progress.textContent = `${run.percent} %`;
    progress.hidden = !run.under_way;
    const stage = part(panel, "fit-stage");
    stage.textContent = run.stage_text;
    stage.hidden = !run.under_way;
    const outcome = part(panel, "fit-outcome");
    outcome.textContent = run.error || run.result_text;
    outcome.hidden = !outcome.textContent;
    const button = part(panel, "fit-button");
    if (button) {
      if (run.status === "succeeded") button.dataset.idleText = pgettext("fit a model", "Fit again"); // a version exists now
      button.disabled = run.under_way;
      button.textContent = run.under_way ? gettext("Fitting…") : button.dataset.idleText;
    }
    if (!run.under_way) refuse(panel, ""); // "already being fitted" no longer holds
    // Seen to finish here: the header's version, rendered with the page, is now the old one.
    const version = panel.closest("section")?.querySelector(".line-area");
    if (version && current?.run.under_way && run.status === "succeeded") {
      version.textContent = interpolate(gettext("%(label)s, in use, fitted just now"), { label: run.result.label }, true);
    }
    renderElapsed(panel);
  }

  function refuse(panel, text) {
    const refusal = part(panel, "fit-refusal");
    if (!refusal) return; // a role that may watch fits but not start one
    refusal.textContent = text;
    refusal.hidden = !text;
  }

  JSON.parse(document.getElementById("fit-runs-initial").textContent).forEach(render);
  setInterval(() => panels.forEach(renderElapsed), 1000);

  PlantOps.live("/ws/health/fits/", {
    onMessage(message) {
      if (message.type === "fit.snapshot") message.runs.forEach(render);
      else if (message.type === "fit.run") render(message.run);
    },
  });

  // The form works without this script (a post, then the page again with a message); with it,
  // the page stays and the refusal, if any, shows beside the button.
  panels.forEach((panel) => {
    const form = part(panel, "fit-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = part(panel, "fit-button");
      button.disabled = true;
      refuse(panel, "");
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (response.redirected) {
          location.reload(); // the session ended: the page takes the tablet to the login
          return;
        }
        const answer = await response.json().catch(() => ({}));
        if (response.ok && answer.run) {
          render(answer.run);
          return;
        }
        refuse(
          panel,
          answer.error ||
            interpolate(gettext("The fit was not started (the server answered %(status)s)."), { status: response.status }, true),
        );
      } catch {
        refuse(panel, gettext("PlantOps did not answer: the fit may not have started. It shows here once the page is back online."));
      }
      const entry = shown.get(panel);
      button.disabled = Boolean(entry && entry.run.under_way);
    });
  });
})();
