"""Do NIST SD19 capitals converted by hcr look like EMNIST's own? Histograms and numbers, SD19 vs ByClass capitals.

EMNIST ByClass's capitals are SD19 scans converted by EMNIST's authors; `nist-sd19` converts other scans of the same
letters with the paper's steps (hcr.data.sd19_convert). If the conversion is faithful, the two agree on:

* ink area     — pixels brighter than 127 in the 28×28 image
* stroke width — 2 × ink area / ink boundary pixels (hcr.inference.preprocess's estimator), in px at 28×28
* box size     — the longest side of the box around every non-black pixel, in px (EMNIST: up to 28)

Both sides are compared letter for letter: ByClass capitals are resampled to SD19's letter mix, so that a letter more
frequent on one side (O, S in ByClass) does not move the means. Writes a figure and a JSON file.

    .venv/bin/python bench/sd19_stats.py --out out/sd19-stats
"""

import argparse
import json
from pathlib import Path

import numpy as np

from hcr.data import load_datasets
from hcr.data.case import UPPER
from hcr.labels import CLASSES

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def ink_area(x: np.ndarray) -> np.ndarray:
    return (x > 127).sum(axis=(1, 2))


def stroke_width(x: np.ndarray) -> np.ndarray:
    mask = x > 127
    inner = mask.copy()
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    inner[:, :, 1:] &= mask[:, :, :-1]
    inner[:, :, :-1] &= mask[:, :, 1:]
    area = mask.sum(axis=(1, 2))
    return 2 * area / np.maximum(1, area - inner.sum(axis=(1, 2)))


def box_size(x: np.ndarray) -> np.ndarray:
    rows, cols = (x > 0).any(axis=2), (x > 0).any(axis=1)
    height = 28 - rows.argmax(axis=1) - rows[:, ::-1].argmax(axis=1)
    width = 28 - cols.argmax(axis=1) - cols[:, ::-1].argmax(axis=1)
    return np.maximum(height, width)


MEASURES = {"ink area (px > 127)": ink_area, "stroke width (px)": stroke_width, "box size (longest side, px)": box_size}


def matched(reference_y: np.ndarray, y: np.ndarray, seed: int = 0) -> np.ndarray:
    """Indices into `y` drawing, per letter, as many images as `reference_y` holds (with replacement if short)."""
    rng = np.random.default_rng(seed)
    picks = []
    for label in range(26):
        members = np.flatnonzero(y == label)
        want = int((reference_y == label).sum())
        if want and len(members):
            picks.append(rng.choice(members, size=want, replace=len(members) < want))
    return np.concatenate(picks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    parser.add_argument("--out", type=Path, default=Path("out/sd19-stats"))
    args = parser.parse_args()
    sd19 = load_datasets(["nist-sd19"], args.data_dir)
    byclass = load_datasets(["emnist-byclass"], args.data_dir)
    capitals = byclass.take(np.flatnonzero(byclass.case == UPPER))
    emnist = capitals.take(matched(sd19.y, capitals.y))
    sets = {"NIST SD19 converted by hcr": sd19.x, "EMNIST ByClass capitals": emnist.x}
    results = {}
    for measure, fn in MEASURES.items():
        values = {name: fn(x).astype(float) for name, x in sets.items()}
        results[measure] = {
            name: {"mean": round(float(v.mean()), 2), "median": float(np.median(v)), "sd": round(float(v.std()), 2)}
            for name, v in values.items()
        }
    results["images"] = {"NIST SD19 converted by hcr": len(sd19), "EMNIST ByClass capitals": len(emnist)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "sd19_vs_emnist.json").write_text(json.dumps(results, indent=2))
    for measure in MEASURES:
        a, b = (results[measure][name] for name in sets)
        print(f"{measure:30s} SD19 {a['mean']:7.2f} ± {a['sd']:5.2f}   ByClass {b['mean']:7.2f} ± {b['sd']:5.2f}")
    _figure(sets, sd19, emnist, args.out / "sd19_vs_emnist.png")
    print(f"wrote {args.out / 'sd19_vs_emnist.png'} and sd19_vs_emnist.json")


def _figure(sets, sd19, emnist, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(14, 6))
    grid = fig.add_gridspec(2, 3, height_ratios=[1.6, 0.6])
    for column, (measure, fn) in enumerate(MEASURES.items()):
        ax = fig.add_subplot(grid[0, column])
        values = {name: fn(x) for name, x in sets.items()}
        top = max(np.percentile(v, 99.5) for v in values.values())
        bins = np.arange(17, 29) + 0.5 if "box" in measure else np.linspace(0, top, 40)
        for name, v in values.items():
            ax.hist(v, bins=bins, density=True, histtype="step", linewidth=1.8, label=f"{name} (mean {v.mean():.1f})")
        ax.set(title=measure, ylabel="share of images")
        ax.legend(fontsize=8)
    ax = fig.add_subplot(grid[1, :])
    rng = np.random.default_rng(1)
    letters = "AEHMRSW"
    rows = []
    for data in (sd19, emnist):
        picks = [rng.choice(np.flatnonzero(data.y == CLASSES.index(c)), 3, replace=False) for c in letters]
        rows.append(np.concatenate([np.concatenate(list(data.x[p]), axis=1) for p in picks], axis=1))
    ax.imshow(np.concatenate(rows, axis=0), cmap="gray", vmin=0, vmax=255)
    ax.set_yticks([14, 42], ["SD19 (hcr)", "ByClass"])
    ax.set_xticks([])
    ax.set_title("Random samples, same letters (" + " ".join(letters) + ")")
    fig.suptitle(f"NIST SD19 capitals converted by hcr ({len(sd19):,}) vs EMNIST ByClass capitals ({len(emnist):,})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
