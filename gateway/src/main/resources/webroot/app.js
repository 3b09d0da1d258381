"use strict";
// The X-Dyna web app: plain JavaScript over the REST API (see /openapi.json).
const $ = (id) => document.getElementById(id);
const TERMINAL = ["SUCCEEDED", "FAILED", "CANCELLED"];
const files = {};
let current = null;       // { id, stop(), samples: [{t, p}], poseShown, outputsShown }
let historyShown = 20;  // rows in the history; "more" adds a page

// ---- API key ---------------------------------------------------------------------------------
$("apiKey").value = localStorage.getItem("xdyna.apiKey") || "";
$("apiKey").addEventListener("change", async () => {
  localStorage.setItem("xdyna.apiKey", $("apiKey").value.trim());
  await checkKey();
  refreshHistory(true);
});
const key = () => $("apiKey").value.trim();
const auth = () => ({ "Authorization": "Bearer " + key() });

async function checkKey() {
  if (!key()) { $("keyState").textContent = ""; return false; }
  try {
    const r = await fetch("/v1/jobs?limit=1", { headers: auth() });
    $("keyState").textContent = r.ok ? "✓" : r.status === 401 ? "unknown key" : "";
    if (r.ok) showInfo();
    return r.ok;
  } catch (e) { return false; }
}

// On the tiny fixture bundles the output is noise and X-Dyna's default size takes many minutes on a CPU:
// say so before anything is submitted, and offer a size that finishes in about a minute.
async function showInfo() {
  const r = await api("/v1/info");
  if (!r.ok || !r.body.fixtures) { $("fixtureNotice").hidden = true; return; }
  $("fixtureText").textContent = r.body.notice;
  $("fixtureNotice").hidden = false;
  $("quickDemo").onclick = () => {
    for (const [name, value] of Object.entries(r.body.quickDemo || {})) {
      const field = document.querySelector('#jobForm [name="' + name + '"]');
      if (field) field.value = value;
    }
  };
}

async function api(path, options = {}) {
  const r = await fetch(path, { ...options, headers: { ...auth(), ...(options.headers || {}) } });
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (e) { body = { code: "HTTP_" + r.status, message: text }; }
  return { ok: r.ok, status: r.status, body };
}

// ---- drop zones with previews ------------------------------------------------------------------
for (const drop of document.querySelectorAll(".drop")) {
  const input = document.createElement("input");
  input.type = "file"; input.accept = drop.dataset.accept; input.hidden = true;
  input.id = "file-" + drop.dataset.part; input.dataset.testid = "file-" + drop.dataset.part;
  drop.appendChild(input);
  drop.addEventListener("click", (e) => { if (!["VIDEO", "INPUT"].includes(e.target.tagName) && !e.target.classList.contains("remove")) input.click(); });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  input.addEventListener("change", () => input.files[0] && take(drop, input.files[0]));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault(); drop.classList.remove("over");
    if (e.dataTransfer.files[0]) take(drop, e.dataTransfer.files[0]);
  });
}

function take(drop, file) {
  const part = drop.dataset.part;
  files[part] = file;
  drop.querySelectorAll(".preview").forEach((n) => n.remove());
  drop.querySelector(".prompt").hidden = true;
  const box = document.createElement("div"); box.className = "preview";
  const url = URL.createObjectURL(file);
  const isImage = file.type.startsWith("image/") || (!file.type && part === "reference");
  const el = document.createElement(isImage ? "img" : "video");
  el.src = url; el.alt = file.name;
  if (!isImage) { el.muted = true; el.loop = true; el.autoplay = true; el.playsInline = true; }
  const label = document.createElement("div"); label.className = "hint";
  label.textContent = file.name + " · " + (file.size / 1048576).toFixed(1) + " MB";
  const remove = document.createElement("span"); remove.className = "remove"; remove.textContent = "remove";
  remove.onclick = () => { delete files[part]; box.remove(); drop.querySelector(".prompt").hidden = false; URL.revokeObjectURL(url); };
  box.append(el, label, remove); drop.appendChild(box);
}

