// The public API, called with the key the user pasted. The key lives in this tab's
// session storage (gone when the tab closes) and travels only in the x-api-key header.

const KEY_NAME = "batch-calls.api-key";
// The page is the API's GET /, so the API's routes are relative to the page.
const API_ROOT = new URL(".", document.baseURI);

export function apiKey() {
  return sessionStorage.getItem(KEY_NAME);
}

export function saveApiKey(key) {
  sessionStorage.setItem(KEY_NAME, key);
}

export function forgetApiKey() {
  sessionStorage.removeItem(KEY_NAME);
}

export class ApiError extends Error {
  constructor(status, body) {
    const words = body && typeof body === "object" ? body.message || body.error : body;
    super(words || `The API answered ${status}`);
    this.status = status;
    this.body = body;
  }
}

// 401/403: the key is wrong, expired or revoked; the app asks for another.
export class KeyRefused extends ApiError {}

function url(path, query = {}) {
  const address = new URL(path.replace(/^\//, ""), API_ROOT);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") address.searchParams.set(name, value);
  }
  return address;
}

async function send(method, path, { query, json, form, redirect } = {}) {
  const headers = { "x-api-key": apiKey() || "" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // FormData: the browser writes the multipart body and its boundary
  }
  const response = await fetch(url(path, query), { method, headers, body, redirect, cache: "no-store" });
  if (response.status === 401 || response.status === 403) {
    const refused = new KeyRefused(response.status, await read(response));
    forgetApiKey();
    window.dispatchEvent(new CustomEvent("key-refused", { detail: refused }));
    throw refused;
  }
  return response;
}

async function read(response) {
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }
  return response.text();
}

export async function call(method, path, options) {
  const response = await send(method, path, options);
  const body = await read(response);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// The report CSV as a file the browser saves. A report over 1 MB is a redirect to S3,
// which the page may not follow with the key: the user is told how to fetch it instead.
export async function downloadReport(batchId) {
  const response = await send("GET", `/batch-calls/${encodeURIComponent(batchId)}/report`, {
    redirect: "manual",
  });
  if (response.type === "opaqueredirect") {
    throw new ApiError(
      303,
      `The report is larger than 1 MB and is served from S3: run \`batch-calls report ${batchId}\` ` +
        `or \`curl -L -H "x-api-key: ..." ${url(`/batch-calls/${batchId}/report`)}\`.`,
    );
  }
  if (!response.ok) throw new ApiError(response.status, await read(response));
  const disposition = response.headers.get("Content-Disposition") || "";
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] || `${batchId}.csv`;
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  return filename;
}
