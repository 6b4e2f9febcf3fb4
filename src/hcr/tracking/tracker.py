"""A view of hcr's run folders in MLflow: params, metrics and artifacts copied from what a run folder holds.

hcr train --model baseline-cnn --track                       # → runs/mlflow.db, artifacts in runs/mlartifacts/
HCR_TRACKING_URI=http://127.0.0.1:5000 hcr train --model baseline-cnn
mlflow ui --backend-store-uri sqlite:///runs/mlflow.db       # to browse the embedded store

The run folder stays the source of truth: everything logged here is read back from its files (config.json,
history.csv, metrics.json, evaluation*/, model.onnx …) after the fact, apart from the per-epoch metrics a Keras
callback (hcr.tracking.epochs) sends while training, so a long run can be watched live. Tracking is a convenience,
never a reason to lose a run: when MLflow cannot be reached or fails, the tracker warns once and turns itself into a
no-op, and training goes on.

MLflow is an optional extra (`pip install 'hcr[track]'`), imported only when tracking is asked for. The client API
(MlflowClient) is used rather than MLflow's fluent one: runs are named by id, so compare's children and tune's trials
nest by a parent id, with no global "active run" stack to keep straight.
"""

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hcr.errors import MissingExtraError
from hcr.runs import URL_PASSWORD

if TYPE_CHECKING:
    import keras
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

URI_ENV = "HCR_TRACKING_URI"
EXPERIMENT = "hcr"
STORE_NAME = "mlflow.db"  # the embedded store, beside the runs it describes
ARTIFACTS_NAME = "mlartifacts"  # the embedded store's artifact root, beside it
RUN_FOLDER_TAG = "hcr.run_folder"
PARENT_TAG = "mlflow.parentRunId"  # MLflow's own tag: the UI nests a run under the run it names
# A tracking server that is down must cost seconds, not MLflow's defaults (7 retries with doubling back-off, 120 s per
# request: minutes per call). Set only where the user has not set them.
HTTP_SETTINGS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
PARAMS_PER_BATCH = 100  # MLflow's limits on one log_batch call
METRICS_PER_BATCH = 1000
# what a run folder holds that is not worth copying into MLflow: model checkpoints (the ONNX export is the model
# that ships), the split's indices, the lock
SKIPPED = ("checkpoints", "split.npz", "run.lock")


def tracking_uri(track: bool, uri: str | None, store_dir: Path) -> str | None:
    """Where to track: `uri` if given (or from HCR_TRACKING_URI), else with `track` the embedded SQLite store in
    `store_dir`; None when tracking was not asked for."""
    uri = uri or os.environ.get(URI_ENV) or None
    if uri:
        return uri
    return f"sqlite:///{(store_dir / STORE_NAME).resolve()}" if track else None


def require_mlflow() -> None:
    """Stop with how to install MLflow if it is missing: checked before a long search or comparison whose tracking
    only starts once it is done."""
    try:
        import mlflow  # noqa: F401  (imported to see that it can be)
    except ImportError:
        raise MissingExtraError("track", "mlflow") from None


