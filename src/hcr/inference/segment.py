"""Cut lines of separate handwritten capitals (as written on a form) into letter crops: line by line, top to bottom,
each left to right, with spaces.

    hcr read line.png

Each crop is the letter's own ink (bright on black, with a blank margin), which `preprocess.to_letter_array` turns
into 28×28 exactly as it does a single letter: a letter read from a line looks to the model as it would alone.
The steps: the ink map (polarity and background as for single letters), turned level if a form's printed lines are
askew, the printed lines taken out (a ruled line or a comb field's baseline, as for single letters, and the walls
between its cells: hcr.inference.form_fields), connected components (hcr.inference.pieces), specks dropped, the
components grouped into lines by the rows they cover, and in each line the pieces of one letter merged (a broken
stroke, the unjoined bar of a T, the dot of an i; in a form field, whatever one cell holds), blobs too wide for one
letter (touching letters) cut where the reader reads the parts best, along paths that bend round the strokes of
letters leaning into each other (no straight cut parts two letters that share columns), and a space wherever a gap
is wide (in a form field, wherever a cell is empty).

Capitals share a height while their widths range from I to W, so the typical letter height is the yardstick for
"too wide" and "a wide gap".
"""

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from hcr.inference.form_fields import (
    PRINTED_LINE_SPAN,
    Field,
    box_sides,
    by_cell,
    cell_spaces,
    cells_of,
    field_tilt,
    form_fields,
    unrotated_box,
    without_remnants,
)
from hcr.inference.pieces import Box, Piece, cut, gap, labelled, union
from hcr.inference.preprocess import (
    INK_THRESHOLD,
    MIN_CONTRAST,
    WORK_SIDE,
    BlankImageError,
    ink_map,
    ruled_lines,
    with_faint_edges,
)

SPECK_FRACTION = 0.02  # a component with less ink area than this fraction of a typical letter's is noise
MERGE_OVERLAP = 0.5  # pieces sharing this fraction of the narrower one's columns are one letter
FRAGMENT_HEIGHT = 0.4  # a piece shorter than this many letter heights is part of a letter (a dot, an arm, a bar)...
FRAGMENT_REACH = 0.25  # ...and joins the nearest letter if no farther than this many letter heights from it
SPLIT_ASPECT = 1.6  # a blob wider than this many letter heights holds touching letters
SPLIT_WINDOW = 0.25  # a cut is sought within this fraction of a letter width around where it is expected
SPACE_GAP = 2.5  # a gap wider than this many times the typical gap between letters separates two words...
SPACE_HEIGHTS = (0.5, 0.8)  # ...but a space is never narrower than the first or wider than the second letter height
LINE_GAP = 0.2  # rows without a letter, in letter heights, that separate two lines
FRINGE = 2  # px around a letter's strokes kept with it: the faint anti-aliased edge the threshold cut off
MARGIN = 2  # px of blank around each crop, so the crop's border reads as background

TRY_ASPECT = 0.6  # a piece wider than this many letter heights that the reader does not read surely (below SURE)...
SURE = 0.2  # ...is tried as touching letters too
CUT_PRIOR = 0.5  # each cut costs as much as a part read this much less surely: a letter is not cut lightly
ONE_MARK = 0.125  # a blob reads as one mark unless its parts read more surely than two letters at 0.5, with a cut
TRY_WIDTH = 1.25  # a blob no wider than this many of the line's typical letter width (a digit, say) is one mark...
NARROW_MARK = 0.4  # ...unless its parts read more surely than two letters at 0.9, with a cut
CUT_CANDIDATES = 20  # the places fewest strokes cross in a blob of touching letters, tried as cuts by the reader
WIDE_SURE = 0.9  # a blob wider than SPLIT_ASPECT letter heights stays one letter if read at least this surely
SEAM_REACH = 0.15  # a cut may bend this many letter heights either side of its column, round letters that lean in
SEAM_BEND = 0.3  # a px sideways costs a cut this much of a stroke crossed: it bends to cross fewer strokes...
SEAM_PULL = 0.01  # ...and, all else equal, stays at its column (each row, per px away from it)
Scorer = Callable[[list[np.ndarray]], np.ndarray]  # letter crops → how surely each reads as one letter, 0..1


