"""Small real ONNX models written with onnx.helper (no TensorFlow), each beside its model.json.

bar_model is a hand-made one that tells a vertical bar from a horizontal one, for the not-a-letter
tests: a vertical bar is read as I, a horizontal bar (a dash: no letter) as not-a-letter when the model has that
27th class, and as H, a poor second, when it has only the 26 letters.

After preprocessing a bar is centred with its long side 22 px, so a vertical bar fills the middle columns and a
horizontal one the middle rows: the model's logits are weighted sums over those columns and rows, plus a small bias
per class so that the letters behind the winner come in a fixed order (A, B, C, …).
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from hcr.inference.predictor import DEFAULT_MODEL_DIR
from hcr.labels import CLASSES, NOT_A_LETTER, index_of

SIDE = 28
MIDDLE = slice(12, 16)  # the rows (or columns) a centred bar covers


def linear_model(
    folder: Path, input_shape: list, weights: np.ndarray, bias: np.ndarray | None = None, **metadata_changes: Any
) -> Path:
    """A real ONNX model (reshape → matmul → add → softmax; weights [pixels, outputs]) with the given input shape,
    in `folder` beside a model.json that names it (its sha256) and otherwise says what the shipped model's says
    (less its not-a-letter calibration), changed by `metadata_changes`."""
    pixels, n_outputs = weights.shape
    graph = helper.make_graph(
        [
            helper.make_node("Reshape", ["image", "flat_shape"], ["flat"]),
            helper.make_node("MatMul", ["flat", "weights"], ["scores"]),
            helper.make_node("Add", ["scores", "bias"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
        ],
        "linear",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, input_shape)],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", n_outputs])],
        initializer=[
            numpy_helper.from_array(np.array([-1, pixels], np.int64), "flat_shape"),
            numpy_helper.from_array(weights.astype(np.float32), "weights"),
            numpy_helper.from_array(np.zeros(n_outputs, np.float32) if bias is None else bias, "bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    folder.mkdir(parents=True)
    data = model.SerializeToString()
    (folder / "model.onnx").write_bytes(data)
    metadata = json.loads((DEFAULT_MODEL_DIR / "model.json").read_text(encoding="utf-8"))
    metadata.pop("not_a_letter", None)  # the shipped model's own calibration; a test sets one when it means to
    metadata.update(onnx_sha256=hashlib.sha256(data).hexdigest(), **metadata_changes)
    (folder / "model.json").write_text(json.dumps(metadata), encoding="utf-8")
    return folder


def bar_model(folder: Path, *, not_a_letter: bool = True) -> Path:
    """The bar model's folder: model.onnx and its model.json (classes A..Z, then not-a-letter if asked)."""
    classes = [*CLASSES, NOT_A_LETTER] if not_a_letter else list(CLASSES)
    weights = np.zeros((SIDE, SIDE, len(classes)), np.float32)  # [28, 28, classes]: one weight map per class
    weights[:, MIDDLE, index_of("I")] = 0.05  # ink down the middle columns: a vertical bar
    weights[MIDDLE, :, len(classes) - 1 if not_a_letter else index_of("H")] = 0.05  # across the middle rows
    bias = np.linspace(0.3, 0.0, len(classes), dtype=np.float32)  # A > B > … when nothing else decides
    shape = ["N", SIDE, SIDE, 1]
    return linear_model(folder, shape, weights.reshape(SIDE * SIDE, -1), bias, model="bars", classes=classes)


def bar(vertical: bool, size: tuple[int, int] = (120, 120)) -> Image.Image:
    """Dark ink on white paper: one thick bar across the middle, upright or lying."""
    image = np.full(size[::-1], 255, np.uint8)
    w, h = size
    if vertical:
        image[h // 6 : h - h // 6, w // 2 - 5 : w // 2 + 5] = 0
    else:
        image[h // 2 - 5 : h // 2 + 5, w // 6 : w - w // 6] = 0
    return Image.fromarray(image)


def bars_line(pattern: str) -> Image.Image:
    """A line of bars on white paper, "|" upright and "-" lying, in 70 px slots: "|-|" reads as "I?I" (no spaces)."""
    height, gap = 100, 10
    image = np.full((height, gap + len(pattern) * (60 + gap)), 255, np.uint8)
    for i, mark in enumerate(pattern):
        left = gap + i * (60 + gap)
        if mark == "|":
            image[20:80, left + 25 : left + 35] = 0
        else:
            image[45:55, left : left + 60] = 0
    return Image.fromarray(image)
