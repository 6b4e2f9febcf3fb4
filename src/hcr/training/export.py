"""Turn a run's best model into what the predictor loads: model.onnx and its model.json sidecar.

hcr export runs/20261124-032627-regularized-cnn            # writes model.onnx + model.json into the run folder
hcr export runs/20261124-032627-regularized-cnn --out dist

The export is checked, not trusted: ONNX Runtime must reproduce Keras's probabilities on the run's whole test split
within VERIFY_TOLERANCE, or nothing is written. The low-confidence threshold is calibrated on the validation split
(never test), on letters and on hard inputs (degraded files, inputs with no letter), so `hcr predict` can flag
doubtful answers on evidence rather than on a guessed number; its rates and risk–coverage curve are written too.
The answers calibrated on are those `hcr predict` gives: with the second look at unsure ones
(hcr.inference.second_look), whose settings model.json carries.

model.json travels (the shipped model's is in the package), so it names no path of the machine that built it
(issue 13): the run by its folder's name and its best checkpoint's digest (hcr.runs.RunDir.identity), files by
their names, the risk–coverage figure relative to the run folder, and no data folder: whoever checks the model
again names the run and the data on their own machine (`--run`, `--data-dir`, $HCR_DATA_DIR).
"""

import hashlib
import json
import warnings
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np

from hcr import __version__
from hcr.atomic import atomic_path
from hcr.configs import DataConfig
from hcr.data.dataset import LetterData
from hcr.data.prepare import load_run_data, rebuilt_split
from hcr.data.sources import shareable_name
from hcr.data.splits import Split
from hcr.errors import HcrError
from hcr.evaluation.flagging import (
    CORRECT_FLAG_BUDGET,
    ERRORS_FLAGGED_TARGET,
    RISK_COVERAGE_FIGURE,
    calibrate,
    not_a_letter_threshold,
)
from hcr.inference.predictor import Predictor, read_metadata, run_session
from hcr.inference.preprocess import PREPROCESS_VERSION
from hcr.inference.second_look import default_settings, looked_again
from hcr.labels import NOT_A_LETTER, NUM_CLASSES
from hcr.runs import RunDir, write_json
from hcr.training.hard_examples import held_out_examples, model_classes
from hcr.training.predict import RunModel

OPSET = 17  # supported by tf2onnx 1.17 and every ONNX Runtime since 1.14
VERIFY_TOLERANCE = 1e-4  # max |p_keras - p_onnx| over every probability of every test image
INPUT_NAME = "image"
SQLITE = "sqlite:///"  # a study stored in a file (hcr tune's default), named by that file
INPUT_CONVENTION = "hcr.inference.preprocess.to_letter_array, then to_model_input: ink bright on black"
THRESHOLD_METHOD = (
    "the highest top-1 confidence below which at most 3 % of correct answers fall, on held-out data pooled: the "
    "validation letters preprocessed as `hcr predict` preprocesses a file, the same letters drawn once as degraded "
    "files (hcr.data.rendered) and read back, and not-a-letter inputs never trained on (hcr.data.out_of_scope)"
)
EVALUATION_FIGURE = Path("evaluation") / RISK_COVERAGE_FIGURE  # in the run's figures folder, as `hcr evaluate` names it


def model_interface(model: str, classes: tuple[str, ...]) -> dict[str, Any]:
    """What an app needs to use an exported model, whatever its format: its classes, its input and its output."""
    return {
        "model": model,
        "classes": list(classes),
        "input": {
            "name": INPUT_NAME,
            "shape": [None, 28, 28, 1],
            "dtype": "float32",
            "range": [0.0, 1.0],
            "convention": INPUT_CONVENTION,
        },
        "output": f"softmax probabilities [N, {len(classes)}] in the order of classes",
        "preprocess_version": PREPROCESS_VERSION,
    }


def portable_settings(saved: dict[str, Any]) -> dict[str, Any]:
    """The run's training and data settings as model.json records them: without the builder's paths. A weights or
    best-parameters file is named by its file name (the weights' digest is in the run's config.json), a study's
    SQLite file and a dataset given as NAME:PATH likewise, and the data folder not at all (None: wherever hcr finds
    data on the machine reading it), so the settings still make a DataConfig and a TrainConfig."""
    train = {**saved["train"]}
    if train.get("weights"):
        train["weights"] = Path(train["weights"]).name
    if isinstance(train.get("tuning"), dict):
        tuning = train["tuning"] = {**train["tuning"]}
        if tuning.get("best_params"):
            tuning["best_params"] = Path(tuning["best_params"]).name
        if str(tuning.get("storage", "")).startswith(SQLITE):
            tuning["storage"] = SQLITE + Path(tuning["storage"].removeprefix(SQLITE)).name
    datasets = [shareable_name(name) for name in saved["data"]["datasets"]]
    return {"train": train, "data": {**saved["data"], "datasets": datasets, "data_dir": None}}


