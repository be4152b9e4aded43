// The console: asks for an API key once per tab, then shows the page the address's hash
// names (#/batches, #/new, #/batch/<id>, #/suppression).
import { apiKey, forgetApiKey, saveApiKey } from "./api.js";
import { batchView } from "./batch.js";
import { batchesView } from "./batches.js";
import { announce, field, h } from "./dom.js";
import { newBatchView } from "./new_batch.js";
import { suppressionView } from "./suppression.js";

const ROUTES = [
  [/^\/batches$/, batchesView, "Batches"],
  [/^\/new$/, newBatchView, "New batch"],
  [/^\/batch\/([^/]+)$/, batchView, "Batch"],
  [/^\/suppression$/, suppressionView, "Suppression list"],
];

const main = document.getElementById("main");
const changeKey = document.getElementById("change-key");
// Each rendering has a number; a poll of an earlier page stops when it sees a newer one.
let rendering = 0;

function route() {
  const [path, search = ""] = location.hash.replace(/^#/, "").split("?");
  for (const [pattern, view, title] of ROUTES) {
    const found = pattern.exec(path);
    if (found) return { view, title, query: new URLSearchParams(search), params: found.slice(1).map(decodeURIComponent) };
  }
  return null;
}

function render({ focus = true, refused = null } = {}) {
  // A control that changed the address (a filter) keeps the focus in the new rendering.
  const focusedId = main.contains(document.activeElement) ? document.activeElement.id : "";
  rendering += 1;
  const current = rendering;
  main.replaceChildren();
  changeKey.hidden = !apiKey();
  if (!apiKey()) {
    keyPrompt(refused);
    return;
  }
  const found = route();
  if (!found) {
    location.replace("#/batches");
    return;
  }
  document.title = `${found.title} · Batch calls`;
  for (const link of document.querySelectorAll("nav a")) {
    link.toggleAttribute("aria-current", location.hash.startsWith(link.getAttribute("href")));
    if (link.hasAttribute("aria-current")) link.setAttribute("aria-current", "page");
  }
  const page = found.view(main, found.query, ...found.params);
  const kept = focusedId && document.getElementById(focusedId);
  if (kept) kept.focus();
  else if (focus) main.focus();
  poll(page, current);
}

async function poll(page, current) {
  if (!page?.load) return;
  const again = await page.load();
  if (again && page.refreshEvery && current === rendering) {
    setTimeout(() => { if (current === rendering) poll(page, current); }, page.refreshEvery);
  }
}

function keyPrompt(refused) {
  document.title = "API key · Batch calls";
  const input = h("input", { type: "password", name: "key", required: true, autocomplete: "off", spellcheck: "false" });
  const form = h(
    "form",
    {
      class: "key-form",
      onsubmit: (event) => {
        event.preventDefault();
        saveApiKey(input.value.trim());
        announce("API key saved for this tab");
        render();
      },
    },
    h("h1", {}, "Your API key"),
    refused
      ? h("p", { class: "error", role: "alert" },
          `The API refused the key (${refused.status}: ${refused.message}). Paste a valid key.`)
      : null,
    field("API key", input, "Kept in this browser tab only (session storage) and sent as the x-api-key header; never in an address."),
    h("button", { type: "submit" }, "Use this key"),
  );
  main.append(form);
  input.focus();
}

changeKey.addEventListener("click", () => {
  forgetApiKey();
  render();
});
window.addEventListener("key-refused", (event) => render({ refused: event.detail }));
window.addEventListener("hashchange", () => {
  if (location.hash.startsWith("#/")) render();
});
if (!location.hash.startsWith("#/")) location.replace("#/batches");
render({ focus: false });
