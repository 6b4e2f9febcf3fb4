"""How many letters/s compact-cnn reads at other widths: the speed half of choosing the shipped architecture (the
accuracy half is training each width: docs/benchmarks.md, "The capitals of every dataset").

    .venv/bin/python -m bench.model_widths [--widths 16,32,64 24,48,96 16,48,96] [--repeats 7] [--json PATH]

Each width is compact-cnn's builder (regularized-cnn's: one 3×3 convolution per block, batch norm, max-pooling,
dense 256) with those filters per block and 27 outputs, as the shipped model has; untrained, since the speed of a
network does not depend on its weights. Each is exported to ONNX as `hcr export` does (write_onnx) and run as
`hcr predict` runs a batch (Predictor's session and threads, the uint8 → float conversion included) on 8,192 real
letters. The widths run in turn, `--repeats` times, the order flipping every repeat, so load from other work falls
on all alike; the table gives the median letters/s and the median ratio to the first width. Target for the shipped model
(issue 17): ≥ 25,000 letters/s on 2 cores. The time goes to the 28×28 and 14×14 activations more than to the
multiply-adds: 32 filters in the first block cost more than 96 in the last. Run from the repository root.
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from bench.paths import SHARED_DATA
from rich.console import Console
from rich.table import Table

from hcr.data import load_datasets
from hcr.inference.predictor import Predictor, run_session
from hcr.models import create_model
from hcr.training.export import write_onnx

TARGET = 25_000


def exported(filters: tuple[int, ...], folder: Path) -> tuple[Path, int]:
    """compact-cnn with these filters as model.onnx in `folder`, and its parameter count."""
    model = create_model("compact-cnn", num_classes=27, filters=filters)
    path = folder / f"{'-'.join(map(str, filters))}.onnx"
    write_onnx(model, path)
    return path, model.count_params()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--widths", nargs="+", default=["16,32,64", "24,48,96", "16,48,96", "16,32,96"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    widths = [tuple(int(n) for n in width.split(",")) for width in args.widths]
    letters = load_datasets([], args.data_dir).x
    x = letters[np.random.default_rng(0).choice(len(letters), 8192, replace=False)]
    pool = ThreadPoolExecutor(os.cpu_count() or 1)  # as Predictor spreads a batch
    with tempfile.TemporaryDirectory() as tmp:
        models = {width: exported(width, Path(tmp)) for width in widths}
        sessions = {width: Predictor.create_session(path) for width, (path, _) in models.items()}
        sizes = {width: path.stat().st_size for width, (path, _) in models.items()}
        for session in sessions.values():
            run_session(session, x[:1024], pool)  # warm-up: first calls allocate
        rates: dict[tuple[int, ...], list[float]] = {width: [] for width in widths}
        for repeat in range(args.repeats):
            for width in widths if repeat % 2 == 0 else widths[::-1]:
                started = time.perf_counter()
                run_session(sessions[width], x, pool)
                rates[width].append(len(x) / (time.perf_counter() - started))
    first = rates[widths[0]]
    results = {
        ",".join(map(str, width)): {
            "params": models[width][1],
            "onnx_bytes": sizes[width],
            "letters_per_s": statistics.median(rates[width]),
            "ratio_to_first": statistics.median(r / f for r, f in zip(rates[width], first, strict=True)),
            "runs": rates[width],
        }
        for width in widths
    }
    table = Table(title=f"compact-cnn widths, ONNX Runtime, {os.cpu_count()} cores (load {os.getloadavg()[0]:.1f})")
    for column in ("filters", "params", "ONNX", "letters/s", "× first", f"≥ {TARGET:,}"):
        table.add_column(column, justify="right")
    for width, figures in results.items():
        table.add_row(
            width,
            f"{figures['params']:,}",
            f"{figures['onnx_bytes'] / 1e6:.2f} MB",
            f"{figures['letters_per_s']:,.0f}",
            f"{figures['ratio_to_first']:.2f}",
            "✔" if figures["letters_per_s"] >= TARGET else "✘",
        )
    Console().print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
