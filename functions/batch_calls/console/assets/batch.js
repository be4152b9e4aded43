// A batch: live counts and progress, why it waits, pause / resume / stop, settings
// (changeable while paused or scheduled), its results (analytics), a re-run of chosen
// recipients, the report and the audit, and its recipients page by page.
import { call, downloadCsv } from "./api.js";
import { announce, checkbox, errorBox, field, fill, h, progressBar, statusBadge, tagList, time } from "./dom.js";
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
  contact_limit: "The next recipients due have had as many calls as the workspace's contact limits allow; calls resume at",
  dial_error: "The last dial failed before the call was placed; it is tried again at",
};
// Why a recipient due is held back (waiting_for), shown with waiting_until.
const HELD_BACK = {
  calling_window: "outside its calling hours",
  contact_limit: "contact limit reached",
  dial_error: "dial failed",
};
const RERUNNABLE = ["no_answer", "voicemail", "failed", "cancelled", "completed"];

export function batchView(view, query, batchId) {
  const path = `/batch-calls/${encodeURIComponent(batchId)}`;
  const summary = h("div", { class: "summary" }, h("p", {}, "Loading…"));
  const message = h("div", { class: "message", "aria-live": "polite" });
  const settings = h("section", { class: "settings", "aria-labelledby": "settings-title" });
  const recipients = recipientsSection(path);
  const confirmStop = stopDialog();
  const chooseRerun = rerunDialog();
  const analytics = h("section", { class: "analytics", "aria-labelledby": "analytics-title" });
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

  async function download(kind, label) {
    message.replaceChildren();
    try {
      const filename = await downloadCsv(batchId, kind);
      fill(message, h("p", { class: "ok" }, `${label} downloaded: ${filename}`));
      announce(`${label} downloaded`);
    } catch (error) {
      fill(message, errorBox(error));
    }
  }

  async function rerun() {
    const statuses = await chooseRerun(batch);
    if (!statuses) return;
    message.replaceChildren();
    try {
      const created = await call("POST", `${path}/rerun`, { json: { statuses } });
      announce(`Re-run ${created.name} created`);
      location.hash = `#/batch/${encodeURIComponent(created.id)}`;
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
    if (FINAL.has(batch.status)) buttons.push(h("button", { type: "button", class: "secondary", onclick: rerun }, "Re-run…"));
    buttons.push(h("button", { type: "button", class: "secondary", onclick: () => download("report", "Report") }, "Download report"));
    buttons.push(h("button", { type: "button", class: "secondary", onclick: () => download("audit", "Audit") }, "Download audit"));
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
        batch.finished_at ? [" · finished ", time(batch.finished_at)] : null,
        batch.rerun_of ? [" · re-run of ", batchLink(batch.rerun_of)] : null,
        batch.reruns?.length ? [" · re-run as ", batch.reruns.map((id, index) => [index ? ", " : "", batchLink(id)])] : null),
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
        h("dt", {}, "Compliance rules"), h("dd", {}, `${batch.compliance_profile || "the workspace's"}` +
          (batch.observe_federal_holidays ? "; no calls on US federal holidays" : "; calls on US federal holidays too")),
        h("dt", {}, "A machine answers"), h("dd", {}, batch.voicemail_policy === "leave_message" ? "leave the agent's message once" : "hang up"),
        h("dt", {}, "Tags"), h("dd", {}, (batch.tags || []).join(", ") || "—"),
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

  view.append(h("p", {}, h("a", { href: "#/batches" }, "← All batches")), summary, controls, message, analytics,
    recipients.element, settings, confirmStop.dialog, chooseRerun.dialog);

  async function load() {
    try {
      batch = await call("GET", path);
      show();
      await Promise.all([recipients.refresh(), showAnalytics(analytics, path)]);
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
  const headings = ["Row", "Phone number", "Status", "Attempts", "Last attempt", "Outcome", "Call", "Post-call data"];
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
          h("td", { "data-label": "Outcome" }, outcome(r)),
          h("td", { "data-label": "Call" }, callFacts(r)),
          h("td", { "data-label": "Post-call data" }, postCallData(r.data))))),
    ),
  );
}

function batchLink(id) {
  return h("a", { href: `#/batch/${encodeURIComponent(id)}` }, h("code", {}, id));
}

// What became of the recipient, or what it waits for.
function outcome(r) {
  const parts = [];
  if (r.last_outcome) parts.push(r.last_outcome.replace("_", " "));
  if (r.skip_reason) parts.push(r.skip_reason);
  if (r.waiting_for) parts.push(h("span", { class: "held" }, `held back: ${HELD_BACK[r.waiting_for] || r.waiting_for}`,
    r.waiting_until ? [" until ", time(r.waiting_until)] : null));
  else if (r.next_attempt_at) parts.push(["retry at ", time(r.next_attempt_at)]);
  if (parts.length === 0) return "—";
  return parts.map((part, index) => [index ? h("br") : null, part]);
}

