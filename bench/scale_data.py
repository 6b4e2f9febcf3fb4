"""Benchmark a million-image pool: full-size EMNIST ByClass (gzip IDX) + Kaggle A–Z (CSV), parsed, cached, de-duplicated
and split on the 2-core dev machine.

    .venv/bin/python bench/scale_data.py                          # full size: 814,255 + 372,450 images, 3 repeats
    .venv/bin/python bench/scale_data.py --scale 0.02 --repeats 1  # a smoke run (seconds)

Targets (issue 12, "Scale"), for 1.2 M images:

* first parse   — `load_dataset` of both sources with an empty `HCR_CACHE_DIR`, in a fresh process: ≤ 30 s
* peak RSS      — `ru_maxrss` of that process (interpreter and imports included): ≤ 4 GB
* cached reload — the same two loads in a new process, from the cache the first parse wrote: ≤ 1 s
* dedup + split — `deduplicate(concat(...))` then `make_split` of the combined pool, from the cache: ≤ 10 s

Why the files are generated: the full sets cannot be brought into this environment. They are built, in a temporary
folder, from the real rows of `../shared/data` in the official formats: `emnist-byclass-{train,test}-*-ubyte.gz`
(697,932 + 116,323 images, stored transposed, labels 0..61, digits included as in the real file) with the real
mapping file, and `A_Z Handwritten Data.csv` (372,450 headerless lines, label 0..25). Every generated image is a
real one with a few pixels nudged by a seeded ±1..3 (`perturb`), so copies of one real image do not collapse into
one when de-duplicated: in the real files such copies are distinct scans. To give dedup real work, `--overlap`
(default 1 %) of the Kaggle rows are exact copies of ByClass capitals, as EMNIST's splits share images in reality.
Each measurement runs in a fresh subprocess (so peak RSS is per measurement); the table gives medians over repeats,
each repeat also times `np.load` of a .npy the size of the pool (what reading the cache would cost; hcr maps it),
and the exact grouping dedup used before (np.unique on the rows' bytes), side by side. CPU time of the first parse
is given too: the machines are shared, and it moves less than wall time when other work runs.
"""

import argparse
import gzip
import json
import os
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
BYCLASS_TRAIN, BYCLASS_TEST, AZ_ROWS = 697_932, 116_323, 372_450  # the official sizes
N_PIXELS = 28 * 28
TARGETS = {"first_parse_s": 30.0, "first_parse_rss_mb": 4000.0, "reload_s": 1.0, "dedup_split_s": 10.0}

Result = dict[str, Any]


