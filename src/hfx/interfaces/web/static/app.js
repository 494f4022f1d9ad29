"use strict";
// hfx serve: the page. Plain DOM and fetch; the server holds all state (items, jobs), this page
// shows it, polls it every 2 s (so a second tab sees the same) and follows running jobs by SSE.

const TOKEN = new URLSearchParams(location.search).get("token");
const FINAL = new Set(["done", "failed", "cancelled"]);
const KINDS = { cls: "CLs", upper_limit: "upper limit", fit: "fit", ranking: "ranking", scan: "scan" };
const BAND = ["−2σ", "−1σ", "median", "+1σ", "+2σ"];
const MAX_STREAMS = 2; // EventSources per tab: browsers allow only ~6 connections per host

const state = {
  folders: [],
  items: [],
  jobs: [],
  item: null, // id of the item shown in Inspect
  job: null, // id of the job shown in Compute
  streams: new Map(), // job id -> EventSource
  offline: false,
  rendered: {}, // what each view last rendered, to rebuild only on change
};

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

/** h("td", {class: "num"}, "1.2"): an element; strings become text, never HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  el.append(...children.flat(Infinity).filter((c) => c != null && c !== false));
  return el;
}

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

// ---------------------------------------------------------------- numbers

/** A number to `digits` significant digits (no trailing zeros); plain from 1e-3 to 1e6. */
function fmt(x, digits = 4) {
  if (typeof x !== "number") return x == null ? "–" : String(x);
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 10 ** (digits - 1) && a < 1e6) return x.toFixed(0);
  if (a >= 1e-3 && a < 1e6) return x.toPrecision(digits).replace(/\.?0+$/, "");
  return x.toExponential(digits - 1).replace(/\.?0*e\+?/, "e");
}

/** Values of a parameter (one per bin), short: "1 (×12)", "0.5, 0.7", "0.1, 0.2, … (×9)". */
function fmtList(values, f = fmt) {
  const s = [].concat(values).map((v) => f(v));
  if (s.length > 1 && s.every((v) => v === s[0])) return `${s[0]} (×${s.length})`;
  return s.length <= 3 ? s.join(", ") : `${s.slice(0, 2).join(", ")}, … (×${s.length})`;
}

const fmtBounds = ([lo, hi]) => `[${fmt(lo)}, ${fmt(hi)}]`;
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const count = (list, word) => plural(list.length, word);
const sup = (n) => [...String(n)].map((c) => "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"["-0123456789".indexOf(c)]).join("");

function fmtSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  return bytes < 2 ** 20 ? `${fmt(bytes / 1024, 3)} kB` : `${fmt(bytes / 2 ** 20, 3)} MB`;
}

// ---------------------------------------------------------------- server

/** An API URL for <img>, <a download> and EventSource: the token travels in the query. */
function url(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== "") q.set(k, v);
  if (TOKEN) q.set("token", TOKEN);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Calls the API; resolves to the JSON answer, or rejects with the server's one-line message. */
async function api(path, { method = "GET", json, body } = {}) {
  const headers = TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {};
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  }
  let resp;
  try {
    resp = await fetch(path, { method, headers, body });
  } catch {
    throw new Error("the hfx server cannot be reached (is `hfx serve` still running?)");
  }
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: an answer from outside the API */
  }
  if (!resp.ok) throw new Error(data?.error || `${resp.status} ${resp.statusText || "error"}`);
  return data;
}

function showError(err) {
  $("error-text").textContent = String(err?.message ?? err).split("\n")[0];
  $("error").hidden = false;
}

function clearError() {
  $("error").hidden = true;
}

// ---------------------------------------------------------------- state

const itemById = (id) => state.items.find((i) => i.id === id);
const jobById = (id) => state.jobs.find((j) => j.id === id);
const itemsOf = (...kinds) => state.items.filter((i) => kinds.includes(i.kind));

function upsertItem(item) {
  const k = state.items.findIndex((i) => i.id === item.id);
  if (k < 0) state.items.push(item);
  else state.items[k] = item;
  itemsChanged();
}

/** Whether job `b` (e.g. from a poll) is no older than `a` (e.g. from the event stream). */
function notOlder(a, b) {
  if (FINAL.has(a.state)) return FINAL.has(b.state);
  return FINAL.has(b.state) || (b.progress?.done ?? 0) >= (a.progress?.done ?? 0);
}