@dataclass(frozen=True)
class Glyph:
    """One letter cut from a line."""

    crop: np.ndarray  # uint8 [h, w]: the letter's ink, bright on black, peak 255, MARGIN px of blank around it
    box: Box  # where the letter's ink lies in the input image, in its pixels
    space_before: bool  # a word gap separates it from the letter on its left
    line: int = 0  # which line it is on, 0 the top one


def work_side(size: tuple[int, int]) -> int:
    """The long side an image is reduced to before it is cut into letters: as many pixels as a WORK_SIDE square
    holds, not WORK_SIDE on the long side, so that a long line keeps its letters' height (a form row of 60 letters
    28 px tall was 3,000 px long, its letters 5 px tall after reduction: they ran together and read S)."""
    long, short = max(size), max(1, min(size))
    return max(WORK_SIDE, min(long, round(WORK_SIDE * math.sqrt(long / short))))


def segment_line(image: Image.Image, score: Scorer | None = None) -> list[Glyph]:
    """The letters of an image of one or more lines: line by line from the top, each left to right; raises
    BlankImageError when it holds no ink. With `score` (a reader), touching letters are cut where it reads the parts
    best; without, by their expected number."""
    ink = ink_map(image.copy(), work_side(image.size))  # float32 [h, w]; copy: ink_map shrinks in place
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise BlankImageError("the image is blank (no ink found)")
    mask = ink > INK_THRESHOLD * peak
    tilt = field_tilt(mask)
    unrotated = ink.shape
    if tilt:  # a form printed or scanned askew: its lines made level, so that rows and columns find them
        ink = np.array(Image.fromarray(ink, "F").rotate(tilt, Image.Resampling.BILINEAR, expand=True))
        mask = ink > INK_THRESHOLD * peak
    counts = mask.view(np.uint8).sum(axis=1, dtype=np.int32)
    printed = ruled_lines(mask, counts, span=PRINTED_LINE_SPAN, text_lines=True)
    fields: list[Field] = []
    if printed is not None:
        line_rows = np.flatnonzero(printed.any(axis=1))
        ink[with_faint_edges(printed, mask)] = 0.0
        mask, labels, found = without_remnants(ink, peak, line_rows)
        fields = form_fields(mask, printed, labels, found)
        sides = box_sides(mask, printed)  # of a box round the whole field
        walls = [field.walls for field in fields] + ([sides] if sides is not None else [])
        if walls:
            ink[with_faint_edges(np.logical_or.reduce(walls), mask)] = 0.0
            mask, labels, found = without_remnants(ink, peak, line_rows)  # parts of a line a wall held on to
    else:
        labels, found = labelled(mask)
    if not found:
        raise BlankImageError("the image holds printed lines and no writing")
    pieces: list[Piece] = []
    spaces: list[bool] = []
    line_of: list[int] = []
    for number, line in enumerate(_lines(_drop_specks(found))):
        cells = cells_of(line, fields)
        line = by_cell(line, cells, labels) if cells else _merge_overlapping(line)
        height = float(np.median([p.height for p in line]))
        if not cells:  # in a form field the walls keep letters apart
            line = _split_wide(_attach_fragments(line, height), labels, height, ink, score)
        line = sorted(line, key=lambda p: p.left + p.right)
        pieces += line
        spaces += cell_spaces(line, cells) if cells else _spaces(line, height)
        line_of += [number] * len(line)
    owner = _owner_map(pieces, labels)
    scale_x, scale_y = image.width / unrotated[1], image.height / unrotated[0]
    return [
        Glyph(
            crop=_crop(ink, owner, i + 1, window),
            box=_in_image(unrotated_box(p, tilt, ink.shape, unrotated), scale_x, scale_y),
            space_before=space,
            line=number,
        )
        for i, (p, space, number, window) in enumerate(
            zip(pieces, spaces, line_of, ndimage.find_objects(owner), strict=True)
        )
    ]


