// New batch: every setting of POST /batch-calls with the API's defaults, a contact file
// dropped or chosen, and a preview from POST /batch-calls/validate before creating.
import { call, uploadContacts } from "./api.js";
import { announce, checkbox, errorBox, field, fill, h, issueList } from "./dom.js";
import { API_DEFAULTS, isoFromLocalInput, readSettings, settingsFieldsets } from "./settings.js";

const FILE_TYPES = ".csv,.xlsx,.xls,.json,text/csv";
// Larger files go to S3 first (api.js, uploadContacts): a request to the API holds about
// 4.5 MB of file at most.
const INLINE_FILE_BYTES = 4 * 1024 * 1024;

export function newBatchView(view) {
  const fileInput = h("input", { type: "file", name: "file", accept: FILE_TYPES, required: true });
  const chosen = h("p", { class: "chosen", "aria-live": "polite" }, "No file chosen.");
  const drop = h(
    "div",
    { class: "dropzone" },
    field("Contact file", fileInput, "CSV, XLSX or XLS (or JSON): a phone_number column, every other column a variable. Drop it here or choose it."),
    chosen,
  );
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) {
      fileInput.files = event.dataTransfer.files;
      fileInput.dispatchEvent(new Event("change", { bubbles: true }));
    }
  });
  fileInput.addEventListener("change", () => {
    const file = fileInput.files[0];
    chosen.textContent = file ? `${file.name} (${Math.ceil(file.size / 1024)} KB)` : "No file chosen.";
  });

  const later = h("input", { type: "datetime-local", name: "scheduled_at" });
  const schedule = h(
    "fieldset",
    {},
    h("legend", {}, "When to start"),
    h("div", { class: "check" }, h("input", { type: "radio", name: "when", value: "now", id: "when-now", checked: true }),
      h("label", { for: "when-now" }, "Now")),
    h("div", { class: "check" }, h("input", { type: "radio", name: "when", value: "later", id: "when-later" }),
      h("label", { for: "when-later" }, "Scheduled")),
    field("Start at (your local time)", later, "The batch waits as scheduled until then."),
    checkbox("Save as a draft (start it later from its page)", { name: "draft" }),
  );
  const rules = h(
    "fieldset",
    {},
    h("legend", {}, "Contact file rules"),
    h("div", { class: "check" }, h("input", { type: "radio", name: "on_invalid_rows", value: "reject", id: "invalid-reject", checked: true }),
      h("label", { for: "invalid-reject" }, "Reject the file if any row is invalid (default)")),
    h("div", { class: "check" }, h("input", { type: "radio", name: "on_invalid_rows", value: "skip", id: "invalid-skip" }),
      h("label", { for: "invalid-skip" }, "Skip invalid rows and call the others")),
    checkbox("Drop duplicate numbers (default)", { name: "dedupe", checked: true }),
  );
  const webhooks = h(
    "details",
    {},
    h("summary", {}, "Webhooks (optional)"),
    field("When each call ends", h("input", { type: "url", name: "on_call_complete", autocomplete: "off" })),
    field("When the batch ends", h("input", { type: "url", name: "on_batch_complete", autocomplete: "off" })),
  );
  const submit = h("button", { type: "submit" }, "Preview");
  const preview = h("section", { class: "preview", "aria-live": "polite", "aria-label": "Preview" });
  let previewed = false;
  const form = h(
    "form",
    { class: "new-batch", novalidate: true },
    h("fieldset", {}, h("legend", {}, "Batch"),
      field("Name", h("input", { type: "text", name: "name", autocomplete: "off" }), "Used in reports only. Default: Batch <date and time> UTC."),
      field("Agent", h("input", { type: "text", name: "agent_id", required: true, autocomplete: "off" }), "The agent's id, such as agt_demo."),
      field("From number", h("input", { type: "tel", name: "from_phone_number", autocomplete: "off" }),
        "The caller ID, E.164 (+14155550100). Empty: the workspace's only number."),
      drop),
    schedule,
    settingsFieldsets(API_DEFAULTS),
    rules,
    webhooks,
    preview,
    h("div", { class: "actions" }, submit),
  );
  const stale = () => {
    if (!previewed) return;
    previewed = false;
    submit.textContent = "Preview";
  };
  form.addEventListener("input", stale);
  form.addEventListener("change", stale);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files[0];
    if (!form.elements.agent_id.value.trim() || !file) {
      fill(preview, errorBox(new Error(file ? "Give the agent's id." : "Choose a contact file.")));
      (file ? form.elements.agent_id : fileInput).focus();
      return;
    }
    if (form.elements.when.value === "later" && !form.elements.scheduled_at.value) {
      fill(preview, errorBox(new Error("Give the start time, or choose Now.")));
      form.elements.scheduled_at.focus();
      return;
    }
    submit.disabled = true;
    try {
      if (!previewed) {
        const summary = await call("POST", "/batch-calls/validate", { form: await requestOf(form, file, preview) });
        fill(preview, ...previewOf(summary));
        previewed = true;
        preview.scrollIntoView({ block: "start" });
        submit.textContent = "Create batch";
        announce(`${summary.message} Check the preview, then create the batch.`);
      } else {
        const batch = await call("POST", "/batch-calls", { form: await requestOf(form, file, preview) });
        announce(`Batch ${batch.name} created`);
        location.hash = `#/batch/${encodeURIComponent(batch.id)}`;
      }
    } catch (error) {
      fill(preview, h("h2", {}, "The file or a setting needs a change"), errorBox(error));
      announce(error.message);
    } finally {
      submit.disabled = false;
    }
  });
  view.append(h("h1", {}, "New batch"), form);
  return null;
}

