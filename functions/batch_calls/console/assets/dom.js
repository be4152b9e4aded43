// Building the page: elements from plain data, text always as text (never parsed as
// HTML), so nothing the API returns can run in the page.

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name === "value") element.value = value;
    else if (name === "checked") element.checked = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}

export function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// replaceChildren, skipping null and false as `h` does (the DOM would write "null").
export function fill(element, ...children) {
  element.replaceChildren();
  return append(element, children);
}

let uniqueId = 0;
export function newId(prefix) {
  uniqueId += 1;
  return `${prefix}-${uniqueId}`;
}

// A labelled control: the label names it, the hint describes it.
export function field(label, control, hint) {
  control.id ||= newId("field");
  const hintElement = hint ? h("span", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintElement) control.setAttribute("aria-describedby", hintElement.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintElement);
}

export function checkbox(label, attributes) {
  const input = h("input", { type: "checkbox", ...attributes });
  input.id ||= newId("check");
  return h("div", { class: "check" }, input, h("label", { for: input.id }, label));
}

export function time(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return h("time", { datetime: iso, title: iso }, date.toLocaleString());
}

export function announce(text) {
  const announcer = document.getElementById("announcer");
  announcer.textContent = "";
  // A new text node each time, so a screen reader reads a repeated message again.
  setTimeout(() => { announcer.textContent = text; }, 50);
}

export function progressBar(counts) {
  const done = counts.total - counts.pending - counts.in_progress;
  const percent = counts.total ? Math.round((100 * done) / counts.total) : 0;
  return h(
    "div",
    { class: "progress" },
    h("progress", { max: counts.total || 1, value: done, "aria-label": `${done} of ${counts.total} done` }),
    h("span", { class: "progress-text" }, `${done} / ${counts.total} done (${percent} %)`),
  );
}

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}` }, status.replace("_", " "));
}

// A batch's tags (seed 003's), each a link to the batches with that tag.
export function tagList(tags) {
  if (!Array.isArray(tags) || tags.length === 0) return null;
  return h(
    "ul",
    { class: "tags", "aria-label": "Tags" },
    tags.map((tag) => h("li", {}, h("a", { href: `#/batches?tag=${encodeURIComponent(tag)}` }, String(tag)))),
  );
}

// An error as the API words it; a contact file's rows grouped by reason.
export function errorBox(error) {
  const body = error.body && typeof error.body === "object" ? error.body : {};
  const box = h("div", { class: "error", role: "alert" }, h("p", { class: "error-message" }, error.message));
  if (body.field) box.append(h("p", {}, "Field: ", h("code", {}, body.field)));
  if (Array.isArray(body.missing)) box.append(h("p", {}, "Missing columns: ", body.missing.join(", ")));
  if (Array.isArray(body.errors) && body.errors.length) box.append(issueList("Errors", body.errors));
  if (Array.isArray(body.warnings) && body.warnings.length) box.append(issueList("Warnings", body.warnings));
  return box;
}

const ROWS_SHOWN = 20;

export function issueList(title, issues) {
  return h(
    "div",
    { class: "issues" },
    h("h3", {}, title),
    h(
      "ul",
      {},
      issues.map((issue) =>
        h(
          "li",
          {},
          h("strong", {}, issue.reason),
          issue.message ? `: ${issue.message}` : "",
          issue.countries ? ` (${issue.countries.join(", ")})` : "",
          Array.isArray(issue.rows) && issue.rows.length
            ? h(
                "div",
                { class: "rows" },
                `Rows ${issue.rows.slice(0, ROWS_SHOWN).join(", ")}`,
                issue.rows.length > ROWS_SHOWN ? ` and ${issue.rows.length - ROWS_SHOWN} more` : "",
              )
            : null,
        ),
      ),
    ),
  );
}
