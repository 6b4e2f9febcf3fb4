"""A model that is not what hcr exports is refused when it is loaded, with one line saying what is wrong.

Before, a foreign model (wrong input rank, 40 outputs, a threshold that is not a number) loaded fine and then failed
on every image: `hcr predict` exited 1 and `hcr serve` answered every request with a 500.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hcr.errors import HcrError
from hcr.inference.predictor import DEFAULT_MODEL_DIR, Predictor
from hcr.labels import CLASSES
from tests.onnx_models import linear_model

SHIPPED_METADATA = json.loads((DEFAULT_MODEL_DIR / "model.json").read_text(encoding="utf-8"))


def foreign_model(folder: Path, input_shape: list, n_outputs: int, **metadata_changes) -> Path:
    """A real ONNX model with the given input shape and output width, random weights, and a model.json that says
    what the shipped model's says, changed by `metadata_changes`."""
    pixels = int(np.prod([d for d in input_shape if isinstance(d, int)]))
    weights = np.random.default_rng(0).normal(size=(pixels, n_outputs))
    # the 26 letters unless a change says otherwise (the shipped model's model.json may list not-a-letter too)
    return linear_model(folder, input_shape, weights, **{"classes": list(CLASSES), **metadata_changes})


FOREIGN = {
    "input of rank 3": (dict(input_shape=["N", 28, 28], n_outputs=26), "input"),
    "40 outputs for 26 classes": (dict(input_shape=["N", 28, 28, 1], n_outputs=40), "40"),
    "27 outputs for 26 classes (not-a-letter missing from model.json)": (
        dict(input_shape=["N", 28, 28, 1], n_outputs=27),
        "27",
    ),
    "a threshold that is not a number": (
        dict(
            input_shape=["N", 28, 28, 1],
            n_outputs=26,
            low_confidence={**SHIPPED_METADATA["low_confidence"], "threshold": "high"},
        ),
        "threshold",
    ),
    "a 28×28 image of 3 channels": (dict(input_shape=["N", 28, 28, 3], n_outputs=26), "input"),
    "a second look tilted upside down": (
        dict(input_shape=["N", 28, 28, 1], n_outputs=26, second_look={"below": 0.8, "tilts": [180]}),
        "second_look",
    ),
}


@pytest.fixture(params=sorted(FOREIGN))
def foreign(request, tmp_path) -> tuple[Path, str]:
    """(a foreign model's folder, a word its error must contain)."""
    kwargs, word = FOREIGN[request.param]
    return foreign_model(tmp_path / "foreign", **kwargs), word


def test_the_foreign_models_are_valid_onnx_that_runs(tmp_path):
    """The test models themselves are sound: ONNX Runtime loads and runs them (what is wrong is only their fit)."""
    import onnxruntime as ort

    folder = foreign_model(tmp_path / "m", input_shape=["N", 28, 28, 1], n_outputs=40)
    session = ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    out = session.run(None, {"image": np.zeros((2, 28, 28, 1), np.float32)})[0]
    assert out.shape == (2, 40)


def test_the_predictor_refuses_a_foreign_model(foreign):
    folder, word = foreign
    with pytest.raises(HcrError, match=word) as raised:
        Predictor(folder)
    assert "\n" not in str(raised.value)


def test_the_shipped_model_passes_the_checks():
    assert Predictor().classes_[0] == "A"


def _hcr(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hcr", *args], capture_output=True, text=True, timeout=timeout)


def _assert_one_line_error(result: subprocess.CompletedProcess, word: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert word in result.stderr
    assert "Traceback" not in result.stderr


def test_predict_exits_2_with_one_line(foreign, tmp_path):
    folder, word = foreign
    letter = tmp_path / "letter.png"
    Image.new("L", (64, 64), 255).save(letter)
    _assert_one_line_error(_hcr("predict", str(letter), "--model", str(folder)), word)


def test_serve_refuses_to_start(foreign):
    """`hcr serve` stops at start-up, before it listens (a server that started would still be running at the end of
    the timeout, which fails the test)."""
    folder, word = foreign
    try:
        result = _hcr("serve", "--model", str(folder), "--port", "0", timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("hcr serve started with a foreign model")
    _assert_one_line_error(result, word)