// ---- submit ----------------------------------------------------------------------------------
$("jobForm").addEventListener("submit", (e) => {
  e.preventDefault();
  $("formError").textContent = "";
  if (!key()) { $("formError").textContent = "Paste your API key at the top first."; return; }
  if (!files.reference || !files.driving) { $("formError").textContent = "Choose a reference photo and a driving video."; return; }
  const f = new FormData(e.target), params = {};
  for (const k of ["width", "height", "length", "stride", "steps", "seed"]) if (f.get(k) !== "") params[k] = Number(f.get(k));
  if (f.get("cfg") !== "") params.cfg = Number(f.get("cfg"));
  if (f.get("fps")) params.fps = Number(f.get("fps"));
  params.prompt = f.get("prompt"); params.negativePrompt = f.get("negativePrompt");
  params.faceControl = f.get("faceControl") === "on"; params.alignPose = f.get("alignPose") === "on";
  const body = new FormData();
  body.append("reference", files.reference); body.append("driving", files.driving);
  if (files.pose) body.append("pose", files.pose);
  body.append("params", JSON.stringify(params));
  // XMLHttpRequest, not fetch: it reports upload progress
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/v1/jobs");
  xhr.setRequestHeader("Authorization", "Bearer " + key());
  xhr.setRequestHeader("Idempotency-Key", crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
  xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) $("uploadState").textContent = "uploading " + Math.round(100 * ev.loaded / ev.total) + "%"; };
  xhr.upload.onload = () => { $("uploadState").textContent = "checking the files…"; };
  xhr.onload = () => {
    $("submit").disabled = false; $("uploadState").textContent = "";
    let j = {};
    try { j = JSON.parse(xhr.responseText); } catch (err) { j = { code: "HTTP_" + xhr.status, message: xhr.responseText }; }
    if (xhr.status !== 202 && xhr.status !== 200) { $("formError").textContent = j.code + ": " + j.message; return; }
    watch(j.id); refreshHistory(true);
  };
  xhr.onerror = () => { $("submit").disabled = false; $("uploadState").textContent = ""; $("formError").textContent = "The upload failed: the gateway could not be reached."; };
  $("submit").disabled = true;
  xhr.send(body);
});

// ---- watching one job ------------------------------------------------------------------------
function watch(id) {
  if (current) current.stop();
  const job = { id, samples: [], poseShown: false, outputsShown: false, stopped: false, controller: new AbortController() };
  job.stop = () => { job.stopped = true; job.controller.abort(); };
  current = job;
  $("current").textContent = "Job " + id;
  $("media").innerHTML = ""; $("downloads").innerHTML = ""; $("jobActions").innerHTML = "";
  $("statusLine").textContent = "";
  document.querySelectorAll("#history tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id === id));
  stream(job).catch(() => poll(job));
}

// Server-sent events read through fetch, because EventSource cannot send the Authorization header.
async function stream(job) {
  const r = await fetch("/v1/jobs/" + job.id + "/events", { headers: auth(), signal: job.controller.signal });
  if (!r.ok || !r.body) {
    const j = await r.json().catch(() => ({}));
    if (r.status === 404 || r.status === 401) { showError(j); return; }
    throw new Error("no stream");
  }
  const reader = r.body.getReader(), decoder = new TextDecoder();
  let buffer = "", last = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const message = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      for (const line of message.split("\n")) if (line.startsWith("data: ")) { last = JSON.parse(line.slice(6)); show(job, last); }
    }
  }
  if (!job.stopped && (!last || !TERMINAL.includes(last.state))) throw new Error("stream ended early");
}

async function poll(job) {
  while (!job.stopped) {
    try {
      const r = await api("/v1/jobs/" + job.id);
      if (!r.ok) { showError(r.body); return; }
      show(job, r.body);
      if (TERMINAL.includes(r.body.state)) return;
    } catch (err) { $("statusLine").textContent = "connection problem, retrying…"; }
    await new Promise((res) => setTimeout(res, 1000));
  }
}

function showError(j) {
  $("statusLine").textContent = (j && j.code ? j.code + ": " + j.message : "unknown job");
  $("statusLine").className = "status-line failed";
}

function show(job, s) {
  if (job !== current) return;
  const p = s.progress || 0;
  $("bar").style.width = (100 * p).toFixed(1) + "%";
  for (const el of document.querySelectorAll(".stage")) {
    const from = Number(el.dataset.from), to = Number(el.dataset.to);
    const frac = s.state === "SUCCEEDED" ? 1 : Math.max(0, Math.min(1, (p - from) / (to - from)));
    el.querySelector(".bar > div").style.width = (100 * frac).toFixed(1) + "%";
    el.className = "stage" + (frac >= 1 || s.state === "SUCCEEDED" ? " done" : el.dataset.state === s.state ? " active" : "");
  }
  job.samples.push({ t: Date.now(), p });
  let line = s.state + " · " + Math.round(100 * p) + "%";
  if (s.message) line += " · " + s.message;
  if (s.detail && s.detail.step && s.detail.steps) line += " · step " + s.detail.step + "/" + s.detail.steps;
  if (s.detail && s.detail.window && s.detail.windows) line += " · window " + s.detail.window + "/" + s.detail.windows;
  const eta = estimate(job, s);
  if (eta != null && !TERMINAL.includes(s.state)) line += " · about " + formatSeconds(eta) + " left";
  $("statusLine").className = "status-line" + (s.state === "FAILED" || s.state === "CANCELLED" ? " failed" : "");
  if (s.error) line = s.state + " · " + s.error.code + ": " + s.error.message;
  $("statusLine").textContent = line;
  actions(s);
  if (!job.poseShown && ["ANIMATING", "ENCODING", "SUCCEEDED"].includes(s.state)) showOutputs(job, s, false);
  if (s.state === "SUCCEEDED" && !job.outputsShown) showOutputs(job, s, true);
  // the history row of this job changes state with it
  if (s.state !== job.lastState) { job.lastState = s.state; refreshHistory(false); }
}

