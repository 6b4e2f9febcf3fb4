"""The figures of the model shipped in src/hcr/inference/default_model, measured on a model trained the same way on
the dev protocol's train split only (the shipped one has seen the test images).

    .venv/bin/python -m bench.shipped_model FIGURE_MODEL.onnx [--json PATH]

FIGURE_MODEL is `hcr export` of `hcr train --model compact-cnn --capitals --canonical --data-dir ../shared/data`;
its model.json names the run, whose split supplies the test letters (`--run DIR` where it is not the model's folder
or runs/<name>; the datasets are found with --data-dir, $HCR_DATA_DIR or hcr's default data folder). Reported:
- dev-test accuracy and macro-F1 with block-capital labels (EMNIST's lower-case-l bars labelled I, as trained) and
  with the datasets' own labels, on the letters as `hcr predict` sees them saved to files (to_letter_arrays), and
  the accuracy on the arrays as stored;
- per-letter accuracy on the Kaggle A–Z test letters: capitals only, so what a form reader must get right;
- a bar is an I: plain vertical strokes drawn at several slants, lengths and widths, read like a file is read.
Run from the repository root.
"""

import argparse
import json
from pathlib import Path

import numpy as np
from bench.model_run import model_run
from PIL import Image, ImageDraw
from rich.console import Console
from rich.table import Table
from sklearn.metrics import accuracy_score, f1_score

from hcr.data.capitals import with_capital_labels
from hcr.data.prepare import load_run_split
from hcr.data.sources import load_datasets
from hcr.inference.predictor import Predictor
from hcr.inference.preprocess import to_letter_arrays
from hcr.labels import CLASSES, index_of
from hcr.runs import RunDir


def bar_images() -> list[Image.Image]:
    """Black-on-white bars as a person draws an I on paper: slants of ±15°, several lengths and pen widths."""
    images = []
    for dx in (-12, -6, 0, 6, 12):
        for length in (80, 140, 200):
            for width in (6, 12, 20):
                image = Image.new("L", (240, 240), 255)
                top, bottom = (240 - length) // 2, (240 + length) // 2
                ImageDraw.Draw(image).line([(120 - dx, top), (120 + dx, bottom)], fill=0, width=width)
                images.append(image)
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--run", type=Path, help="the run folder it was exported from (default: found by name)")
    parser.add_argument("--data-dir", type=Path, help="the datasets' folder (default: hcr's)")
    args = parser.parse_args()
    predictor = Predictor(args.model)
    run = model_run(predictor, args.model, args.run)
    # a run made before runs named their datasets (dev protocol v1's default pool) is rebuilt from its sources
    datasets = predictor.metadata_["data"]["datasets"] or RunDir.open(run).read_config().sources
    data = load_datasets(datasets, args.data_dir)
    test = load_run_split(run).test
    capital, _ = with_capital_labels(data)
    predicted = predictor.predict_arrays(to_letter_arrays(data.x[test])).argmax(axis=1)
    as_stored = predictor.predict_arrays(data.x[test]).argmax(axis=1)

    results = {"arrays_as_stored_accuracy": accuracy_score(capital.y[test], as_stored)}
    for name, labels in (("capital labels", capital.y[test]), ("datasets' own labels", data.y[test])):
        results[name] = {
            "accuracy": accuracy_score(labels, predicted),
            "macro_f1": f1_score(labels, predicted, average="macro"),
        }
    az = data.source[test] == data.sources.index("az")
    per_letter = {letter: float((predicted[az & (data.y[test] == i)] == i).mean()) for i, letter in enumerate(CLASSES)}
    bars = [predictor.predict_image(image) for image in bar_images()]
    results["kaggle_capitals"] = {"n": int(az.sum()), "accuracy": float((predicted[az] == data.y[test][az]).mean())}
    results["kaggle_per_letter"] = per_letter
    results["bars_read_as_I"] = {"n": len(bars), "fraction": float(np.mean([b.letter == "I" for b in bars]))}

    console = Console()
    table = Table(title=f"{args.model} (run {run.path.name}), {len(test):,} dev-test images")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name in ("capital labels", "datasets' own labels"):
        table.add_row(f"dev-test accuracy, {name}", f"{results[name]['accuracy']:.2%}")
        table.add_row(f"dev-test macro-F1, {name}", f"{results[name]['macro_f1']:.3f}")
    table.add_row("dev-test accuracy, capital labels, arrays as stored", f"{results['arrays_as_stored_accuracy']:.2%}")
    table.add_row(f"Kaggle A–Z capitals ({az.sum()})", f"{results['kaggle_capitals']['accuracy']:.2%}")
    worst = sorted(per_letter.items(), key=lambda item: item[1])[:5]
    table.add_row("Kaggle A–Z, five weakest letters", ", ".join(f"{k} {v:.0%}" for k, v in worst))
    table.add_row(f"plain bars read as I ({len(bars)})", f"{results['bars_read_as_I']['fraction']:.0%}")
    console.print(table)
    console.print(
        "I on Kaggle A–Z capitals: "
        f"{per_letter['I']:.0%} (n={int((az & (data.y[test] == index_of('I'))).sum())}); "
        f"L: {per_letter['L']:.0%} (n={int((az & (data.y[test] == index_of('L'))).sum())})"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
