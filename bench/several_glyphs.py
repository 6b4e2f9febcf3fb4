"""Could a cheap rule tell an image of several glyphs from one letter? How often it would fire on real single letters.

    HCR_DATA_DIR=../shared/data .venv/bin/python -m bench.several_glyphs [--n 5000] [--seed 0]

The rule tried: the line segmenter (hcr.inference.segment, what `hcr read` cuts a line with) finds two or more
glyphs of letter size (each at least SIZE of the tallest one's height) in the image. It would report such an image
as not-a-letter ("several glyphs: use hcr read for a line"), but only if it (nearly) never fires on one real letter:
the bar is ≤ 0.1 % of real letters (issue 17). Real letters: --n letters from the data dir's default datasets
(every dataset there since dev protocol v2, mixed case, as hcr.data.load_datasets gives them), each made into a file by
one of hcr/evaluation/realworld.py's conditions in turn, plus the same letters with a broken stroke (a 1–2 px gap cut
across the letter, as a pencil skips, or E/H/K drawn with their strokes apart). Two real letters side by side
(hcr.evaluation.realworld.two_letters) give the rate at which it catches what it is meant to. Run from the
repository root.
"""

import argparse

import numpy as np

from hcr.data.sources import load_datasets
from hcr.evaluation.realworld import CONDITIONS, clean_drawing, two_letters
from hcr.inference.preprocess import ImageError, open_image
from hcr.inference.segment import segment_line
from hcr.labels import index_of

SIZE = 0.6  # a glyph at least this share of the tallest glyph's height counts as one of letter size


def several(data: bytes) -> bool:
    """Whether the rule says the image holds several letter-sized glyphs."""
    try:
        glyphs = segment_line(open_image(data))
    except ImageError:
        return False
    heights = [g.box[3] - g.box[1] for g in glyphs]
    return sum(h >= SIZE * max(heights) for h in heights) >= 2


def broken(letter: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """uint8 [28, 28]: the letter with a 1–2 px gap cut across it, upright or lying, through its ink."""
    out = letter.copy()
    axis = int(rng.integers(0, 2))
    inked = np.flatnonzero((letter > 64).any(axis=1 - axis))
    at = int(rng.choice(inked[len(inked) // 4 : len(inked) * 3 // 4] if len(inked) >= 4 else inked))
    width = int(rng.integers(1, 3))
    if axis == 0:
        out[at : at + width] = 0
    else:
        out[:, at : at + width] = 0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    data = load_datasets()
    picks = rng.choice(len(data), args.n, replace=False)
    conditions = list(CONDITIONS.items())
    fired: dict[str, list[bool]] = {}
    for i, index in enumerate(picks):
        name, condition = conditions[i % len(conditions)]
        fired.setdefault(name, []).append(several(condition(data.x[index], rng)))
        gapped = broken(data.x[index], rng)
        fired.setdefault("broken stroke (clean drawing)", []).append(several(clean_drawing(gapped, rng)))
    ehk = np.flatnonzero(np.isin(data.y, [index_of(c) for c in "EHK"]))
    for index in rng.choice(ehk, min(len(ehk), args.n // 5), replace=False):
        gapped = broken(broken(data.x[index], rng), rng)
        fired.setdefault("E/H/K, two gaps", []).append(several(clean_drawing(gapped, rng)))
    total = [f for values in fired.values() for f in values]
    for name, values in fired.items():
        print(f"{name:32s} {np.mean(values):7.2%} of {len(values)}")
    print(f"{'all real single letters':32s} {np.mean(total):7.2%} of {len(total)} (bar: ≤ 0.10 %)")
    pairs = two_letters(data.x, rng, 500)
    print(f"{'two letters side by side':32s} {np.mean([several(p) for p in pairs]):7.2%} caught of {len(pairs)}")


if __name__ == "__main__":
    main()
