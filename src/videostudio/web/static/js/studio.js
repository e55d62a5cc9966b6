// The Studio page: make videos with an API key and no code.
//
// Design choices:
// - The key lives in this browser only (localStorage) and every call goes to this origin's API,
//   with the same endpoints and errors an integration gets; the Studio has no private backend.
// - The form is built from the selected model's capabilities (the catalog the server embedded in
//   the page), so it offers only valid choices; the server stays the authority: every change asks
//   POST /api/v1/video-studio/quote/ for the exact price, and its error text is shown as is.
// - Progress is polled (status every 1.5 s per running job), as the API documents for clients.

import {
  allowedDurations,
  formatDate,
  formatNumber,
  h,
  modeName,
  pageData,
  rateFor,
} from "./common.js";

const data = pageData();
const models = new Map(data.models.map((model) => [model.slug, model]));
const KEY_STORAGE = "videostudio.apiKey";
const PROMPTS_STORAGE = "videostudio.prompts";
const HISTORY_LIMIT = 12;
const POLL_MS = 1500;
const KIND_ACCEPT = { image: "image/*", video: "video/*", audio: "audio/*" };
const KIND_LABEL = { image: "Image", video: "Video", audio: "Audio" };
const FIELD_LABELS = {
  input_image_urls: "Input images",
  input_video_urls: "Input videos",
  first_frame_url: "First frame",
  last_frame_url: "Last frame",
  start_frame_url: "Start frame",
  end_frame_url: "End frame",
  reference_image_urls: "Reference images",
  reference_video_urls: "Reference videos",
  reference_audio_urls: "Reference audio",
};

const $ = (id) => document.getElementById(id);
const el = {
  keyForm: $("key-form"),
  keyInput: $("api-key"),
  keyEntry: $("key-entry"),
  keyStatus: $("key-status"),
  keyPreview: $("key-preview"),
  keyForget: $("key-forget"),
  keyError: $("key-error"),
  accountName: $("account-name"),
  accountChip: $("account-chip"),
  balance: $("balance"),
  form: $("generate-form"),
  model: $("model"),
  modelSummary: $("model-summary"),
  fieldMode: $("field-mode"),
  mode: $("mode"),
  modeLabel: $("mode-label"),
  modeHint: $("mode-hint"),
  prompt: $("prompt"),
  promptOptional: $("prompt-optional"),
  promptCounter: $("prompt-counter"),
  inputs: $("inputs"),
  fieldAspect: $("field-aspect"),
  aspect: $("aspect_ratio"),
  duration: $("duration"),
  durationNumber: $("duration-number"),
  durationHint: $("duration-hint"),
  fieldQuality: $("field-quality"),
  quality: $("quality_mode"),
  batch: $("batch_size"),
  fieldOrientation: $("field-orientation"),
  orientation: $("character_orientation"),
  sound: $("sound"),
  optin: $("prompt_directory_optin"),
  optinAmount: $("optin-amount"),
  lastFrame: $("return_last_frame"),
  webSearch: $("web_search"),
  priceBox: $("price-box"),
  price: $("price"),
  priceDetail: $("price-detail"),
  formError: $("form-error"),
  submit: $("submit"),
  grid: $("history-grid"),
  empty: $("history-empty"),
  emptyText: $("history-empty-text"),
  historyError: $("history-error"),
  historyRange: $("history-range"),
  newer: $("history-newer"),
  older: $("history-older"),
};

const state = {
  key: null,
  account: null,
  model: null,
  offset: 0,
  nextOffset: null,
  active: new Set(),
  pollTimer: null,
  quoteTimer: null,
  quoteSeq: 0,
};

// --- API -------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/** Call this origin's API with the stored key; errors carry the service's envelope. */
async function api(path, { method = "GET", body, form, key = state.key } = {}) {
  const headers = { Authorization: `Bearer ${key}` };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, cache: "no-store" });
  } catch {
    throw new ApiError(0, { error: "Network error: the server could not be reached", code: "network_error" });
  }
  let json = null;
  try {
    json = await response.json();
  } catch {
    json = null;
  }
  if (!response.ok || !json || json.success === false) {
    throw new ApiError(response.status, json || { error: `HTTP ${response.status}`, code: "http_error" });
  }
  return json;
}

