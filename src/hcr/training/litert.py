"""A run's best model for phones: model.tflite (float32) and model-int8.tflite, LiteRT's format for Android and iOS.

hcr export runs/20261124-032627-regularized-cnn --format tflite     # → RUN/model.tflite, RUN/model-int8.tflite
hcr export runs/20261124-032627-regularized-cnn --format all        # ONNX and LiteRT, one model.json

As with ONNX, the export is checked, not trusted: the LiteRT interpreter (ai-edge-litert, what the apps embed) must
reproduce Keras's probabilities on the run's test split (validation if it has none) within VERIFY_TOLERANCE, or
nothing is written. The int8 variant cannot match that closely by design; its cost is measured instead (accuracy
and top-1 agreement with Keras on the same images) and written to model.json beside the sizes, so whoever ships it
decides on numbers. Only LiteRT's builtin ops are allowed (no Flex/Select TF ops): an app then needs the plain
LiteRT runtime, nothing more.
"""

import hashlib
from pathlib import Path
from typing import Any

import keras
import numpy as np

from hcr.atomic import atomic_path, write_text_atomic
from hcr.data.prepare import load_run_data
from hcr.errors import HcrError, MissingExtraError
from hcr.inference.preprocess import to_model_input
from hcr.runs import RunDir
from hcr.training.export import (
    INPUT_NAME,
    VERIFY_TOLERANCE,
    _inference_graph,
    model_interface,
    portable_settings,
    read_sidecar,
)
from hcr.training.hard_examples import model_classes
from hcr.training.precision import float32_model

TFLITE_NAME = "model.tflite"
INT8_NAME = "model-int8.tflite"
METADATA_NAME = "model.json"
CARD_NAME = "MODEL_CARD.md"
N_REPRESENTATIVE = 500  # training images that calibrate the int8 ranges (TF's guidance: a few hundred suffice)
INTERPRETER_BATCH = 1024  # images per interpreter call: bounds memory on a large test split
CARD_START, CARD_END = "<!-- litert -->", "<!-- /litert -->"  # the card's LiteRT section, replaced on each export


