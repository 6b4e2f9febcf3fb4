"""Accuracy of the model zoo on the dev protocol, each model with its default recipe, as `hcr train` runs it.

    .venv/bin/python bench/train_accuracy.py [--models baseline-cnn,regularized-cnn,mobilenetv2-finetune]

Dev protocol: all real images in ../shared/data combined, stratified 70/15/15 split, seed 0. Checkpoints are
picked by validation accuracy only; test accuracy and macro-F1 are reported for the picked checkpoint. Targets
(issue 3): baseline-cnn ≥ 90 %, regularized-cnn ≥ 95 % within 5 minutes of training, mobilenetv2-finetune ≥ 94 %.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hcr.configs import DataConfig
from hcr.training.config import resolve_config
from hcr.training.fit import train

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TARGETS = {"baseline-cnn": 0.90, "regularized-cnn": 0.95, "mobilenetv2-finetune": 0.94}
TIME_LIMITS_S = {"regularized-cnn": 300}
WEIGHTS = SHARED / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="baseline-cnn,regularized-cnn,mobilenetv2-frozen,mobilenetv2-finetune")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/bench"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    rows = []
    for name in args.models.split(","):
        weights = str(WEIGHTS) if name.startswith("mobilenet") else None
        started = time.perf_counter()
        result = train(resolve_config(name, weights=weights), DataConfig(data_dir=str(SHARED / "data")), args.runs_dir)
        wall = time.perf_counter() - started
        metrics = result.metrics
        rows.append(
            {
                "model": name,
                "val_accuracy": metrics["val"]["accuracy"],
                "test_accuracy": metrics["test"]["accuracy"],
                "test_macro_f1": metrics["test"]["macro_f1"],
                "epochs": metrics["epochs_done"],
                "best_epoch": metrics["best_epoch"],
                "train_s": metrics["train_seconds_this_session"],
                "wall_s": round(wall, 1),
                "images_per_s": metrics["images_per_second"],
                "run": str(result.run.path),
            }
        )
        print(json.dumps(rows[-1]), flush=True)

    print(f"\n{'model':22}{'val acc':>9}{'test acc':>10}{'macro-F1':>10}{'epochs':>8}{'train s':>9}  target")
    for row in rows:
        target = TARGETS.get(row["model"])
        verdict = ""
        if target is not None:
            in_time = row["train_s"] <= TIME_LIMITS_S.get(row["model"], float("inf"))
            verdict = f"≥ {target:.0%}: {'pass' if row['test_accuracy'] >= target and in_time else 'FAIL'}"
        print(
            f"{row['model']:22}{row['val_accuracy']:9.4f}{row['test_accuracy']:10.4f}{row['test_macro_f1']:10.4f}"
            f"{row['epochs']:>8}{row['train_s']:9.0f}  {verdict}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
