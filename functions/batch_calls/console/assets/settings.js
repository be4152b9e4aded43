// The settings a batch is created with and may change while paused: one set of
// fieldsets for the New batch form and the Edit settings form. Defaults are the API's.
import { checkbox, field, h } from "./dom.js";

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const OUTCOMES = ["no_answer", "busy", "voicemail", "failed"];
const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export const API_DEFAULTS = {
  max_concurrent_calls: 1,
  max_calls_per_second: null,
  priority: 5,
  from_phone_numbers: [],
  retry_config: {
    max_retries: 0,
    retry_interval_minutes: 60,
    retry_on_no_answer: true,
    retry_on_busy: true,
    retry_on_voicemail: false,
    retry_on_failed: false,
  },
  calling_window: null,
  voicemail_policy: "hang_up",
  compliance_profile: null,
  observe_federal_holidays: true,
  tags: [],
};
const WINDOW_DEFAULTS = {
  timezone: BROWSER_ZONE,
  start: "09:00",
  end: "18:00",
  days: [0, 1, 2, 3, 4, 5, 6],
  recipient_local_time: false,
  blackout_dates: [],
};

function number(name, value, attributes = {}) {
  return h("input", { type: "number", name, value: value ?? "", inputmode: "numeric", ...attributes });
}

// The fieldsets, filled with `current` (a batch, or the API's defaults).
export function settingsFieldsets(current = API_DEFAULTS) {
  const retry = { ...API_DEFAULTS.retry_config, ...(current.retry_config || {}) };
  const window = { ...WINDOW_DEFAULTS, ...(current.calling_window || {}) };
  const dialling = h(
    "fieldset",
    {},
    h("legend", {}, "Dialling"),
    field("Concurrent calls", number("max_concurrent_calls", current.max_concurrent_calls, { min: 1, required: true }),
      "At most this many calls of the batch at once (default 1; the workspace sets the maximum)."),
    field("Call starts per second", number("max_calls_per_second", current.max_calls_per_second, { min: 1 }),
      "Empty: no cap."),
    field("Priority", number("priority", current.priority, { min: 1, max: 10, required: true }),
      "1-10 (default 5): a higher priority batch gets a freed workspace slot first."),
    field("Caller IDs to rotate", h("input", { type: "text", name: "from_phone_numbers",
      value: (current.from_phone_numbers || []).join(", "), autocomplete: "off" }),
      "Optional: E.164 numbers of the workspace, comma-separated; each recipient keeps one."),
  );
  const waits = h(
    "details",
    {},
    h("summary", {}, "Wait per outcome"),
    OUTCOMES.map((outcome) =>
      field(`Wait after ${outcome.replace("_", " ")} (minutes)`,
        number(`${outcome}_wait_minutes`, retry[`${outcome}_wait_minutes`], { min: 0, step: "any" }),
        "Empty: the wait between attempts."),
    ),
  );
  const retries = h(
    "fieldset",
    {},
    h("legend", {}, "Retry rules"),
    field("Max retries", number("max_retries", retry.max_retries, { min: 0, required: true }),
      "Attempts after the first, per recipient (default 0: no retries)."),
    field("Wait between attempts (minutes)", number("retry_interval_minutes", retry.retry_interval_minutes,
      { min: 0, step: "any", required: true }), "Default 60."),
    OUTCOMES.map((outcome) =>
      checkbox(`Retry on ${outcome.replace("_", " ")}`, { name: `retry_on_${outcome}`, checked: retry[`retry_on_${outcome}`] }),
    ),
    waits,
    field("When a machine answers", h("select", { name: "voicemail_policy" },
      h("option", { value: "hang_up", selected: current.voicemail_policy !== "leave_message" }, "Hang up (retried if Retry on voicemail)"),
      h("option", { value: "leave_message", selected: current.voicemail_policy === "leave_message" }, "Leave the agent's message once, no more calls")),
    "Default: hang up."),
  );
  const windowFields = h(
    "div",
    { class: "window-fields" },
    field("Time zone", h("input", { type: "text", name: "timezone", value: window.timezone, autocomplete: "off" }),
      "IANA name, such as Asia/Kolkata or America/New_York."),
    h("div", { class: "row" },
      field("From", h("input", { type: "time", name: "start", value: window.start })),
      field("Until", h("input", { type: "time", name: "end", value: window.end }))),
    h("fieldset", { class: "days" }, h("legend", {}, "Days"),
      DAYS.map((day, index) => checkbox(day, { name: "days", value: index, checked: window.days.includes(index) }))),
    checkbox("In each recipient's own time zone (from the number)", {
      name: "recipient_local_time", checked: window.recipient_local_time }),
    field("Dates without calls", h("input", { type: "text", name: "blackout_dates",
      value: (window.blackout_dates || []).join(", "), autocomplete: "off" }), "Optional: YYYY-MM-DD, comma-separated."),
  );
  const useWindow = checkbox("Call only within these hours", { name: "use_window", checked: Boolean(current.calling_window) });
  const compliance = [
    field("Compliance rules", h("select", { name: "compliance_profile" },
      h("option", { value: "", selected: !current.compliance_profile }, "The workspace's (default)"),
      h("option", { value: "none", selected: current.compliance_profile === "none" }, "None of its own"),
      h("option", { value: "us_tcpa", selected: current.compliance_profile === "us_tcpa" },
        "US TCPA: 8:00-21:00 recipient-local, state rules, federal holidays, consent")),
    "A batch can add a profile to its workspace's, never remove it."),
    checkbox("Under a compliance profile, no calls on US federal holidays (default)", {
      name: "observe_federal_holidays", checked: current.observe_federal_holidays !== false }),
  ];
  const hours = h("fieldset", {}, h("legend", {}, "Calling hours"), useWindow, windowFields, compliance);
  const toggle = () => { windowFields.hidden = !useWindow.querySelector("input").checked; };
  useWindow.querySelector("input").addEventListener("change", toggle);
  toggle();
  const labels = h(
    "fieldset",
    {},
    h("legend", {}, "Labels"),
    field("Tags", h("input", { type: "text", name: "tags", value: (current.tags || []).join(", "), autocomplete: "off" }),
      "Optional: comma-separated, such as Q4_campaign, high_priority. The batch list filters by them."),
  );
  return [dialling, retries, hours, labels];
}

