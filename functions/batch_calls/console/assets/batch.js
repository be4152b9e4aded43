// A batch: live counts and progress, why it waits, pause / resume / stop, settings
// (changeable while paused or scheduled), the report, and its recipients page by page.
import { call, downloadReport } from "./api.js";
import { announce, errorBox, field, fill, h, progressBar, statusBadge, tagList, time } from "./dom.js";
import { isoFromLocalInput, localInputValue, readSettings, settingsFieldsets } from "./settings.js";

const FINAL = new Set(["completed", "cancelled"]);
const RECIPIENT_STATUSES = ["pending", "dialing", "in_progress", "waiting_retry", "completed", "no_answer",
  "voicemail", "failed", "skipped", "cancelled"];
const COUNTS = ["total", "pending", "in_progress", "completed", "no_answer", "voicemail", "failed", "skipped", "cancelled"];
const EDITABLE = new Set(["paused", "scheduled"]);
const PAGE_SIZE = 50;
const WAITING = {
  scheduled_start: "Scheduled: the first calls start at",
  retry_wait: "Waiting for retries; the next is due at",
  calling_window: "Outside the calling hours; they open at",
};

export function batchView(view, query, batchId) {
  const path = `/batch-calls/${encodeURIComponent(batchId)}`;
  const summary = h("div", { class: "summary" }, h("p", {}, "Loading…"));
  const message = h("div", { class: "message", "aria-live": "polite" });
  const settings = h("section", { class: "settings", "aria-labelledby": "settings-title" });
  const recipients = recipientsSection(path);
  const confirmStop = stopDialog();
  const controls = h("div", {});
  let batch = null;
  let editing = false;
  // Buttons are rebuilt only when the status changes, so a poll never takes the focus.
  let shownStatus = null;

  async function act(action, label) {
    message.replaceChildren();
    try {
      batch = await call("POST", `${path}/${action}`);
      announce(`Batch ${label}`);
      fill(message, h("p", { class: "ok" }, `Batch ${label}.`));
      show();
      controls.querySelector("button")?.focus(); // the button pressed may be gone
    } catch (error) {
      fill(message, errorBox(error));
    }
  }

  async function download() {
    message.replaceChildren();
    try {
      const filename = await downloadReport(batchId);
      fill(message, h("p", { class: "ok" }, `Report downloaded: ${filename}`));
      announce("Report downloaded");
    } catch (error) {
      fill(message, errorBox(error));
    }
  }

  function actions() {
    const buttons = [];
    if (batch.status === "draft") buttons.push(h("button", { type: "button", onclick: () => act("start", "started") }, "Start"));
    if (["initiated", "scheduled", "running"].includes(batch.status)) {
      buttons.push(h("button", { type: "button", onclick: () => act("pause", "paused") }, "Pause"));
    }
    if (batch.status === "paused") buttons.push(h("button", { type: "button", onclick: () => act("resume", "resumed") }, "Resume"));
    if (!FINAL.has(batch.status)) {
      buttons.push(h("button", { type: "button", class: "danger", onclick: async () => {
        if (await confirmStop(batch)) act("cancel", "stopped");
      } }, "Stop"));
    }
    buttons.push(h("button", { type: "button", class: "secondary", onclick: download }, "Download report"));
    return h("div", { class: "actions", role: "group", "aria-label": "Batch actions" }, buttons);
  }

  function show() {
    const counts = batch.counts;
    const waiting = batch.waiting_for && batch.next_attempt_at
      ? h("p", { class: "waiting" }, `${WAITING[batch.waiting_for]} `, time(batch.next_attempt_at), ".")
      : batch.next_attempt_at ? h("p", { class: "waiting" }, "Next attempt due at ", time(batch.next_attempt_at), ".") : null;
    fill(summary,
      h("div", { class: "heading" }, h("h1", {}, batch.name), statusBadge(batch.status)),
      h("p", { class: "meta" }, h("code", {}, batch.id), " · created ", time(batch.created_at),
        batch.finished_at ? [" · finished ", time(batch.finished_at)] : null),
      tagList(batch.tags),
      progressBar(counts),
      waiting,
      h("dl", { class: "counts", "aria-label": "Recipients by status" },
        COUNTS.map((name) => h("div", {}, h("dt", {}, name.replace("_", " ")), h("dd", {}, counts[name])))),
    );
    if (batch.status !== shownStatus) {
      shownStatus = batch.status;
      fill(controls, actions());
      if (!editing) showSettings();
    }
  }

  function showSettings() {
    const retry = batch.retry_config;
    const window = batch.calling_window;
    fill(settings,
      h("h2", { id: "settings-title" }, "Settings"),
      h("dl", { class: "facts" },
        h("dt", {}, "Agent"), h("dd", {}, batch.agent_id),
        h("dt", {}, "From number"), h("dd", {}, [batch.from_phone_number, ...(batch.from_phone_numbers || []).filter((n) => n !== batch.from_phone_number)].join(", ")),
        h("dt", {}, "Scheduled start"), h("dd", {}, time(batch.scheduled_at)),
        h("dt", {}, "Concurrent calls"), h("dd", {}, batch.max_concurrent_calls),
        h("dt", {}, "Call starts per second"), h("dd", {}, batch.max_calls_per_second ?? "no cap"),
        h("dt", {}, "Priority"), h("dd", {}, batch.priority),
        h("dt", {}, "Retries"), h("dd", {}, `${retry.max_retries}, ${retry.retry_interval_minutes} min apart; on ` +
          (["no_answer", "busy", "voicemail", "failed"].filter((o) => retry[`retry_on_${o}`]).join(", ") || "nothing")),
        h("dt", {}, "Calling hours"), h("dd", {}, window
          ? `${window.start}-${window.end} ${window.recipient_local_time ? "each recipient's time" : window.timezone}, days ${window.days.join(",")}`
          : "any time"),
        h("dt", {}, "Variables"), h("dd", {}, (batch.variables || []).join(", ") || "—")),
      EDITABLE.has(batch.status)
        ? h("button", { type: "button", class: "secondary", onclick: edit }, "Edit settings")
        : FINAL.has(batch.status) ? null : h("p", { class: "hint" }, "Pause the batch to change its settings."),
    );
  }

  function edit() {
    editing = true;
    const errors = h("div", { "aria-live": "polite" });
    const form = h(
      "form",
      { class: "edit-settings", novalidate: true },
      field("Name", h("input", { type: "text", name: "name", value: batch.name, required: true })),
      batch.status === "scheduled"
        ? field("Start at (your local time)", h("input", { type: "datetime-local", name: "scheduled_at", value: localInputValue(batch.scheduled_at) }))
        : null,
      settingsFieldsets(batch),
      errors,
      h("div", { class: "actions" },
        h("button", { type: "submit" }, "Save settings"),
        h("button", { type: "button", class: "secondary", onclick: () => { editing = false; showSettings(); } }, "Cancel")),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const changes = { name: form.elements.name.value.trim(), ...readSettings(form) };
      if (form.elements.scheduled_at) changes.scheduled_at = isoFromLocalInput(form.elements.scheduled_at.value);
      try {
        batch = await call("PATCH", path, { json: changes });
        editing = false;
        announce("Settings saved");
        fill(message, h("p", { class: "ok" }, "Settings saved."));
        show();
        showSettings();
      } catch (error) {
        fill(errors, errorBox(error));
      }
    });
    fill(settings, h("h2", { id: "settings-title" }, "Edit settings"), form);
    form.elements.name.focus();
  }

  view.append(h("p", {}, h("a", { href: "#/batches" }, "← All batches")), summary, controls, message, recipients.element, settings, confirmStop.dialog);

  async function load() {
    try {
      batch = await call("GET", path);
      show();
      await recipients.refresh();
      return !FINAL.has(batch.status);
    } catch (error) {
      fill(summary, h("h1", {}, "Batch"), errorBox(error));
      return false;
    }
  }
  return { load, refreshEvery: 3000 };
}

