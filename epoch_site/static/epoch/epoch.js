// Epoch's pages: forms, actions and live run tables. Every change goes through the API, which
// checks the user's role; values from the server arrive as JSON data, never as code.
"use strict";

const csrfToken = () => (document.cookie.match(/(?:^|; )epoch_csrftoken=([^;]*)/) || [])[1] || "";

async function call(method, url, body) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let payload = {};
  try { payload = await response.json(); } catch (error) { payload = { status: "FAILED", message: `HTTP ${response.status}` }; }
  return { ok: response.ok && payload.status === "SUCCESS", status: response.status, payload };
}

function show(element, text, kind) {
  if (!element) return;
  element.textContent = text;
  element.className = `alert alert-${kind}`;
}

// --- the topology form ---------------------------------------------------------------------

function addRow(container, kind, values = {}) {
  const row = document.createElement("div");
  row.className = "input-group input-group-sm mb-1";
  const fields = kind === "env"
    ? [["name", "Name"], ["value", "Value"]]
    : [["pathOnHost", "Host path"], ["pathInContainer", "Path in container"]];
  for (const [key, label] of fields) {
    const input = document.createElement("input");
    input.className = "form-control";
    input.placeholder = label;
    input.dataset.key = key;
    input.value = values[key] || "";
    row.append(input);
  }
  if (kind === "volume") {
    const mode = document.createElement("select");
    mode.className = "form-select";
    mode.dataset.key = "mode";
    for (const option of ["READ_ONLY", "READ_WRITE"]) mode.add(new Option(option, option, false, values.mode === option));
    row.append(mode);
  }
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "btn btn-outline-danger";
  remove.textContent = "×";
  remove.title = "Remove";
  remove.addEventListener("click", () => row.remove());
  row.append(remove);
  container.append(row);
}

function rowValues(container) {
  return [...container.children].map((row) =>
    Object.fromEntries([...row.querySelectorAll("[data-key]")].map((input) => [input.dataset.key, input.value.trim()])));
}

function formBody(form) {
  const value = (name) => form.elements[name] ? form.elements[name].value.trim() : undefined;
  const env = Object.fromEntries(rowValues(form.querySelector("#env-rows")).filter((r) => r.name).map((r) => [r.name, r.value]));
  const volumes = rowValues(form.querySelector("#volume-rows")).filter((v) => v.pathOnHost)
    .map((v) => ({ ...v, pathInContainer: v.pathInContainer || v.pathOnHost }));
  const body = { cron: value("cron"), docker: value("docker"), cpus: Number(value("cpus")), memory: Number(value("memory")),
    notifyEmail: value("notifyEmail"), env, volumes };
  if (form.dataset.mode === "create") body.name = value("name");
  return body;
}

function showErrors(form, payload) {
  form.querySelectorAll("[data-field]").forEach((el) => { el.textContent = ""; });
  form.querySelectorAll(".is-invalid").forEach((el) => el.classList.remove("is-invalid"));
  const general = [];
  const errors = (payload.data && payload.data.validationErrors) || [];
  for (const error of errors) {
    const field = error.split(/[ .[]/)[0];
    const slot = form.querySelector(`[data-field="${CSS.escape(field)}"]`);
    if (slot) {
      slot.textContent = error;
      const input = form.elements[field];
      if (input && input.classList) input.classList.add("is-invalid");
      if (field === "cron") showPreview(form, "", false); // the field's message says it once
    } else {
      general.push(error);
    }
  }
  if (payload.message && payload.message !== "Command validation failure") general.unshift(payload.message);
  const alert = form.querySelector("[data-testid=form-error]");
  alert.textContent = general.join("\n");
  alert.classList.toggle("d-none", general.length === 0);
}

function showPreview(form, text, failed) {
  const target = form.querySelector("#cron-preview");
  target.textContent = text;
  target.classList.toggle("text-danger", failed);
}

// The preview and a rejected submit both explain a bad cron; only the newest one shows.
function clearCronError(form) {
  form.querySelector('[data-field="cron"]').textContent = "";
  form.elements.cron.classList.remove("is-invalid");
}

let previewTimer = null;
function previewCron(form) {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(async () => {
    const expression = form.elements.cron.value.trim();
    clearCronError(form);
    if (!expression) { showPreview(form, "", false); return; }
    const result = await call("GET", `/apis/v1/cron/preview?count=5&expression=${encodeURIComponent(expression)}`);
    if (result.ok) {
      const data = result.payload.data;
      const times = data.nextFireTimes.map((f) => f.iso.replace("T", " ").slice(0, 19)).join(", ");
      showPreview(form, `${data.description} — next: ${times} (${data.timezone})`, false);
    } else {
      showPreview(form, ((result.payload.data || {}).validationErrors || [result.payload.message]).join("; "), true);
    }
  }, 350);
}

function setUpForm(form) {
  const values = JSON.parse((document.getElementById("form-values") || { textContent: "{}" }).textContent);
  for (const key of ["cron", "docker", "cpus", "memory", "notifyEmail"]) {
    if (values[key] !== undefined && form.elements[key]) form.elements[key].value = values[key];
  }
  for (const [name, value] of Object.entries(values.env || {})) addRow(form.querySelector("#env-rows"), "env", { name, value });
  for (const volume of values.volumes || []) addRow(form.querySelector("#volume-rows"), "volume", volume);
  form.querySelectorAll("[data-add]").forEach((button) => button.addEventListener("click", () =>
    addRow(form.querySelector(button.dataset.add === "env" ? "#env-rows" : "#volume-rows"), button.dataset.add)));
  form.elements.cron.addEventListener("input", () => previewCron(form));
  if (form.elements.cron.value) previewCron(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const editing = form.dataset.mode === "edit";
    const url = editing ? `/topologies/${encodeURIComponent(form.dataset.topology)}/update` : "/topologies/create";
    const result = await call(editing ? "PUT" : "POST", url, formBody(form));
    if (result.ok) {
      window.location.assign(result.payload.data.redirectUrl);
    } else {
      showErrors(form, result.payload);
    }
  });
}

