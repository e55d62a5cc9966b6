// Shared helpers of the docs and Studio pages: the page data the server rendered, small DOM
// helpers, how model capabilities read in words, a dependency-free syntax highlighter, copy
// buttons and accessible tabs. Plain ES modules, no build step: the server ships these files as is.

/** The catalog and settings the server embedded in the page (see web/pages.py: page_data). */
export function pageData() {
  const node = document.getElementById("vs-data");
  return JSON.parse(node.textContent);
}

/** Create an element: h("a", { href: "/", class: "x" }, "text", child). Text is never parsed as
 * HTML, so catalog strings (operator-written) cannot inject markup. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") el.className = value;
    else if (name === "text") el.textContent = value;
    else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function chips(values, cls = "chip") {
  return values.map((value) => h("span", { class: cls }, value));
}

const plural = (n, one, many) => (n === 1 ? one : many);

export function modeName(mode) {
  return mode.replaceAll("_", " ");
}

/** "8 seconds", "3–15 seconds", "5, 10 or 15 seconds". */
export function durationsText(model) {
  const d = model.durations;
  if (d.type === "range") return `${d.min}–${d.max} seconds (any whole second)`;
  const values = d.values;
  if (values.length === 1) return `${values[0]} ${plural(values[0], "second", "seconds")}`;
  return `${values.slice(0, -1).join(", ")} or ${values[values.length - 1]} seconds`;
}

/** Extra duration rules: per quality mode and per character orientation. */
export function durationNotes(model) {
  const notes = [];
  for (const [quality, seconds] of Object.entries(model.durations_by_quality || {})) {
    if (seconds.length !== model.allowed_durations.length) {
      notes.push(`${quality}: ${seconds.join(", ")} s`);
    }
  }
  for (const [name, rule] of Object.entries(model.character_orientations || {})) {
    notes.push(`${name} orientation: up to ${rule.max_duration_seconds} s`);
  }
  if (model.duration_required) notes.push("duration_seconds is required");
  return notes;
}

/** Input fields in words: "input_image_urls (image, 0–2)". */
export function inputFieldText(name, spec) {
  const count = spec.min === spec.max ? `exactly ${spec.min}` : `${spec.min}–${spec.max}`;
  return `${name} (${spec.kind}, ${count})`;
}

/** The allowed durations once quality and orientation are chosen (as the validator does). */
export function allowedDurations(model, quality, orientation) {
  let allowed = (quality && model.durations_by_quality[quality]) || model.allowed_durations;
  const rule = orientation && model.character_orientations[orientation];
  if (rule) allowed = allowed.filter((s) => s <= rule.max_duration_seconds);
  return allowed;
}

/** The rate a request pays per second (or per job), as the server's pricing rule reads. */
export function rateFor(model, quality, sound) {
  const credits = model.credits;
  const key = quality || "default";
  const table = sound && model.audio && key in credits.sound_rates ? credits.sound_rates : credits.rates;
  return table[key] ?? table.default ?? 0;
}

export function formatNumber(n) {
  return new Intl.NumberFormat("en-US").format(n);
}

export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

// --- syntax highlighting -------------------------------------------------------------------

const KEYWORDS = {
  bash: /^(?:curl|while|do|done|case|esac|in|break|sleep|echo|if|then|fi|printf)$/,
  javascript:
    /^(?:const|let|await|async|function|return|if|throw|new|for|of|while|else|import|from|export)$/,
  python: /^(?:import|from|def|return|if|not|in|and|or|for|while|raise|break|else|elif|with|as)$/,
  json: /^$/,
  text: /^$/,
};
const LITERALS = /^(?:true|false|null|True|False|None|undefined)$/;

// One pass over the text: the earliest token wins, so a "#" inside a string stays a string.
const TOKEN = new RegExp(
  [
    String.raw`(?<comment>(?:^|(?<=\s))#[^\n]*|\/\/[^\n]*)`,
    String.raw`(?<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|` + "`(?:[^`\\\\]|\\\\.)*`)",
    String.raw`(?<flag>(?<=\s)--?[A-Za-z][\w-]*)`,
    String.raw`(?<number>\b\d+(?:\.\d+)?\b)`,
    String.raw`(?<word>\b[A-Za-z_]\w*\b)`,
  ].join("|"),
  "g",
);

