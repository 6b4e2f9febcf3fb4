"""Time `nist-sd19` loading: the first load (read and convert every scan) and the cached reload, in fresh processes.

Target (issue): 30,000 scans in ≤ 15 s on 2 cores, cached like the other parses. Each measurement runs in a new
Python process with `HCR_CACHE_DIR` set: empty for the first load, the one it wrote for the reload. Wall and CPU
time (user + sys) are both reported; the machines are shared, so CPU time moves less when other work runs.

    .venv/bin/python bench/sd19_convert.py                 # ../shared/data/nist-sd19, 3 repeats
    .venv/bin/python bench/sd19_convert.py --repeats 1 --data-dir PATH
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TARGET_S = 15.0

CHILD = """
import json, os, resource, sys, time
from hcr.data import load_datasets
start = time.perf_counter()
data = load_datasets(["nist-sd19"], sys.argv[1])
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "images": len(data)}))
"""


def run_once(data_dir: Path, cache: Path) -> dict:
    env = {"HCR_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(data_dir)], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows: dict[str, list[dict]] = {"first load": [], "cached reload": []}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            rows["first load"].append(run_once(args.data_dir, Path(cache)))
            rows["cached reload"].append(run_once(args.data_dir, Path(cache)))
    images = rows["first load"][0]["images"]
    print(f"nist-sd19: {images:,} scans, {args.repeats} repeats (median [min–max]); target first load ≤ {TARGET_S} s")
    summary = {}
    for name, runs in rows.items():
        wall = [r["wall"] for r in runs]
        cpu = [r["cpu"] for r in runs]
        summary[name] = {"wall_median_s": statistics.median(wall), "cpu_median_s": statistics.median(cpu)}
        print(
            f"  {name:14s} wall {statistics.median(wall):6.2f} s [{min(wall):.2f}–{max(wall):.2f}]"
            f"   cpu {statistics.median(cpu):6.2f} s (process total, imports included)"
        )
    per_30k = summary["first load"]["wall_median_s"] * 30_000 / images
    verdict = "within" if per_30k <= TARGET_S else "OVER"
    print(f"  first load scaled to 30,000 scans: {per_30k:.1f} s ({verdict} target)")
    if args.json:
        args.json.write_text(json.dumps({"images": images, **summary, "first_load_per_30k_s": per_30k}, indent=2))


if __name__ == "__main__":
    main()
