// The developer docs page: the model selector, its capability card, the live request snippets
// and the response examples. Everything comes from the catalog the server embedded in the page
// (the same payload as /api/v1/models/video/, plus a validated preset request per model), so the
// page needs no API key and cannot describe a model differently from how the API treats it.

import {
  chips,
  durationNotes,
  durationsText,
  formatNumber,
  h,
  inputFieldText,
  modeName,
  pageData,
  rateFor,
  setupCopyButtons,
  setupNavToggle,
  setupTabs,
  highlight,
} from "./common.js";
import { pollingSnippets, requestSnippets } from "./snippets.js";

const data = pageData();
const models = new Map(data.models.map((model) => [model.slug, model]));
const select = document.getElementById("model-select");
const card = document.getElementById("model-card");

function fill(field, ...content) {
  card.querySelector(`[data-field="${field}"]`).replaceChildren(...content);
}

function creditsContent(model, preset) {
  const credits = model.credits;
  const single = Object.keys(credits.rates).length === 1 && "default" in credits.rates;
  const rule =
    credits.unit === "per_job" && single
      ? `base: ${credits.rates.default} credits per job`
      : credits.description;
  const parts = [h("span", { class: "credit-rule" }, rule)];
  if (preset.valid) {
    const body = preset.request;
    const quality = body.quality_mode ?? null;
    const rate = rateFor(model, quality, false);
    const label = quality ? `${quality}, ` : "";
    const math =
      credits.unit === "per_second"
        ? `${label}${body.duration_seconds} s: ${rate} × ${body.duration_seconds} = `
        : `${label}one job: `;
    parts.push(
      h(
        "span",
        { class: "credit-example" },
        "Worked example (the snippet below) — ",
        math,
        h("strong", {}, `${formatNumber(preset.credits)} credits`),
        ". A batch of N costs N times as much.",
      ),
    );
  }
  return parts;
}

function inputsContent(model) {
  const kinds = model.inputs.length ? model.inputs.join(", ") : "none";
  const fields = Object.entries(model.input_fields);
  if (!fields.length) return [kinds];
  return [
    h("span", {}, kinds),
    h(
      "span",
      { class: "hint", style: null },
      h("br"),
      fields.map(([name, spec]) => inputFieldText(name, spec)).join("; "),
    ),
  ];
}

function modesContent(model) {
  if (!model.mode_field) return chips(model.modes.map(modeName));
  return [
    h("code", {}, model.mode_field),
    " ",
    ...chips(Object.keys(model.input_modes)),
    h(
      "ul",
      { class: "mode-list" },
      Object.entries(model.input_modes).map(([name, rule]) =>
        h("li", {}, h("code", {}, name), ` ${rule.description || "no inputs"}`),
      ),
    ),
  ];
}

