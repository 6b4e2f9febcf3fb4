"""Inputs that hold no letter, for a model that must answer `not-a-letter` rather than its nearest letter.

hcr train --model compact-cnn -d az -d emnist-byclass --case upper --canonical --out-of-scope 0.1

People hand a letter reader digits, scribbles, two letters at once and empty boxes (issue 17); a 26-way softmax then
names a letter, often confidently. Four kinds are made here, each drawn as a file (render_file; a share as clean
drawings) and read back by `hcr predict`'s preprocessing, so the model sees what it will be shown:
- real handwritten digits from EMNIST ByClass, less 0 and 1: a written 0 is an O and a 1 an I, and no one could
  tell them apart, so training them as not-a-letter would teach the model to refuse real Os and Is;
- scribbles: random pen paths of a few strokes;
- two letters side by side, touching or overlapping;
- box frames with nothing in them (whole, or two opposite sides).
A file that reads as blank is dropped: `hcr predict` answers those `blank` before the model sees them. A share of the
digits (HELD_OUT_DIGITS) is never trained on, for calibration and reporting.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from hcr.data.emnist import BYCLASS, find_emnist_files, load_emnist_digits
from hcr.data.rendered import DEFAULT_PROCESSES, cached, read_back_all
from hcr.errors import DataError
from hcr.paths import resolve_data_dir

EXCLUDED_DIGITS = (0, 1)  # look exactly like O and I
KINDS = ("digit", "scribble", "two letters", "empty box")
SHARES = (0.4, 0.25, 0.2, 0.15)  # of the examples made, by kind
CLEAN_SHARE = 0.3  # drawn as clean drawings (a tablet, a paint program) rather than as photos or scans
HELD_OUT_DIGITS = 0.2  # digits never trained on
CANVAS = 56  # px: the side scribbles and boxes are drawn at (two dataset letters side by side are 28 × ≤ 56)


def digit_pools(data_dir: Path | str | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(digits to train on, held-out digits): uint8 [M, 28, 28] each, ByClass digits 2–9, split at random."""
    folder = resolve_data_dir(data_dir)
    files = find_emnist_files(folder, BYCLASS)
    if files is None:
        raise DataError(folder, "--out-of-scope needs EMNIST ByClass (its digits); no emnist-byclass files found")
    x, digit = load_emnist_digits(files)
    x = x[~np.isin(digit, EXCLUDED_DIGITS)]
    order = np.random.default_rng([seed, 2]).permutation(len(x))
    n_held_out = round(len(x) * HELD_OUT_DIGITS)
    return x[np.sort(order[n_held_out:])], x[np.sort(order[:n_held_out])]


def scribble(rng: np.random.Generator) -> np.ndarray:
    """float32 [56, 56] 0..1: one to three random pen paths that turn as they go (a doodle, a crossed-out mark)."""
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(canvas)
    for _ in range(int(rng.integers(1, 4))):
        point = rng.uniform(12, CANVAS - 12, 2)
        heading = rng.uniform(0, 2 * np.pi)
        path = [tuple(point)]
        for _ in range(int(rng.integers(3, 16))):
            heading += rng.normal(0, 1.2)
            point = np.clip(point + rng.uniform(4, 16) * np.array([np.cos(heading), np.sin(heading)]), 2, CANVAS - 2)
            path.append(tuple(point))
        draw.line(path, fill=255, width=int(rng.integers(2, 6)), joint="curve")
    return np.asarray(canvas, np.float32) / 255.0


def two_letters(letters: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """float32 [28, w] 0..1: two random letters of `letters` (uint8 [N, 28, 28]) side by side, a little apart or
    overlapping by up to half a letter."""
    first, second = letters[rng.integers(0, len(letters), 2)].astype(np.float32) / 255.0
    offset = int(28 * rng.uniform(0.5, 1.1))  # where the second starts
    pair = np.zeros((28, offset + 28), np.float32)
    pair[:, :28] = first
    pair[:, offset:] = np.maximum(pair[:, offset:], second)
    return pair


def empty_box(rng: np.random.Generator) -> np.ndarray:
    """float32 [56, 56] 0..1: a printed box with nothing in it — whole, or only two opposite sides (the lines of a
    form). Never two or three sides meeting: those draw an L, a U or a C, which are letters."""
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(canvas)
    x0, y0 = rng.integers(2, 14, 2)
    x1, y1 = CANVAS - rng.integers(2, 14, 2)
    width = int(rng.integers(1, 4))
    shape = rng.uniform()
    if shape < 0.6:
        draw.rectangle([x0, y0, x1, y1], outline=255, width=width)
    elif shape < 0.8:
        draw.line([(x0, y0), (x1, y0)], fill=255, width=width)
        draw.line([(x0, y1), (x1, y1)], fill=255, width=width)
    else:
        draw.line([(x0, y0), (x0, y1)], fill=255, width=width)
        draw.line([(x1, y0), (x1, y1)], fill=255, width=width)
    return np.asarray(canvas, np.float32) / 255.0


def out_of_scope_examples(
    n: int,
    letters: np.ndarray,
    digits: np.ndarray,
    seed: int,
    *,
    stream: int,
    processes: int = DEFAULT_PROCESSES,
) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [M, 28, 28] as `hcr predict` reads them, int64 [M] index into KINDS): about `n` inputs with no letter,
    in the shares SHARES (with no digits given, the other kinds share their part), drawn as files and read back;
    those that read as blank are dropped (M ≤ n). Two-letter images are made of `letters` and digits taken from
    `digits` (uint8 [*, 28, 28]): pass the training split's for training and held-out ones for calibration.
    Cached like rendered_copies."""

    def make() -> dict[str, np.ndarray]:
        rng = np.random.default_rng([seed, stream, 3])
        shares = np.array(SHARES) * (1.0 if len(digits) else np.array([0.0, 1.0, 1.0, 1.0]))  # no digits: the rest
        counts = rng.multinomial(n, shares / shares.sum())
        picks = rng.choice(len(digits), counts[0], replace=len(digits) < counts[0]) if counts[0] else []
        inks: list[np.ndarray] = list(digits[picks])
        inks += [scribble(rng) for _ in range(counts[1])]
        inks += [two_letters(letters, rng) for _ in range(counts[2])]
        inks += [empty_box(rng) for _ in range(counts[3])]
        x = read_back_all(inks, seed, stream, clean_share=CLEAN_SHARE, processes=processes)
        kept = x.reshape(len(x), -1).any(axis=1)
        return {"x": x[kept], "kind": np.repeat(np.arange(len(KINDS)), counts)[kept]}

    arrays = cached("out-of-scope", [n, seed, stream, letters, digits], make)
    return arrays["x"], arrays["kind"]
