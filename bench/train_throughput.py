"""Training throughput: hcr's training loop against a bare `model.fit`, side by side in one process.

    .venv/bin/python bench/train_throughput.py [--model baseline-cnn] [--epochs 3] [--repeats 3]

Dev protocol v2 (docs/dev-protocol.md): every dataset in ../shared/data, exact copies kept once, stratified by
letter and source 70/15/15, seed 0 (150,852 images; the v1 figures in the README were measured on 17,246). Both
sides train the same architecture on the same in-memory arrays with batch 64 and score the validation set every
epoch; hcr adds its callbacks (checkpoints, history, progress) — that overhead is what the ratio measures.
Target: ≥ 0.95×.
Repeats alternate which side runs first, and the table reports medians. With --augment, hcr's figure is also
given with on-the-fly rotation/shift/zoom (a tf.data pipeline), against the same bare reference.
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras

from hcr.configs import DataConfig
from hcr.data.prepare import prepare_data
from hcr.inference.preprocess import to_model_input
from hcr.models import create_model
from hcr.training.config import resolve_config
from hcr.training.fit import train

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def bare_fit(model_name: str, x_train, y_train, x_val, y_val, epochs: int, seed: int) -> float:
    """images/s of plain Keras: build, compile, fit with validation, nothing else."""
    keras.utils.set_random_seed(seed)
    model = create_model(model_name)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    started = time.perf_counter()
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_data=(x_val, y_val), verbose=0)
    return epochs * len(x_train) / (time.perf_counter() - started)


def hcr_fit(model_name: str, data_config: DataConfig, epochs: int, augment: bool, runs_dir: Path, seed: int) -> float:
    """images/s of `hcr train`'s loop (its fit time: callbacks and checkpoints included, scoring excluded)."""
    config = resolve_config(model_name, epochs=epochs, augment=augment, early_stopping_patience=epochs + 1, seed=seed)
    metrics = train(config, data_config, runs_dir).metrics
    return metrics["images_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="baseline-cnn")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--augment", action="store_true", help="also measure hcr with augmentation on")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    args = parser.parse_args()

    data_config = DataConfig(data_dir=str(args.data_dir))
    data, split = prepare_data(data_config)
    x = to_model_input(data.x)
    arrays = (x[split.train], data.y[split.train], x[split.val], data.y[split.val])
    print(f"{args.model}: {len(split.train):,} training images, batch 64, {args.epochs} epochs per measurement")
    results: dict[str, list[float]] = {"bare model.fit": [], "hcr train": [], "hcr train --augment": []}
    with tempfile.TemporaryDirectory() as runs:
        for repeat in range(args.repeats):
            sides = [
                ("bare model.fit", lambda seed=repeat: bare_fit(args.model, *arrays, args.epochs, seed)),
                (
                    "hcr train",
                    lambda seed=repeat: hcr_fit(args.model, data_config, args.epochs, False, Path(runs), seed),
                ),
            ]
            for name, measure in sides if repeat % 2 == 0 else sides[::-1]:
                results[name].append(measure())
            if args.augment:
                results["hcr train --augment"].append(
                    hcr_fit(args.model, data_config, args.epochs, True, Path(runs), repeat)
                )
            print(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:,.0f} img/s" for k, v in results.items() if v))
    reference = statistics.median(results["bare model.fit"])
    print(f"\n{'':24}{'median img/s':>14}{'min':>10}{'max':>10}{'÷ bare':>9}")
    for name, values in results.items():
        if values:
            median = statistics.median(values)
            print(f"{name:24}{median:14,.0f}{min(values):10,.0f}{max(values):10,.0f}{median / reference:9.2f}")
    ratio = statistics.median(results["hcr train"]) / reference
    print(f"\nhcr train ÷ bare model.fit = {ratio:.2f} (target ≥ 0.95): {'pass' if ratio >= 0.95 else 'FAIL'}")


if __name__ == "__main__":
    main()
