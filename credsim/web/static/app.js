/* credsim dashboard: the page's behaviour. Plain JavaScript; talks only to this server. */
"use strict";

const state = {
  token: sessionStorage.getItem("credsim-token") || "",
  style: null, // the shown run's colours and labels, from the API
  controls: [],
  current: null, // name of the run shown under Results
  polling: null, // name of the run being watched
  runs: [],
};

// Charts come from the server as plotly figures made by credsim.report (the same chart logic
// as the report and its PNGs); colours, labels and captions with them. This page only draws.
const NEUTRAL = "#868e96";
const PLOT_CONFIG = { displaylogo: false, responsive: true,
  modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };

/* ---------- small helpers ---------- */

function $(id) { return document.getElementById(id); }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function fmt(v, digits = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return v.toLocaleString("en-US", { maximumFractionDigits: digits });
}

function component(kind, name, i = 0) {
  const s = state.style && state.style[kind] && state.style[kind][name];
  if (s) return s;
  const palette = (state.style && state.style.palette) || [NEUTRAL];
  return { label: String(name).replace(/_/g, " "), color: palette[i % palette.length] };
}

function setCaptions(scope, text) {
  for (const p of document.querySelectorAll(`${scope} .caption`)) p.textContent = text || "";
}

function withToken(path) {
  return state.token ? `${path}?token=${encodeURIComponent(state.token)}` : path;
}

function humanize(s) {
  const t = String(s).replace(/_/g, " ");
  return t.charAt(0).toUpperCase() + t.slice(1);
}

function showError(message, kind = "error") {
  $("banner-text").textContent = message;
  $("banner").classList.toggle("info", kind === "info");
  $("banner").hidden = false;
}

function seconds(s) {
  if (s === null || s === undefined) return "";
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function hideError() { $("banner").hidden = true; }

async function api(path, options = {}) {
  const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
  if (state.token) headers.Authorization = "Bearer " + state.token;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, Object.assign({}, options, { headers }));
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401) {
    $("token-box").hidden = false;
    throw new Error("This dashboard needs its access key.");
  }
  if (!res.ok) throw new Error((data && data.error) || `${res.status} ${res.statusText}`);
  return data;
}

/* ---------- tabs ---------- */

function showTab(name) {
  for (const b of document.querySelectorAll(".tabs [role=tab]")) {
    const on = b.dataset.tab === name;
    b.setAttribute("aria-selected", on ? "true" : "false");
    $("tab-" + b.dataset.tab).hidden = !on;
  }
  // charts drawn while hidden need a resize once visible
  if (window.Plotly) {
    for (const c of document.querySelectorAll(`#tab-${name} .js-plotly-plot`)) Plotly.Plots.resize(c);
  }
}

/* ---------- presets and controls ---------- */

async function loadPresets() {
  const data = await api("/api/presets");
  const sel = $("preset");
  sel.replaceChildren(...data.presets.map((p) =>
    el("option", { value: p.name, text: humanize(p.name) })));
  state.presets = data.presets;
  if (data.presets.some((p) => p.name === "press")) sel.value = "press";
  await loadControls();
}

async function loadControls() {
  const preset = $("preset").value;
  const data = await api("/api/controls?preset=" + encodeURIComponent(preset));
  state.controls = data.controls;
  $("preset-description").textContent = data.description;
  renderControls();
}

const OPEN_GROUPS = new Set(["Population and time", "How the system works", "Cameras and mistakes",
  "Sanctions"]);

function renderControls() {
  const form = $("controls");
  const groups = new Map();
  for (const c of state.controls) {
    if (!groups.has(c.group)) groups.set(c.group, []);
    groups.get(c.group).push(c);
  }
  const parts = [];
  let i = 0;
  for (const [group, items] of groups) {
    const body = el("div", { class: "group-body" });
    for (const c of items) body.append(renderControl(c, i++));
    parts.push(el("details", { class: "group", open: OPEN_GROUPS.has(group) },
      el("summary", { text: `${group} (${items.length})` }), body));
  }
  form.replaceChildren(...parts);
}

function isLog(c) { return c.path === "population"; }