function showError(node, error) {
  if (!error) {
    node.hidden = true;
    node.replaceChildren();
    return;
  }
  const body = error.body || {};
  const parts = [h("span", {}, body.error || error.message)];
  const extra = [];
  if (body.code) extra.push(body.code);
  if (body.field) extra.push(`field: ${body.field}`);
  if (Array.isArray(body.allowed)) extra.push(`allowed: ${body.allowed.join(", ")}`);
  if (body.credits_required !== undefined) {
    extra.push(`needs ${formatNumber(body.credits_required)}, balance ${formatNumber(body.credits_available)}`);
  }
  if (body.retry_after_seconds !== undefined) extra.push(`retry in ${body.retry_after_seconds} s`);
  if (error.status) extra.unshift(`HTTP ${error.status}`);
  const wrap = h("div", {}, ...parts, extra.length ? h("span", { class: "alert-code" }, extra.join(" · ")) : null);
  node.replaceChildren(wrap);
  node.hidden = false;
}

// --- key and account -------------------------------------------------------------------------

function storedKey() {
  try {
    return localStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

function storeKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORAGE, key);
    else localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Private mode: the key then lasts for this page only.
  }
}

function keyPreview(key) {
  return key.length > 16 ? `${key.slice(0, 11)}…${key.slice(-4)}` : "••••";
}

function setBalance(value) {
  if (state.account) state.account.credits_balance = value;
  el.balance.textContent = formatNumber(value);
}

function renderKeyState() {
  const signedIn = Boolean(state.account);
  el.keyEntry.hidden = signedIn;
  el.keyStatus.hidden = !signedIn;
  el.accountChip.hidden = !signedIn;
  if (signedIn) {
    el.accountName.textContent = state.account.name;
    el.keyPreview.textContent = keyPreview(state.key);
    setBalance(state.account.credits_balance);
  }
  el.emptyText.textContent = signedIn
    ? "Create your first video with the form; it appears here while it renders."
    : "Enter your API key to see your videos, then create one on the left.";
}

async function connect(key) {
  showError(el.keyError, null);
  try {
    const result = await api("/api/v1/account/?ledger_limit=0", { key });
    state.key = key;
    state.account = result.account;
    storeKey(key);
    renderKeyState();
    state.offset = 0;
    await Promise.all([loadHistory(), requestQuote()]);
    return true;
  } catch (error) {
    state.account = null;
    state.key = null;
    renderKeyState();
    showError(el.keyError, error);
    el.keyInput.setAttribute("aria-invalid", "true");
    if (error.status === 401) storeKey(null);
    return false;
  }
}

async function refreshBalance() {
  if (!state.key) return;
  try {
    const result = await api("/api/v1/account/?ledger_limit=0");
    setBalance(result.account.credits_balance);
  } catch {
    // The next successful call updates it.
  }
}

el.keyForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = el.keyInput.value.trim();
  el.keyInput.removeAttribute("aria-invalid");
  if (!key) {
    showError(el.keyError, new ApiError(0, { error: "Paste your API key first." }));
    el.keyInput.focus();
    return;
  }
  if (await connect(key)) {
    el.keyInput.value = "";
    el.prompt.focus();
  }
});

el.keyForget.addEventListener("click", () => {
  storeKey(null);
  state.key = null;
  state.account = null;
  state.active.clear();
  renderKeyState();
  el.grid.replaceChildren();
  el.empty.hidden = false;
  el.historyRange.textContent = "";
  el.newer.disabled = el.older.disabled = true;
  renderPrice(null);
  el.keyInput.focus();
});

// --- the form --------------------------------------------------------------------------------

function option(value, label = value, selected = false) {
  const node = h("option", { value }, label);
  node.selected = selected;
  return node;
}

