"""A run folder is safe to use: one process trains in it at a time, a finished run stays finished, settings that
cannot train are refused before a folder exists, a diverging training stops, and an early failure leaves nothing."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hcr.configs import DataConfig, TrainConfig
from hcr.errors import HcrError
from hcr.training.config import resolve_config


def _hcr(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hcr", *args], capture_output=True, text=True, timeout=timeout)


def _run_files(run: Path) -> dict[str, bytes]:
    return {str(path.relative_to(run)): path.read_bytes() for path in sorted(run.rglob("*")) if path.is_file()}


@pytest.mark.slow
def test_a_run_in_use_is_refused_until_its_process_dies(shared_data, tmp_path):
    """While one `hcr train` works in a run folder (here: stopped with SIGSTOP after its first epoch, still holding
    the folder), `hcr train --resume` on it is refused with the holder's PID; once the holder dies, resuming works."""
    runs_dir = tmp_path / "runs"
    command = [sys.executable, "-m", "hcr", "train", "--model", "baseline-cnn", "--data-dir", str(shared_data),
               "--per-class", "10", "--epochs", "3", "--runs-dir", str(runs_dir)]  # fmt: skip
    holder = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while (
            time.monotonic() < deadline
            and holder.poll() is None
            and not list(runs_dir.glob("*/checkpoints/state.json"))
        ):
            time.sleep(0.01)
        os.kill(holder.pid, signal.SIGSTOP)
        (state,) = runs_dir.glob("*/checkpoints/state.json")
        assert json.loads(state.read_text())["epochs_done"] < 3, "the run ended before it could be held"
        run = state.parent.parent
        before = _run_files(run)
        second = _hcr("train", "--resume", str(run), timeout=120)
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"run is in use by PID {holder.pid}" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1, second.stderr
        assert _run_files(run) == before  # the refused process touched nothing
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    resumed = _hcr("train", "--resume", str(run))
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run / "metrics.json").read_text())["epochs_done"] == 3


@pytest.mark.slow
def test_resuming_a_finished_run_changes_nothing(shared_data, tmp_path):
    """All epochs done, or stopped early: resuming says the run is complete and leaves every file as it was."""
    from hcr.training.fit import train

    finished = train(resolve_config("baseline-cnn", epochs=1), DataConfig(data_dir=str(shared_data), per_class=10),
                     tmp_path)  # fmt: skip
    # patience 1 on 10 images per letter: validation accuracy stalls within a few epochs (deterministic on CPU)
    config = resolve_config("baseline-cnn", epochs=30, early_stopping_patience=1)
    stopped = train(config, DataConfig(data_dir=str(shared_data), per_class=10), tmp_path)
    assert stopped.metrics["epochs_done"] < 30, "the run was meant to stop early"
    for result in (finished, stopped):
        before = _run_files(result.run.path)
        again = _hcr("train", "--resume", str(result.run.path))
        assert again.returncode == 0, again.stderr
        assert "run is complete" in again.stderr
        assert "epoch " not in again.stderr.replace("epochs", "")  # no epoch was trained
        assert _run_files(result.run.path) == before
        assert f"{result.metrics['val']['accuracy']:.4f}" in again.stdout


