"""`hcr tune --track` and `hcr compare --track`: a real tiny search logged to the embedded store, trials nested under
the study; a real tiny comparison logged to a real `mlflow server`, models as children of one parent."""

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hcr.cli import app
from hcr.pipelines.compare import Preset, compare_models
from hcr.tracking import Tracker
from hcr.tracking.pipelines import log_comparison

TINY = Preset("tiny", per_class=20, epoch_scale=0.0, min_epochs=1)  # 1 epoch on 20 images per letter


def _runs_by_name(client, under: str | None = None) -> dict[str, object]:
    """The experiment's runs by name; with `under`, only that run and its children (a server is shared by the
    session's tests, whose runs may bear the same names)."""
    experiment = client.get_experiment_by_name("hcr")
    runs = client.search_runs([experiment.experiment_id])
    if under is not None:
        runs = [run for run in runs if under in (run.info.run_id, run.data.tags.get("mlflow.parentRunId"))]
    return {run.info.run_name: run for run in runs}


@pytest.mark.slow
def test_tune_logs_the_study_with_its_trials_and_retrain_nested(shared_data, tmp_path):
    from mlflow import MlflowClient

    runs = tmp_path / "runs"
    outcome = CliRunner().invoke(app, ["tune", "--model", "cnn", "--trials", "2", "--epochs", "2", "--final-epochs",
                                       "1", "--per-class", "15", "--data-dir", str(shared_data), "--runs-dir",
                                       str(runs), "--track"])  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    (tuning_dir,) = runs.glob("*-tune-cnn")
    logged = _runs_by_name(MlflowClient(f"sqlite:///{runs / 'mlflow.db'}"))
    study = logged[tuning_dir.name]
    assert study.data.params["tune.n_trials"] == "2"
    tuning = json.loads((tuning_dir / "tuning.json").read_text())
    assert study.data.metrics["best_val_accuracy"] == pytest.approx(tuning["result"]["best_val_accuracy"])

    with (tuning_dir / "trials.csv").open() as f:
        trials = list(csv.DictReader(f))
    assert len(trials) == 2
    for trial in trials:
        run = logged[f"trial {trial['number']}"]
        assert run.data.tags["mlflow.parentRunId"] == study.info.run_id
        assert run.data.tags["optuna.state"] == trial["state"] == "COMPLETE"
        assert run.data.metrics["trial.val_accuracy"] == pytest.approx(float(trial["value"]))
        for name, value in trial.items():
            if name.startswith("params_"):
                assert float(run.data.params[f"trial.{name.removeprefix('params_')}"]) == pytest.approx(float(value))
        assert run.data.tags["hcr.run_folder"] == str(Path(trial["user_attrs_run"]).resolve())
        assert run.data.params["train.model"] == "regularized-cnn"  # the trial's own run folder, logged in full
    (retrained,) = [run for name, run in logged.items() if name.startswith("retrained ")]
    assert retrained.data.tags["mlflow.parentRunId"] == study.info.run_id
    assert retrained.data.params["train.model"] == "tuned-cnn"


@pytest.mark.slow
def test_compare_logs_one_parent_with_a_child_per_model_to_a_server(shared_data, tmp_path, mlflow_server):
    from mlflow import MlflowClient

    comparison = compare_models(TINY, ["baseline-cnn", "regularized-cnn"], data_dir=shared_data,
                                out_dir=tmp_path / "compare")  # fmt: skip
    parent_id = log_comparison(
        Tracker.connect(mlflow_server), comparison.out_dir, comparison.leaderboard, comparison.skipped
    )
    client = MlflowClient(mlflow_server)
    logged = _runs_by_name(client, under=parent_id)
    parent = logged[f"compare {comparison.out_dir.name}"]
    assert parent.info.run_id == parent_id
    assert parent.data.params["preset.name"] == "tiny"
    assert parent.data.tags["hcr.best_model"] == comparison.leaderboard[0].model
    parent_files = {a.path for a in client.list_artifacts(parent_id)}
    assert {"leaderboard.csv", "report.html", "best", "eda"} <= parent_files
    assert {a.path for a in client.list_artifacts(parent_id, "best")} >= {"best/model.onnx", "best/model.json",
                                                                          "best/MODEL_CARD.md"}  # fmt: skip

    for place, row in enumerate(comparison.leaderboard, start=1):
        child = logged[row.model]
        assert child.data.tags["mlflow.parentRunId"] == parent_id
        assert child.data.metrics["leaderboard.place"] == place
        assert child.data.metrics["evaluation.accuracy"] == pytest.approx(row.test_accuracy)
        assert child.data.params["train.model"] == row.model
        figures = {a.path for a in client.list_artifacts(child.info.run_id, "evaluation")}
        assert "evaluation/confusion_matrix.png" in figures, figures
        assert len(client.get_metric_history(child.info.run_id, "val_accuracy")) == 1  # its one epoch