function toSlider(c, v) {
  if (!isLog(c)) return v;
  const lo = Math.log10(c.min), hi = Math.log10(c.max);
  return Math.round(1000 * (Math.log10(Math.max(v, c.min)) - lo) / (hi - lo));
}

function fromSlider(c, s) {
  if (!isLog(c)) return Number(s);
  const lo = Math.log10(c.min), hi = Math.log10(c.max);
  const raw = Math.pow(10, lo + (hi - lo) * Number(s) / 1000);
  const mag = Math.pow(10, Math.max(2, Math.floor(Math.log10(raw)) - 1));
  return Math.min(c.max, Math.max(c.min, Math.round(raw / mag) * mag));
}

const RUN_FIELDS = ["population", "days", "seed", "replicates"];

function displayDefault(c) {
  if (c.widget === "switch") return c.default ? "on" : "off";
  if (c.widget === "select") return humanize(c.default);
  return fmt(c.default);
}

function renderControl(c, i) {
  const id = "c" + i;
  const wrap = el("div", { class: "control", "data-path": c.path });
  const reset = el("button", { type: "button", class: "reset-one", title: "Back to the regime's value",
    "aria-label": `Reset ${c.label}`, text: "↺" });
  let input, get, set;
  if (c.widget === "slider") {
    const range = el("input", { type: "range", id, min: isLog(c) ? 0 : c.min,
      max: isLog(c) ? 1000 : c.max, step: isLog(c) ? 1 : c.step, value: toSlider(c, c.default) });
    const num = el("input", { type: "number", class: "num", min: c.min, max: c.max,
      step: c.integer ? (isLog(c) ? 100 : 1) : c.step, value: c.default,
      "aria-label": c.label + " (number)", "data-path": c.path });
    range.addEventListener("input", () => { num.value = fromSlider(c, range.value); update(); });
    num.addEventListener("input", () => {
      const v = Number(num.value);
      if (num.value !== "" && !Number.isNaN(v)) range.value = toSlider(c, v);
      update();
    });
    input = el("div", { class: "control-row" }, range, num);
    get = () => Number(num.value);
    set = (v) => { num.value = v; range.value = toSlider(c, v); };
  } else if (c.widget === "switch") {
    const box = el("input", { type: "checkbox", id, role: "switch", checked: c.default,
      "data-path": c.path });
    const text = el("span", { class: "switch-text", text: c.default ? "On" : "Off" });
    box.addEventListener("change", () => { text.textContent = box.checked ? "On" : "Off"; update(); });
    input = el("label", { class: "switch" }, box, text);
    get = () => box.checked;
    set = (v) => { box.checked = v; text.textContent = v ? "On" : "Off"; };
  } else {
    const sel = el("select", { id, "data-path": c.path },
      c.options.map((o) => el("option", { value: o, text: humanize(o) })));
    sel.value = c.default;
    sel.addEventListener("change", update);
    input = el("div", { class: "control-row" }, sel);
    get = () => sel.value;
    set = (v) => { sel.value = v; };
  }
  function update() {
    const v = get();
    const changed = c.widget === "slider" ? Math.abs(v - c.default) > 1e-12 : v !== c.default;
    wrap.classList.toggle("changed", changed);
  }
  reset.addEventListener("click", () => { set(c.default); update(); });
  c.get = get;
  c.set = (v) => { set(v); update(); };
  wrap.append(
    el("div", { class: "control-head" }, el("label", { for: id, text: c.label }), reset),
    input,
    el("p", { class: "help" }, c.help + " ",
      el("span", { class: "preset-value",
        text: `${RUN_FIELDS.includes(c.path) ? "Default" : "Regime value"}: ${displayDefault(c)}.` })),
  );
  return wrap;
}

function resetAll() {
  for (const c of state.controls) c.set(c.default);
}

function collectRequest() {
  const body = { preset: $("preset").value, overrides: {} };
  const name = $("run-name").value.trim();
  if (name) body.name = name;
  for (const c of state.controls) {
    const v = c.get();
    if (RUN_FIELDS.includes(c.path)) {
      body[c.path] = v;
      continue;
    }
    const changed = c.widget === "slider" ? Math.abs(v - c.default) > 1e-12 : v !== c.default;
    if (changed) body.overrides[c.path] = v;
  }
  return body;
}

