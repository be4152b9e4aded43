// The batch list: newest first, filtered by status and tag, a page at a time.
import { call } from "./api.js";
import { errorBox, field, fill, h, progressBar, statusBadge, tagList, time } from "./dom.js";

export const BATCH_STATUSES = ["initiated", "draft", "scheduled", "running", "paused", "completed", "cancelled"];
const PAGE_SIZE = 20;
const ACTIVE = new Set(["initiated", "scheduled", "running"]);

export function batchesView(view, query) {
  const status = query.get("status") || "";
  const tag = query.get("tag") || "";
  const page = Math.max(1, Number(query.get("page")) || 1);
  const go = (changes) => {
    const next = new URLSearchParams({ status, tag, page: String(page), ...changes });
    for (const [name, value] of [...next]) if (!value || (name === "page" && value === "1")) next.delete(name);
    const text = next.toString();
    location.hash = `#/batches${text ? `?${text}` : ""}`;
  };
  const filter = h(
    "select",
    { id: "batch-status-filter", onchange: (event) => go({ status: event.target.value, page: "1" }) },
    h("option", { value: "" }, "Any status"),
    BATCH_STATUSES.map((s) => h("option", { value: s, selected: s === status }, s)),
  );
  const tagInput = h("input", { type: "search", id: "batch-tag-filter", name: "tag", value: tag, autocomplete: "off", spellcheck: "false" });
  const tagForm = h(
    "form",
    { class: "inline-form", role: "search", onsubmit: (event) => { event.preventDefault(); go({ tag: tagInput.value.trim(), page: "1" }); } },
    field("Tag", tagInput, "Only the batches with this tag (exactly)."),
    h("button", { type: "submit", class: "secondary" }, "Filter"),
  );
  const results = h("div", { class: "results" }, h("p", {}, "Loading…"));
  view.append(
    h("div", { class: "heading" }, h("h1", {}, "Batches"), h("a", { class: "button", href: "#/new" }, "New batch")),
    h("div", { class: "toolbar" }, field("Status", filter), tagForm,
      tag ? h("p", { class: "tag-filter" }, "Tag: ", h("strong", {}, tag), " ",
        h("button", { type: "button", class: "secondary", onclick: () => go({ tag: "", page: "1" }) }, "Show every tag"))
        : null),
    results,
  );

  async function load() {
    try {
      const list = await call("GET", "/batch-calls", { query: { status, tag, page, limit: PAGE_SIZE } });
      fill(results, table(list.data), pager(list.meta, go));
      return list.data.some((batch) => ACTIVE.has(batch.status));
    } catch (error) {
      fill(results, errorBox(error));
      return false;
    }
  }
  return { load, refreshEvery: 5000 };
}

function table(batches) {
  if (batches.length === 0) return h("p", {}, "No batches here. ", h("a", { href: "#/new" }, "Create one."));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "batches" },
      h("caption", { class: "visually-hidden" }, "Batches, newest first"),
      h("thead", {}, h("tr", {}, ["Name", "Status", "Progress", "Created", "Tags"].map((title) => h("th", { scope: "col" }, title)))),
      h(
        "tbody",
        {},
        batches.map((batch) =>
          h(
            "tr",
            {},
            h("th", { scope: "row" }, h("a", { href: `#/batch/${encodeURIComponent(batch.id)}` }, batch.name)),
            h("td", { "data-label": "Status" }, statusBadge(batch.status)),
            h("td", { "data-label": "Progress" }, progressBar(batch.counts)),
            h("td", { "data-label": "Created" }, time(batch.created_at)),
            h("td", { "data-label": "Tags" }, tagList(batch.tags)),
          ),
        ),
      ),
    ),
  );
}

function pager(meta, go) {
  if (meta.totalPages <= 1) return h("p", { class: "pager" }, `${meta.total} batch${meta.total === 1 ? "" : "es"}`);
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    h("button", { type: "button", disabled: meta.page <= 1, onclick: () => go({ page: String(meta.page - 1) }) }, "Previous"),
    h("span", {}, `Page ${meta.page} of ${meta.totalPages} (${meta.total} batches)`),
    h("button", { type: "button", disabled: meta.page >= meta.totalPages, onclick: () => go({ page: String(meta.page + 1) }) }, "Next"),
  );
}