// The animator says how long it has left; otherwise extrapolate from the progress seen so far.
function estimate(job, s) {
  if (s.detail && s.detail.etaSeconds != null) return Number(s.detail.etaSeconds) + (s.state === "ANIMATING" ? 5 : 0);
  const first = job.samples.find((x) => x.p > 0), last = job.samples[job.samples.length - 1];
  if (!first || !last || last.p <= first.p || last.t <= first.t) return null;
  return (1 - last.p) * (last.t - first.t) / 1000 / (last.p - first.p);
}

function formatSeconds(s) {
  s = Math.max(0, Math.round(s));
  return s < 90 ? s + " s" : Math.round(s / 60) + " min";
}

function actions(s) {
  const box = $("jobActions"); box.innerHTML = "";
  if (!TERMINAL.includes(s.state)) {
    const b = document.createElement("button"); b.className = "danger"; b.textContent = "cancel"; b.dataset.testid = "cancel";
    b.onclick = async () => { const r = await api("/v1/jobs/" + s.id + "/cancel", { method: "POST" }); if (!r.ok) showError(r.body); refreshHistory(true); };
    box.appendChild(b);
  } else {
    const b = document.createElement("button"); b.className = "secondary"; b.textContent = "delete job and files";
    b.onclick = async () => {
      if (!confirm("Delete job " + s.id + " and all its files?")) return;
      const r = await api("/v1/jobs/" + s.id, { method: "DELETE" });
      if (!r.ok) { showError(r.body); return; }
      if (current) current.stop();
      $("current").textContent = "Job " + s.id + " deleted."; $("media").innerHTML = ""; $("downloads").innerHTML = ""; box.innerHTML = "";
      refreshHistory(true);
    };
    box.appendChild(b);
  }
}

async function showOutputs(job, s, final) {
  if (final) job.outputsShown = true; else job.poseShown = true;
  const r = await api("/v1/jobs/" + s.id + "/outputs");
  if (!r.ok || job !== current) { if (!final) job.poseShown = false; return; }
  const outs = r.body.outputs;
  if (!outs["pose-preview"] && !final) { job.poseShown = false; return; } // not written yet: try on the next update
  $("media").innerHTML = "";
  if (outs.result) addVideo(outs.result.url, "result", "video-result");
  if (outs["pose-preview"]) addVideo(outs["pose-preview"].url, "pose preview", "video-pose-preview");
  if (outs.comparison) addVideo(outs.comparison.url, "comparison", "video-comparison");
  if (final) {
    const dl = $("downloads"); dl.innerHTML = "";
    for (const [name, o] of Object.entries(outs)) {
      // the link is on the object store's host: "download" is only a hint there, so open a new tab
      const a = document.createElement("a"); a.href = o.url; a.download = s.id + "-" + name; a.target = "_blank"; a.rel = "noopener";
      a.textContent = "download " + name + " (" + Math.max(1, Math.round(o.size / 1024)) + " KB)";
      a.dataset.testid = "download-" + name;
      dl.appendChild(a);
    }
  }
}

function addVideo(url, label, id) {
  const box = document.createElement("div");
  const v = document.createElement("video");
  v.src = url; v.controls = true; v.loop = true; v.autoplay = true; v.muted = true; v.playsInline = true; v.id = id;
  const cap = document.createElement("div"); cap.className = "hint"; cap.textContent = label;
  box.append(v, cap); $("media").appendChild(box);
}

// ---- history ---------------------------------------------------------------------------------
$("historyFilter").addEventListener("change", () => refreshHistory(true));
$("more").addEventListener("click", () => { historyShown = Math.min(500, historyShown + 20); refreshHistory(false); });

async function refreshHistory(reset) {
  if (!key()) return;
  if (reset) historyShown = 20;
  const state = $("historyFilter").value;
  try {
    const r = await api("/v1/jobs?limit=" + historyShown + (state ? "&state=" + state : ""));
    if (!r.ok) return;
    const tb = $("history"); tb.innerHTML = "";
    for (const j of r.body.jobs) {
      const tr = document.createElement("tr"); tr.className = "job"; tr.dataset.id = j.id;
      if (current && current.id === j.id) tr.classList.add("selected");
      for (const [text, cls] of [[j.id, ""], [j.state, "state-" + j.state], [Math.round(100 * j.progress) + "%", ""],
                                 [new Date(j.updatedAt).toLocaleString(), ""]]) {
        const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td);
      }
      tr.onclick = () => watch(j.id);
      tb.appendChild(tr);
    }
    $("more").hidden = !r.body.next;
  } catch (e) { /* offline: keep the old list */ }
}

checkKey();
refreshHistory(true);
setInterval(() => { if (!document.hidden) refreshHistory(false); }, 10000);
