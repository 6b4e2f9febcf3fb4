"""Form fields in an image of writing: comb fields and rows of printed boxes, found by their walls, so that `hcr read`
reads one letter per cell and takes the printed lines out; and the tilt of a field printed or scanned askew.

A field's printed lines are long and straight, its walls thin upright strokes standing on them on an even grid
(even where letters touch them); two fields one above the other are two bands of walls, each on a grid of its own.
Used by hcr.inference.segment, which finds the printed lines (preprocess.ruled_lines) and reads what the cells hold.
"""

import itertools
from dataclasses import dataclass

import numpy as np

from hcr.inference.pieces import Box, Piece, cut, labelled, union
from hcr.inference.preprocess import INK_THRESHOLD

PRINTED_LINE_SPAN = 0.5  # a printed line across a field spans this share of the image's width at least
TICK_WIDTH = 0.2  # a comb's tick is no wider than this many of its heights, or than TICK_PX (a short tick)...
TICK_PX = 6  # (a wall printed thick, or widened by a scan's noise and blur)
TICK_REACH = 3  # ...ends within this many px of a printed line...
TICK_GRID = 0.1  # ...and stands, with at least two others, on a grid of even steps (± this share of a step)
TICK_PLACE = 0.03  # a wall that a letter touches is sought within this share of a step of its place on the grid
NARROWEST_CELL = 12  # px: a form's cell holds a letter, so its walls are at least this far apart in the ink map
SLIVER = 0.25  # a piece narrower than this share of a cell, against its wall, may be a letter's that ran over it
WALLS_SEEN = 0.9  # a grid finer than the walls seen stands only if a wall is at this share of its places at least
UNEVEN_CELLS = 1.6  # boxes drawn by hand: the widest cell at most this many times the narrowest
MOST_WALLS = 64  # more thin upright strokes than this are not a form field (cells would be narrower than a letter)
MOST_TILT = 5.0  # degrees: a form field's printed lines are made level if tilted up to this either way...
TILT_STEP = 0.25  # ...tried in steps of this (a quarter degree drifts 1.3 px across 300)...
TILT_STRIP = 8  # ...on the mask summed in strips of this many columns...
TILT_GAIN = 1.2  # ...and taken where a line's row is this much fuller than the fullest row level


def field_tilt(mask: np.ndarray) -> float:
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


def unrotated_box(p: Piece, tilt: float, shape: tuple[int, int], unrotated: tuple[int, int]) -> Box:
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


@dataclass(frozen=True)
class Cells:
    """A form field's cells, in the ink map's columns: walls at `first` + k × `width` (a printed grid), or, for boxes
    drawn by hand, at the columns `walls` (sorted; `width` their typical step), and nowhere else."""

    first: float
    width: float
    walls: tuple[float, ...] = ()

    def of(self, piece: Piece) -> int:
        centre = (piece.left + piece.right) / 2
        if self.walls:
            return int(np.searchsorted(self.walls, centre)) - 1
        return int(np.floor((centre - self.first) / self.width))

    def holds(self, column: float) -> bool:
        """Whether a wall at this column stands on the grid."""
        if self.walls:
            return bool(np.abs(np.array(self.walls) - column).min() <= TICK_PX)
        steps = (column - self.first) / self.width
        return bool(abs(steps - round(steps)) <= TICK_GRID)

    def within(self, left: float, right: float) -> list[float]:
        """The walls' columns from `left` to `right`."""
        if self.walls:
            return [wall for wall in self.walls if left <= wall <= right]
        k = np.arange(np.ceil((left - self.first) / self.width), np.floor((right - self.first) / self.width) + 1)
        return (self.first + self.width * k).tolist()

    def bounds(self, cell: int) -> tuple[float, float]:
        """The columns of a cell's left and right walls (beyond the last wall seen: a step on)."""
        if self.walls:
            walls = (self.walls[0] - self.width, *self.walls, self.walls[-1] + self.width)
            return walls[min(max(cell + 1, 0), len(walls) - 2)], walls[min(max(cell + 2, 1), len(walls) - 1)]
        return self.first + cell * self.width, self.first + (cell + 1) * self.width


