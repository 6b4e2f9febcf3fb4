// The model run in the page itself: ONNX Runtime Web (vendored into static/ort/ by `make web`, never from a CDN)
// on the server's own model file, after preprocess.js's port of the server's preprocessing, with the server's
// thresholds (from /v1/model/browser). Anything it cannot answer exactly as the server would (no vendored ONNX
// Runtime, the model still loading, a drawing the port does not cover) it hands back with the reason, and the
// page asks the server instead.
"use strict";

const InBrowser = (() => {
  const ORT_DIR = "/static/ort/";
  let model = null; // {session, info} once loaded
  let unavailable = "the in-browser model is still loading";

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`${src} is not there (run \`make web\`)`));
      document.head.append(script);
    });
  }

  async function load() {
    const info = await (await fetch("/v1/model/browser")).json();
    await loadScript(`${ORT_DIR}ort.wasm.min.js`);
    ort.env.wasm.wasmPaths = ORT_DIR;
    ort.env.wasm.numThreads = 1; // no cross-origin isolation: no threads, and one letter needs none
    const session = await ort.InferenceSession.create(info.model_url, { executionProviders: ["wasm"] });
    model = { session, info };
  }

  let loading = null;

  /** Starts loading the model (once: 14 MB of WebAssembly, so only when someone draws, never for a page that only
   * uploads); resolves to whether it loaded. The page works either way: until then, the server answers. */
  function start() {
    loading ??= load().then(
      () => true,
      (error) => {
        unavailable = `no in-browser model (${error.message})`;
        return false;
      },
    );
    return loading;
  }

  function dataUrl(letter, side) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = side;
    const image = new ImageData(side, side);
    letter.forEach((v, i) => image.data.set([v, v, v, 255], 4 * i));
    canvas.getContext("2d").putImageData(image, 0, 0);
    return canvas.toDataURL("image/png");
  }

  /** predictor.Predictor._interpret: the answer, status and top letters from the probabilities. */
  function interpret(probabilities, info, topK) {
    const n = info.n_letters;
    const order = [...Array(n).keys()].sort((a, b) => probabilities[b] - probabilities[a] || b - a);
    const top = order.slice(0, Math.max(1, topK)).map((i) => ({ letter: info.classes[i], probability: probabilities[i] }));
    const confidence = top[0].probability;
    const refusal = n < info.classes.length ? probabilities[n] : 0.0;
    // numpy compares the float32 refusal with the threshold rounded to float32
    if (refusal > confidence && refusal >= Math.fround(info.not_a_letter_threshold)) {
      return { letter: null, confidence, status: "not-a-letter", message: info.not_a_letter_message, top_k: top };
    }
    const status = confidence >= info.threshold ? "ok" : "low-confidence";
    return { letter: top[0].letter, confidence, status, message: null, top_k: top };
  }

  /** Float32Array [n × classes]: the model's probabilities for n letters (arrays of side × side bytes) at once. */
  async function run(session, letters, side) {
    const input = new Float32Array(letters.length * side * side);
    letters.forEach((letter, k) => letter.forEach((v, i) => (input[k * side * side + i] = v / 255)));
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", input, [letters.length, side, side, 1]) };
    return (await session.run(feeds))[session.outputNames[0]].data;
  }

  /** numpy's round: halves to even. */
  function roundHalfEven(v) {
    const floor = Math.floor(v);
    const rest = v - floor;
    return rest > 0.5 || (rest === 0.5 && floor % 2 === 1) ? floor + 1 : floor;
  }

  /** second_look.copies: the letter tilted by `degrees` about its centre, bilinear, black outside, as numpy makes it
   * (weights and sums in float32). */
  function tilted(letter, degrees, side) {
    const radians = degrees * (Math.PI / 180);
    const cos = Math.cos(radians);
    const sin = Math.sin(radians);
    const centre = side / 2;
    const copy = new Uint8Array(side * side);
    for (let i = 0; i < side * side; i++) {
      const y = Math.floor(i / side) + 0.5 - centre;
      const x = (i % side) + 0.5 - centre;
      const sourceX = cos * x - sin * y + centre - 0.5;
      const sourceY = sin * x + cos * y + centre - 0.5;
      const left = Math.floor(sourceX);
      const top = Math.floor(sourceY);
      const rightShare = sourceX - left;
      const downShare = sourceY - top;
      let sum = 0;
      for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        const column = left + dx;
        const row = top + dy;
        const inside = column >= 0 && column < side && row >= 0 && row < side;
        const weight = Math.fround((dx ? rightShare : 1 - rightShare) * (dy ? downShare : 1 - downShare));
        sum = Math.fround(sum + Math.fround(weight * (inside ? letter[row * side + column] : 0)));
      }
      copy[i] = roundHalfEven(sum);
    }
    return copy;
  }

  /** second_look.looked_again for one letter: the mean of its probabilities and its tilted copies'. */
  async function lookAgain(session, letter, probabilities, tilts, side) {
    const looks = await run(session, tilts.map((degrees) => tilted(letter, degrees, side)), side);
    const n = probabilities.length;
    return Float32Array.from(probabilities, (p, j) => {
      let sum = p;
      for (let k = 0; k < tilts.length; k++) sum = Math.fround(sum + looks[k * n + j]);
      return Math.fround(sum / (tilts.length + 1));
    });
  }

  /**
   * The answer for the pixels of a canvas (an ImageData): {result, letter (the 28 × 28 the model saw), ms} as
   * /v1/predict?model_input=true would answer, or {reason} why only the server can answer.
   */
  async function predict(image, topK = 3) {
    if (!model) {
      start();
      return { reason: unavailable };
    }
    const began = performance.now();
    const { info, session } = model;
    const c = info.preprocess;
    const prepared = HcrPreprocess.letterArray(image.data, image.width, image.height, c);
    if (prepared.fallback) return { reason: prepared.fallback };
    if (prepared.blank) {
      const result = { letter: null, confidence: 0, status: "blank", message: null, top_k: [], model_input: null };
      return { result, letter: null, ms: performance.now() - began };
    }
    let probabilities = await run(session, [prepared.letter], c.side);
    const look = info.second_look;
    if (look !== null && Math.max(...probabilities.slice(0, info.n_letters)) < Math.fround(look.below)) {
      probabilities = await lookAgain(session, prepared.letter, probabilities, look.tilts, c.side);
    }
    const result = { ...interpret(probabilities, info, topK), model_input: dataUrl(prepared.letter, c.side) };
    return { result, letter: Array.from(prepared.letter), ms: performance.now() - began };
  }

  return { start, predict };
})();