function upsertJob(job) {
  const k = state.jobs.findIndex((j) => j.id === job.id);
  if (k < 0) state.jobs.push(job);
  else if (notOlder(state.jobs[k], job)) state.jobs[k] = job;
  jobsChanged();
}

async function refresh() {
  try {
    const [{ items }, { jobs }] = await Promise.all([api("/api/items"), api("/api/jobs")]);
    if (state.offline) clearError();
    state.offline = false;
    $("conn").textContent = "";
    state.items = items;
    itemsChanged();
    state.jobs = jobs.map((job) => {
      const old = jobById(job.id);
      return old && !notOlder(old, job) ? old : job;
    });
    jobsChanged();
    document.body.dataset.ready = "true"; // (for tests: the first lists have arrived)
  } catch (err) {
    if (!state.offline) showError(err);
    state.offline = true;
    $("conn").textContent = "offline";
  }
}

function itemsChanged() {
  if (!itemById(state.item)) state.item = itemsOf("workspace")[0]?.id ?? null;
  renderItems();
  renderDetail();
  renderForm();
  renderExport();
}

function jobsChanged() {
  if (!jobById(state.job)) state.job = state.jobs.at(-1)?.id ?? null;
  renderJobs();
  renderResult();
  renderExport();
  ensureStreams();
}

/** Keeps an EventSource open on the selected and newest running jobs (at most MAX_STREAMS). */
function ensureStreams() {
  const live = state.jobs.filter((j) => !FINAL.has(j.state)).reverse();
  live.sort((a, b) => (b.id === state.job) - (a.id === state.job));
  const want = new Set(live.slice(0, MAX_STREAMS).map((j) => j.id));
  for (const id of state.streams.keys()) if (!want.has(id)) closeStream(id);
  for (const id of want) {
    if (state.streams.has(id)) continue;
    const es = new EventSource(url(`/api/jobs/${enc(id)}/events`));
    es.onmessage = (ev) => {
      const job = JSON.parse(ev.data);
      if (FINAL.has(job.state)) closeStream(id);
      upsertJob(job);
    };
    es.onerror = () => closeStream(id); // the poll takes over and reopens it while the job runs
    state.streams.set(id, es);
  }
}

function closeStream(id) {
  state.streams.get(id)?.close();
  state.streams.delete(id);
}

/** Whether `key` differs from what the view `name` last showed (then it is rebuilt). */
function changed(name, key) {
  const s = JSON.stringify(key);
  if (state.rendered[name] === s) return false;
  state.rendered[name] = s;
  return true;
}

// ---------------------------------------------------------------- widgets

/** A table; a cell is a <td> or text. A header is right-aligned over a numeric first cell. */
function table(headers, rows, cls = "") {
  const body = rows.map((r) => h("tr", {}, r.map((c) => (c instanceof Node ? c : h("td", {}, c)))));
  const numeric = (k) => body[0]?.children[k]?.classList.contains("num");
  const head = headers.map((t, k) => h("th", { class: numeric(k) ? "num" : null }, t));
  return h("table", { class: cls }, h("thead", {}, h("tr", {}, head)), h("tbody", {}, body));
}

const num = (x, digits) => h("td", { class: "num" }, fmt(x, digits));
const badge = (text, cls = text) => h("span", { class: `badge ${cls}` }, text);
const card = (title, ...content) => h("div", { class: "card" }, h("h3", {}, title), ...content);
const scroll = (content, cls = "") => h("div", { class: `scroll ${cls}` }, content);
const empty = (text) => h("div", { class: "card empty" }, h("p", {}, text));

/** Fills a <select> with [value, label] pairs, keeping its value when still offered. */
function fillSelect(sel, options, preferred) {
  if (sel.dataset.key !== JSON.stringify(options)) {
    const old = sel.value;
    sel.replaceChildren(...options.map(([v, label]) => h("option", { value: v }, label)));
    sel.dataset.key = JSON.stringify(options);
    sel.value = old;
  }
  if (preferred != null && options.some(([v]) => v === preferred)) sel.value = preferred;
  if (sel.selectedIndex < 0 && options.length) sel.selectedIndex = 0;
}

