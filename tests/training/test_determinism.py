"""The same seed trains the same model: two runs in fresh processes end with bit-identical weights, augmentation on.

Measured beside this test (2-core machine, regularized-cnn and mobilenetv2-finetune, 2 epochs on Kaggle A–Z): also
identical with two busy processes competing for the cores, and with TF_DETERMINISTIC_OPS /
tf.config.experimental.enable_op_determinism() changing nothing that needed changing. What does change the weights
is the number of threads TensorFlow computes with (TF_NUM_INTRAOP_THREADS=1 against the default: max difference
4e-4 after 2 epochs, with or without op determinism): sums are split across threads, and float addition is not
associative. So the claim is "same seed, same machine (same thread count), same package versions"."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TRAIN_AND_SAVE = """
import sys
from pathlib import Path

import keras
import numpy as np

from hcr.configs import DataConfig
from hcr.training.config import resolve_config
from hcr.training.fit import train

data_dir, out = sys.argv[1], Path(sys.argv[2])
config = resolve_config("baseline-cnn", epochs=1, augment=True, pen_width=0.5, seed=7)
result = train(config, DataConfig(datasets=("az",), data_dir=data_dir, per_class=10, seed=7), out / "runs")
weights = keras.models.load_model(result.run.best_model_path).get_weights()
np.savez(out / "weights.npz", *weights)
"""


@pytest.mark.slow
def test_two_runs_with_the_same_seed_give_identical_weights(shared_data, tmp_path):
    folders = [tmp_path / "first", tmp_path / "second"]
    runs = [  # side by side, each a fresh process: nothing but the seed can make them agree
        subprocess.Popen([sys.executable, "-c", TRAIN_AND_SAVE, str(shared_data), str(folder)], stderr=subprocess.PIPE)
        for folder in folders
    ]
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr.decode()[-2000:]
    first, second = (np.load(Path(folder) / "weights.npz") for folder in folders)
    assert first.files == second.files
    assert len(first.files) > 0
    assert all(np.array_equal(first[name], second[name]) for name in first.files)
