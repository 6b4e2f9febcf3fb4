"""tuned-cnn against regularized-cnn on the dev protocol: search with `hcr tune`, retrain the best, compare test.

    .venv/bin/python bench/tune_dev.py --trials 30 --epochs 12                  # the figure: hours on 2 cores
    .venv/bin/python bench/tune_dev.py --trials 2 --epochs 1 --final-epochs 1 --per-class 20   # smoke run

Dev protocol v2 (docs/dev-protocol.md): every dataset in ../shared/data, de-duplicated, stratified by letter and
source 70/15/15, seed 0. The search and the checkpoint pick use validation accuracy only; the test split is read once,
for the retrained best settings, and compared with regularized-cnn's dev-test accuracy (its run folder via
--reference-run; without one, the v1 figure below, measured on the 17,246-image pool: not comparable on v2).
Run it alone on the machine: a second process on the same 2 cores halves everything and skews the budget.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import optuna

from hcr.configs import DataConfig
from hcr.pipelines.tune_retrain import tune_then_retrain
from hcr.tuning import TuneConfig, get_space

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REGULARIZED_TEST_ACCURACY = 0.932  # regularized-cnn on dev protocol v1 (run 20261124-032627); v2: use --reference-run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=30, help="finished trials (complete + pruned)")
    parser.add_argument("--epochs", type=int, default=None, help="each trial's maximum epochs (default: the space's)")
    parser.add_argument("--final-epochs", type=int, default=None, help="the retrain's (default: tuned-cnn's recipe)")
    parser.add_argument("--timeout", type=float, default=None, help="start no new trial after this many seconds")
    parser.add_argument("--storage", help="Optuna storage URL (default: SQLite in the tuning folder)")
    parser.add_argument("--study", help="study name, to resume or share one")
    parser.add_argument("--per-class", type=int, default=None, help="a balanced subset, for a smoke run only")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    parser.add_argument("--reference-run", type=Path, help="regularized-cnn run folder whose test accuracy to beat")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    reference = REGULARIZED_TEST_ACCURACY
    if args.reference_run:
        reference = json.loads((args.reference_run / "metrics.json").read_text())["test"]["accuracy"]
    config = TuneConfig("cnn", n_trials=args.trials, timeout=args.timeout, storage=args.storage,
                        study_name=args.study, epochs=args.epochs)  # fmt: skip
    data_config = DataConfig(data_dir=str(SHARED / "data"), per_class=args.per_class)
    started = time.perf_counter()
    outcome = tune_then_retrain(config, data_config, args.runs_dir, final_epochs=args.final_epochs)
    wall = time.perf_counter() - started

    result, metrics = outcome.tuning, outcome.retrained.metrics
    row = {
        "search": {
            "trials_requested": args.trials,
            "trial_states": {state: n for state, n in result.counts.items() if n},
            "max_epochs_per_trial": args.epochs or get_space("cnn").trial_epochs,
            "timeout_s": args.timeout,
            "wall_s_search_and_retrain": round(wall, 1),
        },
        "best_trial": result.best_trial,
        "best_trial_val_accuracy": result.best_value,
        "best_params": result.best_params,
        "tuned_cnn": {
            "val_accuracy": metrics["val"]["accuracy"],
            "test_accuracy": metrics["test"]["accuracy"],
            "test_macro_f1": metrics["test"]["macro_f1"],
            "epochs": metrics["epochs_done"],
            "train_s": metrics["train_seconds_this_session"],
            "run": str(outcome.retrained.run.path),
        },
        "regularized_cnn_test_accuracy": reference,
        "tuning_dir": str(result.tuning_dir),
    }
    print(json.dumps(row, indent=2))
    verdict = "beats" if metrics["test"]["accuracy"] > reference else "does NOT beat"
    print(
        f"\ntuned-cnn dev-test accuracy {metrics['test']['accuracy']:.4f} {verdict} regularized-cnn's {reference:.4f} "
        f"(search: {sum(result.counts.values())} trials, {wall / 60:.0f} min with the retrain)"
    )
    if args.per_class:
        print("(a subset run: --per-class is for smoke runs; the figure uses all the data)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