/* ---------- running ---------- */

async function startRun() {
  hideError();
  const button = $("run");
  button.disabled = true;
  try {
    const res = await api("/api/runs", { method: "POST", body: JSON.stringify(collectRequest()) });
    $("run-name").value = "";
    watch(res.name);
    refreshRuns();
  } catch (e) {
    showError("Could not start the run: " + e.message);
  } finally {
    button.disabled = false;
  }
}

function setProgress(s) {
  const pct = Math.round(100 * (s.fraction || 0));
  $("progress").hidden = false;
  $("progress-bar").style.width = pct + "%";
  $("running-bar").style.width = pct + "%";
  let text;
  if (s.state === "queued") {
    text = s.queue_position > 1
      ? `Waiting: ${s.queue_position - 1} other run(s) go first.`
      : "Waiting for the run in progress to finish.";
  } else if (s.state === "running" && s.phase === "report") {
    text = "All days simulated; writing the report…";
  } else if (s.state === "running") {
    const rep = s.replicates > 1 ? `Replicate ${s.replicate_now} of ${s.replicates}: ` : "";
    text = s.days_done || s.replicate_now > 1
      ? `${rep}day ${fmt(s.days_done)} of ${fmt(s.days)} simulated (${pct}% in all).`
      : "Preparing the synthetic citizens…";
    text = text.charAt(0).toUpperCase() + text.slice(1);
    if (s.elapsed_seconds && s.fraction >= 0.02) {
      const left = s.elapsed_seconds / s.fraction - s.elapsed_seconds;
      text += ` About ${seconds(left)} left.`;
    }
  } else {
    text = s.state;
  }
  $("progress-text").textContent = text;
  $("running-text").textContent = text;
  $("running-title").textContent = `Running ${s.name}…`;
}

async function watch(name) {
  state.polling = name;
  state.current = name;
  showResults("running");
  showTab("results");
  revealResults();
  $("cancel").disabled = false;
  while (state.polling === name) {
    let s;
    try {
      s = await api(`/api/runs/${encodeURIComponent(name)}/status`);
    } catch (e) {
      showError(e.message);
      break;
    }
    setProgress(s);
    if (["done", "cancelled", "failed"].includes(s.state)) {
      state.polling = null;
      $("progress").hidden = true;
      refreshRuns();
      if (s.state === "done") await openRun(name);
      else {
        showResults("empty");
        if (s.state === "cancelled") {
          showError(`Run ${name} was stopped. Its folder is kept, marked as incomplete.`, "info");
        } else {
          showError(`Run ${name} failed: ${s.error || "unknown error"}`);
        }
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 400));
  }
}

async function cancelRun() {
  if (!state.polling) return;
  $("cancel").disabled = true;
  try {
    await api(`/api/runs/${encodeURIComponent(state.polling)}/cancel`, { method: "POST" });
  } catch (e) {
    showError(e.message);
  }
}

/* ---------- results ---------- */

function revealResults() {
  // one column (narrow screens): the settings come first, so bring the results into view
  if (window.matchMedia("(max-width: 900px)").matches) {
    document.querySelector(".content").scrollIntoView({ block: "start" });
  }
}

function showResults(which) {
  $("results-empty").hidden = which !== "empty";
  $("results-running").hidden = which !== "running";
  $("results").hidden = which !== "results";
}

function showValue(v) {
  if (v === true) return "on";
  if (v === false) return "off";
  return typeof v === "string" ? humanize(v) : fmt(v);
}

function describeChanges(d) {
  return (d.changes || []).map((c) => `${c.label}: ${showValue(c.value)}`).join("; ");
}

function describeSeeds(d) {
  const seeds = d.seeds || [d.seed];
  if (seeds.length <= 1) return `seed ${d.seed} · 1 replicate`;
  return `seeds ${seeds[0]} to ${seeds[seeds.length - 1]} · ${seeds.length} replicates`;
}