@dataclass(frozen=True)
class _Wall:
    """A thin upright stroke that may be a wall of a form's cells: where it lies, in the ink map's pixels."""

    left: int
    right: int  # exclusive
    top: int
    bottom: int  # exclusive
    piece: Piece | None = None  # the tick itself, when it stands free of letters

    @property
    def centre(self) -> float:
        return (self.left + self.right - 1) / 2


@dataclass(frozen=True)
class Field:
    """A comb field or a row of boxes: its walls (bool [h, w], the upright strokes between its cells, to take out),
    its cells, and the rows its walls stand in."""

    walls: np.ndarray
    cells: Cells
    top: int
    bottom: int  # exclusive


def form_fields(mask: np.ndarray, printed: np.ndarray, labels: np.ndarray, pieces: list[Piece]) -> list[Field]:
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


def cells_of(line: list[Piece], fields: list[Field]) -> Cells | None:
    """The cells of the field a line of pieces is written in: the field whose rows it shares most; None if none."""
    top, bottom = min(p.top for p in line), max(p.bottom for p in line)
    shared = [min(bottom, field.bottom) - max(top, field.top) for field in fields]
    return fields[int(np.argmax(shared))].cells if shared and max(shared) > 0 else None


def _form_field(mask: np.ndarray, printed: np.ndarray, labels: np.ndarray, walls: list[_Wall]) -> Field | None:
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
    upright = mask[top + 1 : bottom - 1].all(axis=0)  # [w] columns inked across the walls' rows (± 1 px)...
    for wall in walls:  # ...or a free tick's, however tall: ticks printed or scanned a few px unevenly
        if wall.piece is not None:
            upright[wall.left : wall.right] = True
    band_top, band_bottom = min(w.top for w in walls), max(w.bottom for w in walls)
    # the band's own printed lines: every wall ends within TICK_REACH of one, so there is at least one
    columns = np.flatnonzero(printed[max(0, band_top - TICK_REACH - 1) : band_bottom + TICK_REACH + 1].any(axis=0))
    grids = [(cells, _wall_places(cells, upright, columns[0], columns[-1])) for cells in _grids(walls)]
    walled = [
        (sum(len(p) > 0 for _, p in places), cells, places)
        for cells, places in grids
        if _share_walled(places) >= WALLS_SEEN
    ]
    n_walled, cells, places = max(walled, key=lambda grid: grid[0], default=(0, None, []))
    drawn = _drawn_boxes(walls)
    if drawn is not None and (n_walled < 3 or not all(cells.holds(wall) for wall in drawn.walls)):
        cells, places = drawn, [(wall, _near(wall, drawn, upright)) for wall in drawn.walls]
    elif n_walled < 3:
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
    return Field(found, cells, band_top, band_bottom)


def _share_walled(places: list[tuple[float, np.ndarray]]) -> float:
    """The share of a grid's places, from its first wall to its last, that have a wall."""
    walled = np.flatnonzero([len(columns) > 0 for _, columns in places])
    return len(walled) / (walled[-1] - walled[0] + 1) if len(walled) else 0.0


def _wall_places(cells: Cells, upright: np.ndarray, left: int, right: int) -> list[tuple[float, np.ndarray]]:
    """Each place on the grid from column `left` to `right` (a printed line's ends), with the columns near it that
    are `upright` (inked across the walls' rows: a wall, seen or touched by a letter), none where it has no wall."""
    reach = max(TICK_PX, TICK_PLACE * cells.width)
    return [(place, _near(place, cells, upright)) for place in cells.within(left - reach, right + reach)]


def _near(place: float, cells: Cells, upright: np.ndarray) -> np.ndarray:
    """The columns near a wall's place that are inked across the walls' rows."""
    reach = max(TICK_PX, TICK_PLACE * cells.width)
    near = np.arange(max(0, round(place - reach)), min(len(upright), round(place + reach) + 1))
    return near[upright[near]]


