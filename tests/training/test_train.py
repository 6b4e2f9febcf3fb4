"""Training on small real subsets: run folders, augmentation, and resuming after the process is killed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import hcr
from hcr.configs import DataConfig
from hcr.data import balanced_subset, load_datasets
from hcr.data.capitals import with_capital_labels
from hcr.data.prepare import load_run_data
from hcr.inference.preprocess import to_letter_arrays, to_model_input
from hcr.models.augment import RandomPenWidth, build_augmenter
from hcr.runs import RunDir
from hcr.training.config import resolve_config
from hcr.training.fit import train
from hcr.training.inputs import ImagePool, steps_per_epoch


def test_train_writes_a_complete_run_folder(shared_data, tmp_path):
    config = resolve_config("baseline-cnn", epochs=2)
    data_config = DataConfig(data_dir=str(shared_data), per_class=30)
    result = train(config, data_config, tmp_path)
    run = result.run
    for path in (run.config_path, run.env_path, run.command_path, run.split_path, run.history_path,
                 run.metrics_path, run.best_model_path, run.state_path):  # fmt: skip
        assert path.is_file(), path
    saved = json.loads(run.config_path.read_text())
    assert saved["train"]["model"] == "baseline-cnn"
    pool = ["az", "emnist-letters", "emnist-byclass", "emnist-bymerge", "nist-sd19"]  # the default: every dataset
    assert saved["sources"] == pool
    assert saved["data"]["datasets"] == pool  # named, so that a later default cannot change the run's data
    env = json.loads(run.env_path.read_text())
    assert "keras" in env
    source = Path(hcr.__file__).parent  # the tests run from a git checkout: the run names its commit
    head = subprocess.run(["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    assert env["git_commit"].removesuffix("-dirty") == head.stdout.strip()
    history = run.history_path.read_text().splitlines()
    assert history[0].startswith("epoch,")
    assert len(history) == 3
    metrics = json.loads(run.metrics_path.read_text())
    assert metrics["val"]["n"] + metrics["test"]["n"] > 0
    assert 0 <= metrics["test"]["accuracy"] <= 1
    assert not list(run.path.rglob(".*.keras"))  # no temporary files left behind


def test_recipes_apply_and_user_settings_win():
    assert resolve_config("regularized-cnn").augment is True
    assert resolve_config("regularized-cnn", augment=False, epochs=3).augment is False
    assert resolve_config("baseline-cnn").epochs == 20


def test_augmentation_changes_images_but_keeps_their_labels():
    """One real image per letter goes through the training pipeline: every label comes out exactly once, each
    image is transformed, and it still looks most like its own original (mixing labels up would match ~4 %)."""
    from tests.realdata import AZ_CSV

    data = load_datasets([f"az:{AZ_CSV}"])
    picks = [np.flatnonzero(data.y == label)[0] for label in range(26)]
    x, y = to_model_input(data.x[picks]), data.y[picks]
    config = resolve_config("regularized-cnn", batch_size=8, rotation_degrees=6, shift=0.04, zoom=0.06)
    dataset = ImagePool(data.x, data.y).training_batches(np.array(picks), config)
    dataset = dataset.take(steps_per_epoch(len(picks), config))
    images, labels = map(np.concatenate, zip(*[(b.numpy(), t.numpy()) for b, t in dataset], strict=True))
    assert sorted(labels.tolist()) == sorted(y.tolist())
    matched = 0
    for image, label in zip(images, labels, strict=True):
        assert not np.allclose(image, x[label], atol=0.05)
        similarity = [np.corrcoef(_blur(image).ravel(), _blur(original).ravel())[0, 1] for original in x]
        matched += int(np.argmax(similarity)) == label
    assert matched >= 0.85 * len(x)
    unchanged = build_augmenter(rotation_degrees=0, shift=0.0, zoom=0.0)(x, training=True)
    np.testing.assert_allclose(np.asarray(unchanged), x, atol=1e-5)  # zero strength is the identity


def test_pen_width_augmentation_thickens_or_thins_the_strokes():
    """Every letter drawn (probability 1) comes out with clearly more ink or clearly less, about half each way,
    and still looks most like its own original; probability 0 is the identity."""
    from tests.realdata import AZ_CSV

    data = load_datasets([f"az:{AZ_CSV}"])
    x = to_model_input(data.x[[np.flatnonzero(data.y == label)[0] for label in range(26)]])
    changed = np.asarray(RandomPenWidth(1.0, seed=0)(x, training=True))
    ratio = changed.sum(axis=(1, 2, 3)) / x.sum(axis=(1, 2, 3))
    assert np.all((ratio > 1.15) | (ratio < 0.85))
    assert 5 <= (ratio > 1).sum() <= 21
    for label, image in enumerate(changed):
        similarity = [np.corrcoef(_blur(image).ravel(), _blur(original).ravel())[0, 1] for original in x]
        assert int(np.argmax(similarity)) == label
    np.testing.assert_array_equal(np.asarray(RandomPenWidth(0.0)(x, training=True)), x)
    np.testing.assert_array_equal(np.asarray(RandomPenWidth(1.0)(x, training=False)), x)


def _blur(image: np.ndarray) -> np.ndarray:
    """Blurred, so a shifted copy still resembles its original more than another letter."""
    from scipy import ndimage

    return ndimage.gaussian_filter(image[..., 0], 1.5)


def test_a_checkpoint_clears_what_a_killed_run_left_behind(tmp_path):
    """A run killed between saving last-0004.keras and recording it in state.json (or while writing a temporary
    file) leaves files no state names; the next epoch's checkpoint removes them, keeping best.keras and its own."""
    import keras

    run = RunDir.create(tmp_path, "tiny")
    leftovers = [
        run.path / "checkpoints" / name for name in ("last-0003.keras", "last-0004.keras", ".last-0004.keras.x1.keras")
    ]
    for path in leftovers:
        path.write_bytes(b"left by a killed run")
    checkpoint = _tiny_model_checkpoint(run)
    checkpoint.on_epoch_end(3, {"loss": 1.0, "val_accuracy": 0.5})  # the resumed run's epoch 4
    names = sorted(p.name for p in (run.path / "checkpoints").iterdir())
    assert names == ["best.keras", "last-0004.keras", "state.json"]
    assert run.read_json(run.state_path)["last_model"] == "last-0004.keras"
    # the file is the new checkpoint, not the leftover of the same name
    keras.models.load_model(run.path / "checkpoints" / "last-0004.keras", compile=False)


