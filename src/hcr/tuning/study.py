"""Hyperparameter search with Optuna: TPE proposes settings, a median pruner stops hopeless trials early, and every
trial is an ordinary training run (hcr.training.fit.train), so tuning adds no second training loop.

    hcr tune --space cnn --trials 30
    hcr tune --space cnn --trials 30 --storage postgresql://hcr@db-host/hcr --study letters   # on each machine

A tuning folder runs/<utc>-tune-<space>/ holds tuning.json (what was searched, on which data), study.db (the
default storage), trials/ (each trial's run folder, without checkpoints), trials.csv, best_params.json and the
plots. Retraining the best settings as a normal run of tuned-<model> is hcr.pipelines.tune_retrain's job.

Several workers share a study through its storage. Together they finish exactly the requested number of trials
(COMPLETE + PRUNED, counted across workers), and each trial sends heartbeats: when a worker dies mid-trial its
trial goes stale, is marked FAILED, and the other workers run a trial in its place.
"""

import json
import os
import shutil
import socket
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import keras
import optuna
from optuna.trial import TrialState

from hcr.configs import NON_NEGATIVE, SEED, DataConfig, Rule, at_least, check_settings, optional
from hcr.data.prepare import prepare_data
from hcr.errors import HcrError
from hcr.runs import TUNING_NAME, RunDir, make_stamped_dir, read_json, tuning_run_name, write_json
from hcr.training.callbacks import TrainingDivergedError
from hcr.training.config import resolve_config
from hcr.training.fit import train
from hcr.tuning.heartbeats import HeartbeatStorage
from hcr.tuning.outputs import write_best_params, write_plots, write_trials_table
from hcr.tuning.progress import FINISHED, TrialProgress, best_trial, count_trials
from hcr.tuning.pruning import PruneOnValAccuracy
from hcr.tuning.spaces import SearchSpace, get_space

HEARTBEAT_INTERVAL_S = 10  # a dead worker's trial is marked FAILED once its heartbeat is 2 intervals old (Optuna)
N_STARTUP_TRIALS = 5  # random trials before TPE models the results; also finished trials before the pruner acts
N_WARMUP_EPOCHS = 2  # epochs every trial gets before it can be pruned: the first ones rank settings poorly
SCHEMA_ATTEMPTS = 4  # tries at creating Optuna's tables in a new database (several workers may start together)
STUDY_ATTR = "hcr"  # the study's user attribute that records what it searches, on which data


@dataclass(frozen=True)
class TuneConfig:
    search: str  # a search space: "cnn" or "mobilenetv2" (hcr.tuning.spaces)
    n_trials: int  # finished trials (complete or pruned) the study should hold, every worker's counted
    timeout: float | None = None  # seconds after which this worker starts no new trial
    storage: str | None = None  # an Optuna storage URL; None: study.db in the tuning folder
    study_name: str | None = None  # None: the tuning folder's name (a new study)
    epochs: int | None = None  # each trial's maximum epochs; None: the search space's
    # each trial's batches per epoch at most; None: the whole train part. On a large pool a trial that sees part of
    # it per epoch ranks settings as the whole would, at a fraction of the time, and still validates on all of val.
    trial_steps: int | None = None
    seed: int = 0  # the trials' training seed, and the sampler's when this worker creates the study
    weights: str | None = None  # pretrained weights file (MobileNetV2)
    heartbeat_interval: int = HEARTBEAT_INTERVAL_S

    def __post_init__(self) -> None:
        check_settings(self, TUNE_RULES)


TUNE_RULES: dict[str, Rule] = {
    "n_trials": at_least(1),
    "timeout": optional(NON_NEGATIVE),
    "epochs": optional(at_least(1)),
    "trial_steps": optional(at_least(1)),
    "seed": SEED,
    "heartbeat_interval": at_least(1),
}


@dataclass(frozen=True)
class TuneResult:
    tuning_dir: Path
    study_name: str
    storage: str  # password hidden
    counts: dict[str, int]  # trials per state in the whole study
    best_trial: int
    best_value: float  # validation accuracy
    best_params: dict[str, Any]
    outputs: list[Path] = field(default_factory=list)


class SurplusTrialError(Exception):
    """A trial that started when the trials ahead of it (other workers') already fill the study; it does not run."""