function recipientsSection(path) {
  let status = "";
  // The cursors of the pages seen so far: [null] is the first page.
  let cursors = [null];
  let next = null;
  const body = h("div", { class: "results" });
  const filter = h(
    "select",
    { onchange: () => { status = filter.value; cursors = [null]; refresh(); } },
    h("option", { value: "" }, "Any status"),
    RECIPIENT_STATUSES.map((s) => h("option", { value: s }, s.replace("_", " "))),
  );
  const previous = h("button", { type: "button", onclick: () => { cursors.pop(); refresh(); } }, "Previous");
  const following = h("button", { type: "button", onclick: () => { cursors.push(next); refresh(); } }, "Next");
  const page = h("span", {});
  const element = h(
    "section",
    { "aria-labelledby": "recipients-title" },
    h("h2", { id: "recipients-title" }, "Recipients"),
    h("div", { class: "toolbar" }, field("Status", filter)),
    body,
    h("nav", { class: "pager", "aria-label": "Recipient pages" }, previous, page, following),
  );

  async function refresh() {
    try {
      const list = await call("GET", `${path}/recipients`, {
        query: { status, cursor: cursors.at(-1), limit: PAGE_SIZE },
      });
      next = list.next_cursor;
      previous.disabled = cursors.length <= 1;
      following.disabled = !next || list.data.length === 0;
      page.textContent = `Page ${cursors.length}`;
      fill(body, table(list.data));
    } catch (error) {
      fill(body, errorBox(error));
    }
  }
  return { element, refresh };
}