function renderModel(slug) {
  const model = models.get(slug) || data.models[0];
  const preset = data.presets[model.slug];
  card.dataset.slug = model.slug;
  fill("name", model.name);
  fill("slug", `model_slug=${model.slug}`);
  fill("description", model.description || "");
  fill("engine", model.engine);
  fill("modes", ...modesContent(model));
  // Per-mode inputs need room: the Modes cell spans two columns on models with a mode field.
  card.querySelector('[data-field="modes"]').parentElement.classList.toggle("fact-span", Boolean(model.mode_field));
  const ratios = model.aspect_ratios.length
    ? chips(model.aspect_ratios)
    : ["follows the input (aspect_ratio is refused)"];
  if (model.aspect_ratio_excludes.length) {
    ratios.push(h("span", { class: "hint" }, h("br"), `Not with ${model.aspect_ratio_excludes.join(" or ")}.`));
  }
  fill("aspect_ratios", ...ratios);
  const notes = durationNotes(model);
  fill(
    "durations",
    durationsText(model),
    ...(notes.length ? [h("span", { class: "hint" }, h("br"), notes.join("; "))] : []),
  );
  fill(
    "quality_modes",
    ...(model.quality_modes.length
      ? [...chips(model.quality_modes), model.quality_required ? " (required)" : ""]
      : ["not required"]),
  );
  fill("inputs", ...inputsContent(model));
  fill(
    "prompt",
    `${model.prompt.required ? "required" : "optional"}, up to ${formatNumber(model.prompt.max_length)} characters`,
  );
  fill(
    "sound",
    model.audio
      ? Object.keys(model.credits.sound_rates).length
        ? "yes (sound: true, priced with sound rates)"
        : "yes (sound: true, same price)"
      : "no (sound is ignored)",
  );
  fill("credits", ...creditsContent(model, preset));
  document.getElementById("open-in-studio").href = `/studio/?model=${encodeURIComponent(model.slug)}`;

  const snippets = requestSnippets(data.origin, data.paths, preset.request);
  for (const [lang, text] of Object.entries(snippets)) {
    const code = document.getElementById(`snippet-${lang}`);
    highlight(code, text, code.dataset.lang);
  }
  const note = document.getElementById("preset-price");
  note.replaceChildren(
    ...(preset.valid
      ? [
          "This request costs ",
          h("strong", {}, `${formatNumber(preset.credits)} credits`),
          ` and creates one ${modeName(preset.mode)} job. Add "batch_size": 2 to 4 for more videos in one call.`,
        ]
      : [`This catalog entry has no valid default request: ${preset.error}`]),
  );

  const examples = preset.examples;
  const show = (id, value) => {
    const code = document.getElementById(id);
    highlight(code, value ? JSON.stringify(value, null, 2) : "", "json");
  };
  show("response-generate", examples.generate);
  show("response-validation", examples.validation_error);
  show("response-credits", examples.insufficient_credits);
  show("response-status", examples.status);
}

function populate() {
  for (const model of data.models) {
    select.append(h("option", { value: model.slug }, `${model.name} — ${model.slug}`));
  }
  const wanted = new URLSearchParams(location.search).get("model");
  select.value = models.has(wanted) ? wanted : data.models[0]?.slug;
  select.addEventListener("change", () => {
    renderModel(select.value);
    const url = new URL(location.href);
    url.searchParams.set("model", select.value);
    history.replaceState(null, "", url);
  });
  renderModel(select.value);
}

function renderPolling() {
  const snippets = pollingSnippets(data.origin, data.paths);
  for (const [lang, text] of Object.entries(snippets)) {
    const code = document.getElementById(`poll-${lang}`);
    highlight(code, text, code.dataset.lang);
  }
}

/** Highlight the side-navigation entry of the section being read. */
function scrollSpy() {
  const links = new Map(
    [...document.querySelectorAll(".sidebar a[href^='#']")].map((a) => [a.hash.slice(1), a]),
  );
  const targets = [...links.keys()].map((id) => document.getElementById(id)).filter(Boolean);
  if (!("IntersectionObserver" in window) || !targets.length) return;
  const visible = new Set();
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) visible.add(entry.target.id);
        else visible.delete(entry.target.id);
      }
      const current = targets.find((t) => visible.has(t.id));
      if (!current) return;
      for (const [id, link] of links) {
        if (id === current.id) link.setAttribute("aria-current", "true");
        else link.removeAttribute("aria-current");
      }
    },
    { rootMargin: "-70px 0px -55% 0px" },
  );
  for (const target of targets) observer.observe(target);
}

for (const code of document.querySelectorAll("code[data-lang]")) {
  if (!code.id.startsWith("snippet-") && !code.id.startsWith("poll-") && !code.id.startsWith("response-")) {
    highlight(code, code.textContent, code.dataset.lang);
  }
}
populate();
renderPolling();
setupTabs();
setupCopyButtons();
setupNavToggle();
scrollSpy();
document.documentElement.dataset.ready = "true";
