"""The training input pipeline on real images: the batches a model sees are exactly to_model_input of the uint8
images, every image once per pass, and `max_steps_per_epoch` caps an epoch and is checked and saved."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from hcr.configs import DataConfig, TrainConfig
from hcr.data import balanced_subset, load_datasets
from hcr.data.prepare import load_run_split
from hcr.errors import HcrError
from hcr.inference.preprocess import to_model_input
from hcr.training.config import resolve_config
from hcr.training.fit import train
from hcr.training.inputs import ImagePool, steps_per_epoch


@pytest.fixture(scope="module")
def letters(shared_data):
    """20 real images per letter (520) from the dev data: uint8 pool and labels."""
    data = load_datasets(data_dir=shared_data)
    picks, _ = balanced_subset(data.y, 20, seed=0)
    return data.x[picks], data.y[picks]


def _rows(images: np.ndarray, labels: np.ndarray) -> list[bytes]:
    """Each (image, label) pair as bytes, sorted: a multiset to compare batches with, whatever their order."""
    pairs = zip(images, labels, strict=True)
    return sorted(image.tobytes() + int(label).to_bytes(1, "little") for image, label in pairs)


def test_a_training_pass_is_to_model_input_of_every_uint8_image_once(letters):
    x, y = letters
    indices = np.arange(0, len(y), 2)  # a part of the pool, as a split's train part is
    config = TrainConfig(model="baseline-cnn", batch_size=32)
    batches = list(ImagePool(x, y).training_batches(indices, config).take(steps_per_epoch(len(indices), config)))
    images = np.concatenate([b.numpy() for b, _ in batches])
    labels = np.concatenate([t.numpy() for _, t in batches])
    assert images.dtype == np.float32
    assert images.shape == (len(indices), 28, 28, 1)
    assert _rows(images, labels) == _rows(to_model_input(x[indices]), y[indices])  # bit for bit, no image twice
    assert not np.array_equal(labels, y[indices])  # shuffled


def test_scoring_batches_keep_the_order_and_the_exact_floats(letters):
    x, y = letters
    indices = np.arange(len(y))[::-3]
    batches = list(ImagePool(x, y).scoring_batches(indices, batch_size=100))
    np.testing.assert_array_equal(np.concatenate([b.numpy() for b, _ in batches]), to_model_input(x[indices]))
    np.testing.assert_array_equal(np.concatenate([t.numpy() for _, t in batches]), y[indices])


def test_a_capped_epoch_goes_on_where_the_last_one_stopped(letters):
    """With 2 batches of 8 an epoch, the next epochs continue through the same shuffled pass: the first 5 batches
    (two capped epochs and the start of the third) cover the 40 images once, rather than the first 16 again."""
    x, y = letters
    indices = np.arange(40)
    config = TrainConfig(model="baseline-cnn", batch_size=8, max_steps_per_epoch=2)
    assert steps_per_epoch(len(indices), config) == 2
    assert steps_per_epoch(len(indices), TrainConfig(model="baseline-cnn", batch_size=8)) == 5
    seen = np.concatenate([b.numpy() for b, _ in ImagePool(x, y).training_batches(indices, config).take(5)])
    assert _rows(seen, np.zeros(len(seen))) == _rows(to_model_input(x[indices]), np.zeros(len(indices)))


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"])
def test_max_steps_per_epoch_must_be_a_positive_integer_or_unset(value):
    with pytest.raises(HcrError, match="max_steps_per_epoch must be an integer ≥ 1, or unset"):
        TrainConfig(model="baseline-cnn", max_steps_per_epoch=value)
    assert TrainConfig(model="baseline-cnn").max_steps_per_epoch is None
    assert resolve_config("baseline-cnn", max_steps_per_epoch=3).to_dict()["max_steps_per_epoch"] == 3


def test_hcr_train_refuses_a_zero_step_cap_before_loading_tensorflow(shared_data, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "hcr", "train", "--model", "baseline-cnn", "--data-dir", str(shared_data),
         "--max-steps-per-epoch", "0", "--runs-dir", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "max_steps_per_epoch must be an integer ≥ 1" in done.stderr
    assert not list(tmp_path.iterdir())


class _BatchCounter(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.per_epoch: list[int] = []

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self.per_epoch.append(0)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        self.per_epoch[-1] += 1


@pytest.mark.slow
def test_train_honours_max_steps_per_epoch_and_saves_it(shared_data, tmp_path):
    """30 images per letter leave 546 to train on, 9 batches of 64; capped at 3, each epoch trains 3."""
    counter = _BatchCounter()
    config = resolve_config("baseline-cnn", epochs=2, max_steps_per_epoch=3, early_stopping_patience=5)
    result = train(config, DataConfig(data_dir=str(shared_data), per_class=30), tmp_path, callbacks=[counter])
    assert counter.per_epoch == [3, 3]
    saved = json.loads(result.run.config_path.read_text())
    assert saved["train"]["max_steps_per_epoch"] == 3
    assert len(result.run.history_path.read_text().splitlines()) == 1 + 2
    assert result.metrics["val"]["n"] == len(load_run_split(result.run).val)  # scored in batches, every image