def export_onnx(run_dir: Path, out_dir: Path | None = None) -> Path:
    """Write model.onnx + model.json for the run's best checkpoint into `out_dir` (default: the run folder).

    Returns the path of model.onnx. Raises HcrError if the ONNX model does not match Keras within tolerance."""
    run = RunDir.open(run_dir)
    keras_model = RunModel(run.path)  # refuses a run without a trained model
    saved = run.read_config().saved
    out_dir = out_dir or run.path
    out_dir.mkdir(parents=True, exist_ok=True)  # before the data: a folder that cannot be made fails in a second
    onnx_path, json_path = out_dir / "model.onnx", out_dir / "model.json"
    # the letters as the datasets store them: the threshold is calibrated on them preprocessed as a file is, once
    # (a --canonical run's own arrays are already that, and preprocessing them again would not be what predict sees)
    data, split = load_run_data(run, as_loaded=True)
    x = data.x  # uint8 [N, 28, 28]
    classes = model_classes(run.read_config().data)

    with atomic_path(onnx_path) as tmp_path:
        write_onnx(keras_model.model_, tmp_path)
        session = Predictor.create_session(tmp_path)
        # a final model trained with no test part (--test-fraction 0) is checked on its validation part
        checked_part = "test" if len(split.test) else "val"
        x_checked = x[getattr(split, checked_part)]
        keras_probabilities = keras_model.predict_proba(x_checked)
        diff = float(np.abs(keras_probabilities - run_session(session, x_checked)).max())
        if not diff <= VERIFY_TOLERANCE:  # written so that NaN fails too
            raise HcrError(f"{run_dir}: the ONNX model differs from Keras by {diff:.2g} (> {VERIFY_TOLERANCE:g})")
        calibration = calibrated(session, data, split, run.read_config().data, classes, run.path / EVALUATION_FIGURE)
        onnx_bytes = tmp_path.read_bytes()

    calibration["low_confidence"]["figure"] = str(EVALUATION_FIGURE)  # relative to the run folder
    metadata = {
        **model_interface(saved["train"]["model"], classes),
        "opset": OPSET,
        **calibration,
        "verification": {
            "split": checked_part,
            "n": len(x_checked),
            "max_abs_diff": diff,
            "tolerance": VERIFY_TOLERANCE,
        },
        "metrics": run.read_json(run.metrics_path) if run.metrics_path.is_file() else None,
        **run.identity(),
        # the split is a function of the data settings and the data: without the run folder, a bench rebuilds it
        # from them and checks it against this (bench/model_run.py)
        "split_record": split.record(),
        **portable_settings(saved),
        "onnx_sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "onnx_bytes": len(onnx_bytes),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "hcr_version": __version__,
    }
    previous = read_sidecar(json_path)
    if run.exported(previous) and "litert" in previous:
        metadata["litert"] = previous["litert"]  # the same run's LiteRT export (hcr.training.litert) is still there
    run.write_json(json_path, metadata)
    read_metadata(onnx_path)  # the pair just written must load: fail here, not in a user's `hcr predict`
    return onnx_path


def calibrated(
    session: Any,
    data: LetterData,
    split: Split,
    data_config: DataConfig,
    classes: tuple[str, ...],
    figure_path: Path | None,
) -> dict[str, Any]:
    """model.json's low_confidence, not_a_letter (a 27-class model's) and second_look, for the ONNX `session`: the
    thresholds calibrated on the validation split's held-out sets (hcr.training.hard_examples) as `hcr predict`
    answers them, with the second look; the risk–coverage curves drawn to `figure_path`."""
    held_out = held_out_examples(data.x[split.val], data.y[split.val], "val", data_config)
    second_look = default_settings()
    n_letters = len([c for c in classes if c != NOT_A_LETTER])

    def read(letters: np.ndarray) -> np.ndarray:
        return run_session(session, letters)

    probabilities = {
        name: (looked_again(read(xs), xs, read, n_letters, second_look), ys) for name, (xs, ys) in held_out.items()
    }
    return {
        "low_confidence": calibrate_threshold(probabilities, figure_path),
        **({"not_a_letter": refusal_threshold(probabilities)} if NOT_A_LETTER in classes else {}),
        "second_look": second_look,
    }