def tune(config: TuneConfig, data_config: DataConfig, runs_dir: Path) -> TuneResult:
    """Search, and write the tuning folder's outputs (best_params.json among them)."""
    space = get_space(config.search)
    trial_epochs = config.epochs or space.trial_epochs
    study, tuning_dir, shown_url = start_study(config, space, trial_epochs, data_config, runs_dir)
    objective = Objective(space, data_config, tuning_dir / "trials", config.n_trials, trial_epochs, config.seed,
                          config.weights, {"study": study.study_name, "storage": shown_url},
                          steps=config.trial_steps)  # fmt: skip
    with TrialProgress(config.n_trials) as progress:
        run_trials(study, objective, config.n_trials, config.timeout, config.heartbeat_interval, progress)

    counts = {state.name: count_trials(study, (state,)) for state in TrialState}
    outputs = [write_trials_table(study, tuning_dir)]
    best = best_trial(study)
    if best is None:
        states = ", ".join(f"{n} {state.lower()}" for state, n in counts.items() if n) or "no trials"
        raise HcrError(f"study {study.study_name} has no complete trial yet ({states}); see {outputs[0]}")
    best_params_path = write_best_params(tuning_dir, space, best, study.study_name, shown_url, data_config)
    outputs += [best_params_path, *write_plots(study, tuning_dir)]
    record = read_json(tuning_dir / TUNING_NAME)
    record["result"] = {
        "counts": counts,
        "best_trial": best.number,
        "best_val_accuracy": best.value,
        "retrained_run": None,
    }  # fmt: skip  (hcr.pipelines.tune_retrain fills it in)
    write_json(tuning_dir / TUNING_NAME, record)
    return TuneResult(tuning_dir, study.study_name, shown_url, counts, best.number, best.value, best.params,
                      outputs)  # fmt: skip


def start_study(
    config: TuneConfig, space: SearchSpace, trial_epochs: int, data_config: DataConfig, runs_dir: Path
) -> tuple[optuna.Study, Path, str]:
    """Check the inputs, make the tuning folder, create or join the study: (study, tuning folder, storage URL as
    it may be shown)."""
    resolve_config(space.base_model, weights=config.weights)  # a missing weights file stops us here, not in a trial
    _, split = prepare_data(data_config)  # and so does unreadable data
    tuning_dir = make_stamped_dir(runs_dir, tuning_run_name(config.search))
    url = config.storage or f"sqlite:///{(tuning_dir / 'study.db').resolve()}"
    identity = {
        "search": config.search,
        "trial_epochs": trial_epochs,
        # only when capped, so that a study started before the cap existed is still joined
        **({"trial_steps": config.trial_steps} if config.trial_steps else {}),
        "seed": config.seed,
        # how the data is taken and split; where each worker reads it from may differ, the images may not
        "data": {k: v for k, v in data_config.to_dict().items() if k not in ("datasets", "data_dir")},
        "data_fingerprint": split.data_fingerprint,
    }
    try:
        study = open_study(url, config.study_name or tuning_dir.name, config.seed, config.heartbeat_interval)
        claim_study(study, identity)
    except HcrError:
        shutil.rmtree(tuning_dir)  # nothing was searched: leave no tuning folder behind
        raise
    shown_url = hide_password(url)
    record = {
        "tune": {**asdict(config), "storage": shown_url},
        "data": data_config.to_dict(),
        "study": study.study_name,
    }
    write_json(tuning_dir / TUNING_NAME, record)
    RunDir(tuning_dir).write_provenance()
    return study, tuning_dir, shown_url


def open_study(url: str, name: str, seed: int, heartbeat_interval: int) -> optuna.Study:
    """Create the study, or join it if it exists (resuming it, or as one more worker).

    Only the worker that creates the study seeds its sampler, so a one-worker search is reproducible; a worker
    that joins samples from fresh entropy, or its random start-up trials would repeat the first worker's."""
    storage = connect_storage(url, heartbeat_interval)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=N_STARTUP_TRIALS, n_warmup_steps=N_WARMUP_EPOCHS)
    try:
        sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=N_STARTUP_TRIALS)
        return optuna.create_study(
            storage=storage, study_name=name, direction="maximize", sampler=sampler, pruner=pruner
        )
    except optuna.exceptions.DuplicatedStudyError:
        sampler = optuna.samplers.TPESampler(n_startup_trials=N_STARTUP_TRIALS)
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)