function describeRun(d) {
  const base = `${humanize(d.regime || d.preset)} regime · ${fmt(d.population)} citizens · ` +
    `${fmt(d.days)} days · ${describeSeeds(d)}`;
  const changes = describeChanges(d);
  return base + (changes ? " · changed: " + changes : " · regime values unchanged");
}

function when(iso) {
  if (!iso) return "";
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? iso : t.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

const CARDS = [
  ["restricted", "bad"],
  ["wrongful", "bad"],
  ["wrongful_listings", "bad"],
  ["ever_wrongful", "bad"],
  ["wrongful_spillover", "family"],
  ["escaped", "warn"],
  ["spillover_only", "family"],
  ["ever_sanctioned", "warn"],
  ["misattributed_records", "warn"],
  ["score_mean", ""],
  ["posts_vs_baseline", ""],
  ["posts_vs_baseline_last_30_days", ""],
];

async function openRun(name) {
  hideError();
  const d = await api(`/api/runs/${encodeURIComponent(name)}`);
  state.current = name;
  if (d.state !== "done") {
    if (d.state === "running" || d.state === "queued") { watch(name); return; }
    showResults("empty");
    showError(`Run ${name} is ${d.state}${d.error ? ": " + d.error : ""}.`);
    return;
  }
  state.style = d.style;
  $("run-title").textContent = `Run ${name}`;
  $("run-params").textContent = describeRun(d);
  $("report-link").href = withToken(d.report);
  $("report-link").setAttribute("download", `${name}-report.html`);
  setCaptions("#results", d.caption);
  const byKey = Object.fromEntries(d.summary.map((s) => [s.key, s]));
  const many = (d.seeds || []).length > 1;
  const cards = [];
  for (const [key, kind] of CARDS) {
    const s = byKey[key];
    if (!s) continue;
    let value = s.text;
    if (key === "restricted" && byKey.restricted_pct) value += ` (${byKey.restricted_pct.text}%)`;
    cards.push(el("div", { class: "stat " + kind, "data-key": key, "data-window": s.window },
      el("div", { class: "label" }, s.label, el("span", { class: "window", text: s.window_label })),
      el("div", { class: "value", text: value }),
      s.interval_text ? el("div", { class: "interval", text: `95% interval ${s.interval_text} ` +
        `(mean of ${s.replicates} replicates)` }) : null,
      el("p", { class: "explain", text: s.explain })));
  }
  $("cards").replaceChildren(...cards);
  const heads = ["Figure", many ? `Mean of ${d.seeds.length} replicates` : "Value"]
    .concat(many ? ["95% interval"] : [], ["Days covered", "What it means"]);
  $("summary-table").replaceChildren(
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", { text: h })))),
    el("tbody", {}, d.summary.map((s) => el("tr", { "data-key": s.key, "data-window": s.window },
      el("td", { text: s.label }), el("td", { class: "num", text: s.text }),
      many ? el("td", { class: "num interval", text: s.interval_text }) : null,
      el("td", { class: "window", text: s.window_label }),
      el("td", { class: "explain", text: s.explain })))));
  showResults("results");
  renderBurdenButtons();
  await drawCharts(name);
  loadCauses(name).catch((e) => showError(e.message));
  loadLifetime(name).catch((e) => showError(e.message));
  setCitizenRun(d);
  $("citizen-id").max = d.population - 1;
  revealResults();
}

function draw(id, spec) {
  // one chart as the server made it: its title, sentence and caption on the card, the figure
  const node = $(id);
  const card = node.closest(".chart-card");
  if (card) {
    for (const [sel, text] of [["h3", spec.title], [".about", spec.about], [".caption", spec.caption]]) {
      const part = card.querySelector(sel);
      if (part && text) part.textContent = text;
    }
  }
  if (!spec.figure) {
    if (window.Plotly) Plotly.purge(node);
    node.classList.add("is-empty");
    node.replaceChildren(el("p", { class: "chart-note", text: spec.note || "All values are zero." }));
    return;
  }
  node.classList.remove("is-empty");
  node.replaceChildren();
  Plotly.newPlot(node, spec.figure.data, spec.figure.layout, PLOT_CONFIG);
}

// chart slot on the page -> key of the server's chart
const CHARTS = [["chart-restricted", "restricted"], ["chart-score", "score"],
  ["chart-burden", "burden"], ["chart-tiers", "tiers"], ["chart-denied", "denied"],
  ["chart-posts", "posts"]];

async function drawCharts(name, only = null) {
  const c = await api(`/api/runs/${encodeURIComponent(name)}/charts?dimension=${burdenDimension}`);
  if (state.current !== name) return;
  $("posts-card").hidden = !c.charts.posts || c.charts.posts.empty;
  for (const [id, key] of CHARTS) {
    if ((only === null || only === key) && c.charts[key]) draw(id, c.charts[key]);
  }
}

/* ---------- who bears it ---------- */

const DIMENSIONS = [["group", "Population group"], ["sex", "Sex"], ["age_band", "Age"],
  ["region", "Town or country"], ["province", "Province"]];
let burdenDimension = "group";

function renderBurdenButtons() {
  $("burden-dims").replaceChildren(...DIMENSIONS.map(([key, label]) => el("button", {
    type: "button", "data-dimension": key, "aria-pressed": key === burdenDimension ? "true" : "false",
    onclick: () => {
      burdenDimension = key;
      renderBurdenButtons();
      drawCharts(state.current, "burden").catch((e) => showError(e.message));
    },
  }, label)));
}

/* ---------- causes ---------- */

async function loadCauses(name) {
  if (!name) return;
  const c = await api(`/api/runs/${encodeURIComponent(name)}/causes`);
  const pct = (v) => (v === null || v === undefined ? "" : `${(100 * v).toFixed(1)}%`);
  const head = ["sanction", "rule", "listings (run)", "share of listings",
    "restricted on the last day", "share of the restricted"];
  const rows = c.causes.filter((r) => r.listings > 0 || r.restricted_now > 0);
  $("causes-table").replaceChildren(rows.length ? el("table", { class: "table causes" },
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {},
      el("td", {}, r.sanction), el("td", {}, r.rule || "(no record)"),
      el("td", {}, String(r.listings)), el("td", {}, pct(r.share_of_listings)),
      el("td", {}, String(r.restricted_now)), el("td", {}, pct(r.share_of_restricted))))))
    : el("p", {}, "No listing started in this run."));
}

