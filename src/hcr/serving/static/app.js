// The draw-a-letter page: strokes on a canvas → POST /v1/predict → the top letters with confidence bars.
// White ink on black, a thick round pen: the convention the models were trained on (EMNIST), so the preprocessing
// has the least to undo. While drawing, at most one request is in flight and one more is sent when it returns
// (a throttle), so the result follows the pen without flooding the server. The live region (#status) is only
// updated when a stroke ends, so a screen reader is not interrupted mid-stroke.
"use strict";

const THROTTLE_MS = 150;
const PEN_WIDTH = 18; // canvas pixels on a 280 px pad: about EMNIST's stroke relative to its letter height

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const clearButton = document.getElementById("clear");
const upload = document.getElementById("upload");
const letterView = document.getElementById("letter");
const statusView = document.getElementById("status");
const candidatesView = document.getElementById("candidates");
const seenView = document.getElementById("seen");
const resultView = document.getElementById("result"); // aria-busy while an answer is on its way

let drawing = false;
let last = null;
let hasInk = false;
let showingUpload = false;
let timer = null;
let inFlight = false;
let pending = false;
let announce = false;
let generation = 0; // bumped by Clear, so a late answer about an older drawing is dropped

function resetPad() {
  ctx.fillStyle = "#000";
  ctx.fillRect(0, 0, pad.width, pad.height);
  ctx.strokeStyle = "#fff";
  ctx.fillStyle = "#fff";
  ctx.lineWidth = PEN_WIDTH;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  hasInk = false;
  showingUpload = false;
}

function padPoint(event) {
  const box = pad.getBoundingClientRect(); // the canvas is scaled by CSS: map to its own pixels
  return {
    x: ((event.clientX - box.left) * pad.width) / box.width,
    y: ((event.clientY - box.top) * pad.height) / box.height,
  };
}

function dot(p) {
  ctx.beginPath();
  ctx.arc(p.x, p.y, PEN_WIDTH / 2, 0, 2 * Math.PI);
  ctx.fill();
}

function segment(a, b) {
  ctx.beginPath();
  ctx.moveTo(a.x, a.y);
  ctx.lineTo(b.x, b.y);
  ctx.stroke();
}

pad.addEventListener("pointerdown", (event) => {
  if (event.button !== 0) return;
  event.preventDefault();
  if (showingUpload) resetPad(); // drawing starts afresh over an uploaded picture
  pad.setPointerCapture(event.pointerId);
  drawing = true;
  hasInk = true;
  last = padPoint(event);
  dot(last);
  schedule();
});

pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
  for (const e of events.length ? events : [event]) {
    const p = padPoint(e);
    segment(last, p);
    last = p;
  }
  schedule();
});

function endStroke() {
  if (!drawing) return;
  drawing = false;
  announce = true;
  clearTimeout(timer);
  timer = null;
  requestPrediction();
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

function schedule() {
  if (timer === null) timer = setTimeout(() => { timer = null; requestPrediction(); }, THROTTLE_MS);
}

function requestPrediction() {
  if (!hasInk) return;
  if (inFlight) { pending = true; return; }
  send(JSON.stringify({ image: pad.toDataURL("image/png") }), { "Content-Type": "application/json" });
}

async function send(body, headers) {
  const sentFor = generation;
  const finalAnswer = announce;
  announce = false;
  inFlight = true;
  pending = false;
  resultView.setAttribute("aria-busy", "true");
  try {
    const response = await fetch("/v1/predict?model_input=true", { method: "POST", body, headers });
    const result = await response.json().catch(() => ({})); // a proxy's error page is not JSON
    if (sentFor !== generation) return;
    if (response.ok) render(result, finalAnswer || !drawing);
    else renderError(result.detail || `the server answered ${response.status} ${response.statusText}`);
  } catch (error) {
    if (sentFor === generation) renderError(`no answer from the server (${error.message})`);
  } finally {
    inFlight = false;
    if (pending && sentFor === generation) requestPrediction();
    else resultView.setAttribute("aria-busy", "false");
  }
}

function percent(p) {
  return `${Math.round(p * 100)} %`;
}

function render(result, speak) {
  letterView.textContent = result.letter ?? "–";
  candidatesView.replaceChildren(...result.top_k.map(candidateItem));
  if (result.model_input) {
    seenView.src = result.model_input;
    seenView.hidden = false;
  } else {
    seenView.hidden = true;
  }
  if (!speak) return;
  statusView.className = `status ${result.status}`;
  if (result.status === "blank") statusView.textContent = "Nothing to read: the image is blank.";
  else if (result.status === "low-confidence")
    statusView.textContent = `Not sure: perhaps ${result.letter} (${percent(result.confidence)}).`;
  else statusView.textContent = `Read as ${result.letter} (${percent(result.confidence)} confident).`;
}

function candidateItem(candidate) {
  const item = document.createElement("li");
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = candidate.letter;
  const bar = document.createElement("span");
  bar.className = "bar";
  bar.setAttribute("aria-hidden", "true");
  const fill = document.createElement("span");
  fill.style.width = `${(candidate.probability * 100).toFixed(1)}%`;
  bar.append(fill);
  const pct = document.createElement("span");
  pct.className = "pct";
  pct.textContent = percent(candidate.probability);
  item.append(name, bar, pct);
  return item;
}

function renderError(message) {
  letterView.textContent = "–";
  candidatesView.replaceChildren();
  seenView.hidden = true;
  statusView.className = "status error";
  statusView.textContent = `Could not read it: ${message}`;
}

function clearAll() {
  generation += 1;
  clearTimeout(timer);
  timer = null;
  pending = false;
  resetPad();
  letterView.textContent = "–";
  candidatesView.replaceChildren();
  seenView.hidden = true;
  statusView.className = "status";
  statusView.textContent = "Cleared. Draw a letter.";
}
clearButton.addEventListener("click", clearAll);

upload.addEventListener("change", () => {
  const file = upload.files[0];
  if (!file) return;
  clearAll();
  showUpload(file);
  const form = new FormData();
  form.append("file", file);
  announce = true;
  send(form, {});
  upload.value = ""; // choosing the same file again still triggers a prediction
});

function showUpload(file) {
  // The picture on the pad, fitted inside it, so the person sees what was sent; the model gets the file itself.
  const url = URL.createObjectURL(file);
  const picture = new Image();
  picture.onload = () => {
    const scale = Math.min(pad.width / picture.width, pad.height / picture.height);
    const w = picture.width * scale;
    const h = picture.height * scale;
    ctx.drawImage(picture, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
    URL.revokeObjectURL(url);
  };
  picture.onerror = () => URL.revokeObjectURL(url);
  picture.src = url;
  showingUpload = true;
}

async function showModel() {
  try {
    const health = await (await fetch("/v1/health")).json();
    document.getElementById("model-name").textContent = `Model: ${health.model}`;
  } catch {
    // the footer keeps its placeholder; predictions report their own errors
  }
}

resetPad();
showModel();
