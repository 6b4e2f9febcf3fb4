"""--rendered-copies and --out-of-scope: only the training split grows, the model and its export gain not-a-letter,
and the threshold is calibrated on held-out hard inputs (real data, tiny subsets)."""

import json

import numpy as np
import pytest

from hcr.configs import DataConfig
from hcr.data.prepare import load_run_split
from hcr.errors import HcrError
from hcr.labels import CLASSES, NOT_A_LETTER, NUM_CLASSES
from hcr.training import hard_examples

DATASETS = ("az", "emnist-byclass")


def test_settings_are_checked():
    with pytest.raises(HcrError, match="rendered_copies"):
        DataConfig(rendered_copies=-1)
    with pytest.raises(HcrError, match="out_of_scope"):
        DataConfig(out_of_scope=1.0)
    assert hard_examples.model_classes(DataConfig()) == CLASSES
    assert hard_examples.model_classes(DataConfig(out_of_scope=0.1)) == (*CLASSES, NOT_A_LETTER)


def test_only_the_training_split_is_rendered(shared_data, monkeypatch):
    from hcr.data.prepare import prepare_data

    data_config = DataConfig(
        datasets=DATASETS, data_dir=str(shared_data), per_class=10, case="upper", rendered_copies=2, out_of_scope=0.2
    )
    data, split = prepare_data(data_config)
    rendered_from = []
    real_rendered_copies = hard_examples.rendered_copies

    def recording(x, *args, **kwargs):
        rendered_from.append(x)
        return real_rendered_copies(x, *args, **kwargs)

    monkeypatch.setattr(hard_examples, "rendered_copies", recording)
    x, y = hard_examples.training_additions(data, split, data_config)
    assert len(rendered_from) == 1
    np.testing.assert_array_equal(rendered_from[0], data.x[split.train])
    letters, not_letters = y < NUM_CLASSES, y == NUM_CLASSES
    assert letters.sum() <= 2 * len(split.train)
    assert not_letters.sum() > 0
    assert (letters | not_letters).all()
    assert x.dtype == np.uint8
    assert x.shape == (len(y), 28, 28)


@pytest.mark.slow
def test_a_run_with_rendered_copies_and_out_of_scope_trains_and_exports_27_classes(shared_data, tmp_path):
    from hcr.inference.predictor import Predictor
    from hcr.training.config import resolve_config
    from hcr.training.export import export_onnx
    from hcr.training.fit import train

    data_config = DataConfig(
        datasets=DATASETS, data_dir=str(shared_data), per_class=10, case="upper", rendered_copies=1, out_of_scope=0.1
    )
    result = train(resolve_config("compact-cnn", epochs=1), data_config, tmp_path / "runs")
    saved = json.loads(result.run.config_path.read_text())["data"]
    assert saved["rendered_copies"] == 1
    assert saved["out_of_scope"] == 0.1
    split = load_run_split(result.run)
    assert result.metrics["val"]["n"] == len(split.val)
    assert result.metrics["test"]["n"] == len(split.test)
    assert result.run.load_model(result.run.best_model_path).output_shape == (None, NUM_CLASSES + 1)

    onnx_path = export_onnx(result.run.path, tmp_path / "model")
    metadata = json.loads(onnx_path.with_name("model.json").read_text())
    assert metadata["classes"] == [*CLASSES, NOT_A_LETTER]
    assert "[N, 27]" in metadata["output"]
    low = metadata["low_confidence"]
    assert set(low["sets"]) == {"letters as files", "rendered letters", "not a letter"}
    assert low["sets"]["not a letter"]["n"] > 0
    assert low["correct_flagged"] is None or low["correct_flagged"] <= 0.03
    assert (result.run.path / "evaluation" / "risk_coverage.png").stat().st_size > 0
    assert Predictor(onnx_path).classes_[-1] == NOT_A_LETTER
