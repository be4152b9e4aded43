// The workspace's suppression list: numbers never to call. Add, upload, search, remove.
import { call } from "./api.js";
import { announce, errorBox, field, fill, h, time } from "./dom.js";
import { isoFromLocalInput } from "./settings.js";

const PAGE_SIZE = 50;

export function suppressionView(view) {
  const message = h("div", { class: "message", "aria-live": "polite" });
  let prefix = "";
  let cursors = [null];
  let next = null;

  const show = (element) => fill(message, element);
  const added = (result) => {
    const rows = result.invalid_rows?.length ? ` Rows without a valid number: ${result.invalid_rows.join(", ")}.` : "";
    const text = `Added ${result.added} number${result.added === 1 ? "" : "s"} (${result.already_listed} already listed).${rows}`;
    show(h("p", { class: "ok" }, text));
    announce(text);
    cursors = [null];
    refresh();
  };

  // How the numbers added next are listed: a label of their source, and an end.
  const label = h("input", { type: "text", name: "source", autocomplete: "off" });
  const until = h("input", { type: "datetime-local", name: "expires_at" });
  const listing = () => {
    const chosen = { source: label.value.trim(), expires_at: isoFromLocalInput(until.value) };
    return Object.fromEntries(Object.entries(chosen).filter(([, value]) => value));
  };
  const listingFields = h(
    "fieldset",
    { class: "listing" },
    h("legend", {}, "How the numbers added are listed (optional)"),
    field("Source label", label, "Where they come from, such as dnc-extract-2026-12 (default: api or upload)."),
    field("Held until (your local time)", until, "Empty: for good."),
  );

  const numbers = h("textarea", { name: "numbers", rows: 3, required: true, autocomplete: "off" });
  const addForm = h(
    "form",
    {
      class: "inline-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const list = numbers.value.split(/[\s,;]+/).filter(Boolean);
        try {
          added(await call("POST", "/suppression-list", { json: { phone_numbers: list, ...listing() } }));
          numbers.value = "";
        } catch (error) {
          show(errorBox(error));
        }
      },
    },
    field("Numbers to add", numbers, "E.164 (+14155550123), one per line or separated by commas."),
    h("button", { type: "submit" }, "Add"),
  );

  const file = h("input", { type: "file", name: "file", accept: ".csv,.xlsx,.xls,.json,text/csv", required: true });
  const uploadForm = h(
    "form",
    {
      class: "inline-form",
      onsubmit: async (event) => {
        event.preventDefault();
        if (!file.files[0]) {
          show(errorBox(new Error("Choose a file first.")));
          return;
        }
        const data = new FormData();
        for (const [name, value] of Object.entries(listing())) data.append(name, value);
        data.append("file", file.files[0], file.files[0].name);
        try {
          added(await call("POST", "/suppression-list/upload", { form: data }));
        } catch (error) {
          show(errorBox(error));
        }
      },
    },
    field("Upload a file", file, "Its phone_number column is added (CSV, XLSX, XLS or JSON)."),
    h("button", { type: "submit" }, "Upload"),
  );

  const search = h("input", { type: "search", name: "prefix", autocomplete: "off", placeholder: "+1415" });
  const searchForm = h(
    "form",
    {
      class: "inline-form",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        prefix = search.value.trim();
        cursors = [null];
        refresh();
      },
    },
    field("Number starts with", search, "E.164 digits with the +; empty lists every number."),
    h("button", { type: "submit" }, "Search"),
  );

  const results = h("div", { class: "results" });
  const previous = h("button", { type: "button", onclick: () => { cursors.pop(); refresh(); } }, "Previous");
  const following = h("button", { type: "button", onclick: () => { cursors.push(next); refresh(); } }, "Next");
  const page = h("span", {});

  async function remove(number) {
    try {
      await call("DELETE", `/suppression-list/${encodeURIComponent(number)}`);
      show(h("p", { class: "ok" }, `Removed ${number}.`));
      announce(`Removed ${number}`);
      refresh();
    } catch (error) {
      show(errorBox(error));
    }
  }

  async function refresh() {
    try {
      const list = await call("GET", "/suppression-list", { query: { prefix, cursor: cursors.at(-1), limit: PAGE_SIZE } });
      next = list.next_cursor;
      previous.disabled = cursors.length <= 1;
      following.disabled = !next || list.data.length === 0;
      page.textContent = `Page ${cursors.length}`;
      fill(results,
        list.data.length === 0
          ? h("p", {}, prefix ? `No number starting with ${prefix}.` : "The list is empty.")
          : h("div", { class: "table-wrap" }, h("table", { class: "suppressed" },
              h("thead", {}, h("tr", {}, ["Number", "Source", "Added", "Held until", ""].map((t) => h("th", { scope: "col" }, t)))),
              h("tbody", {}, list.data.map((entry) =>
                h("tr", {},
                  h("td", { "data-label": "Number" }, entry.phone_number),
                  h("td", { "data-label": "Source" }, entry.source),
                  h("td", { "data-label": "Added" }, time(entry.added_at)),
                  h("td", { "data-label": "Held until" }, entry.expires_at ? time(entry.expires_at) : "for good"),
                  h("td", {}, h("button", { type: "button", class: "secondary",
                    "aria-label": `Remove ${entry.phone_number}`, onclick: () => remove(entry.phone_number) }, "Remove"))))))),
      );
    } catch (error) {
      fill(results, errorBox(error));
    }
  }

  view.append(
    h("h1", {}, "Suppression list"),
    h("p", {}, "Numbers of this workspace never to call. Adding a number also skips it in running batches."),
    listingFields,
    h("div", { class: "forms" }, addForm, uploadForm),
    message,
    h("section", { "aria-labelledby": "listed-title" },
      h("h2", { id: "listed-title" }, "Listed numbers"),
      searchForm,
      results,
      h("nav", { class: "pager", "aria-label": "Pages" }, previous, page, following)),
  );
  return { load: async () => { await refresh(); return false; } };
}
