"""The worst preprocessing time per image: shapes that once hung it, and a fuzz of random ink masks.

    .venv/bin/python -m bench.worst_case_preprocess [--sides 28,64,128,200,300] [--fuzz 2000] [--json PATH]

`to_letter_array` on images already decoded (preprocessing alone, no file I/O), one call each, timed as wall time
(perf_counter) and as the thread's CPU time (thread_time: what the image costs, without the time other work on a
shared machine took the core away; `--clock cpu`):
- the shapes that measured a stroke width in the thousands before preprocessing version 4 (a straight bar, a thick
  bar, a filled square, a rectangle, a one-pixel dot, a bold printed I), each drawn at every side in --sides, both
  polarities;
- --fuzz random ink masks at random sides up to the largest in --sides: rectangles, discs, thick and thin lines,
  salt noise and solid fills, overlapping at random;
- as the reference in the same run, real dev-test letters upscaled to the same sides (what `hcr predict` usually
  gets), so the worst case can be read as a ratio to the ordinary case on a machine shared with other work.
Target (issue 16): max and p99 ≤ 5 ms per image at ≤ 300 px. Run from the repository root.
"""

import argparse
import contextlib
import json
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from bench.paths import SHARED_DATA
from PIL import Image, ImageDraw, ImageFont
from rich.console import Console
from rich.table import Table

from hcr.data import load_datasets
from hcr.inference.preprocess import BlankImageError, to_letter_array

BOLD_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
TARGET_MS = 5.0


def shapes(side: int) -> Iterator[tuple[str, Image.Image]]:
    """Each solid shape at `side` px, black on white and white on black."""
    s = side
    boxes = {
        "bar": (s * 12 // 25, s // 8, s * 13 // 25, s * 7 // 8),
        "thick-bar": (s * 5 // 16, s // 16, s * 11 // 16, s * 15 // 16),
        "filled-square": (s // 7, s // 7, s * 6 // 7, s * 6 // 7),
        "rectangle": (s // 5, s * 3 // 10, s * 4 // 5, s * 7 // 10),
        "dot": (s // 2, s // 2, s // 2 + 1, s // 2 + 1),
    }
    for paper, ink in ((255, 0), (0, 255)):
        for name, (left, top, right, bottom) in boxes.items():
            image = Image.new("L", (s, s), paper)
            ImageDraw.Draw(image).rectangle((left, top, max(left, right - 1), max(top, bottom - 1)), fill=ink)
            yield name, image
        if BOLD_FONT.is_file():
            image = Image.new("L", (s, s), paper)
            font = ImageFont.truetype(BOLD_FONT, max(8, s * 4 // 5))
            ImageDraw.Draw(image).text((s / 2, s / 2), "I", font=font, fill=ink, anchor="mm")
            yield "bold-i", image


def random_mask(rng: np.random.Generator, max_side: int) -> Image.Image:
    """A random ink mask: 1–6 overlapping rectangles, discs, lines, noise patches or fills, either polarity."""
    w, h = (int(v) for v in rng.integers(8, max_side + 1, 2))
    image = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(1, 7))):
        x0, x1 = sorted(int(v) for v in rng.integers(0, w, 2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, h, 2))
        kind = rng.integers(5)
        if kind == 0:
            draw.rectangle((x0, y0, x1, y1), fill=255)
        elif kind == 1:
            draw.ellipse((x0, y0, x1, y1), fill=255)
        elif kind == 2:
            draw.line((x0, y0, x1, y1), fill=255, width=int(rng.integers(1, max(2, min(w, h) // 2))))
        elif kind == 3:
            noise = (rng.random((h, w)) < rng.uniform(0.01, 0.5)).astype(np.uint8) * 255
            image.paste(Image.fromarray(noise), mask=Image.fromarray(noise))
        else:
            draw.rectangle((0, 0, w - 1, h - 1), fill=255)
    values = np.asarray(image)
    return Image.fromarray(255 - values if rng.random() < 0.5 else values)


def real_letters(data_dir: Path, sides: list[int], n: int) -> Iterator[tuple[str, Image.Image]]:
    data = load_datasets([], data_dir)
    picks = np.random.default_rng(0).choice(len(data), n, replace=False)
    for i, pick in enumerate(picks):
        side = sides[i % len(sides)]
        yield "real letter", Image.fromarray(255 - data.x[pick]).resize((side, side), Image.Resampling.BILINEAR)


def timed(cases: Iterator[tuple[str, Image.Image]], clock: Callable[[], float]) -> dict[str, list[float]]:
    """Milliseconds of to_letter_array per image on `clock`, by case name (a blank image is an answer too)."""
    times: dict[str, list[float]] = {}
    for name, image in cases:
        start = clock()
        with contextlib.suppress(BlankImageError):
            to_letter_array(image)
        times.setdefault(name, []).append((clock() - start) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    return {
        "n": len(times),
        "median_ms": statistics.median(times),
        "p99_ms": float(np.percentile(times, 99)),
        "max_ms": max(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sides", default="28,64,128,200,300", help="image sides in px, comma-separated")
    parser.add_argument("--fuzz", type=int, default=2000, help="random ink masks")
    parser.add_argument("--repeats", type=int, default=5, help="times each shape is drawn at each side")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.thread_time
    sides = [int(s) for s in args.sides.split(",")]
    rng = np.random.default_rng(args.seed)

    to_letter_array(next(shapes(28))[1])  # first call: imports and caches out of the timings
    cases: dict[str, Callable[[], Iterator[tuple[str, Image.Image]]]] = {
        "shapes": lambda: (case for _ in range(args.repeats) for side in sides for case in shapes(side)),
        "fuzz": lambda: (("random mask", random_mask(rng, max(sides))) for _ in range(args.fuzz)),
        "reference": lambda: real_letters(args.data_dir, sides, 500),
    }
    results: dict[str, dict[str, float]] = {}
    for group, make in cases.items():
        times = timed(make(), clock)
        results.update((name, summary(t)) for name, t in times.items())
        if group == "shapes":
            results["all shapes"] = summary([t for by_name in times.values() for t in by_name])

    table = Table(
        title=f"to_letter_array, {args.clock} ms per image (sides {args.sides} px; target max and p99 ≤ {TARGET_MS} ms)"
    )
    for column in ("case", "images", "median", "p99", "max", "max ÷ reference median"):
        table.add_column(column, justify="left" if column == "case" else "right")
    reference = results["real letter"]["median_ms"]
    for name, row in results.items():
        table.add_row(
            name,
            f"{row['n']:,}",
            f"{row['median_ms']:.2f}",
            f"{row['p99_ms']:.2f}",
            f"{row['max_ms']:.2f}",
            f"{row['max_ms'] / reference:.1f}×",
        )
    Console().print(table)
    worst = max(row["max_ms"] for name, row in results.items() if name != "real letter")
    Console().print(f"worst case {worst:.2f} ms: {'✔' if worst <= TARGET_MS else '✘'} (≤ {TARGET_MS} ms)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
