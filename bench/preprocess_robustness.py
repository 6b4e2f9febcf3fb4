"""Does a trained model read letters as people save them as well as the dataset's own 28×28 arrays?

    .venv/bin/python -m bench.preprocess_robustness RUN_DIR_OR_MODEL [--n 0] [--seed 0] [--json out/robustness.json]

RUN_DIR_OR_MODEL is a model.onnx from `hcr export` (or a folder holding one, e.g. an exported run folder); its
model.json names the source run, whose test split is used (`--run DIR` where it is not the model's folder or
runs/<name>). For every test letter and every variant in
tests/variants.py (black on white, 200–1000 px, off-centre on a big canvas, JPEG, noise, thick and thin pens,
coloured and textured paper, RGBA, GIF, EXIF-rotated), the image file is made in memory, decoded with
hcr.inference.preprocess.open_image and brought to 28×28 with to_letter_array, exactly as `hcr predict` does, and
the ONNX model classifies it. Target: every variant within 1 point of the accuracy on the original arrays.
A file that fails (blank, unreadable) counts as wrong. Run from the repository root (it imports tests.variants).
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from bench.model_run import model_data
from rich.console import Console
from rich.table import Table
from tests.variants import VARIANTS

from hcr.inference.predictor import Predictor
from hcr.inference.preprocess import ImageError, open_image, to_letter_array

TARGET_POINTS = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="model.onnx, or a folder holding model.onnx + model.json")
    parser.add_argument("--n", type=int, default=0, help="a random sample of N test letters (0 = the whole split)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS), help="only these (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--run", type=Path, help="the run folder it was exported from (default: found by name)")
    parser.add_argument("--data-dir", type=Path, help="where that run's datasets are (default: the run's config)")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    predictor = Predictor(args.model)
    # the letters as the datasets store them, even for a model trained on them preprocessed (--canonical)
    data, split, _ = model_data(predictor, args.model, args.run, args.data_dir)
    rng = np.random.default_rng(args.seed)
    test = split.test if not args.n else rng.choice(split.test, min(args.n, len(split.test)), replace=False)
    x, y = data.x[test], data.y[test]  # uint8 [N, 28, 28], [N]
    reference = predictor.predict_arrays(x).argmax(axis=1)
    base = float((reference == y).mean())
    results = {"model": str(args.model), "n": len(y), "arrays_accuracy": base, "variants": {}}

    for name in args.variant or VARIANTS:
        started = time.perf_counter()
        letters, failed = _preprocess_all(VARIANTS[name], x, rng)
        predicted = np.where(failed, -1, predictor.predict_arrays(letters).argmax(axis=1))
        accuracy = float((predicted == y).mean())
        results["variants"][name] = {
            "accuracy": accuracy,
            "points_vs_arrays": 100 * (accuracy - base),
            "agreement_with_arrays": float((predicted == reference).mean()),
            "mean_correlation": float(np.mean([_correlation(a, b) for a, b in zip(letters, x, strict=True)])),
            "failed": int(failed.sum()),
            "ms_per_image": 1000 * (time.perf_counter() - started) / len(y),
        }
    _print(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def _preprocess_all(variant, x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [N, 28, 28] what the model sees, bool [N] files that failed) for each letter made into a file."""
    letters, failed = np.zeros_like(x), np.zeros(len(x), dtype=bool)
    for i, letter in enumerate(x):
        try:
            letters[i] = to_letter_array(open_image(variant(letter, rng)))
        except ImageError:
            failed[i] = True
    return letters, failed


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(np.corrcoef(a, b)[0, 1]) if a.std() and b.std() else 0.0


def _print(results: dict) -> None:
    title = f"{results['n']:,} test letters · accuracy on the 28×28 arrays {results['arrays_accuracy']:.2%}"
    table = Table(title=title)
    for column in ("variant", "accuracy", "Δ points", "same as arrays", "corr. with array", "failed", "ms/image"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    for name, r in results["variants"].items():
        delta = r["points_vs_arrays"]
        style = "green" if delta >= -TARGET_POINTS else "red"
        table.add_row(
            name,
            f"{r['accuracy']:.2%}",
            f"[{style}]{delta:+.2f}[/]",
            f"{r['agreement_with_arrays']:.1%}",
            f"{r['mean_correlation']:.3f}",
            str(r["failed"]),
            f"{r['ms_per_image']:.1f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