const wsOptions = () => itemsOf("workspace").map((i) => [i.id, i.name]);
const signalOptions = () => [
  ["", "none"],
  ...itemsOf("patch", "patchset").map((i) => [i.id, `${i.name} (${i.kind})`]),
];

function pointOptions(patchset) {
  const labels = patchset.summary.labels ?? [];
  return patchset.summary.points.map((p) => {
    const values = p.values.map((v, k) => `${labels[k] ?? k}=${fmt(v)}`).join(", ");
    return [p.name, values ? `${p.name} (${values})` : p.name];
  });
}

/** A figure: the image, its name and PNG/SVG links; a failed image shows the server's message. */
function figure(path, caption, params = {}, cls = "") {
  const png = url(`${path}.png`, params);
  const img = h("img", { src: png, alt: caption, loading: "lazy", "data-plot": caption });
  img.addEventListener("error", async () => {
    let message = "the figure is not available";
    try {
      await api(png);
    } catch (err) {
      message = err.message;
    }
    img.replaceWith(h("div", { class: "plot-error" }, message));
  });
  return h(
    "figure",
    { class: `plot ${cls}` },
    h("a", { href: png, target: "_blank", rel: "noopener" }, img),
    h("figcaption", {}, caption, " ", downloadLinks(path, caption, params)),
  );
}

function downloadLinks(path, stem, params = {}) {
  const file = stem.replace(/[^\w.-]+/g, "_");
  return h(
    "span",
    { class: "links" },
    ["png", "svg"].map((ext) =>
      h("a", { href: url(`${path}.${ext}`, params), download: `${file}.${ext}` }, ext.toUpperCase()),
    ),
  );
}

// ---------------------------------------------------------------- Inspect

async function loadFolders() {
  try {
    state.folders = (await api("/api/folders")).folders;
  } catch (err) {
    showError(err);
  }
  const file = (folder, f) =>
    h(
      "li",
      { title: `open ${f.path}`, onclick: () => openFile(folder.id, f.path) },
      h("span", {}, f.path),
      h("span", { class: "muted" }, fmtSize(f.size)),
    );
  $("folders").replaceChildren(
    ...state.folders.map((folder) =>
      h(
        "details",
        { class: "folder", open: true },
        h("summary", {}, folder.name, h("span", { class: "muted" }, ` · ${count(folder.files, "file")}`)),
        h(
          "ul",
          { class: "list files" },
          folder.files.map((f) => file(folder, f)),
          folder.files.length ? null : h("li", { class: "muted" }, "no JSON files"),
        ),
      ),
    ),
  );
}

async function openFile(folder, path) {
  clearError();
  try {
    loaded(await api("/api/open", { method: "POST", json: { folder, path } }));
  } catch (err) {
    showError(err);
  }
}

async function upload(input) {
  const files = [...input.files];
  input.value = ""; // (so that the same file can be chosen again)
  clearError();
  for (const file of files) {
    const body = new FormData();
    body.append("file", file, file.name);
    try {
      loaded(await api("/api/upload", { method: "POST", body }));
    } catch (err) {
      showError(err.message.includes(file.name) ? err : `${file.name}: ${err.message}`);
    }
  }
}

/** A freshly opened item: a workspace is shown, a patch becomes the signal of the next job. */
function loaded(item) {
  if (item.kind === "workspace" || !itemById(state.item)) state.item = item.id;
  upsertItem(item);
  if (item.kind === "workspace") fillSelect($("ws-select"), wsOptions(), item.id);
  if (item.kind === "patch" || item.kind === "patchset") {
    fillSelect($("patch-select"), signalOptions(), item.id);
    renderForm();
  }
}

function itemSummary({ kind, summary: s }) {
  if (kind === "workspace") {
    const counts = [[s.channels, "channel"], [s.samples, "sample"], [s.parameters, "parameter"]];
    return counts.map(([list, word]) => count(list, word)).join(", ");
  }
  if (kind === "patchset") return `${count(s.points, "point")} (${s.labels.join(", ")})`;
  if (kind === "patch") return plural(s.operations, "operation");
  return plural(s.points, "point");
}

