"""`hcr train --case aware` on real letters of all three cases: 52 cases learned, 26 letters saved and exported."""

import json

import numpy as np
import pytest

from hcr.data.case import AWARE
from hcr.training.config import DataConfig, resolve_config


@pytest.mark.slow
def test_a_case_aware_run_saves_and_exports_26_letters(shared_data, tmp_path):
    from hcr.inference.predictor import Predictor
    from hcr.training.export import export_onnx
    from hcr.training.fit import train

    data_config = DataConfig(
        datasets=("emnist-byclass", "emnist-letters"), data_dir=str(shared_data), per_class=30, case=AWARE
    )
    result = train(resolve_config("compact-cnn", epochs=1), data_config, tmp_path)
    chosen = result.metrics["case_aware"]
    assert 0 < chosen["alpha"] <= 1
    assert chosen["n_val_bars"] > 0  # ByClass and EMNIST Letters hold I and l bars
    assert result.metrics["test"]["n"] > 0  # scored as 26 letters, like any run
    assert result.run.load_model(result.run.best_model_path).output_shape == (None, 26)

    onnx_path = export_onnx(result.run.path)
    predictor = Predictor(onnx_path)
    assert json.loads(onnx_path.with_name("model.json").read_text())["classes"] == list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    bar = np.zeros((1, 28, 28), dtype=np.uint8)
    bar[0, 3:25, 13:16] = 255  # a plain bar, as a file of one is read
    assert predictor.predict_arrays(bar).shape == (1, 26)
