"""A finished run's data rebuilt from its folder, whatever the default pool has become since."""

import numpy as np

from hcr.configs import DataConfig, TrainConfig
from hcr.data.prepare import load_run_data, selected_images
from hcr.data.splits import make_split
from hcr.runs import RunDir


def test_a_run_that_named_no_dataset_is_rebuilt_from_its_sources(shared_data, tmp_path):
    """Runs made before dev protocol v2 saved `datasets: []` (the default pool, then Kaggle A–Z and EMNIST Letters).
    The default is now every shared dataset; such a run must still be evaluated on the pool it was trained on."""
    v1 = DataConfig(datasets=("az", "emnist-letters"), data_dir=str(shared_data), per_class=10)
    data = selected_images(v1)
    run = RunDir.create(tmp_path, "baseline-cnn")
    config = {
        "train": TrainConfig(model="baseline-cnn").to_dict(),
        "data": {**v1.to_dict(), "datasets": []},  # as a v1 run saved it
        "sources": list(data.sources),
    }
    run.write_json(run.config_path, config)
    make_split(data, seed=0).save(run.split_path)

    rebuilt, split = load_run_data(run)
    np.testing.assert_array_equal(rebuilt.x, data.x)
    assert rebuilt.sources == ("az", "emnist-letters")
    assert sum(split.sizes().values()) == 10 * 26