/* ---------- lifetime figures (the life course) ---------- */

async function loadLifetime(name) {
  if (!name) return;
  const c = await api(`/api/runs/${encodeURIComponent(name)}/lifetime`);
  $("lifetime-card").hidden = !c.cohorts.length;
  const share = (r, key) => (r[key] === null || r[key] === undefined ? "not yet reached"
    : `${(100 * r[key]).toFixed(1)}% (${(100 * r[key + "_low"]).toFixed(1)}-${(100 * r[key + "_high"]).toFixed(1)}%)`);
  const head = ["born in", "citizens born", "ever restricted by 18", "through family by 18",
    "ever restricted by 30", "through family by 30"];
  $("lifetime-table").replaceChildren(el("table", { class: "table lifetime" },
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))),
    el("tbody", {}, ...c.cohorts.map((r) => el("tr", {},
      el("td", {}, String(r.cohort)), el("td", {}, String(r.born)),
      el("td", {}, share(r, "restricted_by_18")), el("td", {}, share(r, "through_family_by_18")),
      el("td", {}, share(r, "restricted_by_30")), el("td", {}, share(r, "through_family_by_30")))))));
}

/* ---------- citizens ---------- */

const EXAMPLES = [
  ["wrongful", "Wrongfully restricted"],
  ["ever_wrongful", "Ever wrongfully listed"],
  ["escaped", "Escaped their own listing"],
  ["banned", "Under a sanction now"],
  ["spillover", "Restricted through family"],
  ["permanent", "Marked for life"],
];