def recalibrate_onnx(model_dir: Path, data_dir: Path | None = None) -> Path:
    """Bring an exported model whose run folder is not at hand (the shipped model's) to this hcr's preprocessing, in
    place: its thresholds calibrated again on its validation split rebuilt from model.json (on `data_dir`, else
    where hcr finds data), model.onnx unchanged. A model is exported again after a preprocessing change because
    its thresholds were chosen on what the old preprocessing made of its held-out files; its weights saw that too,
    which model.json records (`recalibrated`), and which only training again changes. Returns model.onnx's path."""
    onnx_path, json_path = model_dir / "model.onnx", model_dir / "model.json"
    metadata = read_sidecar(json_path)
    if not onnx_path.is_file() or "data" not in metadata or "classes" not in metadata:
        raise HcrError(f"{model_dir}: no exported model (model.onnx and its model.json) to calibrate again")
    settings = DataConfig.from_dict(metadata["data"])
    if data_dir is not None:
        settings = replace(settings, data_dir=str(Path(data_dir).resolve()))
    data, split = rebuilt_split(settings, metadata.get("split_record"))
    session = Predictor.create_session(onnx_path)
    calibration = calibrated(session, data, split, settings, tuple(metadata["classes"]), None)
    calibration["low_confidence"]["figure"] = None  # the run folder it would go to is not at hand
    trained_with = metadata.get("recalibrated", {}).get(
        "trained_with_preprocess_version", metadata["preprocess_version"]
    )
    metadata |= calibration | {
        "preprocess_version": PREPROCESS_VERSION,
        "split_record": split.record(),
        "recalibrated": {
            "trained_with_preprocess_version": trained_with,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "hcr_version": __version__,
        },
    }
    write_json(json_path, metadata)
    read_metadata(onnx_path)  # the pair must load with this hcr
    return onnx_path


def read_sidecar(json_path: Path) -> dict[str, Any]:
    """A model.json about to be rewritten, for what it says that should be kept; a missing or damaged one says
    nothing."""
    try:
        found = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def refusal_threshold(held_out: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """How sure a 27-class model must be that an input is no letter before `hcr predict` says so, chosen on the
    held-out letters as files and the held-out inputs with no letter (hcr.evaluation.flagging)."""

    def refusal(probabilities: np.ndarray) -> np.ndarray:
        """The not-a-letter probability where it beats every letter, else 0 (a letter is answered anyway)."""
        letters_best = probabilities[:, :NUM_CLASSES].max(axis=1)
        return np.where(probabilities[:, NUM_CLASSES] > letters_best, probabilities[:, NUM_CLASSES], 0.0)

    return not_a_letter_threshold(refusal(held_out["letters as files"][0]), refusal(held_out["not a letter"][0]))


def calibrate_threshold(
    held_out: dict[str, tuple[np.ndarray, np.ndarray]], figure_path: Path | None = None
) -> dict[str, Any]:
    """The confidence below which `hcr predict` flags an answer, chosen on held-out sets (name → (probabilities,
    labels)) to flag at most 3 % of correct answers (issue 17), with the share of errors it flags on each set and
    pooled; the risk–coverage curves go to `figure_path`. Held-out hard inputs are in the pool because on clean
    letters alone a model makes too few errors, of the wrong kind, to place a threshold for the files people bring."""
    calibrated = calibrate(held_out, figure_path)
    pooled = calibrated["pooled"]
    return {
        "threshold": calibrated["threshold"],
        "method": THRESHOLD_METHOD,
        "split": "val",
        "n": pooled["n"],
        "flagged_fraction": pooled["flagged"],
        "errors_flagged": pooled["errors_flagged"],
        "correct_flagged": pooled["correct_flagged"],
        "targets": {"errors_flagged_at_least": ERRORS_FLAGGED_TARGET, "correct_flagged_at_most": CORRECT_FLAG_BUDGET},
        "sets": calibrated["sets"],
    }


def write_onnx(model: keras.Model, path: Path) -> None:
    """`model` as an ONNX file of opset OPSET taking float32 [N, 28, 28, 1] letters, in inference mode."""
    with warnings.catch_warnings():  # tf2onnx probes the removed np.object; harmless, and not ours to fix
        warnings.filterwarnings("ignore", "In the future `np.object`", FutureWarning)
        _inference_graph(model).export(
            str(path),
            format="onnx",
            verbose=False,
            opset_version=OPSET,
            input_signature=[keras.InputSpec(shape=(None, 28, 28, 1), dtype="float32", name=INPUT_NAME)],
        )


def _inference_graph(model: keras.Model) -> keras.Model:
    """The model called with training=False, fixed in the graph. Keras's ONNX export calls a model without it,
    and a nested model (MobileNetV2's head) then traces its dropout in training mode: random ops ONNX lacks."""
    inputs = keras.Input((28, 28, 1), name=INPUT_NAME)
    return keras.Model(inputs, model(inputs, training=False), name=model.name)