BAD_SETTINGS = {
    "learning-rate-nan": (["--learning-rate", "nan"], "learning_rate"),
    "learning-rate-inf": (["--learning-rate", "inf"], "learning_rate"),
    "learning-rate-zero": (["--learning-rate", "0"], "learning_rate"),
    "epochs-zero": (["--epochs", "0"], "epochs"),
    "batch-size-zero": (["--batch-size", "0"], "batch_size"),
    "pen-width-nan": (["--pen-width", "nan"], "pen_width"),
    "pen-width-above-one": (["--pen-width", "1.5"], "pen_width"),
    "seed-negative": (["--seed", "-1"], "seed"),
    "seed-too-large": (["--seed", str(2**32)], "seed"),
    "per-class-zero": (["--per-class", "0"], "per_class"),
    "val-fraction-nan": (["--val-fraction", "nan"], "fraction"),
    "test-fraction-negative": (["--test-fraction", "-0.1"], "fraction"),
    "fractions-sum-to-one": (["--val-fraction", "0.5", "--test-fraction", "0.5"], "fraction"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_train_refuses_bad_settings_before_making_a_run_folder(case, shared_data, tmp_path):
    args, named = BAD_SETTINGS[case]
    result = _hcr("train", "--model", "baseline-cnn", "--data-dir", str(shared_data), "--per-class", "10",
                  "--epochs", "1", "--runs-dir", str(tmp_path / "runs"), *args, timeout=120)  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert named in line
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.parametrize(
    "setting",
    [
        {"epochs": 0}, {"epochs": 2.5}, {"batch_size": 0}, {"learning_rate": math.nan}, {"learning_rate": -1e-3},
        {"learning_rate": math.inf}, {"pen_width": 1.01}, {"rotation_degrees": math.nan}, {"shift": 1.0},
        {"zoom": -0.1}, {"early_stopping_patience": -1}, {"seed": -1}, {"seed": 2**32}, {"augment": "yes"},
    ],
)  # fmt: skip
def test_no_training_config_holds_a_setting_that_cannot_train(setting):
    """One check, wherever a config comes from: the CLI, a tuning trial, a comparison preset, a saved run."""
    with pytest.raises(HcrError, match=next(iter(setting))):
        TrainConfig(model="baseline-cnn", **setting)
    with pytest.raises(HcrError, match=next(iter(setting))):
        resolve_config("baseline-cnn", **setting)


@pytest.mark.parametrize(
    "setting",
    [{"per_class": 0}, {"seed": -1}, {"val_fraction": math.nan}, {"test_fraction": 1.0}, {"split": "random"}],
)
def test_no_data_config_holds_a_setting_that_cannot_split(setting):
    with pytest.raises(HcrError):
        DataConfig(**setting)


def test_tune_and_compare_refuse_bad_settings_before_any_folder_exists(shared_data, tmp_path):
    from typer.testing import CliRunner

    from hcr.cli import app

    runner = CliRunner()
    tune = runner.invoke(app, ["tune", "--space", "cnn", "--trials", "1", "--data-dir", str(shared_data),
                               "--seed", "-1", "--runs-dir", str(tmp_path / "runs")])  # fmt: skip
    assert isinstance(tune.exception, HcrError), tune.output
    assert "seed" in str(tune.exception)
    assert not (tmp_path / "runs").exists()
    compare = runner.invoke(app, ["compare", "--models", "no-such-model", "--data-dir", str(shared_data),
                                  "--out", str(tmp_path / "compare")])  # fmt: skip
    assert isinstance(compare.exception, HcrError), compare.output
    assert "no-such-model" in str(compare.exception)
    assert not (tmp_path / "compare").exists()


@pytest.mark.slow
def test_a_diverging_training_stops_with_bad_input_and_leaves_no_folder(shared_data, tmp_path):
    """A learning rate of 1e30 is a finite, positive number, and the loss becomes NaN within the first batches."""
    result = _hcr("train", "--model", "baseline-cnn", "--data-dir", str(shared_data), "--per-class", "10",
                  "--epochs", "2", "--learning-rate", "1e30", "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: "), result.stderr
    assert "loss became" in line
    assert "learning rate" in line
    assert not list((tmp_path / "runs").iterdir())  # it failed in its first epoch: nothing to resume


@pytest.mark.slow
def test_a_junk_weights_file_leaves_no_run_folder(shared_data, tmp_path):
    junk = tmp_path / "weights.h5"
    junk.write_bytes(b"not HDF5 weights\n" * 100)
    result = _hcr("train", "--model", "mobilenetv2-frozen", "--weights", str(junk), "--data-dir", str(shared_data),
                  "--per-class", "10", "--epochs", "1", "--runs-dir", str(tmp_path / "runs"))  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stderr.strip().splitlines()  # refused before any data is loaded or any folder is made
    assert str(junk) in line
    assert not (tmp_path / "runs").exists()


def test_any_failure_before_the_first_epoch_removes_the_new_run_folder(shared_data, tmp_path, monkeypatch):
    """Whatever breaks between making the folder and finishing an epoch (here: building the model), nothing is
    left that `--resume` could not use."""
    from hcr.training import fit

    def broken(*args, **kwargs):
        raise RuntimeError("the model cannot be built")

    monkeypatch.setattr(fit, "create_model", broken)
    with pytest.raises(RuntimeError, match="cannot be built"):
        fit.train(resolve_config("baseline-cnn", epochs=1), DataConfig(data_dir=str(shared_data), per_class=10),
                  tmp_path / "runs")  # fmt: skip
    assert not list((tmp_path / "runs").iterdir())


def test_copies_keep_their_folder(interrupted_run, tmp_path):
    """A folder that already holds an epoch is never removed by a failed resume (sanity for the cleanup above)."""
    run = tmp_path / "run"
    shutil.copytree(interrupted_run, run)
    (run / "split.npz").write_bytes(b"junk")
    from hcr.training.fit import resume

    with pytest.raises(HcrError):
        resume(run)
    assert (run / "checkpoints" / "state.json").is_file()