def _maxrss_mb() -> float:
    """Peak RSS of this process: VmHWM, not `ru_maxrss`, which Linux carries over `exec` from the parent (the
    generator, which holds the whole pool)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise OSError("no VmHWM in /proc/self/status")


# ---------------------------------------------------------------- measuring, in a fresh subprocess


def _child(mode: str, folder: Path) -> Result:
    """One measurement; `HCR_CACHE_DIR` is set by the parent (empty for `parse`, filled for the others)."""
    if mode == "npy":
        started = time.perf_counter()
        array = np.load(folder / "floor.npy")
        return {"seconds": time.perf_counter() - started, "rss_mb": _maxrss_mb(), "n": len(array), "cpu_s": _cpu_s()}
    from hcr.data import make_split
    from hcr.data.dataset import concat
    from hcr.data.dedup import deduplicate
    from hcr.data.sources import DatasetSpec, load_dataset

    specs = [DatasetSpec.parse(f"emnist-byclass:{folder / 'byclass'}"), DatasetSpec.parse(f"az:{folder / 'az'}")]
    started = time.perf_counter()
    parts = [load_dataset(spec, folder) for spec in specs]
    out: Result = {"seconds": time.perf_counter() - started, "n_loaded": sum(len(p) for p in parts)}
    out["cpu_s"] = _cpu_s()
    if mode == "dedup":
        import sklearn.model_selection  # noqa: F401  (its import, seconds on a busy machine, is not the split's)

        started, cpu = time.perf_counter(), time.process_time()
        data = deduplicate(concat(parts))
        out["dedup_s"], out["dedup_cpu_s"] = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        split = make_split(data, seed=0)
        out["split_s"], out["split_cpu_s"] = time.perf_counter() - started, time.process_time() - cpu
        out |= {"n_pool": len(data), "duplicates": dict(data.duplicates), "split": split.sizes()}
        rows = np.ascontiguousarray(concat(parts).x).reshape(out["n_loaded"], -1)
        started = time.perf_counter()  # reference, side by side: the exact grouping dedup used before (sorting bytes)
        np.unique(rows.view(np.dtype((np.void, rows.shape[1]))).ravel(), return_index=True, return_inverse=True)
        out["dedup_by_sorting_bytes_s"] = time.perf_counter() - started
    return out | {"rss_mb": _maxrss_mb()}


def _cpu_s() -> float:
    """user + system CPU seconds of this process: steadier than wall time when other work shares the cores."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_child(mode: str, folder: Path, cache: Path) -> Result:
    env = os.environ | {"HCR_CACHE_DIR": str(cache), "PYTHONPATH": str(REPO_ROOT / "src")}
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--workdir", str(folder)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode:
        raise SystemExit(f"child {mode} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- generating, in the parent


def perturb(images: np.ndarray, rng: np.random.Generator, n_pixels: int = 6) -> None:
    """Nudge `n_pixels` random pixels of every image by ±1..3, in place: a copy of a real image that dedup keeps."""
    n = len(images)
    flat = images.reshape(n, -1)
    where = rng.integers(0, flat.shape[1], size=(n, n_pixels))
    step = rng.choice(np.array([-3, -2, -1, 1, 2, 3], dtype=np.int16), size=(n, n_pixels))
    rows = np.arange(n)[:, None]
    flat[rows, where] = np.clip(flat[rows, where].astype(np.int16) + step, 0, 255).astype(np.uint8)


def _write_idx_gz(path: Path, array: np.ndarray, magic: int) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    with gzip.open(path, "wb", compresslevel=6) as f:  # gzip's default level, as the official files
        f.write(header)
        f.write(np.ascontiguousarray(array).data)


def generate(folder: Path, shared: Path, scale: float, overlap: float, seed: int) -> dict[str, int]:
    """Write the ByClass IDX files + mapping and the Kaggle CSV under `folder`; return how many of each."""
    import polars as pl

    sys.path.insert(0, str(REPO_ROOT / "src"))
    from hcr.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx

    rng = np.random.default_rng(seed)
    real_dir = shared / "emnist-byclass"
    real_x = read_idx(real_dir / "emnist-byclass-test-images-idx3-ubyte.gz", IMAGES_MAGIC, (28, 28))  # transposed
    real_y = read_idx(real_dir / "emnist-byclass-test-labels-idx1-ubyte.gz", LABELS_MAGIC, ())
    (folder / "byclass").mkdir()
    shutil.copy(real_dir / "emnist-byclass-mapping.txt", folder / "byclass")
    sizes = {"byclass-train": round(BYCLASS_TRAIN * scale), "byclass-test": round(BYCLASS_TEST * scale)}
    jobs = []
    with ThreadPoolExecutor(2) as pool:  # zlib releases the GIL: compress the big files side by side
        for part in ("train", "test"):
            picks = rng.integers(0, len(real_x), size=sizes[f"byclass-{part}"])
            x = real_x[picks]
            perturb(x, rng)
            stem = folder / "byclass" / f"emnist-byclass-{part}"
            jobs.append(pool.submit(_write_idx_gz, Path(f"{stem}-images-idx3-ubyte.gz"), x, IMAGES_MAGIC))
            jobs.append(pool.submit(_write_idx_gz, Path(f"{stem}-labels-idx1-ubyte.gz"), real_y[picks], LABELS_MAGIC))
            if part == "train":
                capitals = np.flatnonzero((real_y[picks] >= 10) & (real_y[picks] <= 35))
                shared_x, shared_y = x[capitals], real_y[picks][capitals] - 10  # exact copies for the Kaggle file
        az = np.loadtxt(shared / "az" / "A_Z Handwritten Data.csv", delimiter=",", dtype=np.uint8)
        n_az = round(AZ_ROWS * scale)
        rows = az[rng.integers(0, len(az), size=n_az)]
        perturb(rows[:, 1:], rng)
        n_copies = min(round(n_az * overlap), len(shared_x))
        copies = rng.choice(len(shared_x), size=n_copies, replace=False)
        rows[:n_copies, 0] = shared_y[copies]
        rows[:n_copies, 1:] = shared_x[copies].transpose(0, 2, 1).reshape(n_copies, -1)  # Kaggle's are upright
        rows = rows[rng.permutation(n_az)]
        (folder / "az").mkdir()
        pl.DataFrame(rows).write_csv(folder / "az" / "A_Z Handwritten Data.csv", include_header=False)
        for job in jobs:
            job.result()
    np.save(folder / "floor.npy", np.zeros((sizes["byclass-train"] + sizes["byclass-test"] + n_az, 28, 28), np.uint8))
    subprocess.run(["sync"], check=False)  # a flush in progress slows the reads measured next
    return sizes | {"az": n_az, "az-copies-of-byclass": n_copies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the official sizes to generate")
    parser.add_argument("--overlap", type=float, default=0.01, help="share of Kaggle rows copied from ByClass")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA)
    parser.add_argument("--workdir", type=Path, help="generate under this folder (a temporary one by default)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.workdir)))
        return

    folder = Path(tempfile.mkdtemp(prefix="hcr-scale-", dir=args.workdir))
    try:
        started = time.perf_counter()
        sizes = generate(folder, args.shared_data, args.scale, args.overlap, args.seed)
        print(f"generated {sizes} in {time.perf_counter() - started:.0f} s under {folder}")
        repeats: list[Result] = []
        for repeat in range(args.repeats):
            cache = folder / f"cache-{repeat}"
            parse = run_child("parse", folder, cache)
            subprocess.run(["sync"], check=False)
            measured = {"parse": parse}
            order = ("reload", "npy") if repeat % 2 == 0 else ("npy", "reload")  # idle memory costs the first one
            for mode in order:
                measured[mode] = run_child(mode, folder, cache)
            measured["dedup"] = run_child("dedup", folder, cache)
            shutil.rmtree(cache)
            repeats.append(measured)
            print(f"repeat {repeat + 1}: {json.dumps(measured)}", flush=True)
        report(repeats)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"sizes": sizes, "repeats": repeats}, indent=1))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(repeats: list[Result]) -> None:
    def median(mode: str, key: str) -> float:
        return statistics.median(r[mode][key] for r in repeats)

    last = repeats[-1]["dedup"]
    rows = [
        ("first parse, both sources (fresh cache)", median("parse", "seconds"), "s", TARGETS["first_parse_s"]),
        ("  CPU time (user + system) of that process", median("parse", "cpu_s"), "s", None),
        ("peak RSS, first parse", median("parse", "rss_mb"), "MB", TARGETS["first_parse_rss_mb"]),
        ("cached reload", median("reload", "seconds"), "s", TARGETS["reload_s"]),
        ("  reference: np.load (read, not mapped) of a .npy that size", median("npy", "seconds"), "s", None),
        ("peak RSS, cached reload", median("reload", "rss_mb"), "MB", None),
        ("dedup + split", median("dedup", "dedup_s") + median("dedup", "split_s"), "s", TARGETS["dedup_split_s"]),
        ("  of which dedup", median("dedup", "dedup_s"), "s", None),
        ("  of which split", median("dedup", "split_s"), "s", None),
        (
            "  CPU time (user + system) of dedup + split",
            median("dedup", "dedup_cpu_s") + median("dedup", "split_cpu_s"),
            "s",
            None,
        ),
        ("  reference: grouping by sorting the bytes", median("dedup", "dedup_by_sorting_bytes_s"), "s", None),
        ("peak RSS, reload + dedup + split", median("dedup", "rss_mb"), "MB", None),
    ]
    print(f"\n{len(repeats)} repeats; images loaded {repeats[-1]['parse']['n_loaded']:,} (letters), pool after dedup "
          f"{last['n_pool']:,}, removed {last['duplicates']}, split {last['split']}")  # fmt: skip
    print(f"{'measurement':48} {'median':>10}  target")
    for name, value, unit, target in rows:
        verdict = "" if target is None else f"≤ {target:g} {unit} {'✔' if value <= target else '✘'}"
        print(f"{name:48} {value:>8.2f} {unit:2}  {verdict}")


if __name__ == "__main__":
    main()