function renderItems() {
  if (!changed("items", [state.items, state.item])) return;
  if (!state.items.length) return $("items").replaceChildren(h("li", { class: "muted" }, "nothing yet"));
  const select = (item) => () => {
    state.item = item.id;
    itemsChanged();
  };
  $("items").replaceChildren(
    ...state.items.map((item) =>
      h(
        "li",
        { class: item.id === state.item ? "active" : null, "data-item": item.id, onclick: select(item) },
        h("strong", {}, item.name),
        h("div", { class: "muted small" }, badge(item.kind), " ", itemSummary(item)),
      ),
    ),
  );
}

function renderDetail() {
  const item = itemById(state.item);
  if (item?.kind === "workspace") fillSignalSelects();
  if (!changed("detail", item ?? null)) return;
  if (!item) return $("item-detail").replaceChildren(empty("Open a workspace to inspect it."));
  const head = h(
    "div",
    { class: "card" },
    h(
      "div",
      { class: "title-row" },
      h("h2", {}, item.name),
      badge(item.kind),
      h("span", { class: "spacer" }),
      item.kind === "records"
        ? null
        : h("button", { type: "button", onclick: () => useInCompute(item) }, "Use in Compute"),
    ),
  );
  const s = item.summary;
  if (item.kind === "workspace") return $("item-detail").replaceChildren(head, ...workspaceCards(item));
  if (item.kind === "patchset") {
    const rows = s.points.map((p) => [p.name, ...p.values.map((v) => num(v))]);
    head.append(
      h("p", {}, `${count(s.points, "signal point")}, labels ${s.labels.join(", ")}.`),
      h("div", { class: "scroll" }, table(["point", ...s.labels], rows, "compact")),
    );
  } else {
    head.append(h("p", {}, itemSummary(item)));
  }
  $("item-detail").replaceChildren(head);
}

function workspaceCards(item) {
  const s = item.summary;
  const stats = [
    ["POI", s.poi ?? "none"],
    ["measurements", s.measurements.join(", ") || "none"],
    ["channels", s.channels.length],
    ["bins", s.channels.reduce((n, c) => n + c.bins, 0)],
    ["samples", s.samples.length],
    ["modifiers", s.modifiers.length],
    ["parameters", s.parameters.length],
  ].map(([k, v]) => h("div", { class: "stat" }, h("span", { class: "muted" }, k), h("strong", {}, v)));
  const channelsOf = (sample) => s.channels.filter((c) => c.samples.includes(sample)).map((c) => c.name);
  const typesOf = {}; // modifier name -> its types
  const namesOf = {}; // modifier type -> its names
  for (const m of s.modifiers) {
    (typesOf[m.name] ??= []).push(m.type);
    (namesOf[m.type] ??= []).push(m.name);
  }
  const channels = table(
    ["channel", "bins", "samples"],
    s.channels.map((c) => [c.name, num(c.bins), c.samples.join(", ")]),
  );
  const samples = table(["sample", "channels"], s.samples.map((n) => [n, channelsOf(n).join(", ")]));
  const modifiers = table(
    ["type", "count", "modifiers"],
    Object.entries(namesOf).map(([type, names]) => [
      h("td", {}, badge(type, "mod")),
      num(names.length),
      h("td", {}, names.map((n) => h("span", { class: "chip" }, n))),
    ]),
    "compact",
  );
  const parameters = table(
    ["parameter", "n", "modifiers", "init", "bounds", "constraint", ""],
    s.parameters.map((p) => [
      h("td", {}, p.name, p.name === s.poi ? badge("POI", "poi") : null),
      num(p.n),
      (typesOf[p.name] ?? []).join(", "),
      h("td", { class: "num" }, fmtList(p.inits)),
      h("td", { class: "num" }, fmtList(p.bounds, fmtBounds)),
      p.constraint ?? "none",
      h("td", {}, p.fixed ? badge("fixed") : null),
    ]),
    "compact",
  );
  const path = `/api/items/${enc(item.id)}/plots`;
  const yields = h(
    "div",
    { class: "card" },
    h(
      "div",
      { class: "title-row" },
      h("h3", {}, "Pre-fit yields"),
      h("span", { class: "spacer" }),
      h("label", { class: "inline" }, "signal ", h("select", { id: "yields-patch", onchange: updateYields })),
      h(
        "label",
        { class: "inline", id: "yields-point-field", hidden: true },
        "point ",
        h("select", { id: "yields-point", onchange: updateYields }),
      ),
    ),
    h("div", { class: "plots", id: "yields-plots" }),
  );
  queueMicrotask(updateYields); // (once the selects are in the page)
  return [
    h("div", { class: "card stats" }, stats),
    h("div", { class: "grid2" }, card("Channels", channels), card("Samples", scroll(samples))),
    card(`Modifiers (${s.modifiers.length})`, scroll(modifiers, "short")),
    card(`Parameters (${s.parameters.length})`, scroll(parameters)),
    yields,
    card("Modifier grid", scroll(figure(`${path}/modifiers`, "modifiers"), "tall plots one")),
  ];
}

