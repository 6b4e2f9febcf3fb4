"""Cut lines of separate handwritten capitals (as written on a form) into letter crops: line by line, top to bottom,
each left to right, with spaces.

    hcr read line.png

Each crop is the letter's own ink (bright on black, with a blank margin), which `preprocess.to_letter_array` turns
into 28×28 exactly as it does a single letter: a letter read from a line looks to the model as it would alone.
The steps: the ink map (polarity and background as for single letters), a form's printed lines taken out (a ruled
line or a comb field's baseline, as for single letters, and the walls between its cells: upright strokes standing
on that line on an even grid, even where letters touch them), connected components, specks dropped, the
components grouped into lines by the rows they cover, and in each line the pieces of one letter merged (a broken
stroke, the unjoined bar of a T, the dot of an i; in a form field, whatever one cell holds), blobs too wide for one
letter (touching letters) cut where the reader reads the parts best, and a space wherever a gap is wide (in a form
field, wherever a cell is empty).

Capitals share a height while their widths range from I to W, so the typical letter height is the yardstick for
"too wide" and "a wide gap".
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from hcr.inference.preprocess import (
    INK_THRESHOLD,
    MIN_CONTRAST,
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
PRINTED_LINE_SPAN = 0.5  # a printed line across a field spans this share of the image's width at least
TICK_WIDTH = 0.2  # a comb's tick is no wider than this many of its heights, or than TICK_PX (a short tick)...
TICK_PX = 6  # (a wall printed thick, or widened by a scan's noise and blur)
TICK_REACH = 3  # ...ends within this many px of a printed line...
TICK_GRID = 0.1  # ...and stands, with at least two others, on a grid of even steps (± this share of a step)
TICK_PLACE = 0.03  # a wall that a letter touches is sought within this share of a step of its place on the grid
NARROWEST_CELL = 12  # px: a form's cell holds a letter, so its walls are at least this far apart in the ink map
SLIVER = 0.25  # a piece narrower than this share of a cell, against its wall, may be a letter's that ran over it
WALLS_SEEN = 0.9  # a grid finer than the walls seen stands only if a wall is at this share of its places at least
MOST_WALLS = 64  # more thin upright strokes than this are not a form field (cells would be narrower than a letter)
MOST_TILT = 3.0  # degrees: a form field's printed lines are made level if tilted up to this either way...
TILT_STEP = 0.25  # ...tried in steps of this (a quarter degree drifts 1.3 px across 300)...
TILT_STRIP = 8  # ...on the mask summed in strips of this many columns...
TILT_GAIN = 1.2  # ...and taken where a line's row is this much fuller than the fullest row level
FRINGE = 2  # px around a letter's strokes kept with it: the faint anti-aliased edge the threshold cut off
MARGIN = 2  # px of blank around each crop, so the crop's border reads as background

TRY_ASPECT = 0.6  # a piece wider than this many letter heights that the reader does not read surely (below SURE)...
SURE = 0.2  # ...is tried as touching letters too
CUT_PRIOR = (
    0.25  # each cut costs as much as a part read this much less surely: a letter is not cut into letters lightly
)
ONE_MARK = 0.06  # a blob reads as one mark unless its parts read more surely than two letters at 0.5, with a cut
TRY_WIDTH = 1.25  # a blob no wider than this many of the line's typical letter width (a digit, say) is one mark...
NARROW_MARK = 0.2  # ...unless its parts read more surely than two letters at 0.9, with a cut
CUT_CANDIDATES = 12  # the places fewest strokes cross in a blob of touching letters, tried as cuts by the reader
Scorer = Callable[[list[np.ndarray]], np.ndarray]  # letter crops → how surely each reads as one letter, 0..1
Box = tuple[int, int, int, int]  # (left, top, right, bottom), right and bottom exclusive, as Pillow's crop takes


@dataclass(frozen=True)
class Glyph:
    """One letter cut from a line."""

    crop: np.ndarray  # uint8 [h, w]: the letter's ink, bright on black, peak 255, MARGIN px of blank around it
    box: Box  # where the letter's ink lies in the input image, in its pixels
    space_before: bool  # a word gap separates it from the letter on its left
    line: int = 0  # which line it is on, 0 the top one


@dataclass
class _Piece:
    """Connected components (by their label in the label image), on the way to becoming one letter."""

    labels: set[int]
    left: int
    top: int
    right: int
    bottom: int
    area: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


def segment_line(image: Image.Image, score: Scorer | None = None) -> list[Glyph]:
    """The letters of an image of one or more lines: line by line from the top, each left to right; raises
    BlankImageError when it holds no ink. With `score` (a reader), touching letters are cut where it reads the parts
    best; without, by their expected number."""
    ink = ink_map(image.copy())  # float32 [h, w] at most WORK_SIDE on a side; copy: ink_map shrinks in place
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise BlankImageError("the image is blank (no ink found)")
    mask = ink > INK_THRESHOLD * peak
    tilt = _tilt(mask)
    unrotated = ink.shape
    if tilt:  # a form printed or scanned askew: its lines made level, so that rows and columns find them
        ink = np.array(Image.fromarray(ink, "F").rotate(tilt, Image.Resampling.BILINEAR, expand=True))
        mask = ink > INK_THRESHOLD * peak
    counts = mask.view(np.uint8).sum(axis=1, dtype=np.int32)
    printed = ruled_lines(mask, counts, span=PRINTED_LINE_SPAN, text_lines=True)
    fields: list[_Field] = []
    if printed is not None:
        line_rows = np.flatnonzero(printed.any(axis=1))
        ink[with_faint_edges(printed, mask)] = 0.0
        mask, labels, found = _without_remnants(ink, peak, line_rows)
        fields = _form_fields(mask, printed, labels, found)
        if fields:
            ink[with_faint_edges(np.logical_or.reduce([field.walls for field in fields]), mask)] = 0.0
            mask, labels, found = _without_remnants(ink, peak, line_rows)  # parts of a line a wall held on to
    else:
        labels, found = _labelled(mask)
    if not found:
        raise BlankImageError("the image holds printed lines and no writing")
    pieces: list[_Piece] = []
    spaces: list[bool] = []
    line_of: list[int] = []
    for number, line in enumerate(_lines(_drop_specks(found))):
        cells = _cells_of(line, fields)
        line = _by_cell(line, cells, labels) if cells else _merge_overlapping(line)
        height = float(np.median([p.height for p in line]))
        if not cells:  # in a form field the walls keep letters apart
            line = _split_wide(_attach_fragments(line, height), labels, height, ink, score)
        line = sorted(line, key=lambda p: p.left + p.right)
        pieces += line
        spaces += _cell_spaces(line, cells) if cells else _spaces(line, height)
        line_of += [number] * len(line)
    owner = _owner_map(pieces, labels)
    scale_x, scale_y = image.width / unrotated[1], image.height / unrotated[0]
    return [
        Glyph(
            crop=_crop(ink, owner, i + 1, window),
            box=_in_image(_unrotated_box(p, tilt, ink.shape, unrotated), scale_x, scale_y),
            space_before=space,
            line=number,
        )
        for i, (p, space, number, window) in enumerate(
            zip(pieces, spaces, line_of, ndimage.find_objects(owner), strict=True)
        )
    ]


def _tilt(mask: np.ndarray) -> float:
    """Degrees to turn the ink (counter-clockwise, as Pillow's rotate) to make a form's printed lines level; 0 when
    they are level or there are none. A printed line across a field is the one long straight thing in writing: with
    the columns shifted by a tilt's rise, its rows add up to one full row. Tilts up to MOST_TILT either way are tried
    on the mask summed in strips of TILT_STRIP columns; one is taken where its fullest row spans PRINTED_LINE_SPAN
    of the width and TILT_GAIN times the fullest row level. (A field tilted by a degree drifts 5 px across 300: its
    lines were found nowhere in full, and their walls read as I's, or as nothing.) O(pixels + tilts × rows × strips)."""
    h, w = mask.shape
    n = w // TILT_STRIP
    if n < 4:
        return 0.0
    strips = mask[:, : n * TILT_STRIP].reshape(h, n, TILT_STRIP).sum(axis=2, dtype=np.int32)  # [h, n]
    level = int(strips.sum(axis=1).max())
    centres = (np.arange(n) + 0.5) * TILT_STRIP - n * TILT_STRIP / 2
    reach = int(np.ceil(abs(centres).max() * np.tan(np.radians(MOST_TILT)))) + 1
    rows = np.arange(h)[:, None] + reach
    best, tilt = level, 0.0
    for angle in np.arange(TILT_STEP, MOST_TILT + TILT_STEP / 2, TILT_STEP):
        for signed in (angle, -angle):
            rises = np.round(centres * np.tan(np.radians(signed))).astype(np.int64)  # [n] rows a strip's line is lower
            profile = np.bincount((rows - rises[None, :]).ravel(), weights=strips.ravel(), minlength=h + 2 * reach)
            if profile.max() > best:
                best, tilt = float(profile.max()), float(signed)
    return tilt if best >= PRINTED_LINE_SPAN * w and best >= TILT_GAIN * level else 0.0


def _unrotated_box(p: _Piece, tilt: float, shape: tuple[int, int], unrotated: tuple[int, int]) -> Box:
    """A piece's box in the ink map before it was turned by `tilt` degrees (Pillow's rotate, expanded, about the
    centre): the box round its turned-back corners."""
    if not tilt:
        return p.left, p.top, p.right, p.bottom
    cos, sin = np.cos(np.radians(tilt)), np.sin(np.radians(tilt))
    xs = np.array([p.left, p.right, p.right, p.left]) - shape[1] / 2  # the corners about the turned map's centre
    ys = np.array([p.top, p.top, p.bottom, p.bottom]) - shape[0] / 2
    h, w = unrotated
    x, y = xs * cos - ys * sin + w / 2, xs * sin + ys * cos + h / 2
    left, top = int(np.clip(x.min(), 0, w)), int(np.clip(y.min(), 0, h))
    return left, top, int(np.clip(np.ceil(x.max()), 0, w)), int(np.clip(np.ceil(y.max()), 0, h))


def _in_image(box: Box, scale_x: float, scale_y: float) -> Box:
    """A box in the ink map's pixels, in the input image's."""
    left, top, right, bottom = box
    return int(left * scale_x), int(top * scale_y), int(np.ceil(right * scale_x)), int(np.ceil(bottom * scale_y))


def _labelled(mask: np.ndarray) -> tuple[np.ndarray, list[_Piece]]:
    """The label image of the mask's 8-connected components (diagonal strokes hold) and a piece for each."""
    labels, n_labels = ndimage.label(mask, structure=np.ones((3, 3)))
    areas = np.bincount(labels.ravel(), minlength=n_labels + 1)
    return labels, [
        _Piece({i + 1}, s[1].start, s[0].start, s[1].stop, s[0].stop, int(areas[i + 1]))
        for i, s in enumerate(ndimage.find_objects(labels))
    ]


@dataclass(frozen=True)
class _Cells:
    """A comb field's cells: walls at `first` + k × `width` (in the ink map's columns)."""

    first: float
    width: float

    def of(self, piece: _Piece) -> int:
        return int(np.floor(((piece.left + piece.right) / 2 - self.first) / self.width))

    def holds(self, column: float) -> bool:
        """Whether a wall at this column stands on the grid."""
        steps = (column - self.first) / self.width
        return bool(abs(steps - round(steps)) <= TICK_GRID)


@dataclass(frozen=True)
class _Wall:
    """A thin upright stroke that may be a wall of a form's cells: where it lies, in the ink map's pixels."""

    left: int
    right: int  # exclusive
    top: int
    bottom: int  # exclusive
    piece: _Piece | None = None  # the tick itself, when it stands free of letters

    @property
    def centre(self) -> float:
        return (self.left + self.right - 1) / 2


@dataclass(frozen=True)
class _Field:
    """A comb field or a row of boxes: its walls (bool [h, w], the upright strokes between its cells, to take out),
    its cells, and the rows its walls stand in."""

    walls: np.ndarray
    cells: _Cells
    top: int
    bottom: int  # exclusive


def _form_fields(mask: np.ndarray, printed: np.ndarray, labels: np.ndarray, pieces: list[_Piece]) -> list[_Field]:
    """The form fields along the printed lines, top to bottom: each band of rows that thin upright strokes stand in
    (two rows of boxes, or of combs, one above the other) is a field of its own, on a grid of its own."""
    walls = _free_ticks(pieces, np.flatnonzero(printed.any(axis=1))) + _box_walls(mask, printed)
    if len(walls) > MOST_WALLS:
        return []
    fields = (_form_field(mask, printed, labels, band) for band in _bands(walls))
    return [field for field in fields if field is not None]


def _bands(walls: list[_Wall]) -> list[list[_Wall]]:
    """The walls grouped by the rows they stand in: walls whose rows overlap, directly or through others, are one
    band."""
    bands: list[list[_Wall]] = []
    for wall in sorted(walls, key=lambda wall: wall.top):
        if bands and wall.top < max(other.bottom for other in bands[-1]):
            bands[-1].append(wall)
        else:
            bands.append([wall])
    return bands


def _cells_of(line: list[_Piece], fields: list[_Field]) -> _Cells | None:
    """The cells of the field a line of pieces is written in: the field whose rows it shares most; None if none."""
    top, bottom = min(p.top for p in line), max(p.bottom for p in line)
    shared = [min(bottom, field.bottom) - max(top, field.top) for field in fields]
    return fields[int(np.argmax(shared))].cells if shared and max(shared) > 0 else None


def _form_field(mask: np.ndarray, printed: np.ndarray, labels: np.ndarray, walls: list[_Wall]) -> _Field | None:
    """One band's field: its walls (the upright strokes between cells, where they stand on the printed lines) and
    cells; or None when the band's strokes are not a field.

    Walls stand on an even grid, at least three of them, at nine in ten of its places from the first to the last.
    They are found where they are plain to see (two at least): a thin piece
    of its own that ends at a printed line (a tick a letter does not touch), or a column inked all the way between
    two printed lines (a box wall, even where letters touch it). The grid then gives every wall's place, so the
    walls that letters touch, which are one blob of ink with them, are taken out too: at each place on the grid,
    as many columns as a wall is wide, inked across the walls' rows, nearest the place, except where a stroke runs
    through (inked on both sides). A letter's stroke that lies along the wall keeps the rest of its width. A
    written I is as thin, but it stands inside a cell, off the grid."""
    if len(walls) < 2:
        return None
    top = int(np.median([wall.top for wall in walls]))
    bottom = int(np.median([wall.bottom for wall in walls]))
    width = int(np.median([wall.right - wall.left for wall in walls]))
    upright = mask[top + 1 : bottom - 1].all(axis=0)  # [w] columns inked across the walls' rows (± 1 px)
    near = printed[max(0, min(w.top for w in walls) - TICK_REACH - 1) : max(w.bottom for w in walls) + TICK_REACH + 1]
    columns = np.flatnonzero(near.any(axis=0))  # the band's own printed lines
    if not len(columns):
        columns = np.flatnonzero(printed.any(axis=0))
    grids = [(cells, _wall_places(cells, upright, columns[0], columns[-1])) for cells in _grids(walls)]
    walled = [
        (sum(len(p) > 0 for _, p in places), cells, places)
        for cells, places in grids
        if _share_walled(places) >= WALLS_SEEN
    ]
    n_walled, cells, places = max(walled, key=lambda grid: grid[0], default=(0, None, []))
    if n_walled < 3:
        return None
    found = np.zeros_like(mask)
    for p in (wall.piece for wall in walls if wall.piece and cells.holds(wall.centre)):  # the free ticks, whole
        window = (slice(p.top, p.bottom), slice(p.left, p.right))
        found[window] |= np.isin(labels[window], list(p.labels))
    for place, inked in places:
        nearest = inked[np.argsort(np.abs(inked - place), kind="stable")[:width]]
        if len(nearest):
            beside = mask[top:bottom, [max(nearest.min() - 1, 0), min(nearest.max() + 1, mask.shape[1] - 1)]]
            crossed = beside.all(axis=1)  # rows where a stroke runs through the wall: the letter keeps them
            found[top:bottom, nearest] |= mask[top:bottom, nearest] & ~crossed[:, None]
    return _Field(found, cells, min(w.top for w in walls), max(w.bottom for w in walls))


def _share_walled(places: list[tuple[float, np.ndarray]]) -> float:
    """The share of a grid's places, from its first wall to its last, that have a wall."""
    walled = np.flatnonzero([len(columns) > 0 for _, columns in places])
    return len(walled) / (walled[-1] - walled[0] + 1) if len(walled) else 0.0


def _wall_places(cells: _Cells, upright: np.ndarray, left: int, right: int) -> list[tuple[float, np.ndarray]]:
    """Each place on the grid from column `left` to `right` (a printed line's ends), with the columns near it that
    are `upright` (inked across the walls' rows: a wall, seen or touched by a letter), none where it has no wall."""
    reach = max(TICK_PX, TICK_PLACE * cells.width)
    first = int(np.ceil((left - reach - cells.first) / cells.width))
    last = int(np.floor((right + reach - cells.first) / cells.width))
    places = []
    for k in range(first, last + 1):
        place = cells.first + k * cells.width
        near = np.arange(max(0, round(place - reach)), min(len(upright), round(place + reach) + 1))
        places.append((place, near[upright[near]]))
    return places


def _free_ticks(pieces: list[_Piece], line_rows: np.ndarray) -> list[_Wall]:
    """Thin upright pieces of their own that end at a printed line (`line_rows`, the rows it was taken from), and
    stand up from it farther than TICK_REACH (a dot a line left behind is no tick: a few such once made a field of
    their own, on a grid of their own)."""

    def ends_at_line(p: _Piece) -> bool:
        return bool(
            np.abs(line_rows - p.top).min() <= TICK_REACH or np.abs(line_rows - p.bottom + 1).min() <= TICK_REACH
        )

    return [
        _Wall(p.left, p.right, p.top, p.bottom, p)
        for p in pieces
        if p.width <= max(TICK_WIDTH * p.height, TICK_PX) and p.height > 2 * TICK_REACH and ends_at_line(p)
    ]


def _box_walls(mask: np.ndarray, printed: np.ndarray) -> list[_Wall]:
    """Thin runs of columns inked all the way from one printed line to the next below it (a box's walls)."""
    rows = np.flatnonzero(printed.any(axis=1))
    ends = np.flatnonzero(np.diff(rows) > 1)  # the last row of each line but the last
    walls = []
    for top, bottom in zip(rows[ends] + 1, rows[ends + 1], strict=True):
        inked = np.flatnonzero(mask[top:bottom].all(axis=0))
        for run in np.split(inked, np.flatnonzero(np.diff(inked) > 1) + 1):
            if len(run) and len(run) <= max(TICK_WIDTH * (bottom - top), TICK_PX):
                walls.append(_Wall(int(run[0]), int(run[-1]) + 1, int(top), int(bottom)))
    return walls


def _merged(centres: np.ndarray) -> np.ndarray:
    """Sorted columns with those within TICK_PX of the previous merged into one (their mean): a wall seen both free
    and inked between two lines, or its width read differently on noisy paper, is one wall."""
    groups = np.split(centres, np.flatnonzero(np.diff(centres) > TICK_PX) + 1)
    return np.array([group.mean() for group in groups])


def _grids(walls: list[_Wall]) -> list[_Cells]:
    """The even grids that the most of these walls stand on (± TICK_GRID of a step), at least two, widest first;
    each fitted to its walls (a printed grid is exact). A grid may be a whole number of times finer than the steps
    between the walls seen: where letters touch every other wall, those seen are two cells apart."""
    centres = _merged(np.sort([wall.centre for wall in walls]))
    differences = (centres[None, :] - centres[:, None])[np.triu_indices(len(centres), 1)]
    steps = np.unique(np.concatenate([differences / k for k in (1, 2, 3)]))
    steps = steps[steps >= NARROWEST_CELL][::-1]
    found: list[tuple[int, _Cells]] = []
    for step in steps:
        offsets = (centres[:, None] - centres[None, :]) / step  # [wall, anchor]
        on = np.abs(offsets - np.round(offsets)) <= TICK_GRID
        anchor = int(np.argmax(on.sum(axis=0)))
        places = np.round(offsets[on[:, anchor], anchor])
        if len(places) >= 2 and len(np.unique(places)) == len(places):  # coarser: two walls in one place
            fitted, first = np.polyfit(places, centres[on[:, anchor]], 1)
            found.append((len(places), _Cells(float(first), float(fitted))))
    most = max((count for count, _ in found), default=0)
    return [cells for count, cells in found if count == most]


def _cell_spaces(pieces: list[_Piece], cells: _Cells) -> list[bool]:
    """In a comb field a space is an empty cell, whatever the gap between the letters' ink."""
    numbers = [cells.of(p) for p in pieces]
    return [False, *(b - a > 1 for a, b in itertools.pairwise(numbers))]


def _without_remnants(
    ink: np.ndarray, peak: float, line_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, list[_Piece]]:
    """(mask, labels, pieces) of the ink once what is left of its printed lines (_line_remnant) is taken out of it
    (in place)."""
    mask = ink > INK_THRESHOLD * peak
    labels, found = _labelled(mask)
    remnants = [label for p in found if _line_remnant(p, line_rows) for label in p.labels]
    if not remnants:
        return mask, labels, found
    ink[np.isin(labels, remnants)] = 0.0
    mask = ink > INK_THRESHOLD * peak
    return (mask, *_labelled(mask))


def _line_remnant(piece: _Piece, line_rows: np.ndarray) -> bool:
    """Whether a piece is what is left of a printed line printed or scanned a little askew: the line's rows were
    taken where its longest run lay, and the rest of it, a px or two higher or lower, stayed: a long thin piece
    along those rows (no thicker than a wall, several times as long as thick). Left in, each was read as a line of
    letters (a field tilted by half a degree read as 200 S's)."""
    near = (
        np.abs(line_rows - piece.top).min() <= TICK_REACH and np.abs(line_rows - piece.bottom + 1).min() <= TICK_REACH
    )
    return near and piece.height <= TICK_PX and piece.width >= max(NARROWEST_CELL, 4 * piece.height)


def _drop_specks(pieces: list[_Piece]) -> list[_Piece]:
    """Noise is far smaller than a letter; letters are judged by the median of the components that are not tiny."""
    largest = max(p.area for p in pieces)
    typical = float(np.median([p.area for p in pieces if p.area >= 0.1 * largest]))
    return [p for p in pieces if p.area >= SPECK_FRACTION * typical]


def _lines(pieces: list[_Piece]) -> list[list[_Piece]]:
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
    lines: list[list[_Piece]] = [[] for _ in spans]
    for p, band in zip(pieces, nearest, strict=True):
        lines[band].append(p)
    return [line for line in lines if line]  # a band whose pieces all lie nearer another (dots of a steep wave)


def _merge_overlapping(pieces: list[_Piece]) -> list[_Piece]:
    """Join pieces that share most of the narrower one's columns: in a line, that happens only within a letter."""
    pieces = list(pieces)
    merged = True
    while merged:
        merged = False
        for i, j in itertools.combinations(range(len(pieces)), 2):
            a, b = pieces[i], pieces[j]
            if -_gap(a, b) > MERGE_OVERLAP * min(a.width, b.width):
                pieces[i] = _union(a, b)
                del pieces[j]
                merged = True
                break
    return pieces


def _by_cell(pieces: list[_Piece], cells: _Cells, labels: np.ndarray) -> list[_Piece]:
    """In a form field a cell holds one letter. Letters that touch across a wall (above a comb's short tick) are cut
    there; the pieces in a cell are its letter's parts, even tall ones (a stroke that lay along a wall is cut off the
    rest of its letter when the wall is taken out). A letter that ran over a wall leaves a sliver in the next cell:
    a narrow piece against the wall, beside that cell's own letter, goes back to the letter across the wall."""
    sliver = SLIVER * cells.width
    cut = []
    for p in pieces:
        places = cells.first + cells.width * np.arange(
            np.ceil((p.left + sliver - cells.first) / cells.width),
            np.floor((p.right - sliver - cells.first) / cells.width) + 1,
        )
        cut += _cut(p, labels, [round(x) - p.left for x in places]) if len(places) else [p]
    pieces = cut
    by_cell: dict[int, list[_Piece]] = {}
    for p in pieces:
        by_cell.setdefault(cells.of(p), []).append(p)
    home = {id(p): cell for cell, held in by_cell.items() for p in held}
    for cell, held in by_cell.items():
        if len(held) < 2:
            continue
        for p in held:
            if p.width >= sliver:
                continue
            left_wall, right_wall = cells.first + cell * cells.width, cells.first + (cell + 1) * cells.width
            if p.left - left_wall <= TICK_PX and cell - 1 in by_cell:
                home[id(p)] = cell - 1
            elif right_wall - (p.right - 1) <= TICK_PX and cell + 1 in by_cell:
                home[id(p)] = cell + 1
    letters: dict[int, _Piece] = {}
    for p in pieces:
        cell = home[id(p)]
        letters[cell] = _union(letters[cell], p) if cell in letters else p
    return list(letters.values())


def _attach_fragments(pieces: list[_Piece], height: float) -> list[_Piece]:
    """Short pieces are bits of a letter (capitals are all full height): each joins its nearest neighbour."""
    letters = [p for p in pieces if p.height >= FRAGMENT_HEIGHT * height]
    for fragment in (p for p in pieces if p.height < FRAGMENT_HEIGHT * height):
        gaps = [_gap(fragment, letter) for letter in letters]
        if gaps and min(gaps) <= FRAGMENT_REACH * height:
            nearest = int(np.argmin(gaps))
            letters[nearest] = _union(letters[nearest], fragment)
        else:
            letters.append(fragment)  # alone on its side of the line: a letter written small, or a mark
    return letters


def _gap(a: _Piece, b: _Piece) -> int:
    """Blank columns between two pieces; negative when their columns overlap (by that many)."""
    return max(a.left, b.left) - min(a.right, b.right)


def _union(a: _Piece, b: _Piece) -> _Piece:
    return _Piece(
        a.labels | b.labels,
        min(a.left, b.left),
        min(a.top, b.top),
        max(a.right, b.right),
        max(a.bottom, b.bottom),
        a.area + b.area,
    )


def _split_wide(
    pieces: list[_Piece], labels: np.ndarray, height: float, ink: np.ndarray, score: Scorer | None
) -> list[_Piece]:
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
            cuts = _read_cuts(np.where(blob, ink[window], 0.0), crossings, expected, widest, score, mark)
        else:
            cuts = expected
        out += _cut(piece, labels, cuts)
    return out


def _cut(piece: _Piece, labels: np.ndarray, cuts: list[int]) -> list[_Piece]:
    """The piece cut before each of these columns (counted from its left), each part given a new label in `labels`."""
    window = (slice(piece.top, piece.bottom), slice(piece.left, piece.right))
    blob = np.isin(labels[window], list(piece.labels))  # [h, w]
    parts = []
    for start, stop in itertools.pairwise([0, *cuts, piece.width]):
        part = np.zeros_like(blob)
        part[:, start:stop] = blob[:, start:stop]
        if part.any():
            new_label = int(labels.max()) + 1
            labels[window][part] = new_label
            parts.append(_bounded({new_label}, part, piece.top, piece.left))
    return parts


def _unread(pieces: list[_Piece], labels: np.ndarray, ink: np.ndarray, wider: float, score: Scorer) -> set[int]:
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


def _read_cuts(
    letter_ink: np.ndarray,
    crossings: np.ndarray,
    expected: list[int],
    widest: float,
    score: Scorer,
    one_mark: float = ONE_MARK,
) -> list[int]:
    """The cuts of a blob of touching letters that the reader reads best: among the places few strokes cross (each
    local minimum of `crossings`, the lowest CUT_CANDIDATES, and the `expected` cuts), the sequence of cuts whose
    parts, each read as a letter alone, have the highest product of confidences. A part holding two letters reads
    as not-a-letter or unsure, a letter cut in two as two unsure halves, so the right cuts win without knowing how
    many letters the blob holds. A blob of a letter's width that no reading as letters beats ONE_MARK stays whole:
    a digit reads as no letter too, and its parts as weak letters. One batch of model calls for every candidate
    part."""
    width = letter_ink.shape[1]
    inner = crossings[1:-1]
    minima = 1 + np.flatnonzero((inner <= crossings[:-2]) & (inner <= crossings[2:])) + 1  # cut before column c
    lowest = minima[np.argsort(crossings[minima - 1], kind="stable")][:CUT_CANDIDATES]
    points = sorted({0, width, *expected, *lowest.tolist()})
    parts = [(i, j) for i in range(len(points)) for j in range(i + 1, len(points)) if points[j] - points[i] <= widest]
    crops = [_part_crop(letter_ink[:, points[i] : points[j]]) for i, j in parts]
    scores = {}
    readable = [(part, crop) for part, crop in zip(parts, crops, strict=True) if crop is not None]
    if readable:
        scores = dict(zip([part for part, _ in readable], score([crop for _, crop in readable]), strict=True))
    whole = (0, len(points) - 1)
    if whole in scores:  # one mark that is no letter (a digit) rather than letters no part of which reads surely
        scores[whole] = max(scores[whole], one_mark)
    best = np.full(len(points), -np.inf)
    best[0], previous = 0.0, np.zeros(len(points), dtype=int)
    for (i, j), value in sorted(scores.items(), key=lambda item: item[0][1]):
        total = best[i] + np.log(max(float(value), 1e-6)) + (np.log(CUT_PRIOR) if i else 0.0)
        if total > best[j]:
            best[j], previous[j] = total, i
    if not np.isfinite(best[-1]):
        return expected
    cuts, j = [], len(points) - 1
    while j:
        j = previous[j]
        cuts.append(points[j])
    return sorted(cuts)[1:]


def _part_crop(ink: np.ndarray) -> np.ndarray | None:
    """A part of a blob as a letter crop (as _crop makes them), or None when it holds no ink."""
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    if not len(rows) or ink.max() <= 0:
        return None
    return _as_crop(ink[rows[0] : rows[-1] + 1])


def _bounded(piece_labels: set[int], mask: np.ndarray, top: int, left: int) -> _Piece:
    """A piece for the pixels of `mask` (a window whose corner is at top, left), with its tight box."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    bottom, right = top + int(rows[-1]) + 1, left + int(cols[-1]) + 1
    return _Piece(piece_labels, left + int(cols[0]), top + int(rows[0]), right, bottom, int(mask.sum()))


def _owner_map(pieces: list[_Piece], labels: np.ndarray) -> np.ndarray:
    """int32 [h, w]: i + 1 where a pixel belongs to pieces[i] (its strokes and their faint fringe), else 0."""
    owner = np.zeros(labels.shape, dtype=np.int32)
    for i, p in enumerate(pieces):
        window = (slice(p.top, p.bottom), slice(p.left, p.right))
        owner[window][np.isin(labels[window], list(p.labels))] = i + 1
    near = ndimage.grey_dilation(owner, size=(2 * FRINGE + 1, 2 * FRINGE + 1))  # a letter's label spreads FRINGE px
    fringe = (owner == 0) & (labels == 0)  # never onto another letter's strokes or a dropped speck
    owner[fringe] = near[fringe]
    return owner


def _spaces(pieces: list[_Piece], height: float) -> list[bool]:
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