function fillSelect(select, values, keep, labels = {}) {
  const current = keep !== undefined && values.map(String).includes(String(keep)) ? String(keep) : String(values[0]);
  select.replaceChildren(...values.map((v) => option(String(v), labels[v] ?? String(v), String(v) === current)));
  select.value = current;
}

function currentMode() {
  const model = state.model;
  return model.mode_field ? el.mode.value : null;
}

/** Input fields the model (and, on Seedance, the chosen mode) accepts. */
function allowedInputs() {
  const model = state.model;
  if (model.mode_field) {
    const rule = model.input_modes[el.mode.value];
    return rule ? rule.allowed : [];
  }
  return Object.keys(model.input_fields);
}

function requiredCount(name) {
  const model = state.model;
  const spec = model.input_fields[name];
  if (model.mode_field) {
    const rule = model.input_modes[el.mode.value];
    if (rule?.required.includes(name)) return 1;
    return 0;
  }
  return spec.min;
}

let rowCounter = 0;

function urlRow(name, spec, index, removable) {
  rowCounter += 1;
  const id = `input-${name}-${rowCounter}`;
  const label = `${KIND_LABEL[spec.kind]} URL ${index + 1} (${name})`;
  const input = h("input", {
    id,
    class: "input mono",
    type: "text",
    inputmode: "url",
    name,
    placeholder: data.features.assets ? "https://… or asset://…" : "https://…",
    spellcheck: "false",
    autocomplete: "off",
  });
  const row = h("div", { class: "url-row" }, h("label", { for: id, class: "visually-hidden" }, label), input);
  if (data.features.assets) {
    const file = h("input", {
      type: "file",
      accept: KIND_ACCEPT[spec.kind],
      "aria-label": `Upload a file for ${label}`,
      "data-kind": spec.kind,
    });
    file.addEventListener("change", () => uploadInto(file, input));
    row.append(h("span", { class: "button button-secondary button-small upload-button" }, "Upload", file));
  }
  if (removable) {
    row.append(
      h("button", {
        type: "button",
        class: "icon-button",
        "aria-label": `Remove ${label}`,
        onclick: () => {
          row.remove();
          renderInputs(collectInputs());
        },
        text: "×",
      }),
    );
  }
  return row;
}

/** The URL values currently typed, per field (kept across re-renders of the inputs). */
function collectInputs() {
  const values = {};
  for (const input of el.inputs.querySelectorAll("input[type=text]")) {
    (values[input.name] ||= []).push(input.value);
  }
  return values;
}

const SINGULAR = {
  input_image_urls: "input image",
  input_video_urls: "input video",
  reference_image_urls: "reference image",
  reference_video_urls: "reference video",
  reference_audio_urls: "reference audio",
};

function addRow(name) {
  const values = collectInputs();
  (values[name] ||= []).push("");
  renderInputs(values);
  const rows = el.inputs.querySelectorAll(`[data-input="${name}"] input[type=text]`);
  rows[rows.length - 1]?.focus();
  scheduleQuote();
}

/** One fieldset per input field in use (required, or with rows); optional fields without rows
 * collapse into one line of "add" buttons, so a model with many optional inputs stays compact. */