async function requestOf(form, file, status) {
  const data = new FormData();
  const put = (name, value) => {
    if (value === null || value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) return;
    data.append(name, typeof value === "object" ? JSON.stringify(value) : String(value));
  };
  put("name", form.elements.name.value.trim());
  put("agent_id", form.elements.agent_id.value.trim());
  put("from_phone_number", form.elements.from_phone_number.value.trim());
  if (form.elements.when.value === "later") put("scheduled_at", isoFromLocalInput(form.elements.scheduled_at.value));
  for (const [name, value] of Object.entries(readSettings(form))) put(name, value);
  put("on_invalid_rows", form.elements.on_invalid_rows.value);
  put("dedupe", form.elements.dedupe.checked ? "true" : "false");
  if (form.elements.draft.checked) put("start", "false");
  const hooks = {};
  for (const name of ["on_call_complete", "on_batch_complete"]) {
    const address = form.elements[name].value.trim();
    if (address) hooks[name] = address;
  }
  if (Object.keys(hooks).length) put("webhooks", hooks);
  if (file.size > INLINE_FILE_BYTES) {
    fill(status, h("p", {}, `Uploading ${file.name} to S3…`));
    put("upload_id", await uploadContacts(file));
  } else {
    data.append("file", file, file.name);
  }
  return data;
}

function previewOf(summary) {
  const found = new Set(summary.variables);
  const placeholders = summary.agent_placeholders || [];
  const unused = summary.variables.filter((name) => !placeholders.includes(name));
  const countries = Object.entries(summary.countries || {}).map(([country, rows]) => `${country} ${rows}`).join(", ");
  return [
    h("h2", {}, "Preview"),
    h("p", { class: "ok" }, summary.message),
    h("dl", { class: "facts" },
      h("dt", {}, "Rows in the file"), h("dd", {}, summary.total_rows),
      h("dt", {}, "Rows to call"), h("dd", {}, summary.accepted_rows),
      h("dt", {}, "Rows skipped"), h("dd", {}, summary.skipped_rows),
      h("dt", {}, "Countries"), h("dd", {}, countries || "—")),
    summary.errors?.length ? issueList("Rows skipped, by reason", summary.errors) : null,
    summary.warnings?.length ? issueList("Warnings", summary.warnings) : null,
    h("h3", {}, "Variables"),
    placeholders.length
      ? h("table", { class: "variables" },
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Agent's prompt uses"), h("th", { scope: "col" }, "Column in the file"))),
          h("tbody", {}, placeholders.map((name) =>
            h("tr", {}, h("td", {}, h("code", {}, `{{${name}}}`)),
              h("td", {}, found.has(name) || name === "phone_number" ? "found" : "missing")))))
      : h("p", {}, "The agent's prompt uses no variables."),
    unused.length ? h("p", {}, "Columns the prompt does not use (still passed to the agent): ", unused.join(", ")) : null,
  ];
}
