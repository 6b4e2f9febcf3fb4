// The draw-a-letter page: strokes on a canvas → the model in the page (inbrowser.js, see docs/browser.md), or
// POST /v1/predict where that cannot answer exactly as the server would → the top letters with confidence bars,
// and which of the two answered; an upload → POST /v1/predict. In line mode, a wide canvas → POST /v1/read → the
// text, and each letter with its confidence. A line is read when the pen pauses (LINE_PAUSE_MS), not while it
// moves: reading a line costs the server more than a letter.
// White ink on black, a thick round pen: the convention the models were trained on (EMNIST), so the preprocessing
// has the least to undo. While drawing, at most one request is in flight and one more is sent when it returns
// (a throttle), so the result follows the pen without flooding the server. The live region (#status) is only
// updated when a stroke ends, so a screen reader is not interrupted mid-stroke.
"use strict";

const THROTTLE_MS = 150;
const PEN_WIDTH = 18; // canvas pixels on a 280 px pad: about EMNIST's stroke relative to its letter height
const LINE_PAUSE_MS = 400;
// The line pad is as tall as the letter pad, so a letter drawn to fill its height gets the same pen.
const PADS = { letter: { width: 280, height: 280 }, line: { width: 840, height: 280 } };
const TEXTS = {
  letter: {
    title: "Draw a capital letter",
    hint: "Draw one letter, A to Z, in the black box with your mouse or finger. The model reads it as you draw.",
    pad: "Drawing pad: draw a capital letter here",
    start: "Draw a letter to start.",
    cleared: "Cleared. Draw a letter.",
    list: "Most likely letters",
  },
  line: {
    title: "Write a line of capitals",
    hint: "Write a line of separate capitals, left to right, in the wide box. It is read when you pause.",
    pad: "Drawing pad: write a line of separate capital letters here",
    start: "Write a line of letters to start.",
    cleared: "Cleared. Write a line of letters.",
    list: "Each letter read, with its confidence",
  },
};

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const clearButton = document.getElementById("clear");
const upload = document.getElementById("upload");
const letterView = document.getElementById("letter");
const statusView = document.getElementById("status");
const candidatesView = document.getElementById("candidates");
const seenView = document.getElementById("seen");
const resultView = document.getElementById("result"); // aria-busy while an answer is on its way
const layoutView = document.getElementById("layout");
const hintView = document.getElementById("hint");
const seenFigure = document.getElementById("seen-figure");
const severalView = document.getElementById("several"); // "this image seems to hold N letters"
const severalText = document.getElementById("several-text");
const answeredView = document.getElementById("answered-by"); // "in your browser" or "by the server", and why

let drawing = false;
let last = null;
let hasInk = false;
let showingUpload = false;
let timer = null;
let inFlight = false;
let pending = false;
let announce = false;
let generation = 0; // bumped by Clear, so a late answer about an older drawing is dropped
let mode = "letter"; // or "line"
let lastUpload = null; // the file uploaded last, so "Read it as a line" can send it again

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
  clearTimeout(timer); // a line is read when the pen pauses: a new stroke is no pause
  timer = null;
  if (showingUpload) resetPad(); // drawing starts afresh over an uploaded picture
  if (mode === "letter") InBrowser.start(); // the in-browser model loads when first needed
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
  if (mode === "line") {
    resultView.setAttribute("aria-busy", "true"); // an answer is on its way, once the pen pauses
    timer = setTimeout(() => { timer = null; requestPrediction(); }, LINE_PAUSE_MS);
  } else {
    requestPrediction();
  }
}
pad.addEventListener("pointerup", endStroke);
pad.addEventListener("pointercancel", endStroke);

function schedule() {
  if (mode === "line") return; // a line is read at a pause, not while the pen moves
  if (timer === null) timer = setTimeout(() => { timer = null; requestPrediction(); }, THROTTLE_MS);
}

function requestPrediction() {
  if (!hasInk) return;
  if (inFlight) { pending = true; return; }
  send(answerDrawing);
}

async function answerDrawing() {
  // A drawn letter is read in the page when it can be read there exactly as the server would; otherwise (with the
  // reason shown), and for a line, the server reads the canvas's PNG.
  let why = null;
  if (mode === "letter") {
    const here = await InBrowser.predict(ctx.getImageData(0, 0, pad.width, pad.height)).catch((error) => ({
      reason: `the in-browser model failed: ${error.message}`,
    }));
    if (here.result) return { ok: true, result: here.result, where: "browser", note: `${Math.round(here.ms)} ms` };
    why = here.reason;
  }
  const body = JSON.stringify({ image: pad.toDataURL("image/png") });
  return { ...(await askServer(body, { "Content-Type": "application/json" })), note: why };
}

async function askServer(body, headers) {
  const url = mode === "line" ? "/v1/read" : "/v1/predict?model_input=true";
  const response = await fetch(url, { method: "POST", body, headers });
  const result = await response.json().catch(() => ({})); // a proxy's error page is not JSON
  const error = result.detail || `the server answered ${response.status} ${response.statusText}`;
  return { ok: response.ok, result, where: "server", error };
}