/** Fill ``code`` with ``text``, wrapping tokens in spans (textContent only, never innerHTML). */
export function highlight(code, text, lang) {
  code.replaceChildren();
  code.dataset.raw = text;
  const keywords = KEYWORDS[lang] || KEYWORDS.text;
  const frag = document.createDocumentFragment();
  let last = 0;
  if (lang === "text") {
    code.textContent = text;
    return;
  }
  for (const match of text.matchAll(TOKEN)) {
    const groups = match.groups;
    let cls = null;
    if (groups.comment !== undefined) cls = lang === "json" ? null : "tok-comment";
    else if (groups.string !== undefined) {
      // A string followed by a colon is an object key in all four languages.
      const after = text.slice(match.index + match[0].length);
      cls = /^\s*:/.test(after) ? "tok-key" : "tok-string";
    } else if (groups.flag !== undefined) cls = lang === "bash" ? "tok-flag" : null;
    else if (groups.number !== undefined) cls = "tok-number";
    else if (groups.word !== undefined) {
      if (LITERALS.test(match[0])) cls = "tok-literal";
      else if (keywords.test(match[0])) cls = "tok-keyword";
    }
    if (!cls) continue;
    if (match.index > last) frag.append(text.slice(last, match.index));
    frag.append(h("span", { class: cls }, match[0]));
    last = match.index + match[0].length;
  }
  frag.append(text.slice(last));
  code.append(frag);
}

// --- copy buttons ---------------------------------------------------------------------------

/** Copy text; navigator.clipboard where allowed, else a hidden textarea and execCommand. */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Permission denied or not focused: fall through to the old way.
  }
  const area = h("textarea", { class: "visually-hidden", readonly: true, "aria-hidden": "true" });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

let toastTimer = null;
export function toast(message) {
  const node = document.getElementById("toast");
  if (!node) return;
  node.textContent = message;
  node.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => node.classList.remove("show"), 1800);
}

/** Buttons with data-copy-target copy that element's raw text (what the reader sees). */
export function setupCopyButtons(root = document) {
  root.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy-target]");
    if (!button) return;
    const target = document.getElementById(button.dataset.copyTarget);
    if (!target) return;
    const text = target.dataset.raw ?? target.textContent;
    const ok = await copyText(text);
    const label = button.textContent;
    button.textContent = ok ? "Copied" : "Press Ctrl+C";
    button.classList.toggle("copied", ok);
    toast(ok ? "Copied to clipboard" : "Copy failed: select the text and press Ctrl+C");
    setTimeout(() => {
      button.textContent = label === "Copied" ? "Copy" : label;
      button.classList.remove("copied");
    }, 1600);
  });
}

// --- tabs -----------------------------------------------------------------------------------

const LANG_KEY = "videostudio.docs.lang";

/** WAI-ARIA tabs: click or arrow keys / Home / End; one tab stop per tab list. Tab lists marked
 * data-lang-group switch together, and the reader's language is remembered. */
export function setupTabs(root = document) {
  const groups = [...root.querySelectorAll("[data-tabs]")];
  const select = (tabs, tab, { focus = false, sync = true } = {}) => {
    const list = tabs.querySelector('[role="tablist"]');
    for (const other of list.querySelectorAll('[role="tab"]')) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) tab.focus();
    if (sync && tabs.hasAttribute("data-lang-group") && tab.dataset.lang) {
      try {
        localStorage.setItem(LANG_KEY, tab.dataset.lang);
      } catch {
        // Storage may be disabled; the choice then lasts for this page only.
      }
      for (const other of groups) {
        if (other === tabs || !other.hasAttribute("data-lang-group")) continue;
        const twin = other.querySelector(`[role="tab"][data-lang="${tab.dataset.lang}"]`);
        if (twin) select(other, twin, { sync: false });
      }
    }
  };
  let saved = null;
  try {
    saved = localStorage.getItem(LANG_KEY);
  } catch {
    saved = null;
  }
  for (const tabs of groups) {
    const list = tabs.querySelector('[role="tablist"]');
    const all = [...list.querySelectorAll('[role="tab"]')];
    const initial =
      (tabs.hasAttribute("data-lang-group") && all.find((t) => t.dataset.lang === saved)) || all[0];
    select(tabs, initial, { sync: false });
    list.addEventListener("click", (event) => {
      const tab = event.target.closest('[role="tab"]');
      if (tab) select(tabs, tab);
    });
    list.addEventListener("keydown", (event) => {
      const index = all.indexOf(document.activeElement);
      if (index < 0) return;
      const moves = {
        ArrowRight: (index + 1) % all.length,
        ArrowLeft: (index - 1 + all.length) % all.length,
        Home: 0,
        End: all.length - 1,
      };
      if (!(event.key in moves)) return;
      event.preventDefault();
      select(tabs, all[moves[event.key]], { focus: true });
    });
  }
}

/** The "Contents" button of narrow screens opens and closes the side navigation. */
export function setupNavToggle() {
  const button = document.getElementById("nav-toggle");
  const sidebar = document.getElementById("sidebar");
  if (!button || !sidebar) return;
  const set = (open) => {
    document.body.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", String(open));
  };
  button.addEventListener("click", () => set(button.getAttribute("aria-expanded") !== "true"));
  sidebar.addEventListener("click", (event) => {
    if (event.target.closest("a")) set(false);
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && document.body.classList.contains("nav-open")) {
      set(false);
      button.focus();
    }
  });
}