// The call facts the provider told: id, length, who answered, why it ended, cost, links.
function callFacts(r) {
  if (!r.call_id) return "—";
  const facts = [
    r.duration_seconds !== null && r.duration_seconds !== undefined ? `${r.duration_seconds} s` : null,
    r.answered_by ? `answered by ${r.answered_by}` : null,
    r.ended_reason ? `ended: ${r.ended_reason}` : null,
    r.cost !== null && r.cost !== undefined ? `${r.cost} ${r.cost_currency || ""}`.trim() : null,
  ].filter(Boolean);
  const links = [["Recording", r.recording_url], ["Transcript", r.transcript_url]]
    .filter(([, address]) => /^https?:\/\//.test(address || ""))
    .map(([label, address]) => h("a", { href: address, target: "_blank", rel: "noopener noreferrer" }, label));
  return [
    h("code", {}, r.call_id),
    facts.length ? h("div", { class: "call-facts" }, facts.join(" · ")) : null,
    links.length ? h("div", { class: "call-links" }, links.map((link, index) => [index ? " · " : "", link])) : null,
  ];
}

function postCallData(data) {
  const entries = Object.entries(data || {});
  if (entries.length === 0) return "—";
  return h("dl", { class: "data" }, entries.map(([name, value]) => [h("dt", {}, name), h("dd", {}, String(value))]));
}

// The batch's results (GET .../analytics): outcomes per attempt, answer rate, durations,
// cost; live while it runs.
async function showAnalytics(section, path) {
  try {
    const stats = await call("GET", `${path}/analytics`);
    fill(section, h("h2", { id: "analytics-title" }, "Results"), ...analyticsOf(stats));
  } catch (error) {
    fill(section, h("h2", { id: "analytics-title" }, "Results"), errorBox(error));
  }
}

function analyticsOf(stats) {
  if (stats.attempts === 0) return [h("p", {}, "No call has ended yet.")];
  const rate = stats.answer_rate === null ? "—" : `${Math.round(stats.answer_rate * 100)} %`;
  const durations = stats.duration_seconds;
  const listed = (counts) => Object.entries(counts).map(([name, count]) => `${name.replace("_", " ")} ${count}`).join(", ") || "—";
  const outcomes = Object.keys(stats.outcomes);
  const priced = stats.cost.calls_with_cost;
  const cost = stats.cost.total === null ? "—" : `${stats.cost.total} ${stats.cost.currency || ""} (${priced} call${priced === 1 ? "" : "s"})`;
  return [
    h("dl", { class: "facts" },
      h("dt", {}, "Calls ended"), h("dd", {}, stats.attempts),
      h("dt", {}, "Answer rate"), h("dd", {}, `${rate} (${stats.connected} answered)`),
      h("dt", {}, "Answered by"), h("dd", {}, listed(stats.answered_by)),
      h("dt", {}, "Retries used"), h("dd", {}, stats.retries_used),
      h("dt", {}, "Call length"), h("dd", {}, durations.count
        ? `median ${durations.p50} s, 90 % under ${durations.p90} s, mean ${durations.mean.toFixed(1)} s (${durations.count} calls)`
        : "—"),
      h("dt", {}, "Cost"), h("dd", {}, cost)),
    h("div", { class: "table-wrap" },
      h("table", { class: "by-attempt" },
        h("caption", {}, "Outcomes per attempt"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Attempt"), outcomes.map((name) => h("th", { scope: "col" }, name.replace("_", " "))))),
        h("tbody", {}, Object.entries(stats.by_attempt).map(([attempt, counts]) =>
          h("tr", {}, h("th", { scope: "row" }, attempt),
            outcomes.map((name) => h("td", { "data-label": name.replace("_", " ") }, counts[name] || 0))))))),
  ];
}

// A re-run: a new batch of the recipients whose final status is chosen (asked first).
function rerunDialog() {
  const choices = h("fieldset", { class: "days" }, h("legend", {}, "Call again the recipients whose final status is"));
  const errors = h("p", { class: "error-message", "aria-live": "polite" });
  const form = h("form", { method: "dialog" },
    h("h2", { id: "rerun-title" }, "Re-run this batch?"),
    h("p", {}, "A new batch with the same settings calls the recipients chosen here again, with their original variables."),
    choices,
    errors,
    h("div", { class: "actions" },
      h("button", { value: "keep", class: "secondary" }, "Cancel"),
      h("button", { value: "rerun" }, "Create the re-run")));
  const dialog = h("dialog", { "aria-labelledby": "rerun-title" }, form);
  form.addEventListener("submit", (event) => {
    if (event.submitter?.value === "rerun" && !form.querySelector("input:checked")) {
      event.preventDefault();
      errors.textContent = "Choose at least one status.";
    }
  });
  const ask = (batch) => new Promise((resolve) => {
    fill(choices, choices.firstChild, RERUNNABLE.map((status) =>
      checkbox(`${status.replace("_", " ")} (${batch.counts[status] ?? 0})`, {
        name: "statuses", value: status, checked: status !== "completed" && batch.counts[status] > 0,
      })));
    errors.textContent = "";
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "rerun"
      ? [...form.querySelectorAll("input:checked")].map((box) => box.value) : null), { once: true });
    dialog.showModal();
  });
  ask.dialog = dialog;
  return ask;
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
