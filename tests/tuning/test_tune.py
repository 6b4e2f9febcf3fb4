"""`hcr tune` on tiny real subsets with SQLite: the study's outputs, the retrained best run, pruning through the
one training loop, and how tuned-* models find (or miss) their tuning run."""

import csv
import json
import subprocess
import sys
import threading

import numpy as np
import optuna
import pytest
from PIL import Image
from typer.testing import CliRunner

from hcr.configs import DataConfig
from hcr.errors import HcrError
from hcr.pipelines.tune_retrain import resolve_config, tune_then_retrain
from hcr.tuning import TuneConfig, get_space, tune
from hcr.tuning.progress import TrialProgress
from hcr.tuning.study import Objective, SurplusTrialError, claim_study, open_study, run_trials
from tests.realdata import MOBILENET_WEIGHTS

PER_CLASS = 15  # 390 images: 273 train, 59 validation, 58 test


@pytest.mark.slow
def test_three_trial_sqlite_study_writes_its_outputs_and_retrains_the_best(shared_data, tmp_path):
    data_config = DataConfig(data_dir=str(shared_data), per_class=PER_CLASS)
    outcome = tune_then_retrain(TuneConfig("cnn", n_trials=3, epochs=2), data_config, tmp_path, final_epochs=1)
    result, retrained_run = outcome.tuning, outcome.retrained

    folder = result.tuning_dir
    assert folder.parent == tmp_path
    assert folder.name.endswith("-tune-cnn")
    assert (folder / "study.db").is_file()  # the default storage lives in the tuning folder
    with (folder / "trials.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3
    assert {row["state"] for row in rows} == {"COMPLETE"}  # three trials are too few for the pruner to act
    best_row = max(rows, key=lambda row: float(row["value"]))

    best = json.loads((folder / "best_params.json").read_text())
    assert best["model"] == "tuned-cnn"
    assert best["trial"] == result.best_trial
    assert float(best_row["value"]) == pytest.approx(best["val_accuracy"])
    assert best["params"]["learning_rate"] == pytest.approx(float(best_row["params_learning_rate"]))
    settings = best["settings"]
    assert settings["learning_rate"] == best["params"]["learning_rate"]
    assert settings["hparams"]["filters"][0] == best["params"]["base_filters"]
    assert settings["hparams"]["dropout"] == best["params"]["dropout"]

    for name in ("optimization_history.png", "param_importances.png"):
        with Image.open(folder / name) as image:
            assert image.format == "PNG"
            pixels = np.asarray(image.convert("L"))
        assert pixels.shape[0] > 200
        assert pixels.shape[1] > 300
        assert pixels.std() > 10  # a drawn figure, not a blank canvas

    trial_runs = sorted((folder / "trials").iterdir())
    assert len(trial_runs) == 3  # each trial is an ordinary run folder, minus its checkpoints
    for run in trial_runs:
        assert not (run / "checkpoints").exists()
        assert len((run / "history.csv").read_text().splitlines()) == 1 + 2  # header + the trial's 2 epochs
    trial_numbers = {json.loads((run / "config.json").read_text())["train"]["tuning"]["trial"] for run in trial_runs}
    assert trial_numbers == {0, 1, 2}

    retrained = json.loads(retrained_run.run.config_path.read_text())
    assert retrained_run.run.path.parent == tmp_path
    assert retrained["train"]["model"] == "tuned-cnn"
    assert retrained["train"]["tuning"]["study"] == result.study_name == folder.name
    assert retrained["train"]["tuning"]["trial"] == result.best_trial
    assert retrained["train"]["tuning"]["storage"] == f"sqlite:///{folder / 'study.db'}"
    assert settings["hparams"].items() <= retrained["train"]["hparams"].items()  # and the builder's other defaults
    assert retrained["train"]["learning_rate"] == settings["learning_rate"]
    assert retrained["train"]["epochs"] == 1
    assert 0 <= retrained_run.metrics["test"]["accuracy"] <= 1
    tuning_record = json.loads((folder / "tuning.json").read_text())
    assert tuning_record["result"]["retrained_run"] == str(retrained_run.run.path)

    study = optuna.load_study(study_name=result.study_name, storage=result.storage)
    assert [trial.state for trial in study.trials] == [optuna.trial.TrialState.COMPLETE] * 3

    # `hcr train --model tuned-cnn` now finds this tuning run in --runs-dir and trains with its best settings
    from hcr.cli import app

    outcome = CliRunner().invoke(app, ["train", "--model", "tuned-cnn", "--runs-dir", str(tmp_path), "--data-dir",
                                       str(shared_data), "--per-class", str(PER_CLASS), "--epochs", "1"])  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    runs = sorted(tmp_path.glob("*-tuned-cnn*/config.json"))
    assert len(runs) == 2
    trained = json.loads(runs[-1].read_text())["train"]
    assert settings["hparams"].items() <= trained["hparams"].items()
    assert trained["tuning"]["best_params"] == str(folder / "best_params.json")


@pytest.mark.slow
@pytest.mark.parametrize(("model", "search"), [("tuned-cnn", "cnn"), ("tuned-mobilenetv2", "mobilenetv2")])
def test_tuned_model_before_any_tuning_run_is_a_clear_error(model, search, tmp_path):
    command = [sys.executable, "-m", "hcr", "train", "--model", model, "--runs-dir", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert f"takes its settings from a finished `hcr tune --space {search}` run" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_an_unknown_search_or_unreachable_storage_is_a_one_line_error(shared_data, tmp_path):
    base = [sys.executable, "-m", "hcr", "tune", "--trials", "1", "--runs-dir", str(tmp_path / "runs"),
            "--data-dir", str(shared_data), "--per-class", str(PER_CLASS)]  # fmt: skip
    unknown = subprocess.run([*base, "--model", "resnet"], capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2
    assert "--model is deprecated for hcr tune; use --space" in unknown.stderr  # the old name still works
    assert "unknown search space 'resnet'; available: cnn, mobilenetv2" in unknown.stderr
    url = "postgresql://hcr:pw@127.0.0.1:1/nowhere"  # nothing listens on port 1
    refused = subprocess.run([*base, "--space", "cnn", "--storage", url], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "cannot open the study storage postgresql://hcr:***@127.0.0.1:1/nowhere: connection" in refused.stderr
    assert "Traceback" not in unknown.stderr + refused.stderr
    assert not list((tmp_path / "runs").iterdir())  # no tuning folder is left behind


def test_best_params_for_another_model_are_refused(tmp_path):
    path = tmp_path / "best_params.json"
    path.write_text(json.dumps({"model": "tuned-cnn", "settings": {"learning_rate": 0.01}}))
    with pytest.raises(HcrError, match="holds the best settings for tuned-cnn, not tuned-mobilenetv2"):
        resolve_config("tuned-mobilenetv2", tuned_params=path, weights=str(MOBILENET_WEIGHTS))
    assert resolve_config("tuned-cnn", tuned_params=path).learning_rate == 0.01
    path.write_text("{not json")
    with pytest.raises(HcrError, match=r"best_params\.json: not a readable best-parameters file"):
        resolve_config("tuned-cnn", tuned_params=path)


@pytest.mark.slow
def test_a_trial_the_pruner_gives_up_on_stops_after_that_epoch(shared_data, tmp_path):
    """Real training reports each epoch's val_accuracy; against a finished trial at 0.99 the median pruner stops a
    fresh tiny model after its first epoch, and the trial ends PRUNED with one epoch of history."""
    study = optuna.create_study(
        direction="maximize", pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0)
    )
    study.add_trial(optuna.trial.create_trial(value=0.99, intermediate_values={1: 0.99, 2: 0.99, 3: 0.99}))
    objective = Objective(get_space("cnn"), DataConfig(data_dir=str(shared_data), per_class=PER_CLASS),
                          tmp_path / "trials", n_trials=5, epochs=3, seed=0, weights=None,
                          study_record={"study": "s", "storage": "memory"})  # fmt: skip
    study.optimize(objective, n_trials=1)
    trial = study.trials[-1]
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert list(trial.intermediate_values) == [1]
    (run,) = (tmp_path / "trials").iterdir()
    history = list(csv.DictReader((run / "history.csv").open()))
    assert len(history) == 1  # stopped after epoch 1 of 3
    assert float(history[0]["val_accuracy"]) == pytest.approx(trial.intermediate_values[1])


@pytest.mark.slow
def test_a_trial_on_a_large_pool_sees_its_steps_per_epoch_of_it(shared_data, tmp_path):
    """trial_steps caps each epoch's batches (the full preset's search over 100 k images); validation stays whole."""
    study = optuna.create_study(direction="maximize")
    objective = Objective(get_space("cnn"), DataConfig(data_dir=str(shared_data), per_class=PER_CLASS),
                          tmp_path / "trials", n_trials=1, epochs=1, seed=0, weights=None,
                          study_record={"study": "s", "storage": "memory"}, steps=2)  # fmt: skip
    study.optimize(objective, n_trials=1)
    (run,) = (tmp_path / "trials").iterdir()
    assert json.loads((run / "config.json").read_text())["train"]["max_steps_per_epoch"] == 2
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["val"]["n"] == len(np.load(run / "split.npz")["val"])


def test_a_trial_that_finds_the_study_full_steps_back_without_training(tmp_path):
    """What two workers racing for the study's last slot come to: the trial with the higher number finds the trials
    ahead of it already fill the study, so it ends FAILED (marked not run) and never trains."""
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(value=0.5))
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.RUNNING))  # the other worker's
    objective = Objective(get_space("cnn"), DataConfig(), tmp_path / "trials", n_trials=2, epochs=1, seed=0,
                          weights=None, study_record={"study": "s", "storage": "memory"})  # fmt: skip
    study.optimize(objective, n_trials=1, catch=(SurplusTrialError,))
    trial = study.trials[-1]
    assert trial.state == optuna.trial.TrialState.FAIL
    assert trial.user_attrs["not_run"] == "not run: the 2 trials before it fill the study"
    assert not (tmp_path / "trials").exists()


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_study_is_seeded_and_refuses_workers_of_another_search(tmp_path):
    first = open_study(f"sqlite:///{tmp_path / 'a.db'}", "letters", seed=7, heartbeat_interval=10)
    second = open_study(f"sqlite:///{tmp_path / 'b.db'}", "letters", seed=7, heartbeat_interval=10)
    suggest = get_space("cnn").suggest
    assert suggest(first.ask()) == suggest(second.ask())  # the same seed proposes the same settings

    identity = {"search": "cnn", "trial_epochs": 12, "seed": 0, "data": {"seed": 0}, "data_fingerprint": "x"}
    claim_study(first, identity)
    joined = open_study(f"sqlite:///{tmp_path / 'a.db'}", "letters", seed=7, heartbeat_interval=10)
    claim_study(joined, identity)  # the same search on the same data: welcome
    with pytest.raises(HcrError, match=r"study letters was started for another search or other data \(data_fing"):
        claim_study(joined, {**identity, "data_fingerprint": "y"})


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_trial_whose_worker_died_before_its_first_heartbeat_does_not_hold_up_the_study(tmp_path):
    """Optuna fails a trial whose heartbeats stopped, but never one that has none: a worker killed between creating
    its trial and its first heartbeat (a CI run caught one) left that trial RUNNING for ever, and the survivor
    waiting on it (it fills the study) hung."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    study = open_study(url, "letters", seed=0, heartbeat_interval=1)
    orphan = study.ask()  # created, as Optuna's optimize does, and never given a heartbeat: its worker died
    finished = threading.Event()
    outcome = {}

    def survivor() -> None:
        with TrialProgress(1) as progress:
            run_trials(study, lambda trial: 0.5, 1, None, 1, progress)
        outcome["trials"] = study.get_trials(deepcopy=False)
        finished.set()

    threading.Thread(target=survivor, daemon=True).start()
    assert finished.wait(timeout=60), "the survivor still waits on a trial whose worker is gone"
    states = {trial.number: trial.state for trial in outcome["trials"]}
    assert states[orphan.number] == optuna.trial.TrialState.FAIL
    assert list(states.values()).count(optuna.trial.TrialState.COMPLETE) == 1  # the survivor ran one in its place


@pytest.mark.slow
def test_mobilenetv2_search_gives_tuned_mobilenetv2_its_settings(shared_data, tmp_path):
    """One real MobileNetV2 trial (its sampled settings build and train); the retrain is left out to keep the test
    short: tuned-mobilenetv2 is the same builder the trial just trained, so resolving its config is what's left."""
    weights = str(MOBILENET_WEIGHTS)
    config = TuneConfig("mobilenetv2", n_trials=1, epochs=1, weights=weights)
    result = tune(config, DataConfig(data_dir=str(shared_data), per_class=8), tmp_path)
    assert result.counts["COMPLETE"] == 1
    best = json.loads((result.tuning_dir / "best_params.json").read_text())
    assert best["settings"]["hparams"]["input_side"] in (64, 96, 128)
    assert (result.tuning_dir / "optimization_history.png").is_file()
    assert not (result.tuning_dir / "param_importances.png").exists()  # importances need two complete trials

    tuned = resolve_config("tuned-mobilenetv2", runs_dir=tmp_path, weights=weights)
    assert best["settings"]["hparams"].items() <= tuned.hparams.items()
    assert tuned.learning_rate == best["settings"]["learning_rate"]
    assert tuned.tuning["trial"] == 0
    assert tuned.weights == str(MOBILENET_WEIGHTS.resolve())


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Fixed parameter learning_rate")  # enqueued outside the space on purpose
def test_a_trial_whose_loss_diverges_is_pruned_and_the_search_goes_on(shared_data, tmp_path):
    """Settings that cannot train (here a learning rate of 1e30, outside the space) end their own trial, PRUNED
    with the reason; they must not end the whole search as `hcr train` ends with exit 2."""
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial({"learning_rate": 1e30})
    objective = Objective(get_space("cnn"), DataConfig(data_dir=str(shared_data), per_class=PER_CLASS),
                          tmp_path / "trials", n_trials=1, epochs=1, seed=0, weights=None,
                          study_record={"study": "s", "storage": "memory"})  # fmt: skip
    study.optimize(objective, n_trials=1)
    (trial,) = study.trials
    assert trial.params["learning_rate"] == 1e30
    assert trial.state == optuna.trial.TrialState.PRUNED
    assert "the loss became" in trial.user_attrs["diverged"]


def test_plots_of_a_study_whose_trials_scored_alike(tmp_path):
    """Two trials with the same validation accuracy (common in a tiny study) made fANOVA fail with "zero total
    variance" after the whole search; the history is drawn and the importances, which cannot exist, are left out."""
    from optuna.distributions import FloatDistribution
    from optuna.trial import create_trial

    from hcr.tuning.outputs import HISTORY_PLOT_NAME, IMPORTANCE_PLOT_NAME, write_plots

    study = optuna.create_study(direction="maximize")
    for dropout in (0.1, 0.4):
        study.add_trial(create_trial(params={"dropout": dropout}, distributions={"dropout": FloatDistribution(0, 0.5)},
                                     value=0.0339))  # fmt: skip
    written = write_plots(study, tmp_path)
    assert [path.name for path in written] == [HISTORY_PLOT_NAME]
    assert not (tmp_path / IMPORTANCE_PLOT_NAME).exists()
