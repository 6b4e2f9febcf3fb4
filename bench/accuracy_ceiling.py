"""How far above its single runs a recipe can go on the dev protocol: several seeds, their ensemble, and where the
errors that remain come from.

    .venv/bin/python -m bench.accuracy_ceiling [--model regularized-cnn] [--seeds 0,1,2,3] [--runs-dir DIR]

Trains MODEL with its default recipe once per seed (the split stays the dev protocol's, v2 since its figures in
the README were measured: every dataset in ../shared/data, de-duplicated, stratified by letter and source 70/15/15,
split seed 0; only the training seed changes), then scores each run's best
checkpoint and the average of their probabilities on the dev-test split. Averaging removes the part of the error
that differs from run to run; what is left is what this data lets a model of this kind learn. The remaining errors
are split into:
- I↔L: EMNIST Letters labels lower-case l as L, and a plain bar is both an I and an l. Its floor is counted
  directly: the test split's EMNIST I and L images that are bars (hcr.data.capitals), the smaller of the two counts
  is what a model must miss however it reads a bar;
- Kaggle A–Z: capitals only, but its labels are noisy (look at `hcr evaluate`'s misclassified figure);
- other EMNIST: mostly lower-case pairs that share a shape (g/q, a/d, b/h, c/e).
Run from the repository root. About 5 minutes per seed for regularized-cnn on 2 cores.
"""

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from bench.paths import SHARED_DATA

from hcr.configs import DataConfig
from hcr.data.capitals import bar_mask
from hcr.data.emnist import NAME as EMNIST
from hcr.data.prepare import load_run_data
from hcr.evaluation.metrics import score_predictions
from hcr.labels import index_of
from hcr.runs import RunDir
from hcr.training.config import resolve_config
from hcr.training.fit import train
from hcr.training.predict import RunModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="regularized-cnn")
    parser.add_argument("--seeds", default="0,1,2,3", help="training seeds, comma-separated")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/ceiling"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    probabilities, scores = [], []
    for seed in (int(s) for s in args.seeds.split(",")):
        result = train(resolve_config(args.model, seed=seed), DataConfig(data_dir=str(SHARED_DATA)), args.runs_dir)
        data, split = load_run_data(RunDir.open(result.run.path))
        x, y, source = data.x[split.test], data.y[split.test], data.source[split.test]
        probabilities.append(RunModel(result.run.path).predict_proba(x))
        scores.append(_accuracy_and_f1(y, probabilities[-1]))
        print(json.dumps({"seed": seed, **scores[-1], "run": str(result.run.path)}), flush=True)

    ensemble = np.mean(probabilities, axis=0)
    ensemble_scores = _accuracy_and_f1(y, ensemble)
    results = {
        "model": args.model,
        "n_test": len(y),
        "single_runs": [s["accuracy"] for s in scores],
        "single_median": float(np.median([s["accuracy"] for s in scores])),
        "ensemble": ensemble_scores["accuracy"],
        "ensemble_macro_f1": ensemble_scores["macro_f1"],
        "errors": error_sources(x, y, ensemble.argmax(1), source == data.sources.index(EMNIST)),
    }
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def _accuracy_and_f1(y: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    scores = score_predictions(y, probabilities)
    return {"accuracy": scores["accuracy"], "macro_f1": scores["macro"]["f1"]}


def error_sources(x: np.ndarray, y: np.ndarray, predicted: np.ndarray, from_emnist: np.ndarray) -> dict[str, int]:
    """Where the wrong answers come from, and the I↔L errors no model can avoid on these labels."""
    wrong = predicted != y
    i_or_l = np.isin(y, [index_of("I"), index_of("L")])
    i_l = wrong & i_or_l & np.isin(predicted, [index_of("I"), index_of("L")])
    bars = np.zeros(len(y), dtype=bool)
    bars[from_emnist & i_or_l] = bar_mask(x[from_emnist & i_or_l])
    return {
        "all": int(wrong.sum()),
        "I<->L": int(i_l.sum()),
        "I<->L floor (min of EMNIST I bars, L bars)": int(
            min((bars & (y == index_of("I"))).sum(), (bars & (y == index_of("L"))).sum())
        ),
        "Kaggle A-Z": int((wrong & ~from_emnist).sum()),
        "other EMNIST": int((wrong & from_emnist & ~i_l).sum()),
    }


def report(results: dict) -> None:
    n = results["n_test"]
    runs = ", ".join(f"{a:.2%}" for a in results["single_runs"])
    print(f"\n{results['model']} on the dev-test split ({n:,} images)")
    print(f"  single runs: {runs} (median {results['single_median']:.2%})")
    print(
        f"  ensemble of {len(results['single_runs'])}: {results['ensemble']:.2%} "
        f"(macro-F1 {results['ensemble_macro_f1']:.3f})"
    )
    print("  errors of the ensemble:")
    for name, count in results["errors"].items():
        print(f"    {name}: {count} ({count / n:.2%} of the test split)")


if __name__ == "__main__":
    main()
