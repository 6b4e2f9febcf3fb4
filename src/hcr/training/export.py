"""Turn a run's best model into what the predictor loads: model.onnx and its model.json sidecar.

hcr export runs/20261124-032627-regularized-cnn            # writes model.onnx + model.json into the run folder
hcr export runs/20261124-032627-regularized-cnn --out dist

The export is checked, not trusted: ONNX Runtime must reproduce Keras's probabilities on the run's whole test split
within VERIFY_TOLERANCE, or nothing is written. The low-confidence threshold is calibrated on the validation split
(never test), so `hcr predict` can flag doubtful letters on evidence rather than on a guessed number.
"""

import hashlib
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np

from hcr import __version__
from hcr.atomic import atomic_path
from hcr.data.prepare import load_run_data
from hcr.errors import HcrError
from hcr.inference.predictor import Predictor, read_metadata, run_session
from hcr.inference.preprocess import PREPROCESS_VERSION, to_letter_arrays
from hcr.labels import CLASSES
from hcr.runs import RunDir
from hcr.training.predict import RunModel

OPSET = 17  # supported by tf2onnx 1.17 and every ONNX Runtime since 1.14
VERIFY_TOLERANCE = 1e-4  # max |p_keras - p_onnx| over every probability of every test image
INPUT_NAME = "image"
THRESHOLD_METHOD = (
    "isotonic regression of correct-or-not on top-1 confidence over the validation split, each letter preprocessed "
    "as `hcr predict` preprocesses a file; the threshold is the lowest confidence at which a prediction is "
    "estimated right at least as often as wrong (P(correct) >= 0.5)"
)


def export_onnx(run_dir: Path, out_dir: Path | None = None) -> Path:
    """Write model.onnx + model.json for the run's best checkpoint into `out_dir` (default: the run folder).

    Returns the path of model.onnx. Raises HcrError if the ONNX model does not match Keras within tolerance."""
    run = RunDir.open(run_dir)
    keras_model = RunModel(run.path)  # refuses a run without a trained model
    saved = run.read_config().saved
    out_dir = out_dir or run.path
    onnx_path, json_path = out_dir / "model.onnx", out_dir / "model.json"
    # the letters as the datasets store them: the threshold is calibrated on them preprocessed as a file is, once
    # (a --canonical run's own arrays are already that, and preprocessing them again would not be what predict sees)
    data, split = load_run_data(run, as_loaded=True)
    x = data.x  # uint8 [N, 28, 28]

    with atomic_path(onnx_path) as tmp_path:
        with warnings.catch_warnings():  # tf2onnx probes the removed np.object; harmless, and not ours to fix
            warnings.filterwarnings("ignore", "In the future `np.object`", FutureWarning)
            _inference_graph(keras_model.model_).export(
                str(tmp_path),
                format="onnx",
                verbose=False,
                opset_version=OPSET,
                input_signature=[keras.InputSpec(shape=(None, 28, 28, 1), dtype="float32", name=INPUT_NAME)],
            )
        session = Predictor.create_session(tmp_path)
        # a final model trained with no test part (--test-fraction 0) is checked on its validation part
        checked_part = "test" if len(split.test) else "val"
        x_checked = x[getattr(split, checked_part)]
        keras_probabilities = keras_model.predict_proba(x_checked)
        diff = float(np.abs(keras_probabilities - run_session(session, x_checked)).max())
        if not diff <= VERIFY_TOLERANCE:  # written so that NaN fails too
            raise HcrError(f"{run_dir}: the ONNX model differs from Keras by {diff:.2g} (> {VERIFY_TOLERANCE:g})")
        val_probabilities = run_session(session, to_letter_arrays(x[split.val]))
        onnx_bytes = tmp_path.read_bytes()

    metadata = {
        "model": saved["train"]["model"],
        "classes": list(CLASSES),
        "input": {
            "name": INPUT_NAME,
            "shape": [None, 28, 28, 1],
            "dtype": "float32",
            "range": [0.0, 1.0],
            "convention": "hcr.inference.preprocess.to_letter_array, then to_model_input: ink bright on black",
        },
        "output": "softmax probabilities [N, 26] in the order of classes",
        "preprocess_version": PREPROCESS_VERSION,
        "opset": OPSET,
        "low_confidence": calibrate_threshold(val_probabilities, data.y[split.val]),
        "verification": {
            "split": checked_part,
            "n": len(x_checked),
            "max_abs_diff": diff,
            "tolerance": VERIFY_TOLERANCE,
        },
        "metrics": run.read_json(run.metrics_path) if run.metrics_path.is_file() else None,
        "source_run": str(run.path.resolve()),
        "train": saved["train"],
        "data": saved["data"],
        "onnx_sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "onnx_bytes": len(onnx_bytes),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "hcr_version": __version__,
    }
    run.write_json(json_path, metadata)
    read_metadata(onnx_path)  # the pair just written must load: fail here, not in a user's `hcr predict`
    return onnx_path


def calibrate_threshold(probabilities: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The confidence below which a prediction is more likely wrong than right, measured on held-out data.

    A plain "wrong more often than not" rule needs no target chosen by taste, and isotonic regression makes the
    estimate monotone in confidence, so the threshold is one well-defined crossing even where errors are sparse.
    If even the least confident validation predictions are mostly right, the threshold is the lowest confidence
    seen: only images less certain than anything validated are flagged."""
    from sklearn.isotonic import IsotonicRegression

    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == y).astype(np.float64)
    estimate = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True).fit(confidence, correct).predict(confidence)
    sure = estimate >= 0.5
    threshold = float(confidence[sure].min()) if sure.any() else 1.0
    flagged = confidence < threshold
    return {
        "threshold": threshold,
        "method": THRESHOLD_METHOD,
        "split": "val",
        "n": len(y),
        "flagged_fraction": float(flagged.mean()),
        "accuracy_flagged": float(correct[flagged].mean()) if flagged.any() else None,
        "accuracy_kept": float(correct[~flagged].mean()) if (~flagged).any() else None,
    }


def _inference_graph(model: keras.Model) -> keras.Model:
    """The model called with training=False, fixed in the graph. Keras's ONNX export calls a model without it,
    and a nested model (MobileNetV2's head) then traces its dropout in training mode: random ops ONNX lacks."""
    inputs = keras.Input((28, 28, 1), name=INPUT_NAME)
    return keras.Model(inputs, model(inputs, training=False), name=model.name)
