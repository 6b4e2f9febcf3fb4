"""The GPU path: the `gpu` extra (TensorFlow with CUDA) and `hcr train --mixed-precision`.

No GPU is needed here: the extra is checked as declared, and the mixed-precision code path runs on CPU (slowly, with
its warning), which is enough to show the policy is scoped, the softmax stays float32 and the export stays float32."""

import tomllib

import keras
import numpy as np
import onnx
import pytest
from packaging.requirements import Requirement
from typer.testing import CliRunner

from hcr.cli import app
from hcr.errors import HcrError
from hcr.inference.predictor import Predictor, run_session
from hcr.inference.preprocess import to_model_input
from hcr.models import create_model, get_model_entry, list_models
from hcr.models.mobilenet import build_head
from hcr.runs import RunDir
from hcr.training.config import resolve_config
from hcr.training.export import export_onnx
from hcr.training.precision import MIXED_POLICY, float32_model, precision_policy
from tests.realdata import REPO_ROOT


def _extras() -> dict[str, dict[str, Requirement]]:
    """pyproject's extras, each as {package name: requirement}."""
    declared = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    return {extra: {(r := Requirement(line)).name: r for line in lines} for extra, lines in declared.items()}


def test_the_gpu_extra_is_tensorflow_with_cuda_at_the_train_extras_version():
    extras = _extras()
    cpu, gpu = extras["train"]["tensorflow-cpu"], extras["gpu"]["tensorflow"]
    assert gpu.extras == {"and-cuda"}
    assert gpu.specifier == cpu.specifier
    # both wheels install the package `tensorflow`: each extra brings one, over the same other libraries
    assert extras["train"]["hcr"].extras == extras["gpu"]["hcr"].extras == {"train-libraries"}
    assert not {"tensorflow", "tensorflow-cpu"} & set(extras["train-libraries"])


def test_the_policy_is_set_for_the_run_and_restored_after_it_even_on_error(capsys):
    before = keras.config.dtype_policy().name
    with precision_policy(mixed=False):
        assert keras.config.dtype_policy().name == before
    assert capsys.readouterr().err == ""
    seen = []

    def failing_run() -> None:
        with precision_policy(mixed=True):
            seen.append(keras.config.dtype_policy().name)
            raise RuntimeError("training failed")

    with pytest.raises(RuntimeError):
        failing_run()
    assert seen == [MIXED_POLICY]
    assert keras.config.dtype_policy().name == before
    if not keras.distribution.list_devices("gpu"):
        (line,) = [line for line in capsys.readouterr().err.splitlines() if "warning:" in line]
        assert "mixed precision on a machine without a GPU" in line
        assert "slower" in line


def _built_from_scratch(name: str) -> bool:
    """A model built here in a moment: no pretrained weights, no study to take its settings from."""
    entry = get_model_entry(name)
    return not entry.needs_weights and entry.tuned_from is None


@pytest.mark.parametrize("name", [name for name in list_models() if _built_from_scratch(name)])
def test_each_cnn_computes_in_float16_and_keeps_its_softmax_in_float32(name):
    with precision_policy(mixed=True):
        model = create_model(name, num_classes=26)
    assert model.layers[1].compute_dtype == "float16"
    assert model.layers[-1].compute_dtype == "float32"
    assert model.output.dtype == "float32"


def test_the_transfer_models_head_keeps_its_softmax_in_float32():
    with precision_policy(mixed=True):
        head = build_head(num_classes=26, n_features=32, dense_units=16, dropout=0.0)
    assert head.layers[-2].compute_dtype == "float16"
    assert head.output.dtype == "float32"


def test_a_mixed_model_is_scored_and_exported_as_its_float32_copy():
    with precision_policy(mixed=True):
        mixed = create_model("baseline-cnn", num_classes=26)
    plain = create_model("baseline-cnn", num_classes=26)
    assert float32_model(plain) is plain
    copy = float32_model(mixed)
    assert all(layer.compute_dtype == "float32" for layer in copy.layers)
    assert all(np.array_equal(a, b) for a, b in zip(copy.get_weights(), mixed.get_weights(), strict=True))
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    assert np.abs(copy.predict_on_batch(x) - mixed.predict_on_batch(x)).max() <= 1e-3


def test_mixed_precision_is_a_checked_training_setting():
    assert resolve_config("baseline-cnn", mixed_precision=True).mixed_precision
    with pytest.raises(HcrError, match="mixed_precision must be true or false"):
        resolve_config("baseline-cnn", mixed_precision="yes")


@pytest.mark.slow
def test_a_mixed_precision_run_exports_a_float32_onnx_model_that_matches_keras(shared_data, tmp_path):
    outcome = CliRunner().invoke(app, [
        "train", "--model", "baseline-cnn", "--mixed-precision", "--epochs", "1", "--per-class", "10",
        "--dataset", "az", "--data-dir", str(shared_data), "--runs-dir", str(tmp_path / "runs"),
    ])  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert keras.config.dtype_policy().name == "float32"  # the process is left as it was
    (run_path,) = (tmp_path / "runs").iterdir()
    assert "mixed_precision = true" in (run_path / "config.toml").read_text()

    run = RunDir.open(run_path)
    trained = run.load_model(run.best_model_path)
    assert trained.layers[1].compute_dtype == "float16"  # the checkpoint really is a mixed-precision model
    onnx_path = export_onnx(run_path)
    graph = onnx.load(onnx_path).graph
    assert onnx.TensorProto.FLOAT16 not in {init.data_type for init in graph.initializer}
    casts = [node.attribute[0].i for node in graph.node if node.op_type == "Cast"]
    assert onnx.TensorProto.FLOAT16 not in casts
    assert all(v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT for v in [*graph.input, *graph.output])

    x = np.random.default_rng(1).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    keras_probabilities = np.asarray(trained.predict_on_batch(to_model_input(x)))
    onnx_probabilities = run_session(Predictor.create_session(onnx_path), x)
    assert np.abs(keras_probabilities - onnx_probabilities).max() <= 1e-3