function fillSignalSelects() {
  const sel = $("yields-patch");
  if (!sel) return;
  fillSelect(sel, signalOptions());
  const patchset = itemById(sel.value);
  $("yields-point-field").hidden = patchset?.kind !== "patchset";
  if (patchset?.kind === "patchset") fillSelect($("yields-point"), pointOptions(patchset));
}

/** Redraws the yields figures with the chosen signal. */
function updateYields() {
  fillSignalSelects();
  const item = itemById(state.item);
  const patch = $("yields-patch").value || null;
  const point = itemById(patch)?.kind === "patchset" ? $("yields-point").value : null;
  const path = `/api/items/${enc(item.id)}/plots/yields`;
  $("yields-plots").replaceChildren(
    ...item.summary.channels.map((c) => figure(`${path}/${enc(c.name)}`, c.name, { patch, point })),
  );
}

function useInCompute(item) {
  if (item.kind === "workspace") fillSelect($("ws-select"), wsOptions(), item.id);
  else fillSelect($("patch-select"), signalOptions(), item.id);
  renderForm();
  showPane("compute");
}

// ---------------------------------------------------------------- Compute

function renderForm() {
  fillSelect($("ws-select"), wsOptions());
  fillSelect($("patch-select"), signalOptions());
  const kind = $("kind-select").value;
  const patchset = itemById($("patch-select").value);
  const usePoint = patchset?.kind === "patchset" && kind !== "scan";
  $("point-field").hidden = !usePoint;
  if (usePoint) fillSelect($("point-select"), pointOptions(patchset));
  for (const el of document.querySelectorAll("[data-opt]")) {
    el.hidden = !el.dataset.opt.split(" ").includes(kind);
  }
  $("run").disabled = !$("ws-select").value;
}

function numberInput(id, what) {
  const v = Number($(id).value);
  if ($(id).value.trim() === "" || !Number.isFinite(v)) throw new Error(`${what}: not a number`);
  return v;
}

function jobOptions(kind) {
  const testPoi = () => numberInput("opt-test-poi", "tested POI value");
  if (kind === "cls") return { test_poi: testPoi() };
  if (kind === "upper_limit") return { level: numberInput("opt-level", "CLs level") };
  if (kind === "scan") return { test_poi: testPoi(), upper_limit: $("opt-upper-limit").checked };
  return {};
}

async function runJob(ev) {
  ev.preventDefault();
  clearError();
  try {
    const kind = $("kind-select").value;
    const patch = $("patch-select").value || null;
    const point = itemById(patch)?.kind === "patchset" && kind !== "scan" ? $("point-select").value : null;
    const body = { kind, workspace: $("ws-select").value, patch, point, options: jobOptions(kind) };
    const job = await api("/api/jobs", { method: "POST", json: body });
    state.job = job.id;
    upsertJob(job);
  } catch (err) {
    showError(err);
  }
}

async function cancelJob(id) {
  try {
    upsertJob(await api(`/api/jobs/${enc(id)}`, { method: "DELETE" }));
  } catch (err) {
    showError(err);
  }
}

function progressOf(job, id) {
  const p = job.progress;
  if (!p?.total) return null;
  return h(
    "span",
    { class: "progress" },
    h("progress", { max: p.total, value: p.done }),
    h("span", { class: "progress-text", id }, `${p.done}/${p.total}`),
  );
}

function cancelButton(job, cls) {
  const cancel = (ev) => {
    ev.stopPropagation();
    cancelJob(job.id);
  };
  if (FINAL.has(job.state)) return null;
  return h("button", { type: "button", class: cls, onclick: cancel }, "Cancel");
}

