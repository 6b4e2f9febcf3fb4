"""Lines of handwriting composed from real letters, the way people fill in a form, to test and measure `hcr read`.

Used by tests/inference/test_segment.py, tests/inference/test_read.py and bench/read_accuracy.py.
Each letter keeps its real strokes; only its place and size change: random gaps (wider between words),
baseline jitter and size variation, on white paper (dark ink) or a dark background (bright ink); or one letter per
cell of a printed comb field or row of boxes; or a printed rule under the line.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from hcr.data.az import load_az_csv
from hcr.data.dataset import LetterData
from hcr.data.emnist import find_emnist_files, load_emnist
from tests.realdata import AZ_CSV, SHARED_DATA

LETTER_SIZE = 40  # px: the long side of a letter of typical size
GAP = (0.1, 0.4)  # gap between letters of a word, in letter sizes
WORD_GAP = (0.9, 1.4)  # gap between words, in letter sizes


@dataclass(frozen=True)
class ComposedLine:
    image: Image.Image  # mode L
    boxes: list[tuple[int, int, int, int]]  # each letter's ink (left, top, right, bottom) in the image
    space_before: list[bool]


@functools.cache
def real_letters(source: str) -> LetterData:
    """The Kaggle A–Z letters ("az": capitals only) or EMNIST Letters' official test images ("emnist": mixed case),
    read straight from the files (no parse cache), once per test process."""
    if source == "az":
        return load_az_csv(AZ_CSV)
    emnist = load_emnist(find_emnist_files(SHARED_DATA / "emnist"))
    return emnist.take(np.flatnonzero(emnist.official_test))


def compose_line(
    letters: np.ndarray,
    rng: np.random.Generator,
    *,
    space_before: Sequence[bool] | None = None,
    gaps: Sequence[float] | None = None,
    letter_size: int = LETTER_SIZE,
    size_jitter: float = 0.15,
    baseline_jitter: float = 0.1,
    dark_on_light: bool = True,
) -> ComposedLine:
    """Place `letters` (uint8 [n, 28, 28], bright on black) side by side on one line.

    `gaps` (n - 1, in letter sizes; negative ones make letters overlap) override the random gaps, which are drawn
    from WORD_GAP where `space_before` is set and from GAP elsewhere.
    """
    n = len(letters)
    space_before = list(space_before) if space_before is not None else [False] * n
    if gaps is None:
        gaps = [rng.uniform(*(WORD_GAP if space else GAP)) for space in space_before[1:]]
    patches = [_scaled(x, letter_size * rng.uniform(1 - size_jitter, 1 + size_jitter)) for x in letters]
    width = 2 * letter_size + sum(p.shape[1] for p in patches) + round(letter_size * max(0.0, sum(gaps)))
    canvas = np.zeros((3 * letter_size, width), dtype=np.uint8)  # [H, W] bright ink on black
    baseline = 2 * letter_size
    left = letter_size
    boxes = []
    for i, patch in enumerate(patches):
        h, w = patch.shape
        bottom = baseline + round(rng.uniform(-baseline_jitter, baseline_jitter) * letter_size)
        window = canvas[bottom - h : bottom, left : left + w]
        np.maximum(window, patch, out=window)
        boxes.append((left, bottom - h, left + w, bottom))
        if i < n - 1:
            left += w + round(gaps[i] * letter_size)
    image = Image.fromarray(255 - canvas if dark_on_light else canvas)
    return ComposedLine(image, boxes, space_before)


def _scaled(x: np.ndarray, long_side: float) -> np.ndarray:
    """The letter cropped to its ink and resized so that its long side is `long_side` px (aspect kept)."""
    rows, cols = np.flatnonzero(x.any(axis=1)), np.flatnonzero(x.any(axis=0))
    ink = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = long_side / max(ink.shape)
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    return np.asarray(Image.fromarray(ink).resize(size, Image.Resampling.BILINEAR))


def compose_comb_field(
    letters: np.ndarray,
    *,
    space_before: Sequence[bool] | None = None,
    letter_size: int = LETTER_SIZE,
    with_top: bool = False,
    dark_on_light: bool = True,
    touching: bool = False,
) -> ComposedLine:
    """Real capitals written one per cell of a printed comb field: a baseline with a tick at each cell wall (with a
    top line, a row of boxes), an empty cell where `space_before` is set. Letters sit a few px above the baseline,
    centred in their cells, or `touching` a wall: each by turns reaching onto its cell's left and right wall by 1 px
    (a hurried hand)."""
    space_before = list(space_before) if space_before is not None else [False] * len(letters)
    cells = np.cumsum(np.array(space_before, dtype=int) + 1) - 1  # [n] each letter's cell
    cell = round(1.5 * letter_size)
    n_cells = int(cells[-1]) + 1
    width, base = cell * n_cells + 2 * letter_size, 2 * letter_size
    canvas = np.zeros((3 * letter_size, width), dtype=np.uint8)  # [H, W] bright ink on black
    boxes = []
    for k, x in zip(cells, letters, strict=True):
        patch = _scaled(x, letter_size * 0.9)
        h, w = patch.shape
        left, top = letter_size + k * cell + (cell - w) // 2, base - 4 - h
        if touching:
            left = letter_size + k * cell + (cell + 1 - w if len(boxes) % 2 else 1)
        window = canvas[top : top + h, left : left + w]
        np.maximum(window, patch, out=window)
        boxes.append((left, top, left + w, top + h))
    tick_top = base - (letter_size + 8 if with_top else letter_size // 2)
    ends = slice(letter_size // 2, width - letter_size // 2)
    canvas[base : base + 2, ends] = 255  # the printed baseline, across the field
    if with_top:
        canvas[tick_top : tick_top + 2, ends] = 255
    for k in range(n_cells + 1):
        canvas[tick_top:base, letter_size + k * cell : letter_size + k * cell + 2] = 255  # a tick at each cell wall
    image = Image.fromarray(255 - canvas if dark_on_light else canvas)
    return ComposedLine(image, boxes, space_before)


def with_rule_under(line: ComposedLine) -> ComposedLine:
    """The line with a printed rule 1 px under its lowest letter, across the whole image, 2 px thick."""
    page = np.asarray(line.image).copy()
    bottom = max(box[3] for box in line.boxes)
    ink = 0 if page[0, 0] > 127 else 255  # the line's own ink: dark on white paper, bright on black
    page[bottom + 1 : bottom + 3] = ink
    return ComposedLine(Image.fromarray(page), line.boxes, line.space_before)