// --- actions on the topology page ------------------------------------------------------------

const topologyId = () => (document.querySelector("[data-testid=topology-id]") || {}).textContent;

const ACTIONS = {
  run: { confirm: () => "Run this topology right now?", send: (id) => call("PUT", `/apis/v1/topologies/${id}/run`) },
  pause: { send: (id) => call("PUT", `/apis/v1/topologies/${id}/pause`) },
  unpause: { send: (id) => call("PUT", `/apis/v1/topologies/${id}/unpause`) },
  delete: {
    confirm: (id) => `Delete topology ${decodeURIComponent(id)} and all its runs? You will not be able to undo this.`,
    send: (id) => call("DELETE", `/apis/v1/topologies/${id}`),
    then: () => window.location.assign("/"),
  },
  kill: {
    confirm: (id, button) => `Kill task ${button.dataset.task} of run ${button.dataset.run}?`,
    send: (id, button) => call("POST", `/apis/v1/topologies/${id}/runs/${button.dataset.run}/tasks/${button.dataset.task}/kill`),
  },
  log: {
    send: (id, button) => call("GET", `/apis/v1/topologies/${id}/runs/${button.dataset.run}/tasks/${button.dataset.task}/log`),
    then: (result) => window.open(result.payload.data, "_blank", "noopener"),
  },
};

async function act(button) {
  const action = ACTIONS[button.dataset.action];
  const id = encodeURIComponent(topologyId());
  if (action.confirm && !window.confirm(action.confirm(id, button))) return;
  button.disabled = true;
  const result = await action.send(id, button);
  button.disabled = false;
  const outcome = document.querySelector("[data-testid=action-result]");
  const data = result.payload.data;
  const detail = data && typeof data === "object" && data.message ? data.message : result.payload.message;
  if (!result.ok) { show(outcome, detail, "danger"); return; }
  if (action.then) { action.then(result); return; }
  show(outcome, button.dataset.action === "run" ? `Started run ${data.runId}` : detail, "success");
  setTimeout(() => window.location.reload(), 600);
}

// --- times and live refresh ------------------------------------------------------------------

// Every time on a page is shown to the second in the zone Epoch schedules in, which the page
// names, whatever the browser's own zone: fire times and run times then line up.
const TIME_FORMAT = { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };

function shownTime(ms) {
  const options = { ...TIME_FORMAT, timeZone: document.body.dataset.timeZone || undefined };
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", options).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

function renderTimes(root) {
  root.querySelectorAll("[data-ms]").forEach((el) => { el.textContent = shownTime(Number(el.dataset.ms)); });
  root.querySelectorAll("[data-duration-from]").forEach((el) => {
    const end = el.dataset.durationTo ? Number(el.dataset.durationTo) : Date.now();
    const seconds = Math.max(0, Math.round((end - Number(el.dataset.durationFrom)) / 1000));
    el.textContent = seconds < 120 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  });
}

async function refreshRuns() {
  const body = document.getElementById("runs-body");
  if (!body) return;
  if (body.querySelector('[data-state="RUNNING"]')) {
    const page = await fetch(window.location.href, { credentials: "same-origin" });
    const fresh = new DOMParser().parseFromString(await page.text(), "text/html").getElementById("runs-body");
    if (fresh) {
      const open = [...body.querySelectorAll(".collapse.show")].map((el) => el.id);
      body.replaceWith(fresh);
      open.forEach((id) => { const el = document.getElementById(id); if (el) el.classList.add("show"); });
      renderTimes(fresh);
    }
  }
  setTimeout(refreshRuns, 3000);
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("topology-form");
  if (form) setUpForm(form);
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action]");
    if (button) act(button);
  });
  renderTimes(document);
  setTimeout(refreshRuns, 3000);
});