function renderJobs() {
  if (!changed("jobs", [state.jobs, state.job])) return;
  if (!state.jobs.length) return $("jobs").replaceChildren(h("li", { class: "muted" }, "no jobs yet"));
  const select = (job) => () => {
    state.job = job.id;
    jobsChanged();
  };
  $("jobs").replaceChildren(
    ...[...state.jobs].reverse().map((job) =>
      h(
        "li",
        {
          id: `job-${job.id}`,
          "data-state": job.state,
          class: job.id === state.job ? "active" : null,
          onclick: select(job),
        },
        h(
          "div",
          { class: "title-row" },
          badge(job.state),
          h("strong", {}, KINDS[job.kind] ?? job.kind),
          h("span", { class: "spacer" }),
          cancelButton(job, "small"),
        ),
        h("div", { class: "muted small" }, job.label),
        FINAL.has(job.state) && job.kind !== "scan" ? null : progressOf(job),
      ),
    ),
  );
}

function resultLink(job, cls) {
  const href = url(`/api/jobs/${enc(job.id)}/result.json`);
  return h("a", { href, download: `${job.kind}_${job.id}.json`, class: cls }, "result.json");
}

function renderResult() {
  const job = jobById(state.job);
  if (!job) return $("result").replaceChildren(empty("Run a job to see its result."));
  // while a job runs only its progress changes: update that in place rather than rebuilding
  const shown = $("job-progress");
  if (!changed("result", [job.id, job.state, job.result, job.error]) && shown && job.progress) {
    shown.textContent = `${job.progress.done}/${job.progress.total}`;
    shown.previousSibling.value = job.progress.done;
    return;
  }
  const running = !FINAL.has(job.state);
  const head = h(
    "div",
    { class: "card", "data-job": job.id, "data-state": job.state },
    h(
      "div",
      { class: "title-row" },
      h("h2", {}, KINDS[job.kind] ?? job.kind),
      badge(job.state),
      h("span", { class: "spacer" }),
      job.state === "done" ? resultLink(job, "button") : cancelButton(job),
    ),
    h("p", { class: "muted" }, job.label),
    running ? (progressOf(job, "job-progress") ?? h("p", { class: "muted" }, `${job.state}…`)) : null,
    job.state === "failed" ? h("div", { class: "failed" }, job.error ?? "failed") : null,
    job.state === "cancelled" ? h("p", {}, "The job was cancelled.") : null,
  );
  const views = { cls: clsView, upper_limit: limitView, fit: fitView, ranking: rankingView, scan: scanView };
  const done = job.state === "done" && job.result;
  const figures = (job.plots ?? []).map((p) => figure(`/api/jobs/${enc(job.id)}/plots/${enc(p)}`, p));
  $("result").replaceChildren(
    head,
    ...(done ? (views[job.kind]?.(job.result) ?? []) : []),
    done && figures.length ? card("Figures", h("div", { class: "plots" }, figures)) : "",
  );
}

function bandTable(values, label) {
  const cells = values.map((v) => h("td", { class: "num", title: String(v) }, fmt(v)));
  return table([label, ...BAND], [[h("td", {}, "expected"), ...cells]], "band");
}

function headline(label, value, ...more) {
  const big = h("span", { class: "big" }, value);
  return h("div", { class: "headline" }, h("span", { class: "muted" }, label), big, ...more);
}

function clsView(r) {
  const excluded = r.CLs_obs < 0.05;
  const verdict = excluded ? "excluded at 95% CL" : "not excluded at 95% CL";
  const key = (cls, text) => [h("span", { class: `key ${cls}` }), text];
  return [
    h(
      "div",
      { class: "card" },
      headline("observed CLs", fmt(r.CLs_obs), badge(verdict, excluded ? "failed" : "done")),
      h("p", { class: "small muted" }, "full precision: ", h("code", { id: "cls-obs" }, String(r.CLs_obs))),
      h("div", { id: "cls-exp" }, bandTable(r.CLs_exp, "CLs")),
      clsBand(r.CLs_obs, r.CLs_exp),
      h(
        "p",
        { class: "legend small muted" },
        key("obs", "observed"),
        key("median", "expected (median)"),
        key("band1", "±1σ"),
        key("band2", "±2σ"),
        key("level", "CLs = 0.05"),
      ),
    ),
  ];
}