function renderInputs(previous = {}) {
  const model = state.model;
  el.inputs.replaceChildren();
  const optional = [];
  for (const name of allowedInputs()) {
    const spec = model.input_fields[name];
    if (!spec) continue;
    const min = requiredCount(name);
    const kept = (previous[name] || []).slice(0, spec.max);
    const count = Math.max(min, kept.length);
    const singular = SINGULAR[name] || (FIELD_LABELS[name] || name).toLowerCase();
    if (count === 0) {
      optional.push(
        h("button", {
          type: "button",
          class: "add-url",
          "aria-label": `Add ${singular} URL (${name})`,
          text: `+ ${singular[0].toUpperCase()}${singular.slice(1)}`,
          onclick: () => addRow(name),
        }),
      );
      continue;
    }
    const meta = min > 0 ? (spec.max === min ? `required: ${min}` : `required: ${min}–${spec.max}`) : `optional, up to ${spec.max}`;
    const group = h(
      "fieldset",
      { class: "input-group", "data-input": name },
      h("legend", {}, FIELD_LABELS[name] || name, " ", h("span", { class: "legend-meta" }, `· ${meta}`)),
    );
    for (let i = 0; i < count; i += 1) {
      const row = urlRow(name, spec, i, i >= min);
      row.querySelector("input[type=text]").value = kept[i] ?? "";
      group.append(row);
    }
    if (count < spec.max) {
      group.append(
        h("button", { type: "button", class: "add-url", text: `+ Add ${singular} URL`, onclick: () => addRow(name) }),
      );
    }
    el.inputs.append(group);
  }
  if (optional.length) {
    el.inputs.append(
      h(
        "div",
        { class: "optional-inputs" },
        h("span", { class: "field-label" }, "Optional inputs"),
        h("div", { class: "optional-buttons" }, ...optional),
      ),
    );
  }
  updateAspectLock();
}

/** Models that refuse aspect_ratio together with some inputs (Kling 3.0 start/end frames). */
function updateAspectLock() {
  const model = state.model;
  const values = collectInputs();
  const blocking = model.aspect_ratio_excludes.filter((name) => (values[name] || []).some((v) => v.trim()));
  el.aspect.disabled = blocking.length > 0 || !model.aspect_ratios.length;
  el.fieldAspect.title = blocking.length ? `Follows ${blocking.join(" and ")}` : "";
}

function updateDurations() {
  const model = state.model;
  const quality = model.quality_modes.length ? el.quality.value : null;
  const orientation = Object.keys(model.character_orientations).length ? el.orientation.value : null;
  const allowed = allowedDurations(model, quality, orientation);
  const preset = data.presets[model.slug]?.request || {};
  if (model.durations.type === "range") {
    const min = Math.min(...allowed);
    const max = Math.max(...allowed);
    const previous = Number(el.durationNumber.value);
    el.duration.hidden = true;
    el.durationNumber.hidden = false;
    el.durationNumber.min = String(min);
    el.durationNumber.max = String(max);
    let value = Number.isFinite(previous) && previous ? previous : preset.duration_seconds ?? min;
    value = Math.min(max, Math.max(min, Math.round(value)));
    el.durationNumber.value = String(value);
    el.durationHint.textContent = `${min}–${max} s, any whole second`;
    $("field-duration").querySelector("label").htmlFor = "duration-number";
  } else {
    el.duration.hidden = false;
    el.durationNumber.hidden = true;
    const keep = el.duration.value ? Number(el.duration.value) : preset.duration_seconds;
    fillSelect(el.duration, allowed, keep, Object.fromEntries(allowed.map((s) => [s, `${s} s`])));
    el.durationHint.textContent = allowed.length === 1 ? "Fixed by the model" : "";
    $("field-duration").querySelector("label").htmlFor = "duration";
  }
}

