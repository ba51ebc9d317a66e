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

// Colours, legend names and captions come from the server (credsim.labels), with each run:
// the report, its PNGs and this page draw a tier or a series the same way.
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

function series(key) {
  const s = state.style && state.style.series[key];
  return s || { label: humanize(key), color: NEUTRAL };
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

const RUN_FIELDS = ["population", "days", "seed"];

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
    text = s.days_done
      ? `Day ${fmt(s.days_done)} of ${fmt(s.days)} simulated (${pct}%).`
      : "Preparing the synthetic citizens…";
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

function describeRun(d) {
  const base = `${humanize(d.regime || d.preset)} regime · ${fmt(d.population)} citizens · ` +
    `${fmt(d.days)} days · seed ${d.seed}`;
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
  const m = await api(`/api/runs/${encodeURIComponent(name)}/metrics`);
  state.style = d.style;
  $("run-title").textContent = `Run ${name}`;
  $("run-params").textContent = describeRun(d);
  $("report-link").href = withToken(d.report);
  $("report-link").setAttribute("download", `${name}-report.html`);
  setCaptions("#results", d.caption);
  const byKey = Object.fromEntries(d.summary.map((s) => [s.key, s]));
  const cards = [];
  for (const [key, kind] of CARDS) {
    const s = byKey[key];
    if (!s) continue;
    let value = fmt(s.value, 2);
    if (key === "restricted" && byKey.restricted_pct) value += ` (${fmt(byKey.restricted_pct.value, 2)}%)`;
    cards.push(el("div", { class: "stat " + kind, "data-key": key, "data-window": s.window },
      el("div", { class: "label" }, s.label, el("span", { class: "window", text: s.window_label })),
      el("div", { class: "value", text: value }),
      el("p", { class: "explain", text: s.explain })));
  }
  $("cards").replaceChildren(...cards);
  $("summary-table").replaceChildren(
    el("thead", {}, el("tr", {}, el("th", { text: "Figure" }), el("th", { text: "Value" }),
      el("th", { text: "Days covered" }), el("th", { text: "What it means" }))),
    el("tbody", {}, d.summary.map((s) => el("tr", { "data-key": s.key, "data-window": s.window },
      el("td", { text: s.label }), el("td", { class: "num", text: fmt(s.value) }),
      el("td", { class: "window", text: s.window_label }),
      el("td", { class: "explain", text: s.explain })))));
  showResults("results");
  drawCharts(m);
  renderBurdenButtons();
  loadBurden(name).catch((e) => showError(e.message));
  setCitizenRun(d);
  $("citizen-id").max = d.population - 1;
  revealResults();
}

function layout(ytitle, extra = {}) {
  return Object.assign({
    height: 340,
    margin: { t: 10, r: 10, b: 45, l: 60 },
    xaxis: { title: { text: "day" }, gridcolor: "#eef0f4", zeroline: false },
    yaxis: { title: { text: ytitle }, gridcolor: "#eef0f4", rangemode: "tozero" },
    legend: { orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom" },
    hovermode: "x unified",
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", size: 12 },
  }, extra);
}

function plot(id, traces, lay, note) {
  const node = $(id);
  const values = traces.filter((t) => !t.reference).flatMap((t) => t.y || []);
  if (!traces.length || !values.some((v) => v)) {
    if (window.Plotly) Plotly.purge(node);
    node.classList.add("is-empty");
    node.replaceChildren(el("p", { class: "chart-note", text: note || "All values are zero on every day." }));
    return;
  }
  node.classList.remove("is-empty");
  node.replaceChildren();
  Plotly.newPlot(node, traces.map(({ reference, ...t }) => t), lay, PLOT_CONFIG);
}

function line(name, x, y, color, extra = {}) {
  return Object.assign({ type: "scatter", mode: "lines", name, x, y,
    line: { color, width: 2.2 } }, extra);
}

function rgba(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
}

function drawCharts(m) {
  const x = m.day;
  const s = m.series;
  const restricted = series("restricted"), family = series("spillover_only"),
    wrongful = series("wrongful");
  plot("chart-restricted", [
    line(restricted.label, x, s.restricted, restricted.color),
    line(family.label, x, s.spillover_only, family.color),
    line(wrongful.label, x, s.wrongful, wrongful.color,
      { line: { color: wrongful.color, dash: "dot", width: 2.2 } }),
    ...["ever_wrongful", "wrongful_spillover", "escaped"].filter((k) => s[k])
      .map((k) => line(series(k).label, x, s[k], series(k).color,
        { line: { color: series(k).color, dash: "dash", width: 1.6 } })),
  ], layout("citizens"), "Nobody was restricted on any day of this run.");

  const bandColor = series("score_band").color;
  const band = (lo, hi, name, alpha) => [
    { type: "scatter", mode: "lines", x, y: lo, line: { width: 0 }, hoverinfo: "skip", showlegend: false },
    { type: "scatter", mode: "lines", x, y: hi, line: { width: 0 }, fill: "tonexty",
      fillcolor: rgba(bandColor, alpha), name, hoverinfo: "skip" },
  ];
  const mean = series("score_mean");
  plot("chart-score", [
    ...band(s.score_p05, s.score_p95, "9 in 10 citizens", 0.15),
    ...band(s.score_p25, s.score_p75, "half of citizens", 0.3),
    line(mean.label, x, s.score_mean, mean.color),
  ], layout("score", { yaxis: { title: { text: "score" }, gridcolor: "#eef0f4" } }));

  const tiers = Object.keys(s).filter((k) => k.startsWith("tier_"));
  let start = state.style && state.style.start_tier ? "tier_" + state.style.start_tier : null;
  if (!tiers.includes(start)) {
    start = null;
    for (const k of tiers) if (start === null || s[k][0] > s[start][0]) start = k;
  }
  const moved = tiers.filter((k) => k !== start);
  const startLabel = start ? component("tiers", start.slice(5)).label : "";
  $("tiers-about").textContent = "The score puts every citizen in a tier (a grade); sanctions " +
    "and rewards follow the tiers." + (start ? ` Everyone starts in “${startLabel}”` +
    ` (${fmt(s[start][s[start].length - 1])} citizens there on the last day, not drawn); the ` +
    "lines count the citizens in every other tier." : "");
  plot("chart-tiers", moved.map((k, i) => {
    const t = component("tiers", k.slice(5), i);
    return line(t.label, x, s[k], t.color);
  }), layout("citizens"),
  tiers.length ? "Nobody left the starting tier." : "This regime has no tiers.");

  const denied = Object.keys(s).filter((k) => k.startsWith("denied_") && k.endsWith("_cumulative"));
  plot("chart-denied", denied.map((k, i) => {
    const p = component("privileges", k.slice(7, -11), i);
    return line(p.label, x, s[k], p.color);
  }), layout("refused attempts"),
  "No attempt to use a privilege was refused in this run.");

  const posts = s.posts_vs_baseline_7d;
  $("posts-card").hidden = !posts;
  if (posts) {
    const ratio = series("posts_vs_baseline"), none = series("no_effect");
    plot("chart-posts", [
      line("critical posts / normal (last 30 days)", x, posts, ratio.color),
      line(none.label, [x[0], x[x.length - 1]], [1, 1], none.color, { reference: true,
        line: { color: none.color, dash: "dash", width: 1.5 }, hoverinfo: "skip" }),
    ], layout("posts / normal", { yaxis: { title: { text: "posts / normal" }, gridcolor: "#eef0f4" } }));
  }
}

/* ---------- who bears it ---------- */

const DIMENSIONS = [["group", "Population group"], ["sex", "Sex"], ["age_band", "Age"],
  ["region", "Town or country"], ["province", "Province"]];
let burdenDimension = "group";

function renderBurdenButtons() {
  $("burden-dims").replaceChildren(...DIMENSIONS.map(([key, label]) => el("button", {
    type: "button", "data-dimension": key, "aria-pressed": key === burdenDimension ? "true" : "false",
    onclick: () => { burdenDimension = key; renderBurdenButtons(); loadBurden(state.current); },
  }, label)));
}

async function loadBurden(name) {
  if (!name) return;
  const b = await api(`/api/runs/${encodeURIComponent(name)}/burden?dimension=${burdenDimension}`);
  const x = b.groups.map((g) => String(g.group).replace(/_/g, " "));
  const bar = (key, label, color) => ({ type: "bar", name: label, x, y: b.groups.map((g) => g[key]),
    marker: { color }, hovertemplate: "%{x}: %{y:.2f} per 1,000<extra>" + label + "</extra>" });
  const styled = (key) => bar(`${key}_per_1000`, series(key).label, series(key).color);
  const keys = ["restricted", "spillover_only", "wrongful", "wrongful_spillover", "ever_wrongful",
    "escaped", "wrongly_denied", "misattributed"].filter((k) => b.groups.length && (`${k}_per_1000` in b.groups[0]));
  plot("chart-burden", keys.map(styled), layout("per 1,000 citizens", { barmode: "group", hovermode: "closest",
    xaxis: { automargin: true, tickangle: burdenDimension === "province" ? -45 : 0 } }),
  `Nobody was restricted or misidentified, in any ${b.label}.`);
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
  $("citizen-run").textContent = `Citizens of run ${d.name} (${describeRun(d)}); numbers go from 0 to ${fmt(d.population - 1)}.`;
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
    el("td", { class: "num", text: fmt(r.seed) }),
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
    $("compare-table").replaceChildren(
      el("thead", {}, el("tr", {}, ["Figure", "A", "B", "B − A", "Days covered", "What it means"].map((h) => el("th", { text: h })))),
      el("tbody", {}, r.rows.map((row) => el("tr", { "data-key": row.key },
        el("td", { text: row.label }),
        el("td", { class: "num", text: fmt(row.a) }),
        el("td", { class: "num", text: fmt(row.b) }),
        el("td", { class: "num", text: (row.difference > 0 ? "+" : "") + fmt(row.difference) }),
        el("td", { class: "window", text: row.window_label }),
        el("td", { class: "explain", text: row.explain })))));
    $("comparison").hidden = false;
    const sa = r.series.a, sb = r.series.b;
    const [ca, cb] = r.style.palette;
    const dotted = (color) => ({ line: { color, dash: "dot", width: 2 } });
    plot("chart-compare", [
      line("A: restricted", sa.day, sa.restricted, ca),
      line("B: restricted", sb.day, sb.restricted, cb),
      line("A: wrongfully restricted", sa.day, sa.wrongful, ca, dotted(ca)),
      line("B: wrongfully restricted", sb.day, sb.wrongful, cb, dotted(cb)),
    ], layout("citizens"), "Nobody was restricted in either run.");
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
