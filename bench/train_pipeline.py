"""hcr's training input (uint8 pool, float32 made per batch: hcr.training.inputs) against `model.fit` on in-memory
float32 arrays, side by side; and the peak memory of `hcr train` on the million-image pool of bench/scale_data.py.

    .venv/bin/python bench/train_pipeline.py                    # throughput, then memory on a generated 1.2 M pool
    .venv/bin/python bench/train_pipeline.py --skip-memory            # throughput only: 26 min on the v2 pool
    .venv/bin/python bench/train_pipeline.py --skip-throughput --pool-dir /tmp/scale/keep   # a pool made before

Throughput (target: hcr ≥ 0.95× the reference, with and without augmentation): the same model (`--model`, default
baseline-cnn), built with the same seed on each side, on the dev pool (dev protocol v2: every dataset in
../shared/data, de-duplicated, stratified split, seed 0), batch 64, no validation (this measures the input, not
scoring). Without augmentation the reference is `model.fit(x_float32, y, batch_size=64, shuffle=True)`; with it, the
pipeline hcr used before (`from_tensor_slices` of the float32 train part, shuffled, batched, augmented per batch).
The two sides train one epoch each in turn (A B A B …, the order flipping every pair), so load from other work on
the shared cores falls on both alike; the first epoch of each (tracing) is left out and the table gives the median
over the rest, and the median of the per-pair ratios.

Memory (target ≤ 6 GB): `hcr train` in a fresh process on ByClass + Kaggle A–Z generated at full size
(bench/scale_data.py: 1,186,705 images parsed, the letters kept), `--max-steps-per-epoch` so that the run ends;
peak RSS is the process's VmHWM, read at exit. The parse cache is filled by a first run, so the figure is that of
a training run, not of the first parse (which bench/scale_data.py measures).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
sys.path.insert(0, str(REPO_ROOT / "bench"))

import keras  # noqa: E402  (after TF_CPP_MIN_LOG_LEVEL)

MEMORY_TARGET_MB = 6000
RATIO_TARGET = 0.95
REPORT_HWM = (
    "import atexit, sys\n"
    "def _hwm():\n"
    "    kb = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
    "    print(f'VmHWM_MB {int(kb) * 1024 / 1e6:.0f}', file=sys.stderr)\n"
    "atexit.register(_hwm)\n"
    "from hcr.cli import app\n"
    "app(sys.argv[1:], prog_name='hcr')\n"
)


class EpochTimer(keras.callbacks.Callback):
    """Seconds of every epoch, from its start to its end (no validation is run)."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.seconds.append(time.perf_counter() - self.started)


def throughput(model_name: str, epochs: int, data_dir: Path) -> dict[str, dict[str, float]]:
    import tensorflow as tf

    from hcr.configs import DataConfig, TrainConfig
    from hcr.data.prepare import prepare_data
    from hcr.inference.preprocess import to_model_input
    from hcr.models import create_model
    from hcr.models.augment import build_augmenter
    from hcr.training.inputs import ImagePool, steps_per_epoch

    data, split = prepare_data(DataConfig(data_dir=str(data_dir)))
    x_train = to_model_input(data.x[split.train])  # the reference's float32 arrays, made once, outside the timing
    y_train = data.y[split.train]
    pool = ImagePool(data.x, data.y)
    results = {}
    for augment in (False, True):
        config = TrainConfig(model=model_name, augment=augment, seed=0)
        steps = steps_per_epoch(len(split.train), config)

        def reference(model, timer, epoch, config=config):
            if not config.augment:
                model.fit(x_train, y_train, batch_size=64, shuffle=True, epochs=epoch + 1, initial_epoch=epoch,
                          callbacks=[timer], verbose=0)  # fmt: skip
                return
            augmenter = build_augmenter(config.rotation_degrees, config.shift, config.zoom, config.seed)
            dataset = (
                tf.data.Dataset.from_tensor_slices((x_train, y_train))
                .shuffle(len(x_train), seed=config.seed)
                .batch(64)
                .map(lambda images, labels: (augmenter(images, training=True), labels))
                .prefetch(tf.data.AUTOTUNE)
            )
            model.fit(dataset, epochs=epoch + 1, initial_epoch=epoch, shuffle=False, callbacks=[timer], verbose=0)

        def hcr(model, timer, epoch, config=config, steps=steps):
            batches = pool.training_batches(split.train, config)
            model.fit(batches, steps_per_epoch=steps, epochs=epoch + 1, initial_epoch=epoch, shuffle=False,
                      callbacks=[timer], verbose=0)  # fmt: skip

        sides = {}
        for name in ("reference", "hcr"):
            keras.utils.set_random_seed(0)
            model = create_model(model_name)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
            sides[name] = (model, EpochTimer())
        for epoch in range(epochs):
            order = ("reference", "hcr") if epoch % 2 == 0 else ("hcr", "reference")
            for name in order:
                model, timer = sides[name]
                (reference if name == "reference" else hcr)(model, timer, epoch)
        n_images = len(split.train)
        ref_s, hcr_s = sides["reference"][1].seconds[1:], sides["hcr"][1].seconds[1:]
        results["augmented" if augment else "plain"] = {
            "reference_images_per_s": n_images / statistics.median(ref_s),
            "hcr_images_per_s": n_images / statistics.median(hcr_s),
            "ratio_median": statistics.median(r / h for r, h in zip(ref_s, hcr_s, strict=True)),
            "epochs_timed": len(ref_s),
            "n_train": n_images,
            "reference_s": ref_s,
            "hcr_s": hcr_s,
        }
        print(json.dumps({"augment": augment} | results["augmented" if augment else "plain"]), flush=True)
    return results


