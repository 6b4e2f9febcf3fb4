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
    const input = Float32Array.from(prepared.letter, (v) => v / 255);
    const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", input, [1, c.side, c.side, 1]) };
    const output = await session.run(feeds);
    const probabilities = output[session.outputNames[0]].data;
    const result = { ...interpret(probabilities, info, topK), model_input: dataUrl(prepared.letter, c.side) };
    return { result, letter: Array.from(prepared.letter), ms: performance.now() - began };
  }

  return { start, predict };
})();