@dataclass
class Tracker:
    """One MLflow experiment at one tracking URI, or nothing (`client` None: tracking off, or failed).

    Every call is guarded: the first failure is logged as a warning and switches the tracker off, so a server that
    goes down mid-run costs one warning and training goes on."""

    uri: str | None = None
    client: "MlflowClient | None" = None
    experiment_id: str | None = None

    @classmethod
    def connect(cls, uri: str | None, experiment: str = EXPERIMENT) -> "Tracker":
        """A tracker on `uri` (None: tracking off). A URI MLflow cannot reach gives a warning and a tracker that is
        off; a missing extra is an error, since tracking was asked for explicitly."""
        if uri is None:
            return cls()
        require_mlflow()
        from mlflow import MlflowClient

        for name, value in HTTP_SETTINGS.items():
            os.environ.setdefault(name, value)
        tracker = cls(uri)
        with tracker._guarded("connect"):
            client = MlflowClient(tracking_uri=uri)
            found = client.get_experiment_by_name(experiment)
            if found is not None:
                experiment_id = found.experiment_id
            else:  # an SQLite store keeps its artifacts beside it (MLflow's default: ./mlruns, wherever hcr runs)
                database = Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None
                artifacts = (database.parent / ARTIFACTS_NAME).resolve().as_uri() if database else None
                experiment_id = client.create_experiment(experiment, artifact_location=artifacts)
            tracker.client, tracker.experiment_id = client, experiment_id
        return tracker

    @property
    def active(self) -> bool:
        return self.client is not None

    @contextlib.contextmanager
    def _guarded(self, action: str) -> Iterator[None]:
        try:
            yield
        except Exception as e:  # whatever MLflow, its store or the network raise: tracking must not end the run
            if self.client is not None or action == "connect":
                reason = URL_PASSWORD.sub(r"\1***@", " ".join(str(e).split()))[:300]  # MLflow's errors name the URL
                log.warning(
                    "MLflow tracking at %s stopped (%s failed: %s: %s); training goes on, the run folder has it all",
                    URL_PASSWORD.sub(r"\1***@", self.uri or ""), action, type(e).__name__, reason,
                )  # fmt: skip
            self.client = None

    def start_run(self, name: str, parent_id: str | None = None, tags: Mapping[str, str] | None = None) -> str | None:
        """A new MLflow run (nested under `parent_id` if given); its id, or None while tracking is off."""
        if self.client is None:
            return None
        with self._guarded("creating a run"):
            all_tags = {**(tags or {}), **({PARENT_TAG: parent_id} if parent_id else {})}
            return self.client.create_run(self.experiment_id, run_name=name, tags=all_tags).info.run_id
        return None

    def end_run(self, run_id: str | None, status: str = "FINISHED") -> None:
        if self.client is not None and run_id is not None:
            with self._guarded("ending a run"):
                self.client.set_terminated(run_id, status)

    def set_tags(self, run_id: str | None, tags: Mapping[str, str]) -> None:
        if self.client is not None and run_id is not None:
            with self._guarded("tagging a run"):
                for key, value in tags.items():
                    self.client.set_tag(run_id, key, value)

    def log_params(self, run_id: str | None, params: Mapping[str, Any]) -> None:
        if self.client is None or run_id is None:
            return
        from mlflow.entities import Param

        items = [Param(key, _param_value(value)) for key, value in params.items()]
        with self._guarded("logging params"):
            for start in range(0, len(items), PARAMS_PER_BATCH):
                self.client.log_batch(run_id, params=items[start : start + PARAMS_PER_BATCH])

    def log_metrics(self, run_id: str | None, metrics: Mapping[str, float], step: int = 0) -> None:
        self.log_metric_steps(run_id, {step: metrics})

    def log_metric_steps(self, run_id: str | None, steps: Mapping[int, Mapping[str, float]]) -> None:
        """Metrics at several steps (epochs) in as few requests as MLflow allows."""
        if self.client is None or run_id is None:
            return
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [
            Metric(key, float(value), now, step)
            for step, metrics in steps.items()
            for key, value in metrics.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        ]
        with self._guarded("logging metrics"):
            for start in range(0, len(items), METRICS_PER_BATCH):
                self.client.log_batch(run_id, metrics=items[start : start + METRICS_PER_BATCH])

    def log_artifact(self, run_id: str | None, path: Path, artifact_path: str | None = None) -> None:
        """A file, or a folder with everything in it."""
        if self.client is None or run_id is None:
            return
        with self._guarded(f"uploading {path.name}"):
            if path.is_dir():
                self.client.log_artifacts(run_id, str(path), artifact_path or path.name)
            else:
                self.client.log_artifact(run_id, str(path), artifact_path)


