"""Fine-tuning MobileNetV2 on cached cut-point activations (hcr.training.cut_cache) against running the whole model
every step: epoch time side by side, then accuracy after the same epochs, without and with augmentation.

    .venv/bin/python bench/finetune_cache.py                          # 100 per letter of az + emnist-letters
    .venv/bin/python bench/finetune_cache.py --skip-accuracy --pairs 5

Speed (target: cached epochs ≥ 4× faster): mobilenetv2-finetune's defaults (96 px, top 10 blocks unfrozen), the
training part of the data's split, batch 64, no validation. One model; its uncached form (the whole model) and
its cached form (the upper part, which shares the model's layers) train one epoch each in turn, the order flipping
every pair, so load from other work on the shared cores falls on both alike; the first epoch of each (tracing) is
left out, and the table gives the medians and the median of the per-pair ratios. Building the cache (the lower
blocks once over the training part) is timed apart: it is paid once per run, per version of each image.

Accuracy: `hcr train`'s own loop (hcr.training.fit.train), `--epochs` epochs, cache on and off (cache_activations),
each without and with augmentation (the cache holding the original and `augmented_copies` copies), for each of
`--seeds` (training seeds; the split is the data's, seed 0).
"""

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
WEIGHTS = REPO_ROOT.parent / "shared" / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"

import keras  # noqa: E402  (after TF_CPP_MIN_LOG_LEVEL)

from hcr.data.prepare import prepare_data  # noqa: E402
from hcr.models import create_model, transfer  # noqa: E402
from hcr.training.config import DataConfig, resolve_config  # noqa: E402
from hcr.training.cut_cache import CutCache  # noqa: E402
from hcr.training.fit import train  # noqa: E402
from hcr.training.inputs import ImagePool, steps_per_epoch  # noqa: E402


def epoch_seconds(model: keras.Model, batches, steps: int) -> float:
    started = time.perf_counter()
    model.fit(batches, steps_per_epoch=steps, epochs=1, verbose=0)
    return time.perf_counter() - started


def speed(data_config: DataConfig, pairs: int) -> dict:
    data, split = prepare_data(data_config)
    config = resolve_config("mobilenetv2-finetune", weights=str(WEIGHTS))
    model = create_model(config.model, weights=config.weights, **config.hparams)
    cut = transfer.cut(model)
    pool = ImagePool(data.x, data.y)
    started = time.perf_counter()
    cache = CutCache.build(cut, pool, split.train, split.val, config)
    cache_seconds = time.perf_counter() - started
    sides = {"uncached": model, "cached": cut.upper}
    inputs = {
        "uncached": pool.training_batches(split.train, config),
        "cached": cache.training_batches(data.y[split.train], config),
    }
    for side in sides.values():
        side.compile(optimizer=keras.optimizers.Adam(1e-4), loss="sparse_categorical_crossentropy")
    steps = steps_per_epoch(len(split.train), config)
    times: dict[str, list[float]] = {name: [] for name in sides}
    for name in sides:  # tracing
        epoch_seconds(sides[name], inputs[name], steps)
    for pair in range(pairs):
        for name in sides if pair % 2 == 0 else reversed(sides):
            times[name].append(epoch_seconds(sides[name], inputs[name], steps))
            print(f"pair {pair + 1} {name}: {times[name][-1]:.1f} s", flush=True)
    ratios = [u / c for u, c in zip(times["uncached"], times["cached"], strict=True)]
    return {
        "train_images": len(split.train),
        "cut_shape": list(cut.lower.output_shape[1:]),
        "bytes_per_image": cut.bytes_per_image,
        "cache_seconds_train_and_val": round(cache_seconds, 1),
        "epoch_seconds": {name: [round(t, 2) for t in ts] for name, ts in times.items()},
        "median_epoch_seconds": {name: round(statistics.median(ts), 2) for name, ts in times.items()},
        "median_pair_ratio": round(statistics.median(ratios), 2),
    }


def accuracy(data_config: DataConfig, epochs: int, copies: int, seeds: list[int]) -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as runs:
        for seed, augment, cached in itertools.product(seeds, (False, True), (True, False)):
            config = resolve_config(
                "mobilenetv2-finetune", epochs=epochs, augment=augment, augmented_copies=copies,
                cache_activations=cached, seed=seed, weights=str(WEIGHTS),
            )  # fmt: skip
            started = time.perf_counter()
            metrics = train(config, data_config, Path(runs)).metrics
            name = f"{'augmented' if augment else 'plain'}, {'cached' if cached else 'uncached'}, seed {seed}"
            results[name] = {
                "val_accuracy": round(metrics["val"]["accuracy"], 4),
                "test_accuracy": round(metrics["test"]["accuracy"], 4),
                "train_seconds": round(metrics["train_seconds_this_session"], 1),
                "run_seconds": round(time.perf_counter() - started, 1),
            }
            print(name, results[name], flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--copies", type=int, default=3, help="augmented copies cached besides the original")
    parser.add_argument("--seeds", default="0", help="training seeds of the accuracy runs, e.g. 0,1,2")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    data_config = DataConfig(datasets=("az", "emnist-letters"), data_dir=str(SHARED_DATA), per_class=args.per_class)
    report = {}
    if not args.skip_speed:
        report["speed"] = speed(data_config, args.pairs)
    if not args.skip_accuracy:
        seeds = [int(seed) for seed in args.seeds.split(",")]
        report["accuracy"] = accuracy(data_config, args.epochs, args.copies, seeds)
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
