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

async function send(method, path, { query, json, form } = {}) {
  const headers = { "x-api-key": apiKey() || "" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // FormData: the browser writes the multipart body and its boundary
  }
  const response = await fetch(url(path, query), { method, headers, body, cache: "no-store" });
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

// The report or the audit CSV as a file the browser saves, whatever its size: the API
// answers ?as=url with a presigned S3 URL (the URL is the grant: no key goes to S3),
// which S3 serves as an attachment.
export async function downloadCsv(batchId, kind) {
  const link = await call("GET", `/batch-calls/${encodeURIComponent(batchId)}/${kind}`, { query: { as: "url" } });
  const anchor = document.createElement("a");
  anchor.href = link.url;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  return `${batchId}-${kind}.csv`;
}

// A contact file sent straight to S3 (POST /batch-calls/uploads gives a presigned POST):
// API Gateway takes bodies of about 6 MB at most (4.5 MB of file once encoded), S3 the
// API's 10 MB. Returns the upload_id that POST /batch-calls and /validate take.
export async function uploadContacts(file) {
  const upload = await call("POST", "/batch-calls/uploads");
  if (file.size > upload.max_bytes) {
    throw new ApiError(413, `The file is ${megabytes(file.size)}; the most a batch takes is ${megabytes(upload.max_bytes)}.`);
  }
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append("file", file, file.name); // S3 takes the fields before the file
  const response = await fetch(upload.url, { method: "POST", body: form });
  if (!response.ok) {
    const words = /<Message>([^<]*)<\/Message>/.exec(await response.text())?.[1];
    throw new ApiError(response.status, `S3 refused the upload (${response.status})${words ? `: ${words}` : ""}.`);
  }
  return upload.upload_id;
}

function megabytes(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
