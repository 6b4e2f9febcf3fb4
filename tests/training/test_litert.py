"""`hcr export --format tflite|all` on a tiny real run: LiteRT files that the LiteRT interpreter runs as Keras does,
an int8 variant with its cost measured, and the facts in model.json and the model card."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hcr.cli import app
from hcr.data.prepare import load_run_data
from hcr.errors import MissingExtraError
from hcr.inference.preprocess import to_model_input
from hcr.runs import RunDir


@pytest.fixture(scope="module")
def tiny_run(shared_data, tmp_path_factory, session_parse_cache) -> Path:
    """baseline-cnn on 30 images per letter, 1 epoch: a real model, quick to train."""
    from hcr.configs import DataConfig
    from hcr.training.config import resolve_config
    from hcr.training.fit import train

    root = tmp_path_factory.mktemp("litert-run")
    with pytest.MonkeyPatch.context() as patch:  # module-scoped: the per-test fixtures are not set up yet
        patch.setenv("HCR_CACHE_DIR", str(session_parse_cache))
        return train(resolve_config("baseline-cnn", epochs=1), DataConfig(data_dir=str(shared_data), per_class=30),
                     root / "runs").run.path  # fmt: skip


def _interpreter_probabilities(path: Path, x: np.ndarray) -> np.ndarray:
    """The model file run the way an app runs it: the LiteRT interpreter, one image at a time."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()  # [1, 28, 28, 1] as exported
    (image,), (probabilities,) = interpreter.get_input_details(), interpreter.get_output_details()
    rows = []
    for one in x:
        interpreter.set_tensor(image["index"], one[np.newaxis])
        interpreter.invoke()
        rows.append(interpreter.get_tensor(probabilities["index"])[0].copy())
    return np.array(rows)


@pytest.mark.slow
def test_tflite_export_matches_keras_on_the_test_split(tiny_run, tmp_path):
    from hcr.training.litert import export_tflite

    (tmp_path / "MODEL_CARD.md").write_text("# Model card\n\nSome facts.\n")
    tflite_path = export_tflite(tiny_run, tmp_path)
    int8_path = tmp_path / "model-int8.tflite"
    assert tflite_path == tmp_path / "model.tflite"

    run = RunDir(tiny_run)
    data, split = load_run_data(run)
    x, y = to_model_input(data.x[split.test]), data.y[split.test]
    keras_probabilities = run.load_model(run.best_model_path).predict(x, verbose=0)
    float_probabilities = _interpreter_probabilities(tflite_path, x)
    assert np.abs(float_probabilities - keras_probabilities).max() <= 1e-4
    int8_probabilities = _interpreter_probabilities(int8_path, x)

    metadata = json.loads((tmp_path / "model.json").read_text())
    litert, check = metadata["litert"], metadata["litert"]["verification"]
    assert metadata["source_run"] == tiny_run.name
    assert len(metadata["classes"]) == 26
    assert litert["float32"]["bytes"] == tflite_path.stat().st_size
    assert litert["int8"]["bytes"] == int8_path.stat().st_size < litert["float32"]["bytes"] / 2
    assert (check["split"], check["n"]) == ("test", len(y))
    assert check["float32_max_abs_diff"] <= 1e-4
    assert check["keras_accuracy"] == pytest.approx(float((keras_probabilities.argmax(1) == y).mean()))
    assert check["int8_accuracy"] == pytest.approx(float((int8_probabilities.argmax(1) == y).mean()))
    assert check["int8_accuracy_delta"] == pytest.approx(check["int8_accuracy"] - check["keras_accuracy"])
    assert check["int8_max_abs_diff"] == pytest.approx(float(np.abs(int8_probabilities - keras_probabilities).max()),
                                                       abs=1e-6)  # fmt: skip

    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert card.startswith("# Model card\n\nSome facts.\n")
    assert "## On phones (LiteRT)" in card
    assert f"{check['int8_accuracy']:.2%}" in card
    export_tflite(tiny_run, tmp_path)  # again: the card's section is replaced, not repeated
    assert (tmp_path / "MODEL_CARD.md").read_text().count("## On phones (LiteRT)") == 1


@pytest.mark.slow
def test_export_all_writes_both_formats_into_one_model_json(tiny_run, tmp_path):
    from hcr.inference.predictor import read_metadata

    outcome = CliRunner().invoke(app, ["export", str(tiny_run), "--out", str(tmp_path), "--format", "all"])
    assert outcome.exit_code == 0, outcome.output
    assert "LiteRT vs Keras" in outcome.output
    metadata = read_metadata(tmp_path / "model.onnx")  # still the sidecar hcr predict loads
    assert metadata["litert"]["float32"]["bytes"] == (tmp_path / "model.tflite").stat().st_size
    outcome = CliRunner().invoke(app, ["export", str(tiny_run), "--out", str(tmp_path)])  # ONNX again
    assert outcome.exit_code == 0, outcome.output
    assert "litert" in read_metadata(tmp_path / "model.onnx")  # the LiteRT facts of the same run stay


def test_tflite_without_litert_says_how_to_install_it(tmp_path, monkeypatch):
    from hcr.training.litert import export_tflite

    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'hcr\[mobile\]'"):
        export_tflite(tmp_path)