function numberOf(form, name) {
  const text = form.elements[name].value.trim();
  return text === "" ? null : Number(text);
}

function list(text) {
  return text.split(",").map((item) => item.trim()).filter(Boolean);
}

// The settings as the API takes them (objects; the create form sends them as JSON text).
export function readSettings(form) {
  const retry = {
    max_retries: numberOf(form, "max_retries"),
    retry_interval_minutes: numberOf(form, "retry_interval_minutes"),
  };
  for (const outcome of OUTCOMES) {
    retry[`retry_on_${outcome}`] = form.elements[`retry_on_${outcome}`].checked;
    const wait = numberOf(form, `${outcome}_wait_minutes`);
    if (wait !== null) retry[`${outcome}_wait_minutes`] = wait;
  }
  const settings = {
    max_concurrent_calls: numberOf(form, "max_concurrent_calls"),
    priority: numberOf(form, "priority"),
    retry_config: retry,
    voicemail_policy: form.elements.voicemail_policy.value,
    compliance_profile: form.elements.compliance_profile.value || null,
    observe_federal_holidays: form.elements.observe_federal_holidays.checked,
    tags: list(form.elements.tags.value),
  };
  const perSecond = numberOf(form, "max_calls_per_second");
  if (perSecond !== null) settings.max_calls_per_second = perSecond;
  const callers = list(form.elements.from_phone_numbers.value);
  if (callers.length) settings.from_phone_numbers = callers;
  if (form.elements.use_window.checked) {
    settings.calling_window = {
      timezone: form.elements.timezone.value.trim(),
      start: form.elements.start.value,
      end: form.elements.end.value,
      days: [...form.querySelectorAll("input[name=days]:checked")].map((box) => Number(box.value)),
      recipient_local_time: form.elements.recipient_local_time.checked,
      blackout_dates: list(form.elements.blackout_dates.value),
    };
  }
  return settings;
}

// <input type="datetime-local"> holds local time without a zone; the API wants an offset.
export function localInputValue(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

export function isoFromLocalInput(value) {
  return value ? new Date(value).toISOString() : null;
}