def _in_image(box: Box, scale_x: float, scale_y: float) -> Box:
    """A box in the ink map's pixels, in the input image's."""
    left, top, right, bottom = box
    return int(left * scale_x), int(top * scale_y), int(np.ceil(right * scale_x)), int(np.ceil(bottom * scale_y))


def _drop_specks(pieces: list[Piece]) -> list[Piece]:
    """Noise is far smaller than a letter; letters are judged by the median of the components that are not tiny."""
    largest = max(p.area for p in pieces)
    typical = float(np.median([p.area for p in pieces if p.area >= 0.1 * largest]))
    return [p for p in pieces if p.area >= SPECK_FRACTION * typical]


def _lines(pieces: list[Piece]) -> list[list[Piece]]:
    """The pieces grouped into lines, top line first. The rows that letter-sized pieces cover form bands, and a run
    of LINE_GAP letter heights without such a piece separates two lines: a pen that skipped leaves a far thinner
    gap inside a letter, and the other letters of its line cover it anyway. The small pieces (a dot, a detached
    bar, a comma) then join the band nearest to their middle row, so no line consists of a T's loose bar."""
    typical = float(np.median([p.height for p in pieces]))
    big = [p for p in pieces if p.height >= FRAGMENT_HEIGHT * typical]
    covered = np.zeros(max(p.bottom for p in pieces) + 1, dtype=bool)
    for p in big:
        covered[p.top : p.bottom] = True
    rows = np.flatnonzero(covered)
    breaks = np.flatnonzero(np.diff(rows) > LINE_GAP * typical)  # the last covered row of each band but the last
    spans = list(zip(rows[np.r_[0, breaks + 1]], rows[np.r_[breaks, len(rows) - 1]] + 1, strict=True))
    tops, bottoms = (np.array(edge, dtype=np.float64) for edge in zip(*spans, strict=True))
    middles = np.array([(p.top + p.bottom) / 2 for p in pieces])
    # the bands are sorted and disjoint: the nearest is the last starting at or above the middle, or the next one
    above = np.clip(np.searchsorted(tops, middles, side="right") - 1, 0, len(spans) - 1)
    below = np.minimum(above + 1, len(spans) - 1)

    def distance(band: np.ndarray) -> np.ndarray:
        return np.maximum.reduce([tops[band] - middles, middles - bottoms[band], np.zeros_like(middles)])

    nearest = np.where(distance(below) < distance(above), below, above)
    lines: list[list[Piece]] = [[] for _ in spans]
    for p, band in zip(pieces, nearest, strict=True):
        lines[band].append(p)
    return [line for line in lines if line]  # a band whose pieces all lie nearer another (dots of a steep wave)


def _merge_overlapping(pieces: list[Piece]) -> list[Piece]:
    """Join pieces that share most of the narrower one's columns: in a line, that happens only within a letter."""
    pieces = list(pieces)
    merged = True
    while merged:
        merged = False
        for i, j in itertools.combinations(range(len(pieces)), 2):
            a, b = pieces[i], pieces[j]
            if -gap(a, b) > MERGE_OVERLAP * min(a.width, b.width):
                pieces[i] = union(a, b)
                del pieces[j]
                merged = True
                break
    return pieces


def _attach_fragments(pieces: list[Piece], height: float) -> list[Piece]:
    """Short pieces are bits of a letter (capitals are all full height): each joins its nearest neighbour."""
    letters = [p for p in pieces if p.height >= FRAGMENT_HEIGHT * height]
    for fragment in (p for p in pieces if p.height < FRAGMENT_HEIGHT * height):
        gaps = [gap(fragment, letter) for letter in letters]
        if gaps and min(gaps) <= FRAGMENT_REACH * height:
            nearest = int(np.argmin(gaps))
            letters[nearest] = union(letters[nearest], fragment)
        else:
            letters.append(fragment)  # alone on its side of the line: a letter written small, or a mark
    return letters