function selectModel(slug) {
  const model = models.get(slug) || data.models[0];
  const previousInputs = state.model === model ? collectInputs() : {};
  state.model = model;
  const preset = data.presets[model.slug]?.request || {};
  el.model.value = model.slug;
  el.modelSummary.textContent = model.description;

  el.fieldMode.hidden = !model.mode_field;
  if (model.mode_field) {
    el.modeLabel.textContent = `Mode (${model.mode_field})`;
    const modes = Object.keys(model.input_modes);
    fillSelect(el.mode, modes, preset[model.mode_field], Object.fromEntries(modes.map((m) => [m, modeName(m)])));
    el.modeHint.textContent = model.input_modes[el.mode.value]?.description || "";
  }
  el.promptOptional.hidden = model.prompt.required;
  el.prompt.maxLength = model.prompt.max_length;

  el.fieldAspect.hidden = !model.aspect_ratios.length;
  if (model.aspect_ratios.length) fillSelect(el.aspect, model.aspect_ratios, preset.aspect_ratio);

  el.fieldQuality.hidden = !model.quality_modes.length;
  if (model.quality_modes.length) fillSelect(el.quality, model.quality_modes, preset.quality_mode);

  const orientations = Object.keys(model.character_orientations);
  el.fieldOrientation.hidden = !orientations.length;
  if (orientations.length) {
    fillSelect(
      el.orientation,
      orientations,
      preset.character_orientation,
      Object.fromEntries(
        orientations.map((o) => [o, `${o} (up to ${model.character_orientations[o].max_duration_seconds} s)`]),
      ),
    );
  }
  el.durationNumber.value = "";
  el.duration.value = "";
  updateDurations();

  fillSelect(
    el.batch,
    Array.from({ length: data.max_batch_size }, (_, i) => i + 1),
    Number(el.batch.value) || 1,
    Object.fromEntries(Array.from({ length: data.max_batch_size }, (_, i) => [i + 1, i === 0 ? "1 video" : `${i + 1} videos`])),
  );

  $("toggle-sound").hidden = !model.audio;
  const discount = model.credits.directory_discount_credits;
  $("toggle-optin").hidden = !(discount > 0);
  el.optinAmount.textContent = discount > 0 ? `(−${discount}/video)` : "";
  $("toggle-last-frame").hidden = !model.features.return_last_frame;
  updateFlagVisibility();
  for (const box of [el.sound, el.optin, el.lastFrame, el.webSearch]) {
    if (box.closest(".toggle").hidden) box.checked = false;
  }
  renderInputs(previousInputs);
  updateCounter();
  const url = new URL(location.href);
  url.searchParams.set("model", model.slug);
  history.replaceState(null, "", url);
  scheduleQuote(0);
}

function updateFlagVisibility() {
  const model = state.model;
  const modes = model.features.web_search_modes;
  const show = model.features.web_search && (!modes.length || modes.includes(currentMode()));
  $("toggle-web-search").hidden = !show;
  if (!show) el.webSearch.checked = false;
}

function updateCounter() {
  const length = el.prompt.value.length;
  const max = state.model.prompt.max_length;
  el.promptCounter.textContent = `${formatNumber(length)} / ${formatNumber(max)}`;
  el.promptCounter.classList.toggle("over", length > max);
}

/** The generate body the form describes (only what the user chose; the server fills defaults). */
function requestBody({ forQuote = false } = {}) {
  const model = state.model;
  const body = { model_slug: model.slug };
  const prompt = el.prompt.value.trim();
  if (prompt) body.prompt = prompt;
  else if (forQuote && model.prompt.required) body.prompt = el.prompt.placeholder; // price only
  if (model.mode_field) body[model.mode_field] = el.mode.value;
  const values = collectInputs();
  for (const name of allowedInputs()) {
    const filled = (values[name] || []).map((v) => v.trim()).filter(Boolean);
    if (!filled.length) continue;
    body[name] = name.endsWith("_urls") ? filled : filled[0];
  }
  if (model.aspect_ratios.length && !el.aspect.disabled) body.aspect_ratio = el.aspect.value;
  const duration = model.durations.type === "range" ? el.durationNumber.value : el.duration.value;
  body.duration_seconds = Number(duration);
  if (model.quality_modes.length) body.quality_mode = el.quality.value;
  if (Object.keys(model.character_orientations).length) body.character_orientation = el.orientation.value;
  if (model.audio && el.sound.checked) body.sound = true;
  if (el.optin.checked) body.prompt_directory_optin = true;
  if (el.lastFrame.checked) body.return_last_frame = true;
  if (el.webSearch.checked) body.web_search = true;
  const batch = Number(el.batch.value);
  if (batch > 1) body.batch_size = batch;
  return body;
}

// --- price (server quote) --------------------------------------------------------------------