function table(recipients) {
  if (recipients.length === 0) return h("p", {}, "No recipients here (yet).");
  const headings = ["Row", "Phone number", "Status", "Attempts", "Last attempt", "Outcome", "Call"];
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "recipients" },
      h("thead", {}, h("tr", {}, headings.map((title) => h("th", { scope: "col" }, title)))),
      h("tbody", {}, recipients.map((r) =>
        h("tr", {},
          h("td", { "data-label": "Row" }, r.part > 1 ? `${r.part}/${r.row}` : r.row),
          h("td", { "data-label": "Phone number" }, r.phone_number),
          h("td", { "data-label": "Status" }, statusBadge(r.status)),
          h("td", { "data-label": "Attempts" }, r.attempts_made),
          h("td", { "data-label": "Last attempt" }, time(r.last_attempt_at)),
          h("td", { "data-label": "Outcome" }, r.last_outcome || r.skip_reason || (r.next_attempt_at ? ["retry at ", time(r.next_attempt_at)] : "—")),
          h("td", { "data-label": "Call" }, r.call_id ? h("code", {}, r.call_id) : "—")))),
    ),
  );
}

// Stopping is permanent: a modal dialog asks first (Escape or "Keep it" cancels).
function stopDialog() {
  const text = h("p", {});
  const dialog = h(
    "dialog",
    { "aria-labelledby": "stop-title" },
    h("form", { method: "dialog" },
      h("h2", { id: "stop-title" }, "Stop this batch?"),
      text,
      h("div", { class: "actions" },
        h("button", { value: "keep", class: "secondary", autofocus: true }, "Keep it"),
        h("button", { value: "stop", class: "danger" }, "Stop the batch"))),
  );
  const ask = (batch) => new Promise((resolve) => {
    text.textContent = `Calls in progress finish, nobody else in "${batch.name}" is called, and ` +
      `${batch.counts.pending} recipients still waiting become cancelled. A stopped batch cannot be resumed.`;
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "stop"), { once: true });
    dialog.showModal();
  });
  ask.dialog = dialog;
  return ask;
}