/** A one-line picture of observed CLs within its expected ±1σ/±2σ band (log axis). */
function clsBand(obs, exp) {
  const [W, H, L, R] = [640, 74, 20, 20];
  const e0 = Math.min(-2, Math.floor(Math.log10(Math.max(1e-8, Math.min(obs, ...exp)))));
  const x = (v) => L + (1 - Math.log10(Math.min(1, Math.max(v, 10 ** e0))) / e0) * (W - L - R);
  const rect = (a, b, cls) =>
    svg("rect", { x: x(a), y: 14, width: Math.max(1, x(b) - x(a)), height: 26, class: cls });
  const line = (v, cls, y1 = 8, y2 = 46) => svg("line", { x1: x(v), x2: x(v), y1, y2, class: cls });
  const ticks = [];
  for (let e = e0; e <= 0; e++) {
    const label = e === 0 ? "1" : `10${sup(e)}`;
    ticks.push(line(10 ** e, "tick", 40, 46), svg("text", { x: x(10 ** e), y: 60 }, label));
  }
  return svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "cls-band", role: "img", "aria-label": "CLs and its band" },
    svg("line", { x1: L, x2: W - R, y1: 40, y2: 40, class: "axis" }),
    rect(exp[0], exp[4], "band2"),
    rect(exp[1], exp[3], "band1"),
    line(exp[2], "median", 14, 40),
    line(0.05, "level"),
    svg("text", { x: x(0.05) + 3, y: 10, class: "level-label" }, "0.05"),
    ...ticks,
    svg("circle", { cx: x(obs), cy: 27, r: 5, class: "obs" }),
    svg("text", { x: W - R, y: 72, class: "end" }, "CLs"),
  );
}

function limitView(r) {
  const cl = Math.round((1 - r.level) * 1000) / 10;
  return [
    h(
      "div",
      { class: "card" },
      headline(`observed upper limit at ${cl}% CL`, `μ < ${fmt(r.obs)}`),
      h("p", { class: "small muted" }, `full precision: ${r.obs} (${r.method ?? "?"})`),
      bandTable(r.exp, "μ limit"),
    ),
  ];
}

function fitView(r) {
  const rows = [];
  for (const [name, values] of Object.entries(r.bestfit)) {
    const [v, u] = [[].concat(values), [].concat(r.uncertainty?.[name] ?? [])];
    v.forEach((x, k) => rows.push([v.length > 1 ? `${name}[${k}]` : name, num(x), num(u[k], 2)]));
  }
  return [
    h(
      "div",
      { class: "card" },
      headline("−2 ln L at the best fit", fmt(r.twice_nll, 8)),
      scroll(table(["parameter", "best fit", "uncertainty"], rows, "compact"), "tall"),
    ),
  ];
}

function rankingView(r) {
  const impact = (e) => Math.max(Math.abs(e.postfit_up), Math.abs(e.postfit_down));
  const rows = [...r.ranking]
    .sort((a, b) => impact(b) - impact(a))
    .map((e, k) => [
      num(k + 1),
      e.name,
      num(e.bestfit, 3),
      num(e.uncertainty, 2),
      ...[e.postfit_up, e.postfit_down, e.prefit_up, e.prefit_down].map((v) => num(v, 3)),
    ]);
  const impacts = ["post-fit +1σ", "post-fit −1σ", "pre-fit +1σ", "pre-fit −1σ"];
  const headers = ["#", "parameter", "θ̂", "σ(θ̂)", ...impacts];
  return [
    h(
      "div",
      { class: "card" },
      headline(`best-fit ${r.poi}`, `${fmt(r.bestfit)} ± ${fmt(r.uncertainty, 2)}`),
      h("h3", {}, `Impact on ${r.poi}`),
      scroll(table(headers, rows, "compact"), "tall"),
    ),
  ];
}