def _split_wide(
    pieces: list[Piece], labels: np.ndarray, height: float, ink: np.ndarray, score: Scorer | None
) -> list[Piece]:
    """Cut blobs too wide for one letter (touching letters) into letters, each given a new label in `labels`: where
    the reader (`score`) reads the parts most surely as letters, else into round(width / typical width) letters."""
    widest = SPLIT_ASPECT * height
    narrow = [p.width for p in pieces if p.width <= widest]
    letter_width = float(np.median(narrow)) if narrow else height
    unsure = _unread(pieces, labels, ink, TRY_ASPECT * height, score) if score else set()
    out = []
    for piece in pieces:
        if piece.width <= widest and id(piece) not in unsure:
            out.append(piece)
            continue
        window = (slice(piece.top, piece.bottom), slice(piece.left, piece.right))
        blob = np.isin(labels[window], list(piece.labels))  # [h, w]
        crossings = _crossings(blob)
        expected = _cut_columns(crossings, max(2, round(piece.width / letter_width)))
        if score:  # a blob no wider than a letter is more likely one mark (a digit) than two narrow letters
            mark = ONE_MARK if piece.width > TRY_WIDTH * letter_width else NARROW_MARK
            reach = max(1, round(SEAM_REACH * height))
            letter_ink = np.where(blob, ink[window], 0.0)
            out += cut(piece, labels, _read_cuts(letter_ink, expected, widest, reach, score, mark))
        else:
            out += cut(piece, labels, expected)
    return out


def _unread(pieces: list[Piece], labels: np.ndarray, ink: np.ndarray, wider: float, score: Scorer) -> set[int]:
    """ids of the pieces `wider` than this that the reader does not read as one letter: two narrow letters touching
    (an I against an E) are no wider than one wide letter, so only reading tells them apart."""
    wide = [p for p in pieces if p.width > wider]
    crops = []
    for p in wide:
        window = (slice(p.top, p.bottom), slice(p.left, p.right))
        crops.append(_part_crop(np.where(np.isin(labels[window], list(p.labels)), ink[window], 0.0)))
    scores = score(crops) if crops else []
    return {id(p) for p, value in zip(wide, scores, strict=True) if value < SURE}


def _crossings(blob: np.ndarray) -> np.ndarray:
    """float [w - 1]: how many strokes link column c to column c + 1 of a bool [h, w] blob (8-connected)."""
    right = blob[:, 1:]  # [h, w - 1]
    reaches_right = right | np.pad(right[1:], ((0, 1), (0, 0))) | np.pad(right[:-1], ((1, 0), (0, 0)))
    return (blob[:, :-1] & reaches_right).sum(axis=0).astype(np.float64)


def _cut_columns(crossings: np.ndarray, n_letters: int) -> list[int]:
    """Where to cut a blob of `n_letters` letters: near each expected boundary, between the two columns that the
    fewest strokes cross. Letters touch at a point, so that is where they meet, whereas the thinnest column (the
    usual projection minimum) often runs through a letter's own slanted stroke."""
    width = len(crossings) + 1
    step = width / n_letters
    cuts: list[int] = []
    for k in range(1, n_letters):
        lo, hi = round(k * step - SPLIT_WINDOW * step), round(k * step + SPLIT_WINDOW * step) + 1
        columns = np.arange(max(lo, cuts[-1] + 1 if cuts else 1), min(hi, width))  # first column of the right
        if len(columns):
            distance = np.abs(columns - k * step) / step  # < 1: breaks ties towards the expected place
            cuts.append(int(columns[np.argmin(crossings[columns - 1] + distance)]))
    return cuts