def memory(pool_dir: Path | None, model_name: str, max_steps: int, keep: bool) -> dict[str, float]:
    import scale_data

    work = Path(tempfile.mkdtemp(prefix="hcr-train-pool-"))
    try:
        if pool_dir is None:
            pool_dir = work / "pool"
            pool_dir.mkdir()
            print(f"generating the pool: {scale_data.generate(pool_dir, SHARED_DATA, 1.0, 0.01, 0)}", flush=True)
        env = os.environ | {"HCR_CACHE_DIR": str(work / "cache"), "PYTHONPATH": str(REPO_ROOT / "src")}
        args = ["train", "--model", model_name, "-d", f"emnist-byclass:{pool_dir / 'byclass'}",
                "-d", f"az:{pool_dir / 'az'}", "--epochs", "1", "--max-steps-per-epoch", str(max_steps),
                "--runs-dir", str(work / "runs")]  # fmt: skip
        runs = {}
        for what in ("first parse", "from the cache"):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", REPORT_HWM, *args], env=env, capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"hcr train failed:\n{done.stdout}\n{done.stderr}")
            hwm = float(done.stderr.split("VmHWM_MB")[-1].split()[0])
            runs[what] = {"peak_rss_mb": hwm, "seconds": time.perf_counter() - started}
            print(json.dumps({what: runs[what]}), done.stdout.strip().splitlines()[-1], flush=True)
        metrics = json.loads(next((work / "runs").glob("*/metrics.json")).read_text())
        runs["n_scored"] = {"val": metrics["val"]["n"], "test": metrics["test"]["n"]}
        return runs
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="baseline-cnn")
    parser.add_argument("--epochs", type=int, default=6, help="epochs per side and mode; the first is not timed")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--pool-dir", type=Path, help="a pool bench/scale_data.py generated (else one is made)")
    parser.add_argument("--max-steps", type=int, default=50, help="--max-steps-per-epoch of the memory run")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict = {}
    if not args.skip_memory:  # first: this process is still small, and nothing else of it is running
        results["memory"] = memory(args.pool_dir, args.model, args.max_steps, keep=False)
    if not args.skip_throughput:
        results["throughput"] = throughput(args.model, args.epochs, args.data_dir)
    print()
    for mode, figures in results.get("throughput", {}).items():
        verdict = "✔" if figures["ratio_median"] >= RATIO_TARGET else "✘"
        print(f"{mode:10} reference {figures['reference_images_per_s']:8.0f} img/s"
              f"  hcr {figures['hcr_images_per_s']:8.0f} img/s  hcr/reference"
              f" (median of {figures['epochs_timed']} epoch pairs) {figures['ratio_median']:.3f}"
              f"  target ≥ {RATIO_TARGET} {verdict}")  # fmt: skip
    for what in ("first parse", "from the cache"):
        if what in results.get("memory", {}):
            peak = results["memory"][what]["peak_rss_mb"]
            verdict = "✔" if peak <= MEMORY_TARGET_MB else "✘"
            print(
                f"hcr train on the 1.2 M pool ({what}): peak RSS {peak:,.0f} MB  target ≤ {MEMORY_TARGET_MB} {verdict}"
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
