/*
 * The work-order screens on a tablet whose Wi-Fi comes and goes: what was typed survives a
 * dropped connection or a reload, a form is not sent twice by a double tap, and a tap while
 * offline keeps the entry and says so instead of showing the browser's error page.
 * A plain script, no build step.
 */
"use strict";

(() => {
  const page = document.querySelector("[data-work-order-id]");
  const draftKey = page ? `plantops.work.${page.dataset.workOrderId}.draft` : "";
  const finished = document.querySelector('[data-role="wo-status"][data-status="done"], [data-role="wo-status"][data-status="cancelled"]');

  function showOffline(offline) {
    if (!offline) {
      PlantOps.offlineBanner.hide();
      return;
    }
    PlantOps.offlineBanner.show(
      gettext("Offline — waiting for the network…"),
      gettext("What you typed is kept on this tablet. Send it again once this goes away."),
      () => window.location.reload(),
    );
  }
  window.addEventListener("offline", () => showOffline(true));
  window.addEventListener("online", () => showOffline(false));
  showOffline(!navigator.onLine);

  // Drafts: every text field of the screen's forms, kept per work order until it is finished.
  const fields = () => Array.from(document.querySelectorAll("form textarea, form input[type=text], form input[type=number]"))
    .filter((field) => field.name && field.name !== "quantity");
  function fieldKey(field) {
    return `${field.form.getAttribute("action") || ""}|${field.name}`;
  }
  function loadDraft() {
    try {
      return JSON.parse(sessionStorage.getItem(draftKey) || "{}");
    } catch (error) {
      return {};
    }
  }
  if (draftKey && finished) {
    sessionStorage.removeItem(draftKey);
  } else if (draftKey) {
    const draft = loadDraft();
    for (const field of fields()) {
      const kept = draft[fieldKey(field)];
      if (kept && !field.value) field.value = kept;
      field.addEventListener("input", () => {
        const now = loadDraft();
        now[fieldKey(field)] = field.value;
        sessionStorage.setItem(draftKey, JSON.stringify(now));
      });
    }
  }

  for (const form of document.querySelectorAll("main form")) {
    form.addEventListener("submit", (event) => {
      if (!navigator.onLine) {
        event.preventDefault();
        showOffline(true);
        return;
      }
      if (form.dataset.sending === "1") {
        event.preventDefault(); // a second tap of a gloved hand
        return;
      }
      form.dataset.sending = "1";
      // A sent note is done with: forget its draft (a refused one comes back in the page).
      if (draftKey && form.getAttribute("action")?.endsWith("/note")) {
        const now = loadDraft();
        delete now[`${form.getAttribute("action")}|note`];
        sessionStorage.setItem(draftKey, JSON.stringify(now));
      }
      for (const button of form.querySelectorAll("button[type=submit]")) {
        button.setAttribute("aria-disabled", "true");
      }
    });
  }
  // Back from the browser's page cache (a tablet going back): the forms may be sent again.
  window.addEventListener("pageshow", () => {
    for (const form of document.querySelectorAll("main form")) delete form.dataset.sending;
  });
})();