function setCitizenRun(d) {
  const which = (d.seeds || []).length > 1 ? ` Citizens shown are those of replicate 1 (seed ${d.seeds[0]}).` : "";
  $("citizen-run").textContent = `Citizens of run ${d.name} (${describeRun(d)}); numbers go from 0 to ${fmt(d.population - 1)}.${which}`;
  const groups = [];
  for (const [kind, label] of EXAMPLES) {
    const ids = (d.examples && d.examples[kind]) || [];
    if (!ids.length) continue;
    groups.push(el("span", { class: "example-group" }, el("span", { class: "muted", text: label + ":" }),
      ids.map((id) => el("button", { type: "button", class: "chip", "data-kind": kind,
        "aria-label": `${label}: citizen ${id}`,
        onclick: () => { $("citizen-id").value = id; showCitizen(); } }, `#${id}`))));
  }
  $("examples").replaceChildren(...(groups.length
    ? [el("span", { text: "Examples:" }), ...groups]
    : [el("span", { class: "muted", text: "No one was sanctioned in this run: any citizen number shows a quiet record." })]));
  $("dossier").hidden = true;
}

async function showCitizen() {
  hideError();
  if (!state.current) { showError("Run a simulation or open a run first."); return; }
  const id = $("citizen-id").value;
  try {
    const r = await api(`/api/runs/${encodeURIComponent(state.current)}/citizens/${encodeURIComponent(id)}`);
    const d = r.dossier;
    const facts = [
      el("span", { class: "fact" }, "Score", el("strong", { text: fmt(d.score) })),
      el("span", { class: "fact" }, "Tier", el("strong", { text: component("tiers", d.tier).label })),
      el("span", { class: "fact " + (d.restricted ? "bad" : "good"),
        text: d.restricted ? "Restricted" : (d.restricted_through_family ? "Restricted through family" : "Not restricted") }),
    ];
    if (d.wrongful) facts.push(el("span", { class: "fact bad", text: "Wrongfully restricted" }));
    else if (d.ever_wrongful) facts.push(el("span", { class: "fact bad", text: "Ever wrongfully listed" }));
    if (d.wrongful_spillover) facts.push(el("span", { class: "fact bad", text: "Restricted through a relative's wrongful listing" }));
    if (d.escaped) facts.push(el("span", { class: "fact warn", text: "Escaped their own listing" }));
    if (d.misattributed_points) {
      facts.push(el("span", { class: "fact bad" }, "Points from mistaken records",
        el("strong", { text: fmt(d.misattributed_points) })));
    }
    $("dossier-facts").replaceChildren(...facts);
    $("dossier-text").textContent = r.text;
    $("dossier").hidden = false;
  } catch (e) {
    $("dossier").hidden = true;
    showError(e.message);
  }
}

/* ---------- runs list and comparison ---------- */

async function refreshRuns() {
  let data;
  try { data = await api("/api/runs"); } catch (e) { return; }
  state.runs = data.runs;
  const rows = data.runs.map((r) => el("tr", { "data-name": r.name },
    el("td", { class: "nowrap" }, el("strong", { text: r.name })),
    el("td", { text: humanize(r.regime || r.preset || "") }),
    el("td", { class: "num", text: fmt(r.population) }),
    el("td", { class: "num", text: fmt(r.days) }),
    el("td", { class: "num", text: (r.seeds || []).length > 1 ? `${r.seeds[0]}–${r.seeds[r.seeds.length - 1]}` : fmt(r.seed) }),
    el("td", {}, (r.changes || []).length
      ? el("ul", { class: "changes" }, r.changes.map((c) => el("li", { text: `${c.label}: ${showValue(c.value)}` })))
      : "–"),
    el("td", { class: "nowrap", text: when(r.created) }),
    el("td", {}, el("span", { class: "state " + r.state, text: r.state, title: r.error || "" })),
    el("td", {}, r.state === "done" || r.state === "running" || r.state === "queued"
      ? el("button", { type: "button", class: "secondary small", onclick: () => openRun(r.name).then(() => showTab("results")).catch((e) => showError(e.message)) }, "Open")
      : ""),
  ));
  $("runs-table").replaceChildren(
    el("thead", {}, el("tr", {}, ["Run", "Regime", "Citizens", "Days", "Seed", "Changed settings", "Started", "State", ""].map((h) => el("th", { text: h })))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 9, class: "muted", text: "No runs yet." }))));
  const done = data.runs.filter((r) => r.state === "done");
  for (const [id, idx] of [["compare-a", 1], ["compare-b", 0]]) {
    const sel = $(id);
    const keep = sel.value;
    sel.replaceChildren(...done.map((r) => el("option", { value: r.name,
      text: `${r.name} · ${fmt(r.population)} citizens · ${fmt(r.days)} days` })));
    if (state.comparePicked && done.some((r) => r.name === keep)) sel.value = keep;
    else if (done.length) sel.value = done[Math.min(idx, done.length - 1)].name;
  }
}