def _seams(blob: np.ndarray, reach: int) -> tuple[np.ndarray, np.ndarray]:
    """For each place c = 1 .. w - 1 to cut a bool [h, w] blob, the path from top to bottom that crosses the fewest
    strokes within `reach` px of c (int [h]: the column each row is cut before), and its cost: (costs float [w - 1],
    paths int [w - 1, h]). Letters that lean into each other share columns, so no straight cut parts them, while a
    path round the end of one's stroke does. Seam carving: one dynamic programme, row by row, for every c at once."""
    h, w = blob.shape
    crossed = np.zeros((h, w + 1))
    crossed[:, 1:w] = blob[:, :-1] & blob[:, 1:]  # cutting before column x separates x - 1 from x
    offsets = np.arange(-reach, reach + 1)  # [K]
    columns = np.arange(1, w)[:, None] + offsets  # [C, K]
    outside = np.where((columns >= 1) & (columns <= w - 1), SEAM_PULL * np.abs(offsets), np.inf)  # [C, K]
    columns = np.clip(columns, 0, w)
    total = crossed[0][columns] + outside
    came_from = np.zeros((h, *columns.shape), dtype=np.int8)  # -1, 0, +1: the offset step from the row above
    for row in range(1, h):
        left = np.pad(total[:, :-1], ((0, 0), (1, 0)), constant_values=np.inf) + SEAM_BEND  # from offset k - 1
        right = np.pad(total[:, 1:], ((0, 0), (0, 1)), constant_values=np.inf) + SEAM_BEND  # from offset k + 1
        steps = np.stack([left, total, right])  # [3, C, K]
        choice = steps.argmin(axis=0)
        came_from[row] = choice - 1
        total = np.take_along_axis(steps, choice[None], axis=0)[0] + crossed[row][columns] + outside
    k = total.argmin(axis=1)  # [C]
    costs = total[np.arange(len(k)), k]
    paths = np.empty((len(k), h), dtype=np.int64)
    for row in range(h - 1, -1, -1):
        paths[:, row] = columns[np.arange(len(k)), k]
        k = k + came_from[row, np.arange(len(k)), k]
    return costs, paths


def _read_cuts(
    letter_ink: np.ndarray,
    expected: list[int],
    widest: float,
    reach: int,
    score: Scorer,
    one_mark: float = ONE_MARK,
) -> list[np.ndarray]:
    """The cuts (paths, as _seams makes them) of a blob of touching letters that the reader reads best: among the
    paths that cross the fewest strokes (the local minima of their cost over the columns, the lowest CUT_CANDIDATES,
    and those at the `expected` cuts), the sequence whose parts, each read as a letter alone, have the highest
    product of confidences. A part holding two letters reads as not-a-letter or unsure, a letter cut in two as two
    unsure halves, so the right cuts win without knowing how many letters the blob holds. A blob of a letter's width
    that no reading as letters beats `one_mark` stays whole: a digit reads as no letter too, and its parts as weak
    letters. One batch of model calls for every candidate part."""
    height, width = letter_ink.shape
    costs, paths = _seams(letter_ink > 0, reach)  # index c - 1 for the cut at column c
    inner = costs[1:-1]
    minima = 1 + np.flatnonzero((inner <= costs[:-2]) & (inner <= costs[2:]))
    lowest = minima[np.argsort(costs[minima], kind="stable")][:CUT_CANDIDATES] + 1
    points = sorted({0, width, *expected, *lowest.tolist()})
    seams = [np.full(height, 0), *(paths[c - 1] for c in points[1:-1]), np.full(height, width)]
    columns = np.arange(width)
    # any part up to the widest letter, and the whole blob, however wide: a wide M or W is one letter wider than two
    # narrow ones (a writer's M of 1.65 letter heights read WILLIARN), and the reader tells it, not its width
    parts = [(i, j) for i in range(len(points)) for j in range(i + 1, len(points)) if points[j] - points[i] <= widest]
    parts += [(0, len(points) - 1)] if width > widest else []
    crops = []
    for i, j in parts:
        inside = (columns >= seams[i][:, None]) & (columns < seams[j][:, None])
        crops.append(_part_crop(np.where(inside, letter_ink, 0.0)[:, seams[i].min() : seams[j].max()]))
    scores = {}
    readable = [(part, crop) for part, crop in zip(parts, crops, strict=True) if crop is not None]
    if readable:
        scores = dict(zip([part for part, _ in readable], score([crop for _, crop in readable]), strict=True))
    whole = (0, len(points) - 1)
    if width > widest:  # as wide as two letters: one only if the reader is sure of it
        if scores.get(whole, 0.0) < WIDE_SURE:
            scores.pop(whole, None)
    elif whole in scores:  # one mark that is no letter (a digit) rather than letters no part of which reads surely
        scores[whole] = max(scores[whole], one_mark)
    best = np.full(len(points), -np.inf)
    best[0], previous = 0.0, np.zeros(len(points), dtype=int)
    for (i, j), value in sorted(scores.items(), key=lambda item: item[0][1]):
        total = best[i] + np.log(max(float(value), 1e-6)) + (np.log(CUT_PRIOR) if i else 0.0)
        if total > best[j]:
            best[j], previous[j] = total, i
    if not np.isfinite(best[-1]):
        return [np.full(height, c) for c in expected]
    cuts, j = [], len(points) - 1
    while j:
        j = previous[j]
        cuts.append(j)
    return [seams[i] for i in sorted(cuts)[1:]]


