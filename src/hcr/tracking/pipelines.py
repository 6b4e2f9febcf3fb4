"""`hcr tune --track` and `hcr compare --track`: a finished search or comparison copied into MLflow as nested runs.

hcr tune --model cnn --trials 20 --track        # one run for the study, a nested run per trial, one for the retrain
hcr compare --preset quick --track              # one parent run, a child run per model (its study nested under it)

Both are logged from their output folders once they are done (tuning.json, trials.csv and each trial's run folder;
compare_state.json, the leaderboard and each model's run folder), like a single run's files: the folders stay the
source of truth, the search and the comparison code know nothing of MLflow, and logging the same folder again gives
the same view. Only `hcr train` sends epochs live.
"""

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hcr.runs import RunDir
from hcr.tracking.tracker import Tracker, flatten, tracked_run

if TYPE_CHECKING:
    from hcr.evaluation.leaderboard import LeaderboardRow

# Optuna's trial states (trials.csv's `state`) as MLflow run statuses; trials still running are not logged
TRIAL_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "FINISHED", "FAIL": "FAILED"}
COMPARE_FILES = ("leaderboard.csv", "leaderboard.md", "report.html", "compare_state.json", "best", "eda")
TUNING_FILES = ("tuning.json", "trials.csv", "best_params.json", "optimization_history.png", "param_importances.png")


def log_tuning(
    tracker: Tracker, tuning_dir: Path, retrained_run: Path | None = None, parent_id: str | None = None
) -> str | None:
    """The study as one MLflow run (its settings, best value and trial counts, its files), each finished trial as a
    run nested in it (the trial's parameters and value, and its run folder: config, epochs, scores), and the retrained
    best settings as one more. Returns the study's MLflow run id."""
    folder = RunDir(tuning_dir)
    record = folder.read_json(tuning_dir / "tuning.json")
    with tracked_run(tracker, tuning_dir.name, parent_id, {"hcr.tuning_folder": str(tuning_dir.resolve())}) as study:
        tracker.log_params(study.run_id, flatten({"tune": record["tune"], "data": record["data"]}))
        result = record.get("result", {})
        tracker.log_metrics(study.run_id, {"best_val_accuracy": result.get("best_val_accuracy"),
                                           **flatten({"trials": result.get("counts", {})})})  # fmt: skip
        for name in TUNING_FILES:
            if (tuning_dir / name).is_file():
                tracker.log_artifact(study.run_id, tuning_dir / name)
        for trial in _finished_trials(tuning_dir / "trials.csv"):
            tags = {"optuna.trial": trial["number"], "optuna.state": trial["state"]}
            with tracked_run(tracker, f"trial {trial['number']}", study.run_id, tags) as logged:
                logged.status = TRIAL_STATUS[trial["state"]]
                params = {k.removeprefix("params_"): v for k, v in trial.items() if k.startswith("params_") and v}
                tracker.log_params(logged.run_id, {f"trial.{k}": v for k, v in params.items()})
                if trial["value"]:
                    tracker.log_metrics(logged.run_id, {"trial.val_accuracy": float(trial["value"])})
                run_path = Path(trial.get("user_attrs_run") or "")
                if trial.get("user_attrs_run") and (run_path / "config.json").is_file():
                    logged.log_run_folder(run_path)
        if retrained_run is not None:
            with tracked_run(tracker, f"retrained {retrained_run.name}", study.run_id) as retrained:
                retrained.log_run_folder(retrained_run)
    return study.run_id


def log_comparison(
    tracker: Tracker, out_dir: Path, leaderboard: "Sequence[LeaderboardRow]", skipped: dict[str, str]
) -> str | None:
    """The comparison as a parent run (its preset and data settings, the best model's scores, the leaderboard, report
    and exported best model) with a child run per model (its run folder with its evaluation figures, its place and
    leaderboard figures, and under a tuned model the study behind it). Returns the parent's MLflow run id. Takes the
    comparison's folder and rows rather than the pipeline's result: tracking sits below the pipelines it records."""
    state = RunDir(out_dir).read_json(out_dir / "compare_state.json")
    best = leaderboard[0]
    with tracked_run(tracker, f"compare {out_dir.name}", tags={"hcr.compare_folder": str(out_dir)}) as parent:
        tracker.log_params(parent.run_id, flatten(state["settings"]))
        skipped = {f"skipped.{name}": why for name, why in skipped.items()}
        tracker.log_params(parent.run_id, {"models": [row.model for row in leaderboard], **skipped})
        tracker.set_tags(parent.run_id, {"hcr.best_model": best.model})
        tracker.log_metrics(parent.run_id, {"best.val_accuracy": best.val_accuracy,
                                            "best.test_accuracy": best.test_accuracy,
                                            "best.test_macro_f1": best.test_macro_f1})  # fmt: skip
        for name in COMPARE_FILES:
            if (out_dir / name).exists():
                tracker.log_artifact(parent.run_id, out_dir / name)
        for place, row in enumerate(leaderboard, start=1):
            with tracked_run(tracker, row.model, parent.run_id) as child:
                child.log_run_folder(Path(row.run))
                tracker.log_metrics(child.run_id, {
                    "leaderboard.place": place, "leaderboard.test_accuracy": row.test_accuracy,
                    "leaderboard.test_macro_f1": row.test_macro_f1, "leaderboard.parameters": row.parameters,
                    "leaderboard.file_bytes": row.file_bytes, "leaderboard.train_seconds": row.train_seconds,
                    "leaderboard.tune_seconds": row.tune_seconds,
                    "leaderboard.images_per_second": row.images_per_second,
                    "leaderboard.single_image_ms": row.single_image_ms,
                })  # fmt: skip
                tuning = state["models"].get(row.model, {}).get("tuning")
                if tuning:
                    log_tuning(tracker, out_dir / tuning["dir"], parent_id=child.run_id)
    return parent.run_id


def _finished_trials(trials_path: Path) -> list[dict[str, str]]:
    """trials.csv's rows (Optuna's trials_dataframe) of trials that ended: complete, pruned or failed."""
    if not trials_path.is_file():
        return []
    with trials_path.open(encoding="utf-8", newline="") as f:
        return [row for row in csv.DictReader(f) if row.get("state") in TRIAL_STATUS]