def _drawn_boxes(walls: list[_Wall]) -> Cells | None:
    """The cells of a row of boxes drawn by hand, not on an even grid: walls inked all the way from one printed line
    to the next, at least three, leaving cells alike in width (the widest at most UNEVEN_CELLS times the narrowest,
    and none narrower than a letter). A written I that runs from line to line inside a box leaves two narrow cells,
    so it is no wall. None when the walls are not such a row."""
    seen = [wall.centre for wall in walls if wall.piece is None]
    centres = _merged(np.sort(seen)) if len(seen) >= 3 else []
    if len(centres) < 3:
        return None
    steps = np.diff(centres)
    if steps.min() < NARROWEST_CELL or steps.max() > UNEVEN_CELLS * steps.min():
        return None
    return Cells(float(centres[0]), float(np.median(steps)), tuple(float(c) for c in centres))


def _free_ticks(pieces: list[Piece], line_rows: np.ndarray) -> list[_Wall]:
    """Thin upright pieces of their own that end at a printed line (`line_rows`, the rows it was taken from), stand
    up from it farther than TICK_REACH and are twice as tall as wide at least (a dot a line left behind is no tick:
    a few such once made a field of their own, on a grid of their own; a small comb's ticks, reduced with the image,
    may be 6 px tall and 1 px wide)."""

    def ends_at_line(p: Piece) -> bool:
        return bool(
            np.abs(line_rows - p.top).min() <= TICK_REACH or np.abs(line_rows - p.bottom + 1).min() <= TICK_REACH
        )

    return [
        _Wall(p.left, p.right, p.top, p.bottom, p)
        for p in pieces
        if p.width <= max(TICK_WIDTH * p.height, TICK_PX)
        and p.height > TICK_REACH
        and p.height >= 2 * p.width
        and ends_at_line(p)
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


def box_sides(mask: np.ndarray, printed: np.ndarray) -> np.ndarray | None:
    """bool [H, W]: the sides of printed boxes round a whole field (a form's box round a word): columns inked from
    one printed line to the next, as a box's walls are, standing where both lines end; None if there are none. Only
    two, they make no grid of cells, and each read as an I, marked ok."""
    sides = np.zeros_like(mask)
    for wall in _box_walls(mask, printed):
        ends = [np.flatnonzero(printed[row])[[0, -1]] for row in (wall.top - 1, wall.bottom)]
        if all(np.abs(line_ends - wall.centre).min() <= TICK_PX for line_ends in ends):
            sides[wall.top : wall.bottom, wall.left : wall.right] = mask[wall.top : wall.bottom, wall.left : wall.right]
    return sides if sides.any() else None


def _merged(centres: np.ndarray) -> np.ndarray:
    """Sorted columns with those within TICK_PX of the previous merged into one (their mean): a wall seen both free
    and inked between two lines, or its width read differently on noisy paper, is one wall."""
    groups = np.split(centres, np.flatnonzero(np.diff(centres) > TICK_PX) + 1)
    return np.array([group.mean() for group in groups])


def _grids(walls: list[_Wall]) -> list[Cells]:
    """The even grids that the most of these walls stand on (± TICK_GRID of a step), at least two, widest first;
    each fitted to its walls (a printed grid is exact). A grid may be a whole number of times finer than the steps
    between the walls seen: where letters touch every other wall, those seen are two cells apart."""
    centres = _merged(np.sort([wall.centre for wall in walls]))
    differences = (centres[None, :] - centres[:, None])[np.triu_indices(len(centres), 1)]
    steps = np.unique(np.concatenate([differences / k for k in (1, 2, 3)]))
    steps = steps[steps >= NARROWEST_CELL][::-1]
    found: list[tuple[int, Cells]] = []
    for step in steps:
        offsets = (centres[:, None] - centres[None, :]) / step  # [wall, anchor]
        on = np.abs(offsets - np.round(offsets)) <= TICK_GRID
        anchor = int(np.argmax(on.sum(axis=0)))
        places = np.round(offsets[on[:, anchor], anchor])
        if len(places) >= 2 and len(np.unique(places)) == len(places):  # coarser: two walls in one place
            fitted, first = np.polyfit(places, centres[on[:, anchor]], 1)
            found.append((len(places), Cells(float(first), float(fitted))))
    most = max((count for count, _ in found), default=0)
    return [cells for count, cells in found if count == most]


def cell_spaces(pieces: list[Piece], cells: Cells) -> list[bool]:
    """In a comb field a space is an empty cell, whatever the gap between the letters' ink."""
    numbers = [cells.of(p) for p in pieces]
    return [False, *(b - a > 1 for a, b in itertools.pairwise(numbers))]


def by_cell(pieces: list[Piece], cells: Cells, labels: np.ndarray) -> list[Piece]:
    """In a form field a cell holds one letter. Letters that touch across a wall (above a comb's short tick) are cut
    there; the pieces in a cell are its letter's parts, even tall ones (a stroke that lay along a wall is cut off the
    rest of its letter when the wall is taken out). A letter that ran over a wall leaves a sliver in the next cell:
    a narrow piece against the wall, beside that cell's own letter, goes back to the letter across the wall."""
    sliver = SLIVER * cells.width
    parts = []
    for p in pieces:
        places = cells.within(p.left + sliver, p.right - sliver)
        parts += cut(p, labels, [round(x) - p.left for x in places]) if places else [p]
    pieces = parts
    by_cell: dict[int, list[Piece]] = {}
    for p in pieces:
        by_cell.setdefault(cells.of(p), []).append(p)
    home = {id(p): cell for cell, held in by_cell.items() for p in held}
    for cell, held in by_cell.items():
        if len(held) < 2:
            continue
        for p in held:
            if p.width >= sliver:
                continue
            left_wall, right_wall = cells.bounds(cell)
            if p.left - left_wall <= TICK_PX and cell - 1 in by_cell:
                home[id(p)] = cell - 1
            elif right_wall - (p.right - 1) <= TICK_PX and cell + 1 in by_cell:
                home[id(p)] = cell + 1
    letters: dict[int, Piece] = {}
    for p in pieces:
        cell = home[id(p)]
        letters[cell] = union(letters[cell], p) if cell in letters else p
    return list(letters.values())


def without_remnants(ink: np.ndarray, peak: float, line_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[Piece]]:
    """(mask, labels, pieces) of the ink once what is left of its printed lines (_line_remnant) is taken out of it
    (in place)."""
    mask = ink > INK_THRESHOLD * peak
    labels, found = labelled(mask)
    remnants = [label for p in found if _line_remnant(p, line_rows) for label in p.labels]
    if not remnants:
        return mask, labels, found
    ink[np.isin(labels, remnants)] = 0.0
    mask = ink > INK_THRESHOLD * peak
    return (mask, *labelled(mask))


def _line_remnant(piece: Piece, line_rows: np.ndarray) -> bool:
    """Whether a piece is what is left of a printed line printed or scanned a little askew: the line's rows were
    taken where its longest run lay, and the rest of it, a px or two higher or lower, stayed: a long thin piece
    along those rows (no thicker than a wall, several times as long as thick). Left in, each was read as a line of
    letters (a field tilted by half a degree read as 200 S's). Or a stub no taller than TICK_REACH beside a line: the
    end of a wall of boxes drawn cell by cell, a row or two above where the walls' rows begin, which the paper's
    grain beside it made look crossed by a stroke (kept, the stubs read as a line of R's above the word)."""
    near = (
        np.abs(line_rows - piece.top).min() <= TICK_REACH and np.abs(line_rows - piece.bottom + 1).min() <= TICK_REACH
    )
    long_and_thin = piece.height <= TICK_PX and piece.width >= max(NARROWEST_CELL, 4 * piece.height)
    return near and (long_and_thin or piece.height <= TICK_REACH)