async function send(ask) {
  const sentFor = generation;
  const finalAnswer = announce;
  announce = false;
  inFlight = true;
  pending = false;
  resultView.setAttribute("aria-busy", "true");
  try {
    const answer = await ask();
    if (sentFor !== generation) return;
    showWhere(answer);
    if (answer.ok && mode === "line") renderLine(answer.result, finalAnswer || !drawing);
    else if (answer.ok) render(answer.result, finalAnswer || !drawing);
    else renderError(answer.error);
  } catch (error) {
    if (sentFor === generation) renderError(`no answer from the server (${error.message})`);
  } finally {
    inFlight = false;
    if (pending && sentFor === generation) requestPrediction();
    else resultView.setAttribute("aria-busy", "false");
  }
}

function showWhere({ where, note }) {
  answeredView.dataset.where = where;
  const place = where === "browser" ? "Answered in your browser" : "Answered by the server";
  answeredView.textContent = note ? `${place} (${note}).` : `${place}.`;
}

function percent(p) {
  return `${Math.round(p * 100)} %`;
}

function render(result, speak) {
  letterView.textContent = result.letter ?? (result.status === "not-a-letter" ? "?" : "–");
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
  else if (result.status === "not-a-letter") statusView.textContent = `Not a letter: it ${result.message}.`;
  else if (result.status === "low-confidence")
    statusView.textContent = `Not sure: perhaps ${result.letter} (${percent(result.confidence)}).`;
  else statusView.textContent = `Read as ${result.letter} (${percent(result.confidence)} confident).`;
}

function renderLine(result, speak) {
  letterView.textContent = result.text || "–";
  candidatesView.replaceChildren(
    ...result.characters.map((c) => candidateItem({ letter: c.letter ?? "?", probability: c.confidence })),
  );
  if (!speak) return;
  statusView.className = `status ${result.status}`;
  const unsure = result.characters.filter((c) => c.status === "low-confidence").map((c) => c.letter);
  const notLetters = result.characters.filter((c) => c.status === "not-a-letter").length;
  const doubts = [];
  if (unsure.length) doubts.push(`not sure of ${unsure.join(", ")}`);
  if (notLetters) doubts.push(`? is not a letter (${result.characters.find((c) => c.letter === null).message})`);
  if (result.status === "blank") statusView.textContent = "Nothing to read: the image is blank.";
  else if (doubts.length) statusView.textContent = `Read as “${result.text}”; ${doubts.join("; ")}.`;
  else statusView.textContent = `Read as “${result.text}”.`;
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

function clearAll(message = TEXTS[mode].cleared) {
  generation += 1;
  clearTimeout(timer);
  timer = null;
  pending = false;
  resetPad();
  letterView.textContent = "–";
  candidatesView.replaceChildren();
  seenView.hidden = true;
  severalView.hidden = true;
  answeredView.textContent = "";
  delete answeredView.dataset.where;
  resultView.setAttribute("aria-busy", "false");
  statusView.className = "status";
  statusView.textContent = message;
}
clearButton.addEventListener("click", () => clearAll());

function setMode(newMode) {
  // The pad's own pixels change with the mode (a canvas is cleared when resized), and so do the texts around it.
  mode = newMode;
  document.getElementById(`mode-${mode}`).checked = true;
  pad.width = PADS[mode].width;
  pad.height = PADS[mode].height;
  layoutView.classList.toggle("line-mode", mode === "line");
  document.getElementById("title").textContent = TEXTS[mode].title;
  hintView.textContent = TEXTS[mode].hint;
  pad.setAttribute("aria-label", TEXTS[mode].pad);
  candidatesView.setAttribute("aria-label", TEXTS[mode].list);
  seenFigure.hidden = mode === "line"; // a line is read letter by letter: there is no one 28 × 28 image
  clearAll(TEXTS[mode].start);
}
for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener("change", () => setMode(radio.value));
}

function readUpload(file) {
  lastUpload = file;
  clearAll();
  showUpload(file);
  announce = true;
  send(() => askServer(fileForm(file), {}));
  if (mode === "letter") hintIfSeveral(file);
}

upload.addEventListener("change", () => {
  const file = upload.files[0];
  if (!file) return;
  readUpload(file);
  upload.value = ""; // choosing the same file again still triggers a prediction
});

function fileForm(file) {
  const form = new FormData();
  form.append("file", file);
  return form;
}

async function hintIfSeveral(file) {
  // An upload read as one letter may hold a word: the server's line reader says how many letters it finds (once
  // per upload, not per stroke), and two or more get a hint to read it in line mode. The hint is optional: any
  // failure here leaves the letter's answer alone.
  const sentFor = generation;
  try {
    const response = await fetch("/v1/read", { method: "POST", body: fileForm(file) });
    if (!response.ok) return;
    const n = (await response.json()).characters.length;
    if (sentFor !== generation || mode !== "letter" || n < 2) return;
    severalText.textContent = `This image seems to hold ${n} letters: try line mode.`;
    severalView.hidden = false;
  } catch {
    // no hint
  }
}

document.getElementById("try-line").addEventListener("click", () => {
  const file = lastUpload;
  setMode("line");
  if (file) readUpload(file);
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