def _part_crop(ink: np.ndarray) -> np.ndarray | None:
    """A part of a blob as a letter crop (as _crop makes them), or None when it holds no ink."""
    if not ink.size or ink.max() <= 0:  # paths that cross leave a part of no column
        return None
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    return _as_crop(ink[rows[0] : rows[-1] + 1])


def _owner_map(pieces: list[Piece], labels: np.ndarray) -> np.ndarray:
    """int32 [h, w]: i + 1 where a pixel belongs to pieces[i] (its strokes and their faint fringe), else 0."""
    owner = np.zeros(labels.shape, dtype=np.int32)
    for i, p in enumerate(pieces):
        window = (slice(p.top, p.bottom), slice(p.left, p.right))
        owner[window][np.isin(labels[window], list(p.labels))] = i + 1
    near = ndimage.grey_dilation(owner, size=(2 * FRINGE + 1, 2 * FRINGE + 1))  # a letter's label spreads FRINGE px
    fringe = (owner == 0) & (labels == 0)  # never onto another letter's strokes or a dropped speck
    owner[fringe] = near[fringe]
    return owner


def _spaces(pieces: list[Piece], height: float) -> list[bool]:
    """Spaces where gaps are wide for this writer's spacing (the lower quartile of the gaps: most gaps are between
    letters of a word), within bounds set by the letter height for lines too short or too spaced to tell."""
    gaps = np.array([b.left - a.right for a, b in itertools.pairwise(pieces)], dtype=np.float64)
    if not len(gaps):
        return [False]
    lowest, highest = (fraction * height for fraction in SPACE_HEIGHTS)
    threshold = np.clip(SPACE_GAP * float(np.percentile(gaps, 25)), lowest, highest)
    return [False, *(gaps > threshold).tolist()]


def _crop(ink: np.ndarray, owner: np.ndarray, label: int, window: tuple[slice, slice]) -> np.ndarray:
    letter = np.where(owner[window] == label, ink[window], 0.0)  # [h, w] the letter alone, neighbours' ink blanked
    return _as_crop(letter)


def _as_crop(letter: np.ndarray) -> np.ndarray:
    """uint8: a letter's ink (float, > 0 somewhere) scaled to 0..255, with MARGIN px of paper around it."""
    return np.round(np.pad(letter * (255.0 / letter.max()), MARGIN)).astype(np.uint8)
