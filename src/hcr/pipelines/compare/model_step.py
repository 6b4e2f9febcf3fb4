"""One model's step in a comparison: which models can run, then each one's run folder per training seed (reused if
finished, resumed if interrupted, else trained, a tuned model's search first, once for all seeds) and its evaluation.

Training and evaluation load Keras, so they are imported inside the functions that need them and a comparison's
settings are checked without it."""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hcr.configs import DataConfig, TrainConfig
from hcr.errors import HcrError
from hcr.evaluation.evaluate import EVALUATION_FILE, evaluate_run, evaluation_dir
from hcr.evaluation.leaderboard import LeaderboardRow
from hcr.evaluation.on_files import LettersAsFiles
from hcr.models import get_model_entry, list_models
from hcr.pipelines.compare.presets import ZOO, Preset
from hcr.pipelines.compare.state import CompareState, existing_runs
from hcr.pipelines.tune_retrain import find_best_params, interrupted_study, resolve_config
from hcr.runs import BEST_PARAMS_NAME, RunDir, read_json
from hcr.training.predict import RunModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Setup:
    """What every model of one comparison shares: the preset, the data, the output folder, the weights file."""

    preset: Preset
    data_config: DataConfig
    out_dir: Path
    weights: str | None

    runs_dir = property(lambda self: self.out_dir / "runs")
    tuning_dir = property(lambda self: self.out_dir / "tuning")

    def config(self, name: str, tuned_params: Path | None = None) -> TrainConfig:
        """The model's recipe with the preset's epochs (and a tuned model's best settings)."""
        config = resolve_config(name, tuned_params=tuned_params, weights=self.weights_for(name))
        return config.with_overrides(epochs=self.preset.epochs(config.epochs))

    def weights_for(self, name: str) -> str | None:
        """--weights only for the models built on them: a run records (and fingerprints) any weights it is given."""
        return self.weights if get_model_entry(name).needs_weights else None


def plan(setup: Setup, names: Sequence[str]) -> tuple[dict[str, TrainConfig | None], dict[str, str]]:
    """{model: its TrainConfig for this preset, or None for a tuned model still to be searched} for the models
    that can run, and {model: why not} for the others.

    A MobileNetV2 model without its weights file, or a tuned model the preset has no tuning budget for, is
    skipped, not fatal: the other models are still worth comparing."""
    from hcr.models.weights import resolve_weights

    available = set(list_models())
    plans, skipped = {}, {}
    for name in dict.fromkeys(names):
        if name not in available and name in ZOO:
            skipped[name] = "not in this version's model registry"
            continue
        entry = get_model_entry(name)  # an unknown name stops here, with the list of models
        try:
            if entry.needs_weights:
                resolve_weights(setup.weights)
            if entry.tuned_from and entry.tuned_from not in setup.preset.tuning:
                raise HcrError(
                    f"the {setup.preset.name} preset has no tuning budget for it (its search would take longer "
                    "than the whole preset); --preset seed or full tunes it"
                )
        except HcrError as e:
            skipped[name] = str(e)
            continue
        plans[name] = None if entry.tuned_from else setup.config(name)
    return plans, skipped


def run_model(setup: Setup, state: CompareState, name: str, config: TrainConfig | None, seed: int) -> Path:
    """The model's run folder with training seed `seed` (the data's split stays the data settings' own): reused if
    finished, resumed if interrupted after an epoch, else trained anew (a tuned model's search first)."""
    from hcr.training.fit import resume, train

    finished, interrupted = existing_runs(setup.runs_dir, name, seed)
    if finished is not None:
        log.info("%s, seed %d: finished earlier in %s; not retrained", name, seed, finished)
        return finished
    if interrupted is None and config is None:
        config = setup.config(name, tuned_params=_tune(setup, state, name))
    started = time.perf_counter()
    if interrupted is not None:
        log.info("%s, seed %d: resuming the interrupted run %s", name, seed, interrupted)
        run_path = resume(interrupted).run.path
    else:
        run_path = train(config.with_overrides(seed=seed), setup.data_config, setup.runs_dir).run.path
    record = state.seed_record(name, seed)
    record["train_seconds"] = record.get("train_seconds", 0.0) + time.perf_counter() - started
    record["run"] = str(run_path.relative_to(setup.out_dir))
    state.save()
    return run_path


def _tune(setup: Setup, state: CompareState, name: str) -> Path:
    """The best_params.json of the model's search: a finished study's, else a new (or the interrupted) study
    run within the preset's budget, on the comparison's own data and split."""
    from hcr.tuning import TuneConfig, tune

    search = get_model_entry(name).tuned_from
    try:
        return find_best_params(name, search, setup.tuning_dir)
    except HcrError:
        pass  # not searched yet
    n_trials, trial_epochs = setup.preset.tuning[search]
    joined = interrupted_study(search, setup.tuning_dir)
    config = TuneConfig(
        search=search, n_trials=n_trials, epochs=trial_epochs, trial_steps=setup.preset.trial_steps,
        seed=setup.data_config.seed,
        weights=setup.weights_for(name), study_name=joined.get("study"), storage=joined.get("storage"),
    )  # fmt: skip
    steps = f" of {setup.preset.trial_steps} batches" if setup.preset.trial_steps else ""
    log.info("%s: tuning (%d trials of at most %d epochs%s)", name, n_trials, trial_epochs, steps)
    started = time.perf_counter()
    result = tune(config, setup.data_config, setup.tuning_dir)
    state.record(name)["tuning"] = {
        "dir": str(result.tuning_dir.relative_to(setup.out_dir)),
        "trials": n_trials,
        "trial_epochs": trial_epochs,
        "trial_steps": setup.preset.trial_steps,
        "best_val_accuracy": result.best_value,
        "seconds": time.perf_counter() - started,
    }
    state.save()
    return result.tuning_dir / BEST_PARAMS_NAME


def evaluation_of(run_path: Path) -> dict[str, Any]:
    """The run's evaluation.json on its own test split: the saved one, else evaluated now."""
    path = evaluation_dir(run_path) / EVALUATION_FILE
    if path.is_file():
        return read_json(path)
    return evaluate_run(run_path).summary


def leaderboard_row(state: CompareState, name: str, seed: int, run_path: Path, files: LettersAsFiles) -> LeaderboardRow:
    """The leaderboard's row of one run (hcr.evaluation.leaderboard.combine_seeds makes a model's row of its seeds'),
    with its accuracy on the comparison's test letters drawn as `files`."""
    run = RunDir(run_path)
    metrics = run.read_json(run.metrics_path)
    evaluation = evaluation_of(run_path)
    record = state.record(name)
    seed_record = state.seed_record(name, seed)
    return LeaderboardRow(
        model=name,
        val_accuracy=metrics["val"]["accuracy"],
        test_accuracy=evaluation["accuracy"],
        test_macro_f1=evaluation["macro"]["f1"],
        parameters=evaluation["size"]["parameters"],
        file_bytes=evaluation["size"]["file_bytes"],
        train_seconds=round(seed_record.get("train_seconds", metrics["train_seconds_this_session"]), 1),
        tune_seconds=round(record.get("tuning", {}).get("seconds", 0.0), 1),
        images_per_second=round(evaluation["speed"]["batch_images_per_second"], 1),
        single_image_ms=round(evaluation["speed"]["single_image_ms"], 2),
        epochs=metrics["epochs_done"],
        run=str(run_path),
        seed=seed,
        files_accuracy=files.score_probabilities(RunModel(run_path).predict_proba)["accuracy"],
    )