function scanView(r) {
  const counts = {};
  for (const rec of r.records) counts[rec.status ?? "?"] = (counts[rec.status ?? "?"] ?? 0) + 1;
  const excluded = r.records.filter((rec) => rec.CLs_obs < 0.05).length;
  const rows = r.records.map((rec) => [
    rec.name,
    (rec.values ?? []).map((v) => fmt(v)).join(", "),
    num(rec.CLs_obs),
    num(rec.CLs_exp?.[2]),
    h("td", {}, badge(rec.status ?? "?", rec.status === "ok" ? "done" : "failed")),
  ]);
  const statuses = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ");
  const note = `${statuses} · ${excluded} excluded (observed CLs < 0.05)`;
  const headers = ["point", "values", "CLs obs", "CLs exp (median)", "status"];
  return [
    h(
      "div",
      { class: "card" },
      headline("points", r.records.length, h("span", { class: "muted" }, note)),
      r.contour_error ? h("p", { class: "failed" }, `no contour: ${r.contour_error}`) : null,
      scroll(table(headers, rows, "compact")),
    ),
  ];
}

// ---------------------------------------------------------------- Plot & Export

/** The headline number of a result, e.g. "CLs = 0.2374". */
function resultSummary({ kind, result: r }) {
  if (kind === "cls") return `CLs = ${fmt(r.CLs_obs)}`;
  if (kind === "upper_limit") return `μ < ${fmt(r.obs)} (exp. ${fmt(r.exp[2])})`;
  if (kind === "fit") return `−2 ln L = ${fmt(r.twice_nll, 8)}`;
  if (kind === "ranking") return `${r.poi} = ${fmt(r.bestfit)} ± ${fmt(r.uncertainty, 2)}`;
  if (kind === "scan") return count(r.records, "point");
  return "";
}

function renderExport() {
  const done = state.jobs.filter((j) => j.state === "done" && j.result).reverse();
  const workspaces = itemsOf("workspace");
  if (!changed("export", [done.map((j) => j.id), workspaces.map((w) => w.id)])) return;
  const jobRow = (job) => [
    h("td", {}, h("strong", {}, KINDS[job.kind] ?? job.kind), h("div", { class: "muted small" }, job.label)),
    h("td", { class: "num" }, resultSummary(job)),
    h("td", {}, resultLink(job)),
    h(
      "td",
      {},
      h(
        "div",
        { class: "thumbs" },
        job.plots.length
          ? job.plots.map((p) => figure(`/api/jobs/${enc(job.id)}/plots/${enc(p)}`, p, {}, "thumb"))
          : h("span", { class: "muted" }, "no figures"),
      ),
    ),
  ];
  const workspaceRow = (w) => {
    const path = `/api/items/${enc(w.id)}/plots`;
    const channel = (c) => {
      const links = downloadLinks(`${path}/yields/${enc(c.name)}`, `${w.name}_${c.name}`);
      return h("span", { class: "chip" }, c.name, " ", links);
    };
    return [
      h("td", {}, h("strong", {}, w.name)),
      h("td", {}, downloadLinks(`${path}/modifiers`, `${w.name}_modifiers`)),
      h("td", {}, w.summary.channels.map(channel)),
    ];
  };
  $("export-jobs").replaceChildren(
    done.length
      ? table(["job", "result", "", "figures"], done.map(jobRow), "export")
      : h("p", { class: "muted" }, "No finished jobs yet."),
  );
  $("export-items").replaceChildren(
    workspaces.length
      ? table(["workspace", "modifier grid", "pre-fit yields"], workspaces.map(workspaceRow), "export")
      : h("p", { class: "muted" }, "No workspace loaded yet."),
  );
}

// ---------------------------------------------------------------- start

function showPane(name) {
  for (const b of document.querySelectorAll(".tab")) b.classList.toggle("active", b.dataset.pane === name);
  for (const p of document.querySelectorAll(".pane")) p.hidden = p.id !== `pane-${name}`;
  history.replaceState(null, "", `${location.search}#${name}`);
}

function start() {
  for (const b of document.querySelectorAll(".tab")) {
    b.addEventListener("click", () => showPane(b.dataset.pane));
  }
  $("error-close").addEventListener("click", clearError);
  $("upload").addEventListener("change", (ev) => upload(ev.target));
  $("job-form").addEventListener("submit", runJob);
  for (const id of ["ws-select", "patch-select", "kind-select"]) $(id).addEventListener("change", renderForm);
  window.addEventListener("error", (ev) => showError(`page error: ${ev.message}`));
  window.addEventListener("unhandledrejection", (ev) => showError(ev.reason));
  showPane(["inspect", "compute", "export"].find((p) => location.hash === `#${p}`) ?? "inspect");
  renderForm();
  loadFolders();
  refresh();
  setInterval(refresh, 2000);
}

start();