async function compareRuns() {
  hideError();
  const a = $("compare-a").value, b = $("compare-b").value;
  if (!a || !b) { showError("Two finished runs are needed to compare."); return; }
  try {
    const r = await api(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
    const p = $("pairing");
    p.textContent = r.paired
      ? "Paired: same seed, citizens and days, so the differences come from the rules alone."
      : `Not paired (${r.pairing.replace(/^unpaired \(|\)$/g, "")}): part of the differences is chance.`;
    p.classList.toggle("unpaired", !r.paired);
    $("compare-params").replaceChildren(
      el("div", {}, el("strong", { text: "A: " }), `${r.a.name}: ${describeRun(r.a)}`),
      el("div", {}, el("strong", { text: "B: " }), `${r.b.name}: ${describeRun(r.b)}`));
    const spread = r.rows.some((row) => row.ci_low !== null && row.ci_low !== undefined);
    const reps = spread ? Math.max(...r.rows.map((row) => row.replicates || 1)) : 1;
    const heads = ["Figure", "A", "B", "B − A"].concat(
      spread ? [`95% interval of B − A (${reps} replicates)`] : [], ["Days covered", "What it means"]);
    $("compare-table").replaceChildren(
      el("thead", {}, el("tr", {}, heads.map((h) => el("th", { text: h })))),
      el("tbody", {}, r.rows.map((row) => el("tr", { "data-key": row.key },
        el("td", { text: row.label }),
        el("td", { class: "num", text: fmt(row.a) }),
        el("td", { class: "num", text: fmt(row.b) }),
        el("td", { class: "num", text: (row.difference > 0 ? "+" : "") + fmt(row.difference) }),
        spread ? el("td", { class: "num interval", text: row.ci_low === null ? "–"
          : `${fmt(row.ci_low, 3)} to ${fmt(row.ci_high, 3)}` }) : null,
        el("td", { class: "window", text: row.window_label }),
        el("td", { class: "explain", text: row.explain })))));
    $("comparison").hidden = false;
    draw("chart-compare", r.chart);
    setCaptions("#comparison", r.caption);
  } catch (e) {
    showError(e.message);
  }
}

/* ---------- start ---------- */

function takeTokenFromUrl() {
  const url = new URL(window.location.href);
  const t = url.searchParams.get("token");
  if (t) {
    state.token = t;
    sessionStorage.setItem("credsim-token", t);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
  }
}

async function start() {
  takeTokenFromUrl();
  try {
    await loadPresets();
    $("token-box").hidden = true;
  } catch (e) {
    showError(e.message);
  }
  await refreshRuns();
}

document.addEventListener("DOMContentLoaded", () => {
  for (const b of document.querySelectorAll(".tabs [role=tab]")) {
    b.addEventListener("click", () => showTab(b.dataset.tab));
  }
  $("preset").addEventListener("change", () => loadControls().catch((e) => showError(e.message)));
  $("reset").addEventListener("click", resetAll);
  $("run").addEventListener("click", startRun);
  $("cancel").addEventListener("click", cancelRun);
  $("banner-close").addEventListener("click", hideError);
  $("citizen-form").addEventListener("submit", (e) => { e.preventDefault(); showCitizen(); });
  for (const id of ["compare-a", "compare-b"]) {
    $(id).addEventListener("change", () => { state.comparePicked = true; });
  }
  $("compare-form").addEventListener("submit", (e) => { e.preventDefault(); compareRuns(); });
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    state.token = $("token-input").value.trim();
    sessionStorage.setItem("credsim-token", state.token);
    $("token-box").hidden = true;
    hideError();
    start();
  });
  start();
});