function renderPrice(quote, error = null) {
  el.priceBox.classList.remove("insufficient", "loading");
  for (const node of el.form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  if (!state.key) {
    el.price.replaceChildren(h("span", { class: "muted" }, "–"));
    el.priceDetail.textContent = "Enter your API key to see the price.";
    el.submit.textContent = "Generate video";
    return;
  }
  if (error) {
    el.price.replaceChildren(h("span", { class: "muted" }, "–"));
    el.priceDetail.textContent = error.body?.error || error.message;
    const field = error.body?.field?.replace(/\[\d+\]$/, "");
    const target = field && el.form.querySelector(`[name="${field}"]`);
    if (target) target.setAttribute("aria-invalid", "true");
    el.submit.textContent = "Generate video";
    return;
  }
  const model = state.model;
  el.price.replaceChildren(`${formatNumber(quote.credits_required)} `, h("small", {}, "credits"));
  const params = quote.params;
  const parts = [];
  if (model.credits.unit === "per_second") {
    const rate = rateFor(model, params.quality_mode, params.sound);
    parts.push(`${rate}/s × ${params.duration_seconds} s`);
  }
  if (quote.directory_discount_applied) parts.push(`−${quote.directory_discount_applied} discount`);
  if (quote.batch_size > 1) parts.push(`× ${quote.batch_size} videos`);
  const after = quote.credits_available - quote.credits_required;
  if (quote.sufficient_credits) {
    parts.push(`balance ${formatNumber(quote.credits_available)} → ${formatNumber(after)}`);
  } else {
    el.priceBox.classList.add("insufficient");
    parts.push(`Insufficient credits: your balance is ${formatNumber(quote.credits_available)}`);
  }
  el.priceDetail.textContent = parts.join(" · ");
  setBalance(quote.credits_available);
  el.submit.textContent =
    quote.batch_size > 1
      ? `Generate ${quote.batch_size} videos · ${formatNumber(quote.credits_required)} credits`
      : `Generate video · ${formatNumber(quote.credits_required)} credits`;
}

function scheduleQuote(delay = 300) {
  clearTimeout(state.quoteTimer);
  if (state.key) el.priceBox.classList.add("loading");
  state.quoteTimer = setTimeout(requestQuote, delay);
}

async function requestQuote() {
  if (!state.key || !state.model) {
    renderPrice(null);
    return;
  }
  const seq = (state.quoteSeq += 1);
  try {
    const result = await api(data.paths.quote, { method: "POST", body: requestBody({ forQuote: true }) });
    if (seq === state.quoteSeq) renderPrice(result.quote);
  } catch (error) {
    if (seq !== state.quoteSeq) return;
    if (error.status === 401) {
      await connect(state.key);
      return;
    }
    renderPrice(null, error);
  }
}

// --- uploads (assets API) --------------------------------------------------------------------

async function uploadInto(fileInput, urlInput) {
  const file = fileInput.files?.[0];
  if (!file) return;
  const holder = fileInput.closest(".upload-button");
  const label = holder.firstChild;
  label.textContent = "Uploading…";
  showError(el.formError, null);
  try {
    const form = new FormData();
    // "type" first: the server then applies that kind's size cap while the file streams in.
    form.append("type", fileInput.dataset.kind);
    form.append("file", file);
    const result = await api(data.paths.assets, { method: "POST", form });
    urlInput.value = result.asset.asset_id;
    urlInput.title = `${file.name} · ${formatNumber(result.asset.bytes)} bytes`;
    updateAspectLock();
    scheduleQuote(0);
  } catch (error) {
    if (error.status === 404 && error.body?.code === "not_found") {
      // An older server without the assets API: URLs still work.
      for (const node of document.querySelectorAll(".upload-button")) node.remove();
      data.features.assets = false;
      showError(el.formError, new ApiError(404, { error: "Uploads are not available on this server: paste a URL instead." }));
    } else {
      showError(el.formError, error);
    }
  } finally {
    if (label.isConnected) label.textContent = "Upload";
    fileInput.value = "";
  }
}

// --- submit ----------------------------------------------------------------------------------

function rememberPrompt(jobIds, prompt) {
  if (!prompt) return;
  try {
    const saved = JSON.parse(localStorage.getItem(PROMPTS_STORAGE) || "{}");
    for (const id of jobIds) saved[id] = prompt;
    const entries = Object.entries(saved).slice(-300);
    localStorage.setItem(PROMPTS_STORAGE, JSON.stringify(Object.fromEntries(entries)));
  } catch {
    // Prompts are a convenience; the job is unaffected.
  }
}

function savedPrompt(jobId) {
  try {
    return JSON.parse(localStorage.getItem(PROMPTS_STORAGE) || "{}")[jobId] || "";
  } catch {
    return "";
  }
}

el.form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError(el.formError, null);
  if (!state.key) {
    showError(el.formError, new ApiError(0, { error: "Enter your API key first." }));
    el.keyInput.focus();
    return;
  }
  const body = requestBody();
  el.submit.disabled = true;
  const label = el.submit.textContent;
  el.submit.textContent = "Submitting…";
  try {
    const result = await api(data.paths.generate, { method: "POST", body });
    rememberPrompt(result.job_ids, body.prompt);
    setBalance(result.credits_remaining_total);
    for (const id of result.job_ids) state.active.add(id);
    state.offset = 0;
    await loadHistory();
    startPolling();
    scheduleQuote(0);
  } catch (error) {
    showError(el.formError, error);
    const field = error.body?.field?.replace(/\[\d+\]$/, "");
    const target = field && el.form.querySelector(`[name="${field}"]`);
    if (target) {
      target.setAttribute("aria-invalid", "true");
      target.focus();
    }
  } finally {
    el.submit.disabled = false;
    if (el.submit.textContent === "Submitting…") el.submit.textContent = label;
  }
});