def export_tflite(run_dir: Path, out_dir: Path | None = None) -> Path:
    """Write model.tflite and model-int8.tflite for the run's best checkpoint into `out_dir` (default: the run
    folder), and their sizes and verification under "litert" in model.json (and in MODEL_CARD.md if one is there).

    Returns the path of model.tflite. Raises HcrError if the float model does not match Keras within tolerance."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise MissingExtraError("mobile", "ai-edge-litert") from None
    run = RunDir.open(run_dir)
    if not run.best_model_path.is_file():
        raise HcrError(f"{run_dir}: no trained model (checkpoints/best.keras is missing)")
    out_dir = out_dir or run.path
    data, split = load_run_data(run)  # the images as the model was trained on them
    model = float32_model(run.load_model(run.best_model_path))  # a mixed-precision run converts as float32
    checked_part = "test" if len(split.test) else "val"
    indices = getattr(split, checked_part)
    x_checked, y_checked = to_model_input(data.x[indices]), data.y[indices]  # float32 [N, 28, 28, 1]
    keras_probabilities = model.predict(x_checked, batch_size=512, verbose=0)
    graph = _inference_graph(model)
    representative = _representative_images(to_model_input(data.x[split.train]), run.read_config().train.seed)

    tflite_path, int8_path = out_dir / TFLITE_NAME, out_dir / INT8_NAME
    with atomic_path(tflite_path) as float_tmp, atomic_path(int8_path) as int8_tmp:
        _convert(graph, float_tmp)
        float_probabilities = _predict(Interpreter, float_tmp, x_checked)
        diff = float(np.abs(keras_probabilities - float_probabilities).max())
        if not diff <= VERIFY_TOLERANCE:  # written so that NaN fails too
            raise HcrError(f"{run_dir}: the LiteRT model differs from Keras by {diff:.2g} (> {VERIFY_TOLERANCE:g})")
        _convert(graph, int8_tmp, representative)
        int8_probabilities = _predict(Interpreter, int8_tmp, x_checked)
        facts = {
            "float32": {"file": TFLITE_NAME, **_file_facts(float_tmp)},
            "int8": {
                "file": INT8_NAME,
                **_file_facts(int8_tmp),
                "quantization": f"weights and activations int8, float32 input and output; ranges calibrated on "
                f"{len(representative)} training images",
            },
            "verification": {
                "interpreter": "ai_edge_litert.interpreter.Interpreter",
                "split": checked_part,
                "n": len(indices),
                "float32_max_abs_diff": diff,
                "tolerance": VERIFY_TOLERANCE,
                "keras_accuracy": _accuracy(keras_probabilities, y_checked),
                "int8_accuracy": _accuracy(int8_probabilities, y_checked),
                "int8_max_abs_diff": float(np.abs(keras_probabilities - int8_probabilities).max()),
                "int8_top1_agreement": float((keras_probabilities.argmax(1) == int8_probabilities.argmax(1)).mean()),
            },
        }
        facts["verification"]["int8_accuracy_delta"] = (
            facts["verification"]["int8_accuracy"] - facts["verification"]["keras_accuracy"]
        )
    _record(run, out_dir, facts)
    return tflite_path


def _convert(graph: keras.Model, path: Path, representative: np.ndarray | None = None) -> None:
    """Keras → LiteRT through Keras's own exporter (SavedModel, then TFLiteConverter.from_saved_model, the path
    TensorFlow documents for Keras 3), builtin ops only; int8 when given calibration images."""
    import tensorflow as tf

    options: dict[str, Any] = {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}
    if representative is not None:

        def calibration_batches():
            for image in representative:
                yield [image[np.newaxis]]  # [1, 28, 28, 1]

        options = {
            "optimizations": [tf.lite.Optimize.DEFAULT],
            "representative_dataset": calibration_batches,
            "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
        }
    signature = [keras.InputSpec(shape=(None, 28, 28, 1), dtype="float32", name=INPUT_NAME)]
    graph.export(str(path), format="litert", verbose=False, input_signature=signature, **options)


def _predict(interpreter_class: type, path: Path, x: np.ndarray) -> np.ndarray:
    """float32 [N, 28, 28, 1] → [N, 26] probabilities from the LiteRT interpreter, as an app would compute them."""
    interpreter = interpreter_class(model_path=str(path))
    (image,), (probabilities,) = interpreter.get_input_details(), interpreter.get_output_details()
    chunks = []
    for start in range(0, len(x), INTERPRETER_BATCH):
        chunk = x[start : start + INTERPRETER_BATCH]
        interpreter.resize_tensor_input(image["index"], list(chunk.shape))  # the batch dimension is dynamic
        interpreter.allocate_tensors()
        interpreter.set_tensor(image["index"], chunk)
        interpreter.invoke()
        chunks.append(interpreter.get_tensor(probabilities["index"]).copy())
    return np.concatenate(chunks)


def _representative_images(x_train: np.ndarray, seed: int) -> np.ndarray:
    """A seeded random sample of the training images: the ranges int8 must cover, with no test image among them."""
    rng = np.random.default_rng(seed)
    return x_train[rng.choice(len(x_train), size=min(N_REPRESENTATIVE, len(x_train)), replace=False)]


def _accuracy(probabilities: np.ndarray, y: np.ndarray) -> float:
    return float((probabilities.argmax(axis=1) == y).mean())


def _file_facts(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def _record(run: RunDir, out_dir: Path, facts: dict[str, Any]) -> None:
    """The LiteRT facts under "litert" in model.json (kept beside an ONNX export's facts of the same run; a sidecar of
    its own otherwise), and as a section of MODEL_CARD.md when the folder has a card."""
    json_path = out_dir / METADATA_NAME
    metadata = read_sidecar(json_path)
    if not run.exported(metadata):  # none yet, or another run's: what an app needs to use the files
        saved = run.read_config().saved
        metadata = {
            **model_interface(saved["train"]["model"], model_classes(run.read_config().data)),
            **run.identity(),
            **portable_settings(saved),
        }
    metadata["litert"] = facts
    run.write_json(json_path, metadata)
    card_path = out_dir / CARD_NAME
    if card_path.is_file():
        write_text_atomic(card_path, with_card_section(card_path.read_text(), facts))


def with_card_section(card: str, facts: dict[str, Any]) -> str:
    """The model card with its LiteRT section (between CARD_START and CARD_END) replaced, or added at the end."""
    check = facts["verification"]
    section = "\n".join([
        CARD_START,
        "## On phones (LiteRT)",
        "",
        f"Checked with the LiteRT interpreter against Keras on the {check['n']:,} images of the {check['split']} "
        "split. Both take the same input as model.onnx (float32 [N, 28, 28, 1] in 0..1) and give 26 probabilities.",
        "",
        "| file | size | max abs difference from Keras | accuracy |",
        "|---|---:|---:|---:|",
        f"| `{facts['float32']['file']}` (float32) | {facts['float32']['bytes'] / 1e6:.2f} MB | "
        f"{check['float32_max_abs_diff']:.1g} | {check['keras_accuracy']:.2%} |",
        f"| `{facts['int8']['file']}` (int8) | {facts['int8']['bytes'] / 1e6:.2f} MB | "
        f"{check['int8_max_abs_diff']:.2g} | {check['int8_accuracy']:.2%} ({check['int8_accuracy_delta']:+.2%}) |",
        "",
        f"The int8 model agrees with Keras on the top letter for {check['int8_top1_agreement']:.2%} of the images.",
        CARD_END,
        "",
    ])  # fmt: skip
    if CARD_START in card and CARD_END in card:
        before, rest = card.split(CARD_START, 1)
        return before + section + rest.split(CARD_END, 1)[1].lstrip("\n")
    return card.rstrip("\n") + "\n\n" + section
