"""`hcr export`: a run's best model becomes model.onnx + model.json that ONNX Runtime reproduces Keras with."""

import hashlib
import json

import numpy as np
import pytest

from hcr.errors import HcrError
from hcr.inference.preprocess import PREPROCESS_VERSION
from hcr.labels import CLASSES
from tests.inference.test_predict_cli import _hcr


def strings_of(value: object) -> list[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_of(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_of(item)]
    return [value] if isinstance(value, str) else []


def test_export_writes_a_verified_model_and_its_metadata(onnx_model_dir):
    onnx_path, json_path = onnx_model_dir / "model.onnx", onnx_model_dir / "model.json"
    metadata = json.loads(json_path.read_text())
    assert metadata["classes"] == list(CLASSES)
    assert metadata["preprocess_version"] == PREPROCESS_VERSION
    assert metadata["input"]["shape"] == [None, 28, 28, 1]
    assert metadata["onnx_sha256"] == hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    assert metadata["verification"]["max_abs_diff"] <= 1e-4
    assert metadata["verification"]["n"] == metadata["metrics"]["test"]["n"] > 0
    assert 0 < metadata["low_confidence"]["threshold"] <= 1
    assert np.isfinite(metadata["metrics"]["test"]["accuracy"])


def test_threshold_flags_at_most_3_percent_of_correct_answers_on_held_out_data(onnx_model_dir, onnx_model_run):
    """Issue 17's budget: the threshold is the highest that flags at most 3 % of correct answers, on validation
    letters as files, the same letters drawn as degraded files and not-a-letter inputs, pooled; each set's rates are
    reported, and so is the risk–coverage figure."""
    low = json.loads((onnx_model_dir / "model.json").read_text())["low_confidence"]
    assert low["split"] == "val"
    assert set(low["sets"]) == {"letters as files", "rendered letters", "not a letter"}
    assert low["n"] == sum(part["n"] for part in low["sets"].values())
    if low["correct_flagged"] is not None:
        assert low["correct_flagged"] <= 0.03
    assert 0 <= low["flagged_fraction"] <= 1
    assert (onnx_model_run / low["figure"]).is_file()


def test_model_json_names_no_path_of_the_machine_that_built_it(onnx_model_dir, onnx_model_run):
    """Issue 13: model.json ships (the default model's is package data), so the builder's folders stay out of it:
    the run is named by its folder's name and its best checkpoint's digest, the data folder not at all."""
    metadata = json.loads((onnx_model_dir / "model.json").read_text())
    machine = str(onnx_model_dir.parent)  # the pytest temporary folder the run and the export lie in
    assert [text for text in strings_of(metadata) if text.startswith("/") or machine in text] == []
    assert metadata["source_run"] == onnx_model_run.name
    digest = hashlib.sha256((onnx_model_run / "checkpoints" / "best.keras").read_bytes()).hexdigest()
    assert metadata["source_checkpoint_sha256"] == digest
    assert metadata["data"]["data_dir"] is None


def test_a_model_is_benched_on_its_own_split_without_its_run_folder(onnx_model_dir, onnx_model_run, shared_data):
    """The run folder stays on the machine that trained the model (the shipped model's does not ship), so model.json
    records the split's digest; a bench rebuilds the split from model.json's data settings and checks it by that."""
    from bench.model_run import model_data

    from hcr.data.prepare import load_run_split
    from hcr.inference.predictor import Predictor
    from hcr.runs import RunDir

    predictor = Predictor(onnx_model_dir)
    saved = load_run_split(RunDir.open(onnx_model_run))
    assert predictor.metadata_["split_record"] == {"data_fingerprint": saved.data_fingerprint, "digest": saved.digest()}
    data, split, origin = model_data(predictor, onnx_model_dir, None, shared_data)  # no run folder at hand
    assert origin == "its split rebuilt from model.json"
    assert [getattr(split, part).tolist() for part in ("train", "val", "test")] == [
        getattr(saved, part).tolist() for part in ("train", "val", "test")
    ]
    assert data.x.shape == (len(split.train) + len(split.val) + len(split.test), 28, 28)

    predictor.metadata_["split_record"]["digest"] = "0" * 16  # another split than the one it was trained on
    with pytest.raises(SystemExit, match="not the one it was trained on"):
        model_data(predictor, onnx_model_dir, None, shared_data)


def test_a_model_without_its_run_is_calibrated_again_for_this_preprocessing(onnx_model_dir, shared_data, tmp_path):
    """The shipped model's run folder is not at hand when preprocessing changes, and the predictor refuses a model
    exported for another version: --recalibrate chooses its thresholds again on its split rebuilt from model.json,
    exactly as export chose them, and records which preprocessing the weights were trained with."""
    import shutil

    from hcr.inference.predictor import Predictor

    model = tmp_path / "model"
    model.mkdir()
    shutil.copy(onnx_model_dir / "model.onnx", model)
    exported = json.loads((onnx_model_dir / "model.json").read_text())
    older = {**exported, "preprocess_version": PREPROCESS_VERSION - 1}
    (model / "model.json").write_text(json.dumps(older))
    with pytest.raises(HcrError, match="export the model again"):
        Predictor(model)

    result = _hcr("export", str(model), "--recalibrate", "--data-dir", str(shared_data))
    assert result.returncode == 0, result.stderr
    metadata = Predictor(model).metadata_  # loads now
    assert metadata["preprocess_version"] == PREPROCESS_VERSION
    assert metadata["recalibrated"]["trained_with_preprocess_version"] == PREPROCESS_VERSION - 1
    assert metadata["low_confidence"]["threshold"] == exported["low_confidence"]["threshold"]
    assert metadata.get("not_a_letter") == exported.get("not_a_letter")
    assert metadata["onnx_sha256"] == exported["onnx_sha256"]
    assert _hcr("export", str(model), "--recalibrate", "--out", str(tmp_path / "x")).returncode == 2


def test_settings_that_are_files_are_recorded_by_name():
    """A transfer model's weights, a tuned model's study and best parameters, a dataset given as NAME:PATH: model.json
    keeps what they were, not where they lay; the settings still read back as configs."""
    from hcr.configs import DataConfig, TrainConfig
    from hcr.training.export import portable_settings

    saved = {
        "train": {**TrainConfig(model="mobilenetv2-finetune").to_dict(), "weights": "/home/me/w/mobilenet_0.35.h5",
                  "tuning": {"study": "cnn", "trial": 3, "storage": "sqlite:////home/me/runs/t/study.db",
                             "best_params": "/home/me/runs/t/best_params.json"}},
        "data": {**DataConfig(datasets=("az:/home/me/A_Z.csv", "emnist-letters"), data_dir="/home/me/data").to_dict()},
    }  # fmt: skip
    portable = portable_settings(saved)
    assert [text for text in strings_of(portable) if "/home/me" in text] == []
    assert portable["train"]["weights"] == "mobilenet_0.35.h5"
    assert portable["train"]["tuning"] == {"study": "cnn", "trial": 3, "storage": "sqlite:///study.db",
                                           "best_params": "best_params.json"}  # fmt: skip
    assert portable["data"]["datasets"] == ["az:A_Z.csv", "emnist-letters"]
    assert DataConfig(**{**portable["data"], "datasets": tuple(portable["data"]["datasets"])}).data_dir is None
    assert saved["train"]["weights"].startswith("/home/me")  # the run's own config is left as it is


def test_export_refuses_a_mismatch_and_writes_nothing(onnx_model_run, tmp_path, monkeypatch):
    from hcr.training import export

    monkeypatch.setattr(export, "VERIFY_TOLERANCE", 0.0)  # float32 conversions never agree to the last bit
    with pytest.raises(HcrError, match="differs from Keras"):
        export.export_onnx(onnx_model_run, tmp_path / "out")
    assert not list((tmp_path / "out").iterdir())


@pytest.mark.slow
def test_a_transfer_model_with_a_nested_head_exports(shared_data, tmp_path, monkeypatch):
    """MobileNetV2's head is a nested model with dropout; exported naively, its dropout would be traced in training
    mode (random ops ONNX Runtime cannot load). A tiny frozen-backbone run must export and verify."""
    from hcr.configs import DataConfig
    from hcr.training.config import resolve_config
    from hcr.training.export import export_onnx
    from hcr.training.fit import train
    from tests.realdata import MOBILENET_WEIGHTS

    monkeypatch.setenv("HCR_MOBILENET_WEIGHTS", str(MOBILENET_WEIGHTS))
    config = resolve_config("mobilenetv2-frozen", epochs=1)
    run = train(config, DataConfig(data_dir=str(shared_data), per_class=8), tmp_path / "runs").run
    metadata = json.loads(export_onnx(run.path, tmp_path / "model").with_name("model.json").read_text())
    assert metadata["model"] == "mobilenetv2-frozen"
    assert metadata["verification"]["max_abs_diff"] <= 1e-4
