"""`hcr train --track`: a tiny real run logged to MLflow's embedded SQLite store and to a real `mlflow server`, read
back with MlflowClient and checked against the run folder; a server that is down costs a warning, not the run."""

import csv
import json
import logging
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hcr.cli import app
from hcr.errors import MissingExtraError
from hcr.tracking import Tracker, tracking_uri
from tests.tracking.conftest import free_port

TINY_TRAIN = ["train", "--model", "baseline-cnn", "--per-class", "10", "--epochs", "2"]


def _train(shared_data: Path, runs: Path, *extra: str, env: dict[str, str] | None = None) -> Path:
    outcome = CliRunner().invoke(app, [*TINY_TRAIN, "--data-dir", str(shared_data), "--runs-dir", str(runs), *extra],
                                 env=env)  # fmt: skip
    assert outcome.exit_code == 0, outcome.output
    (run_dir,) = runs.glob("*-baseline-cnn")
    return run_dir


def assert_mirrors_run_folder(client, mlflow_run, run_dir: Path) -> None:
    """The MLflow run holds the run folder's settings, every epoch of its history, its scores and its files."""
    assert mlflow_run.info.status == "FINISHED"
    assert mlflow_run.data.tags["hcr.run_folder"] == str(run_dir.resolve())
    config = json.loads((run_dir / "config.json").read_text())
    params = mlflow_run.data.params
    assert params["train.model"] == config["train"]["model"]
    assert params["train.epochs"] == str(config["train"]["epochs"])
    assert params["data.per_class"] == str(config["data"]["per_class"])
    assert params["data.data_dir"] == config["data"]["data_dir"]

    with (run_dir / "history.csv").open() as f:
        history = list(csv.DictReader(f))
    logged = client.get_metric_history(mlflow_run.info.run_id, "val_accuracy")
    assert sorted((m.step, m.value) for m in logged) == [(int(r["epoch"]), float(r["val_accuracy"])) for r in history]

    metrics = json.loads((run_dir / "metrics.json").read_text())
    for part in ("val", "test"):
        assert mlflow_run.data.metrics[f"{part}.accuracy"] == pytest.approx(metrics[part]["accuracy"])
        assert mlflow_run.data.metrics[f"{part}.macro_f1"] == pytest.approx(metrics[part]["macro_f1"])
    artifacts = {a.path for a in client.list_artifacts(mlflow_run.info.run_id)}
    assert {"config.json", "history.csv", "metrics.json", "env.json", "command.txt"} <= artifacts
    assert not artifacts & {"checkpoints", "split.npz", "run.lock"}
    copied = Path(client.download_artifacts(mlflow_run.info.run_id, "metrics.json"))
    assert json.loads(copied.read_text()) == metrics


def _run_of(client, run_dir: Path):
    """The one MLflow run that describes `run_dir` (the server is shared by the session's tests)."""
    experiment = client.get_experiment_by_name("hcr")
    runs = client.search_runs([experiment.experiment_id])
    (mlflow_run,) = [run for run in runs if run.data.tags.get("hcr.run_folder") == str(run_dir.resolve())]
    return mlflow_run


def test_where_tracking_goes(tmp_path, monkeypatch):
    assert tracking_uri(False, None, tmp_path) is None
    assert tracking_uri(True, None, tmp_path) == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    assert tracking_uri(False, "http://127.0.0.1:5000", tmp_path) == "http://127.0.0.1:5000"
    monkeypatch.setenv("HCR_TRACKING_URI", "http://tracking:5000")
    assert tracking_uri(False, None, tmp_path) == "http://tracking:5000"


def test_tracking_without_mlflow_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if the extra were not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'hcr\[track\]'"):
        Tracker.connect(tracking_uri(True, None, tmp_path))
    assert not Tracker.connect(None).active  # not asked for: no MLflow needed


@pytest.mark.slow
def test_train_logs_to_the_embedded_store_beside_the_runs(shared_data, tmp_path):
    from mlflow import MlflowClient

    runs = tmp_path / "runs"
    run_dir = _train(shared_data, runs, "--track")
    client = MlflowClient(f"sqlite:///{runs / 'mlflow.db'}")
    mlflow_run = _run_of(client, run_dir)
    assert_mirrors_run_folder(client, mlflow_run, run_dir)
    # the embedded store keeps its artifacts beside it, not in an mlruns/ of the working directory
    assert (runs / "mlartifacts" / mlflow_run.info.run_id / "artifacts" / "history.csv").is_file()


@pytest.mark.slow
def test_train_logs_to_a_tracking_server(shared_data, tmp_path, mlflow_server):
    from mlflow import MlflowClient

    run_dir = _train(shared_data, tmp_path / "runs", env={"HCR_TRACKING_URI": mlflow_server})
    client = MlflowClient(mlflow_server)
    assert_mirrors_run_folder(client, _run_of(client, run_dir), run_dir)
    assert not (tmp_path / "runs" / "mlflow.db").exists()  # the server is the store


@pytest.mark.slow
def test_a_tracking_server_that_is_down_gives_a_warning_and_training_goes_on(shared_data, tmp_path, caplog):
    port = free_port()  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="hcr.tracking"):
        run_dir = _train(shared_data, tmp_path / "runs", "--tracking-uri", f"http://hcr:secret@127.0.0.1:{port}")
    assert (run_dir / "metrics.json").is_file()
    (warning,) = [r for r in caplog.records if r.name.startswith("hcr.tracking")]
    assert f"MLflow tracking at http://hcr:***@127.0.0.1:{port} stopped" in warning.getMessage()
    assert "training goes on" in warning.getMessage()
    assert "secret" not in warning.getMessage()