def connect_storage(url: str, heartbeat_interval: int) -> HeartbeatStorage:
    """An Optuna storage with heartbeats, or a one-line error that says what is wrong with the URL."""
    import sqlalchemy.exc

    attempt = 1
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeats are "experimental"
                return HeartbeatStorage(url, heartbeat_interval)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            # Workers started together on an empty database race to create Optuna's tables; the losers find them
            # made on the next attempt.
            if attempt == SCHEMA_ATTEMPTS:
                raise
            time.sleep(attempt)
            attempt += 1
        except ImportError:
            raise HcrError(
                f"{hide_password(url)}: no database driver for this storage (PostgreSQL: pip install 'hcr[postgres]')"
            ) from None
        except (sqlalchemy.exc.ArgumentError, sqlalchemy.exc.OperationalError) as e:
            reason = str(getattr(e, "orig", None) or e).splitlines()[0]
            raise HcrError(f"cannot open the study storage {hide_password(url)}: {reason}") from None


def claim_study(study: optuna.Study, identity: dict[str, Any]) -> None:
    """Record what the study searches, on which data; refuse to add this worker's trials to a different search,
    where they would not be comparable."""
    identity = json.loads(json.dumps(identity))  # as the storage gives it back
    if study.directions != [optuna.study.StudyDirection.MAXIMIZE]:
        raise HcrError(f"study {study.study_name} does not maximize one value; hcr tune maximizes validation accuracy")
    found = study.user_attrs.get(STUDY_ATTR)
    if found is None:
        study.set_user_attr(STUDY_ATTR, identity)
    elif found != identity:
        differing = ", ".join(f"{key} {found.get(key)} ≠ {value}" for key, value in identity.items()
                              if found.get(key) != value)  # fmt: skip
        raise HcrError(f"study {study.study_name} was started for another search or other data ({differing})")


def run_trials(
    study: optuna.Study,
    objective: "Objective",
    n_trials: int,
    timeout: float | None,
    poll_s: float,
    progress: TrialProgress,
) -> None:
    """Run trials until the study holds `n_trials` finished ones (any worker's) or `timeout` seconds have passed.

    While the last trials are other workers', wait and watch: if one of them dies, its trial goes stale (even before
    its first heartbeat: hcr.tuning.heartbeats), is marked FAILED here, and this worker runs a trial in its place."""
    started = time.monotonic()
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        progress.update(study)
        finished, running = count_trials(study, FINISHED), count_trials(study, (TrialState.RUNNING,))
        if finished >= n_trials or (timeout is not None and time.monotonic() - started >= timeout):
            return
        if finished + running >= n_trials:
            time.sleep(poll_s)
        else:  # one trial, with Optuna's heartbeat thread; an exception other than SurplusTrialError ends the search
            study.optimize(objective, n_trials=1, catch=(SurplusTrialError,), callbacks=[progress.trial_ended])


@dataclass(frozen=True)
class Objective:
    """One trial: the space's settings for the base model, trained by the one training loop, pruned by epoch."""

    space: SearchSpace
    data_config: DataConfig
    trials_dir: Path
    n_trials: int
    epochs: int
    seed: int
    weights: str | None
    study_record: dict[str, str]  # study name and storage, for each trial's config.json
    steps: int | None = None  # batches per epoch at most; None: the whole train part

    def __call__(self, trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        # Two workers can each start a trial for the study's last slot at the same moment; trial numbers are given
        # out in order, so the one with more trials ahead of it steps back.
        states = (*FINISHED, TrialState.RUNNING, TrialState.WAITING)
        ahead = sum(other.number < trial.number for other in trial.study.get_trials(deepcopy=False, states=states))
        if ahead >= self.n_trials:
            trial.set_user_attr("not_run", f"not run: the {self.n_trials} trials before it fill the study")
            raise SurplusTrialError(trial.number)
        settings = self.space.suggest(trial)
        config = resolve_config(self.space.base_model, **settings, epochs=self.epochs, max_steps_per_epoch=self.steps,
                                seed=self.seed, weights=self.weights,
                                tuning={**self.study_record, "trial": trial.number})  # fmt: skip
        keras.utils.clear_session()  # every trial builds a new model: keep Keras's global state from growing
        pruning = PruneOnValAccuracy(trial)
        try:
            result = train(config, self.data_config, self.trials_dir, callbacks=[pruning])
        except TrainingDivergedError as e:  # settings that cannot train: a poor trial, not the end of the search
            trial.set_user_attr("diverged", str(e))
            raise optuna.TrialPruned(str(e)) from None
        trial.set_user_attr("run", str(result.run.path))
        # A trial keeps its config, history and metrics. Its weights are not worth the disk: the best settings are
        # retrained from scratch, as a run of their own.
        shutil.rmtree(result.run.path / "checkpoints")
        if pruning.pruned_after is not None:
            raise optuna.TrialPruned(f"pruned after epoch {pruning.pruned_after}")
        return result.metrics["val"]["accuracy"]


def hide_password(url: str) -> str:
    """The storage URL as it may be written to files and screens."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