// --- history and progress --------------------------------------------------------------------

function jobMedia(job) {
  const url = job.result_urls?.[0];
  if (job.status === "completed" && url) {
    const video = h("video", {
      controls: true,
      preload: "metadata",
      playsinline: true,
      src: url,
      poster: job.thumbnail_url || null,
      "aria-label": `${models.get(job.model_slug)?.name || job.model_slug} video`,
    });
    return video;
  }
  if (job.status === "failed") {
    return h("div", { class: "job-placeholder failed" }, h("strong", {}, "Failed"), job.credits_refunded ? "Credits refunded" : "");
  }
  const determinate = job.status === "processing" && job.progress > 0;
  const bar = h("div", { class: "progress-bar" });
  bar.style.width = `${Math.max(4, job.progress)}%`;
  return h(
    "div",
    { class: "job-placeholder" },
    h("span", {}, job.status === "pending" ? "Queued…" : `Rendering… ${job.progress}%`),
    h(
      "div",
      {
        class: `progress${determinate ? "" : " indeterminate"}`,
        role: "progressbar",
        "aria-label": "Progress",
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-valuenow": String(job.progress),
      },
      bar,
    ),
  );
}

function jobCard(job) {
  const model = models.get(job.model_slug);
  const meta = job.provider_meta || {};
  const prompt = savedPrompt(job.job_id);
  const details = [];
  if (meta.effective_duration_seconds) details.push(`${meta.effective_duration_seconds} s`);
  if (meta.width && meta.height) details.push(`${meta.width}×${meta.height}`);
  if (meta.has_audio) details.push("sound");
  const card = h(
    "article",
    { class: "job-card", "data-job-id": job.job_id, "data-status": job.status },
    h("div", { class: "job-media" }, jobMedia(job)),
    h(
      "div",
      { class: "job-body" },
      h(
        "div",
        { class: "job-title" },
        h("strong", { title: job.model_slug }, model?.name || job.model_slug),
        h("span", { class: `status status-${job.status}` }, job.status),
      ),
      prompt ? h("p", { class: "job-prompt", title: prompt }, prompt) : null,
      h(
        "div",
        { class: "job-meta" },
        h("span", { class: "credits" }, `${formatNumber(job.credits_charged)} credits`),
        job.credits_refunded ? h("span", { class: "badge-refunded" }, "Refunded") : null,
        h("span", {}, [modeName(job.mode), ...details].join(" · ")),
        h("time", { datetime: job.created_at }, formatDate(job.created_at)),
      ),
      job.status === "failed" && job.error_message ? h("p", { class: "job-error" }, job.error_message) : null,
      job.status === "completed" && job.result_urls?.[0]
        ? h("a", { class: "job-download", href: job.result_urls[0], download: "" }, "Download MP4")
        : null,
    ),
  );
  return card;
}