@dataclass
class TrackedRun:
    """One MLflow run in the making: what the epoch callback already sent, so the run folder's history fills in only
    the epochs it missed (those before a --resume)."""

    tracker: Tracker
    run_id: str | None
    logged_epochs: set[int] = field(default_factory=set)
    status: str = "FINISHED"  # how the run ends if its block ends normally (a failed Optuna trial: FAILED)

    def callbacks(self) -> list["keras.callbacks.Callback"]:
        """What `fit` needs to log each epoch live: the Keras callback while tracking, nothing otherwise."""
        if not self.tracker.active or self.run_id is None:
            return []
        from hcr.tracking.epochs import EpochMetrics  # Keras: only here, and only when tracking

        return [EpochMetrics(self)]

    def log_epoch(self, epoch: int, metrics: Mapping[str, float]) -> None:
        self.tracker.log_metrics(self.run_id, metrics, step=epoch)
        self.logged_epochs.add(epoch)

    def log_run_folder(self, run_path: Path) -> None:
        """Params, metrics and artifacts of a finished run folder (see `log_run_folder`)."""
        log_run_folder(self.tracker, self.run_id, run_path, skip_epochs=self.logged_epochs)


@contextlib.contextmanager
def tracked_run(
    tracker: Tracker, name: str, parent_id: str | None = None, tags: Mapping[str, str] | None = None
) -> Iterator[TrackedRun]:
    """An MLflow run for the block: `status` (FINISHED unless set) if it ends normally, KILLED on Ctrl-C, FAILED on
    an error (which still propagates: the tracking view follows what happened, it never decides it)."""
    run = TrackedRun(tracker, tracker.start_run(name, parent_id, tags))
    try:
        yield run
    except KeyboardInterrupt:
        tracker.end_run(run.run_id, "KILLED")
        raise
    except BaseException:
        tracker.end_run(run.run_id, "FAILED")
        raise
    tracker.end_run(run.run_id, run.status)


def log_run_folder(tracker: Tracker, run_id: str | None, run_path: Path, skip_epochs: set[int] = frozenset()) -> None:
    """Copy a run folder into an MLflow run: config.json's resolved settings as params (train.*, data.*), each
    epoch of history.csv not in `skip_epochs` as metrics at that step, metrics.json's scores per split (val.accuracy,
    test.macro_f1 …) and each evaluation folder's (evaluation.accuracy, evaluation-az.macro_f1 …), and every file
    but the checkpoints as artifacts (figures, reports, model.onnx/model.json, history …)."""
    from hcr.runs import RunDir

    if not tracker.active or run_id is None:
        return
    run = RunDir.open(run_path)
    saved = run.read_json(run.config_path)
    tracker.set_tags(run_id, {RUN_FOLDER_TAG: str(run.path.resolve())})
    tracker.log_params(run_id, flatten({"train": saved["train"], "data": saved["data"]}))
    if run.history_path.is_file():
        history = {int(row["epoch"]): row for row in run.read_history() if int(row["epoch"]) not in skip_epochs}
        tracker.log_metric_steps(run_id, {epoch: {k: v for k, v in row.items() if k != "epoch"}
                                          for epoch, row in history.items()})  # fmt: skip
    final: dict[str, float] = {}
    if run.metrics_path.is_file():
        metrics = run.read_json(run.metrics_path)
        final |= {k: v for k, v in flatten(metrics).items() if isinstance(v, int | float)}
    for evaluation in sorted(run.path.glob("evaluation*/evaluation.json")):
        summary = run.read_json(evaluation)
        name = evaluation.parent.name  # evaluation (the run's test split) or evaluation-<datasets>
        final |= {f"{name}.accuracy": summary["accuracy"], f"{name}.macro_f1": summary["macro"]["f1"],
                  f"{name}.n": summary["n"]}  # fmt: skip
    tracker.log_metrics(run_id, final)
    for path in sorted(run.path.iterdir()):
        if path.name not in SKIPPED and not path.name.startswith("."):
            tracker.log_artifact(run_id, path)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"train": {"epochs": 2}} → {"train.epochs": 2}: MLflow keys are flat."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat |= flatten(value, f"{name}.")
        else:
            flat[name] = value
    return flat


def _param_value(value: Any) -> str:
    """A param as text: strings as they are, anything else as JSON (so None, lists and booleans read unambiguously)."""
    return value if isinstance(value, str) else json.dumps(value)
