"""How fast `hcr predict` is: per-file latency, model throughput, and the cold start of the command.

    .venv/bin/python -m bench.predict_speed MODEL [--files 200] [--repeats 5] [--cold 7] [--json out/speed.json]

MODEL is a model.onnx from `hcr export` (or its folder). Three measurements, each a median:
- file → letter latency: one PNG at a time (28, 64, 128 and 200 px, real letters, black on white, written to a
  temporary folder) through Predictor.predict_files — decode, preprocess and model. Target p50 ≤ 1 ms. The
  thread's CPU time is given beside the wall time: it moves less when other work shares the cores.
- model throughput: Predictor.predict_arrays on 8,192 real uint8 letters (conversion to float included), in the
  predictor's own batches, `--repeats` times. Target ≥ 25,000 images/s on 2 cores.
- cold start: `hcr predict one.png --model MODEL` in `--cold` fresh processes, wall time from spawn to exit.
  Target ≤ 0.5 s. With --importtime, the slowest imports of one such run are listed too.
The machines these run on are shared: figures move with the load, so the load average is printed with them.
Run from the repository root (it reads the real letters from ../shared/data).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench.paths import SHARED_DATA
from PIL import Image
from rich.console import Console
from rich.table import Table

from hcr.data import load_datasets
from hcr.inference.predictor import Predictor

SIDES = (28, 64, 128, 200)
HCR = Path(sys.executable).with_name("hcr")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--files", type=int, default=200, help="files per image size")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cold", type=int, default=7, help="fresh `hcr predict` processes")
    parser.add_argument("--importtime", action="store_true", help="list the slowest imports of a cold start")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    predictor = Predictor(args.model)
    letters = load_datasets([], args.data_dir).x  # uint8 [N, 28, 28], bright ink on black
    picks = np.random.default_rng(0).choice(len(letters), max(8192, args.files), replace=False)
    results = {"model": str(args.model), "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        results["latency_ms_p50"] = {
            side: latency(predictor, letters[picks[: args.files]], side, Path(tmp)) for side in SIDES
        }
        results["throughput_per_s"] = throughput(predictor, letters[picks[:8192]], args.repeats)
        results["cold_start_s"] = cold_start(args.model, Path(tmp) / "28-0.png", args.cold)
        if args.importtime:
            results["slowest_imports"] = slowest_imports(args.model, Path(tmp) / "28-0.png")
    results["load_after"] = os.getloadavg()[0]
    report(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


def latency(predictor: Predictor, letters: np.ndarray, side: int, folder: Path) -> dict[str, float]:
    """Median ms per file, each file predicted on its own (decode + preprocess + model): wall time, and the
    calling thread's CPU time (the predictor runs one file on that thread only), which moves less with the load."""
    paths = []
    for i, letter in enumerate(letters):
        paths.append(folder / f"{side}-{i}.png")
        Image.fromarray(255 - letter).resize((side, side), Image.Resampling.BICUBIC).save(paths[-1])
    for path in paths[:20]:  # warm-up: first calls allocate
        next(predictor.predict_files([path]))
    wall, cpu = [], []
    for path in paths:
        started, started_cpu = time.perf_counter(), time.thread_time()
        next(predictor.predict_files([path]))
        wall.append(time.perf_counter() - started)
        cpu.append(time.thread_time() - started_cpu)
    return {"wall": 1000 * statistics.median(wall), "cpu": 1000 * statistics.median(cpu)}


def throughput(predictor: Predictor, x: np.ndarray, repeats: int) -> float:
    """Median images/s of predict_arrays on a large batch."""
    predictor.predict_arrays(x[:1024])  # warm-up
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        predictor.predict_arrays(x)
        rates.append(len(x) / (time.perf_counter() - started))
    return statistics.median(rates)


def cold_start(model: Path, image: Path, runs: int) -> dict[str, float]:
    """Wall seconds of `hcr predict IMAGE --model MODEL` in fresh processes: median, min, max."""
    command = [str(HCR), "predict", str(image), "--model", str(model), "--json"]
    subprocess.run(command, capture_output=True, check=True)  # warm the OS file cache once
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return {"median": statistics.median(times), "min": min(times), "max": max(times)}


def slowest_imports(model: Path, image: Path, top: int = 12) -> list[tuple[str, float]]:
    """The modules with the largest cumulative import time (ms) in one cold `hcr predict`."""
    command = [sys.executable, "-X", "importtime", "-m", "hcr", "predict", str(image), "--model", str(model)]
    stderr = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    rows = []
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line[len("import time:") :].split("|")
            if not name.startswith("  "):  # top-level imports only: their times include their children
                rows.append((name.strip(), int(cumulative) / 1000))
    return sorted(rows, key=lambda r: -r[1])[:top]


def report(results: dict) -> None:
    table = Table(title=f"hcr predict speed · load average {results['load_before']:.1f} → {results['load_after']:.1f}")
    for column in ("measurement", "median", "target"):
        table.add_column(column, justify="left" if column == "measurement" else "right")
    for side, ms in results["latency_ms_p50"].items():
        table.add_row(f"file → letter, {side} px PNG (p50; CPU {ms['cpu']:.2f} ms)", f"{ms['wall']:.2f} ms", "≤ 1 ms")
    table.add_row("model batch throughput", f"{results['throughput_per_s']:,.0f} images/s", "≥ 25,000")
    cold = results["cold_start_s"]
    table.add_row(
        f"`hcr predict one.png` cold start (min {cold['min']:.2f}, max {cold['max']:.2f})",
        f"{cold['median']:.2f} s",
        "≤ 0.5 s",
    )
    Console().print(table)
    for name, ms in results.get("slowest_imports", []):
        Console().print(f"  import {name}: {ms:.0f} ms", highlight=False)


if __name__ == "__main__":
    main()