async function loadHistory() {
  if (!state.key) return;
  try {
    const result = await api(`${data.paths.history}?limit=${HISTORY_LIMIT}&offset=${state.offset}`);
    showError(el.historyError, null);
    const jobs = result.jobs;
    // Keep cards whose state did not change, so a playing video is not interrupted.
    const existing = new Map([...el.grid.children].map((node) => [node.dataset.jobId, node]));
    const cards = jobs.map((job) => {
      const old = existing.get(job.job_id);
      if (old && old.dataset.status === job.status && job.status !== "processing" && job.status !== "pending") return old;
      return jobCard(job);
    });
    el.grid.replaceChildren(...cards);
    for (const job of jobs) {
      if (job.status === "pending" || job.status === "processing") state.active.add(job.job_id);
    }
    const page = result.pagination;
    el.empty.hidden = page.total > 0;
    el.historyRange.textContent = page.total
      ? `${page.offset + 1}–${page.offset + jobs.length} of ${formatNumber(page.total)}`
      : "";
    state.nextOffset = page.next_offset;
    el.newer.disabled = page.offset === 0;
    el.older.disabled = page.next_offset === null;
    if (state.active.size) startPolling();
  } catch (error) {
    showError(el.historyError, error);
  }
}

el.newer.addEventListener("click", () => {
  state.offset = Math.max(0, state.offset - HISTORY_LIMIT);
  loadHistory();
});
el.older.addEventListener("click", () => {
  if (state.nextOffset === null) return;
  state.offset = state.nextOffset;
  loadHistory();
});

function startPolling() {
  if (state.pollTimer) return;
  state.pollTimer = setTimeout(pollOnce, POLL_MS);
}

async function pollOnce() {
  state.pollTimer = null;
  if (!state.key) return;
  let finished = false;
  for (const id of [...state.active]) {
    try {
      const { job } = await api(data.paths.status.replace("{job_id}", id));
      const card = el.grid.querySelector(`[data-job-id="${id}"]`);
      if (card && (card.dataset.status !== job.status || job.status === "processing")) {
        card.replaceWith(jobCard(job));
      }
      if (job.status === "completed" || job.status === "failed") {
        state.active.delete(id);
        finished = true;
      }
    } catch (error) {
      if (error.status === 404) state.active.delete(id);
    }
  }
  if (finished) refreshBalance();
  if (state.active.size) startPolling();
}

// --- wiring ----------------------------------------------------------------------------------

function init() {
  for (const model of data.models) el.model.append(option(model.slug, model.name));
  el.model.addEventListener("change", () => selectModel(el.model.value));
  el.mode.addEventListener("change", () => {
    el.modeHint.textContent = state.model.input_modes[el.mode.value]?.description || "";
    updateFlagVisibility();
    renderInputs(collectInputs());
  });
  el.quality.addEventListener("change", updateDurations);
  el.orientation.addEventListener("change", updateDurations);
  el.prompt.addEventListener("input", updateCounter);
  el.inputs.addEventListener("input", updateAspectLock);
  el.form.addEventListener("input", () => scheduleQuote());
  el.form.addEventListener("change", () => scheduleQuote());
  el.durationNumber.addEventListener("change", () => {
    const min = Number(el.durationNumber.min);
    const max = Number(el.durationNumber.max);
    const value = Math.round(Number(el.durationNumber.value));
    if (Number.isFinite(value)) el.durationNumber.value = String(Math.min(max, Math.max(min, value)));
  });

  const wanted = new URLSearchParams(location.search).get("model");
  selectModel(models.has(wanted) ? wanted : data.models[0].slug);
  renderKeyState();
  const key = storedKey();
  if (key) connect(key).finally(markReady);
  else markReady();
}

function markReady() {
  document.documentElement.dataset.ready = "true";
}

init();