def test_the_history_is_written_before_the_state_that_counts_it(tmp_path, monkeypatch):
    """A process killed between the two writes must not leave a state counting an epoch the history lacks (resuming
    would then skip that epoch's row); the other way round, resuming drops the extra row."""
    run = RunDir.create(tmp_path, "tiny")
    checkpoint = _tiny_model_checkpoint(run)

    def killed(*args):
        raise KeyboardInterrupt("the process dies here")

    monkeypatch.setattr(RunDir, "write_json", killed)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.on_epoch_end(0, {"loss": 1.0, "val_accuracy": 0.5})
    assert not run.state_path.exists()
    assert [row["epoch"] for row in run.read_history(1)] == [1]
    assert run.read_history(0) == []  # what a resume from no state reads


def _tiny_model_checkpoint(run: RunDir):
    """The run's checkpoint callback watching a two-weight model, as training sets it up."""
    import keras

    from hcr.training.callbacks import RunCheckpoint

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    checkpoint = RunCheckpoint(run, history=[], best=0.0, resumables=[], epochs=10)
    checkpoint.set_model(model)
    return checkpoint


@pytest.mark.slow
def test_resume_after_sigkill(shared_data, tmp_path):
    runs_dir = tmp_path / "runs"
    command = [sys.executable, "-m", "hcr", "train", "--model", "baseline-cnn", "--data-dir", str(shared_data),
               "--per-class", "150", "--epochs", "8", "--runs-dir", str(runs_dir)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 240
    state_path = None
    while time.monotonic() < deadline and process.poll() is None:
        states = list(runs_dir.glob("*/checkpoints/state.json"))
        if states and json.loads(states[0].read_text())["epochs_done"] >= 2:
            state_path = states[0]
            break
        time.sleep(0.02)
    assert state_path is not None, "training never reached its second epoch"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    run_dir = state_path.parent.parent
    killed_at = json.loads(state_path.read_text())["epochs_done"]
    assert killed_at < 8, "the run ended before it could be killed"
    history_before = (run_dir / "history.csv").read_text().splitlines()[1 : killed_at + 1]
    assert not (run_dir / "metrics.json").exists()

    resumed = subprocess.run([sys.executable, "-m", "hcr", "train", "--resume", str(run_dir)],
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "test accuracy" in resumed.stdout
    history = (run_dir / "history.csv").read_text().splitlines()
    epochs = [int(float(line.split(",")[0])) for line in history[1:]]
    assert epochs == list(range(1, len(epochs) + 1))  # every epoch once, in order
    assert len(epochs) > killed_at
    assert history[1 : killed_at + 1] == history_before  # the epochs before the kill were kept, not redone
    assert f"epoch {killed_at + 1}/8" in resumed.stderr
    assert "epoch 1/8" not in resumed.stderr
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["epochs_done"] == len(epochs)
    assert metrics["test"]["accuracy"] > 0.3
    assert len(list((run_dir / "checkpoints").glob("last-*.keras"))) == 1


def test_frozen_transfer_trains_its_head_and_restores_from_a_head_checkpoint(shared_data, tmp_path):
    import keras

    from hcr.training.fit import resume
    from tests.realdata import MOBILENET_WEIGHTS

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs=None) -> None:
            raise KeyboardInterrupt("stopped after the first epoch, as Ctrl-C would")

    config = resolve_config("mobilenetv2-frozen", epochs=2, weights=str(MOBILENET_WEIGHTS))
    with pytest.raises(KeyboardInterrupt):
        train(config, DataConfig(data_dir=str(shared_data), per_class=20), tmp_path, callbacks=[Interrupt()])
    (run_path,) = tmp_path.iterdir()
    saved = json.loads((run_path / "config.json").read_text())
    assert saved["train"]["weights"] == str(MOBILENET_WEIGHTS.resolve())
    assert len(saved["weights_sha256"]) == 64
    result = resume(run_path)  # rebuilds the backbone, puts the saved head on it, trains the second epoch
    assert result.metrics["epochs_done"] == 2
    assert result.metrics["val"]["accuracy"] > 1 / 26  # better than chance after two epochs on real features


def test_frozen_transfer_refuses_augmentation():
    from hcr.errors import HcrError
    from tests.realdata import MOBILENET_WEIGHTS

    with pytest.raises(HcrError, match="cannot be augmented"):
        resolve_config("mobilenetv2-frozen", augment=True, weights=str(MOBILENET_WEIGHTS))


def test_a_final_model_trains_on_everything_but_validation_with_capital_labels(shared_data, tmp_path):
    """`--test-fraction 0 --capitals --canonical`: how the shipped model is trained once its recipe is measured."""
    from typer.testing import CliRunner

    from hcr.cli import app

    outcome = CliRunner().invoke(app, ["train", "--model", "baseline-cnn", "--data-dir", str(shared_data),
                                       "--per-class", "40", "--epochs", "1", "--test-fraction", "0", "--capitals",
                                       "--canonical", "--runs-dir", str(tmp_path)])  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    assert "validation accuracy" in outcome.output
    assert "test accuracy" not in outcome.output
    (run_path,) = tmp_path.iterdir()
    metrics = json.loads((run_path / "metrics.json").read_text())
    assert "test" not in metrics
    assert metrics["val"]["n"] == round(0.15 * 40 * 26)
    saved = json.loads((run_path / "config.json").read_text())
    assert saved["data"]["capitals"] is True
    assert saved["data"]["canonical"] is True
    assert saved["data"]["test_fraction"] == 0
    split = np.load(run_path / "split.npz")
    assert len(split["train"]) + len(split["val"]) == 40 * 26
    assert len(split["test"]) == 0

    # export, evaluate and resume rebuild the run's data: relabelled and preprocessed as it was trained on
    data, _ = load_run_data(RunDir.open(run_path))
    loaded = load_datasets([], shared_data)
    loaded = loaded.take(balanced_subset(loaded.y, 40, 0)[0])
    relabelled, n_relabelled = with_capital_labels(loaded)
    assert n_relabelled > 0
    np.testing.assert_array_equal(data.y, relabelled.y)
    np.testing.assert_array_equal(data.x, to_letter_arrays(loaded.x))
    assert not np.array_equal(data.x, loaded.x)
    as_loaded, _ = load_run_data(RunDir.open(run_path), as_loaded=True)  # for benchmarks on the stored arrays
    np.testing.assert_array_equal(as_loaded.x, loaded.x)
    np.testing.assert_array_equal(as_loaded.y, relabelled.y)


def test_a_weights_file_concerns_only_the_models_built_on_one(tmp_path):
    """`--weights` given for a whole comparison must not reach (or be checked for) a CNN."""
    assert resolve_config("baseline-cnn", weights=str(tmp_path / "absent.h5")).weights is None


@pytest.mark.slow
def test_fine_tuning_on_cached_activations_trains_checkpoints_its_upper_part_and_resumes(shared_data, tmp_path):
    """The cached path end to end on real letters: augmented versions cycled, the upper part checkpointed with its
    optimizer, restored on resume (Adam's step count goes on), and best.keras the whole model, as uncached."""
    import keras

    from hcr.models import transfer
    from hcr.training.fit import resume
    from tests.realdata import MOBILENET_WEIGHTS

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs=None) -> None:
            raise KeyboardInterrupt("stopped after the first epoch, as Ctrl-C would")

    config = resolve_config(
        "mobilenetv2-finetune", epochs=2, augment=True, augmented_copies=1, weights=str(MOBILENET_WEIGHTS),
        hparams={"input_side": 32, "unfreeze_blocks": 3},
    )  # fmt: skip
    data = DataConfig(datasets=("az",), data_dir=str(shared_data), per_class=10)  # one source: a quick parse
    with pytest.raises(KeyboardInterrupt):
        train(config, data, tmp_path, callbacks=[Interrupt()])
    (run_path,) = tmp_path.iterdir()
    run = RunDir(run_path)
    (last,) = run.last_model_path.parent.glob("last-*.keras")
    first_epoch = keras.models.load_model(last)
    assert transfer.is_upper(first_epoch)
    steps = int(first_epoch.optimizer.iterations.numpy())
    result = resume(run_path)
    assert result.metrics["epochs_done"] == 2
    (last,) = run.last_model_path.parent.glob("last-*.keras")
    assert int(keras.models.load_model(last).optimizer.iterations.numpy()) == 2 * steps  # not restarted at 0
    best = keras.models.load_model(run.best_model_path)
    assert best.input_shape == (None, 28, 28, 1)
    assert {layer.name for layer in best.layers} >= {"backbone", "head"}
