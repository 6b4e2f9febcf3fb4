"""Cutting a line of capitals into letters, on lines composed from real handwritten letters (tests/lines.py)."""

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from hcr.inference.pieces import Piece, cut
from hcr.inference.preprocess import WORK_SIDE, BlankImageError, to_letter_array
from hcr.inference.segment import SPLIT_ASPECT, _seams, segment_line
from hcr.labels import index_of
from tests.lines import LETTER_SIZE, compose_comb_field, compose_line, real_letters, with_rule_under

MATCH = 0.75  # least correlation between a crop's 28×28 and its source letter's (typically > 0.95)


def _as_model_sees(image: np.ndarray) -> np.ndarray:
    return to_letter_array(Image.fromarray(image)).astype(np.float64)  # [28, 28]


def _correlations(glyphs, letters: np.ndarray) -> np.ndarray:
    """[n_glyphs, n_letters] correlation of each crop's 28×28 with each source letter's 28×28."""
    crops = np.stack([_as_model_sees(g.crop).ravel() for g in glyphs])
    sources = np.stack([_as_model_sees(x).ravel() for x in letters])
    return np.corrcoef(crops, sources)[: len(crops), len(crops) :]


def _overlap(a, b) -> float:
    """Intersection over union of two (left, top, right, bottom) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _line_of(source: str, seed: int, **options):
    """A random line of 4–10 real letters (a space at ~25 % of gaps) and the letters placed."""
    data = real_letters(source)
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 11))
    letters = data.x[rng.choice(len(data), n, replace=False)]
    space_before = [False, *(rng.random(n - 1) < 0.25).tolist()]
    letter_size = int(rng.integers(24, 80))  # the largest make lines wider than the 512 px the ink map works at
    return compose_line(letters, rng, space_before=space_before, letter_size=letter_size, **options), letters


@pytest.mark.parametrize("dark_on_light", [True, False], ids=["black-on-white", "white-on-black"])
@pytest.mark.parametrize("seed", range(6))
def test_capitals_come_out_in_order_with_the_spaces(seed, dark_on_light):
    line, letters = _line_of("az", seed, dark_on_light=dark_on_light)
    glyphs = segment_line(line.image)
    assert len(glyphs) == len(letters)
    assert [g.space_before for g in glyphs] == line.space_before
    for glyph, placed in zip(glyphs, line.boxes, strict=True):
        assert _overlap(glyph.box, placed) > 0.7, (glyph.box, placed)
        assert glyph.crop.dtype == np.uint8
        assert glyph.crop.max() == 255
        border = np.concatenate([glyph.crop[0], glyph.crop[-1], glyph.crop[:, 0], glyph.crop[:, -1]])
        assert not border.any()  # a blank border: to_letter_array takes it for the background
    correlations = _correlations(glyphs, letters)
    assert (np.diag(correlations) > MATCH).all(), np.diag(correlations)
    assert (correlations.argmax(axis=1) == np.arange(len(letters))).all()  # each crop is most like its own letter


@pytest.mark.parametrize("n_lines", [2, 3])
@pytest.mark.parametrize("seed", range(3))
def test_lines_stacked_in_one_image_come_out_line_by_line(n_lines, seed):
    """An address block: lines of real capitals one above the other, 0.3–0.6 letter heights apart (their baselines
    wander, their letters' sizes differ): each letter is found once, on its own line, in reading order."""
    rng = np.random.default_rng(100 + seed)
    lines = [_line_of("az", 10 * seed + k)[0] for k in range(n_lines)]
    boxes, space_before, line_of = [], [], []
    canvases = [np.asarray(line.image) for line in lines]
    width = max(c.shape[1] for c in canvases)
    blocks, top = [], 0
    for k, (line, canvas) in enumerate(zip(lines, canvases, strict=True)):
        rows = np.flatnonzero((canvas < 128).any(axis=1))  # the line's ink rows: stack lines by their ink
        band = canvas[rows[0] : rows[-1] + 1]
        gap = round(rng.uniform(0.3, 0.6) * LETTER_SIZE)
        blocks += [
            np.full((gap, width), 255, np.uint8),
            np.pad(band, ((0, 0), (0, width - band.shape[1])), constant_values=255),
        ]
        top += gap
        boxes += [(left, t - rows[0] + top, r, b - rows[0] + top) for left, t, r, b in line.boxes]
        space_before += line.space_before
        line_of += [k] * len(line.boxes)
        top += band.shape[0]
    image = Image.fromarray(np.concatenate([*blocks, np.full((LETTER_SIZE, width), 255, np.uint8)]))
    glyphs = segment_line(image)
    assert [g.line for g in glyphs] == line_of
    assert [g.space_before for g in glyphs] == space_before
    for glyph, placed in zip(glyphs, boxes, strict=True):
        assert _overlap(glyph.box, placed) > 0.7, (glyph.box, placed)


def test_mixed_case_emnist_lines_mostly_segment_exactly():
    """EMNIST Letters mixes in lower case (dotted i and j, wide m): harder than capitals, still nearly always right."""
    n_lines, n_exact, matches = 40, 0, []
    for seed in range(n_lines):
        line, letters = _line_of("emnist", seed, dark_on_light=bool(seed % 2))
        glyphs = segment_line(line.image)
        if len(glyphs) == len(letters):
            n_exact += 1
            matches.extend(np.diag(_correlations(glyphs, letters)) > MATCH)
    assert n_exact >= 0.95 * n_lines
    assert np.mean(matches) > 0.97


def test_a_letter_in_pieces_is_merged():
    """Real letters broken by a blank band (a pen that skipped), and dotted i's: each comes out as one letter."""
    data = real_letters("az")
    broken = []
    for letter in "EHTF":
        for x in data.x[data.y == index_of(letter)][:20]:
            gapped = x.copy()
            gapped[13:15] = 0  # [28, 28] a blank band across the middle
            if ndimage.label(gapped > 64, structure=np.ones((3, 3)))[1] >= 2:
                broken.append(gapped)
                break
    emnist = real_letters("emnist")
    dotted = [
        x for x in emnist.x[emnist.y == index_of("I")] if ndimage.label(x > 64, structure=np.ones((3, 3)))[1] == 2
    ]
    letters = np.stack(broken + dotted[:3])
    assert len(letters) == 7
    line = compose_line(letters, np.random.default_rng(0), letter_size=48)
    glyphs = segment_line(line.image)
    assert len(glyphs) == len(letters)
    assert (np.diag(_correlations(glyphs, letters)) > MATCH).all()


def test_touching_letters_are_cut_apart():
    """The clear case: two round letters in a line, side by side, their ink meeting at a point."""
    data = real_letters("az")
    whole = np.array([ndimage.label(x > 64, structure=np.ones((3, 3)))[1] == 1 for x in data.x])
    wide = (data.x > 64).any(axis=1).sum(axis=1) >= 18  # [N] ink at least 18 of 28 columns wide
    rounds = data.x[whole & wide & np.isin(data.y, [index_of(c) for c in "OCDQ"])]
    others = data.x[whole & wide & ~np.isin(data.y, [index_of(c) for c in "OCDQ"])]
    letters = np.concatenate([others[:2], rounds[:2], others[2:4]])
    for overlap in range(LETTER_SIZE // 2):  # px: bring the third and fourth letters closer until they touch
        gaps = [0.3, 0.3, -overlap / LETTER_SIZE, 0.3, 0.3]
        line = compose_line(letters, np.random.default_rng(0), gaps=gaps, size_jitter=0.0, baseline_jitter=0.0)
        n_blobs = ndimage.label(np.asarray(line.image) < 191, structure=np.ones((3, 3)))[1]
        if n_blobs == 5:
            break
    assert n_blobs == 5  # the two round letters touch
    pair_width = line.boxes[3][2] - line.boxes[2][0]
    assert pair_width > SPLIT_ASPECT * max(b[3] - b[1] for b in line.boxes)  # too wide for one letter

    glyphs = segment_line(line.image)
    assert len(glyphs) == 6
    assert line.boxes[3][0] - 4 < glyphs[2].box[2] <= glyphs[3].box[0] < line.boxes[2][2] + 4  # cut where they meet
    assert (np.diag(_correlations(glyphs, letters)) > MATCH).all()


def test_specks_of_noise_are_not_letters():
    line, letters = _line_of("az", 7, dark_on_light=True)
    rng = np.random.default_rng(1)
    page = np.asarray(line.image).astype(np.float64)
    page += rng.normal(0, 8, page.shape)  # paper grain
    specks = rng.random(page.shape) < 0.002
    page[specks] = rng.uniform(0, 100, specks.sum())  # dark dots of dust
    glyphs = segment_line(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)))
    assert len(glyphs) == len(letters)
    assert (np.diag(_correlations(glyphs, letters)) > MATCH).all()


@pytest.mark.parametrize(
    "image",
    [Image.new("L", (400, 80), 255), Image.new("L", (400, 80), 0), Image.new("RGBA", (400, 80), (0, 0, 0, 0))],
    ids=["white", "black", "transparent"],
)
def test_blank_image_is_a_clear_error(image):
    with pytest.raises(BlankImageError, match="blank"):
        segment_line(image)


@pytest.mark.parametrize("with_top", [False, True], ids=["comb", "boxes"])
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("touching", [False, True], ids=["apart", "touching-walls"])
def test_letters_in_a_comb_field_come_out_without_the_printed_lines(seed, with_top, touching):
    """Touching: each letter overlaps a wall of its cell, so a wall and a letter are one blob of ink (a new user's
    form, where `NAME` in boxes read INIAMEI: the walls as I's)."""
    data = real_letters("az")
    rng = np.random.default_rng(300 + seed)
    letters = data.x[rng.choice(len(data), int(rng.integers(4, 9)), replace=False)]
    space_before = [False, *(rng.random(len(letters) - 1) < 0.3).tolist()]  # an empty cell between words
    field = compose_comb_field(
        letters, space_before=space_before, with_top=with_top, dark_on_light=seed != 1, touching=touching
    )
    glyphs = segment_line(field.image)
    assert len(glyphs) == len(letters), [g.box for g in glyphs]
    assert [g.space_before for g in glyphs] == space_before  # a space is an empty cell, not a wide gap
    for glyph, placed in zip(glyphs, field.boxes, strict=True):
        assert _overlap(glyph.box, placed) > 0.7, (glyph.box, placed)
    assert (np.diag(_correlations(glyphs, letters)) > MATCH).all()


def test_form_fields_of_every_size_are_cut_into_their_cells():
    """Fields of 3–12 cells, letters 24–60 px, touching their walls or not, comb or boxes: each letter comes out once.
    One such field (walls seen at 68, 148, 189, ... px) once crashed the grid fit with three walls in one place."""
    data = real_letters("az")
    rng = np.random.default_rng(42)
    exact = 0
    for i in range(60):
        n = int(rng.integers(3, 13))
        letters = data.x[rng.choice(len(data), n, replace=False)]
        field = compose_comb_field(
            letters,
            space_before=[False, *(rng.random(n - 1) < 0.2).tolist()],
            letter_size=int(rng.integers(24, 61)),
            with_top=bool(i % 2),
            dark_on_light=bool(i % 3),
            touching=bool(i % 4 < 2),
        )
        exact += len(segment_line(field.image)) == n
    assert exact >= 57, exact


@pytest.mark.parametrize("seed", range(3))
def test_a_small_comb_reduced_with_its_image_keeps_its_ticks_walls(seed):
    """A comb field of 24 px letters wider than WORK_SIDE is halved for analysis, its ticks with it: 6 px tall, 1 px
    wide. Ticks must still stand taller than a dot a line leaves behind; taken for dots, they read as letters (a
    field of 8 letters read IIIIH I IR IE?ICSILSI IS I IIEIOSIICI)."""
    data = real_letters("az")
    rng = np.random.default_rng(seed)
    letters = data.x[rng.choice(len(data), 14, replace=False)]
    field = compose_comb_field(letters, letter_size=24, dark_on_light=bool(seed % 2))
    assert field.image.width > WORK_SIDE  # reduced for analysis
    glyphs = segment_line(field.image)
    assert len(glyphs) == len(letters), [g.box for g in glyphs]
    for glyph, placed in zip(glyphs, field.boxes, strict=True):
        assert _overlap(glyph.box, placed) > 0.7, (glyph.box, placed)


@pytest.mark.parametrize("with_top", [False, True], ids=["comb", "boxes"])
@pytest.mark.parametrize("gap", [0, 40], ids=["stacked", "apart"])
def test_two_form_fields_one_above_the_other_are_two_lines(with_top, gap):
    """A surname field above a first-name field, each on a grid of its own (other cell sizes, other offsets), with an
    even white margin round both: one grid was fitted across both fields and the frames' lines were not found (the
    two rows made a "letter" taller than the lines were long); a new user's BAKER over SMITH in boxes read `E`."""
    data = real_letters("az")
    rng = np.random.default_rng(21)
    first, second = (data.x[rng.choice(len(data), n, replace=False)] for n in (5, 4))
    top = compose_comb_field(first, letter_size=30, with_top=with_top)
    bottom = compose_comb_field(second, letter_size=26, with_top=with_top, space_before=[False, False, True, False])
    width = max(top.image.width, bottom.image.width) + 40
    page = Image.new("L", (width, top.image.height + gap + bottom.image.height + 40), 255)
    page.paste(top.image, (20, 20))
    page.paste(bottom.image, (30, 20 + top.image.height + gap))
    glyphs = segment_line(page)
    assert [g.line for g in glyphs] == [0] * len(first) + [1] * len(second), [g.box for g in glyphs]
    assert [g.space_before for g in glyphs] == [False] * 5 + [False, False, True, False]  # each field's own cells
    assert (np.diag(_correlations(glyphs, np.concatenate([first, second]))) > MATCH).all()


@pytest.mark.parametrize("with_top", [False, True], ids=["comb", "boxes"])
@pytest.mark.parametrize("degrees", [-5, -4, -3, -1.5, -0.5, 0.5, 1, 2, 3, 4, 5])
def test_a_form_field_printed_askew_comes_out_without_its_lines(with_top, degrees):
    """Half a degree off level, a field's printed lines drift a px or two across it: they were taken out only along
    their longest run, and what was left of them, long thin strips beside the lines, came out as letters (a new
    user's BAKER in boxes read BAIKIER; with the walls then found, as 200 S's). From a degree on, no row held a line
    in full and the walls read as I's or `?`: the field is now made level first."""
    data = real_letters("az")
    rng = np.random.default_rng(5)
    letters = data.x[rng.choice(len(data), 5, replace=False)]
    field = compose_comb_field(letters, with_top=with_top)
    page = Image.new("L", (field.image.width + 40, field.image.height + 40), 255)
    page.paste(field.image, (20, 20))
    tilted = page.rotate(degrees, Image.Resampling.BILINEAR, fillcolor=255)
    glyphs = segment_line(tilted)
    assert len(glyphs) == len(letters), [g.box for g in glyphs]
    assert (np.diag(_correlations(glyphs, letters)) > MATCH).all()
    centre = np.array(tilted.size) / 2  # where each letter went when the page was turned (Pillow: anticlockwise)
    turn = np.radians(degrees)
    for glyph, (left, top, right, bottom) in zip(glyphs, field.boxes, strict=True):
        x, y = (left + right) / 2 + 20 - centre[0], (top + bottom) / 2 + 20 - centre[1]
        moved = (centre[0] + x * np.cos(turn) + y * np.sin(turn), centre[1] - x * np.sin(turn) + y * np.cos(turn))
        assert glyph.box[0] <= moved[0] <= glyph.box[2], (glyph.box, moved)
        assert glyph.box[1] <= moved[1] <= glyph.box[3], (glyph.box, moved)


@pytest.mark.parametrize("with_top", [False, True], ids=["comb", "boxes"])
@pytest.mark.parametrize("scan", ["noise", "blur"])
def test_a_scanned_form_field_comes_out_without_its_walls(with_top, scan):
    """A form field as a scanner gives it back: grain (σ 4 levels) or a slight blur widens and roughens the walls,
    which then stood on the grid a few px apart from their own copies and were read as I's (a new user's BAKER in
    boxes read IBIAIKIEIRI)."""
    data = real_letters("az")
    rng = np.random.default_rng(11)
    letters = data.x[rng.choice(len(data), 5, replace=False)]
    field = compose_comb_field(letters, with_top=with_top)
    page = 30 + np.asarray(field.image, dtype=np.float64) * (215 / 255)  # printed on off-white paper: 245, ink 30
    page = page + rng.normal(0, 4, page.shape) if scan == "noise" else ndimage.gaussian_filter(page, 0.7)
    glyphs = segment_line(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)))
    assert len(glyphs) == len(letters), [g.box for g in glyphs]
    assert (np.diag(_correlations(glyphs, letters)) > MATCH).all()


def _boxes_drawn_cell_by_cell(
    letters: np.ndarray, side: int, cells: list[int], line: int, noise: float
) -> tuple[Image.Image, np.ndarray]:
    """Real letters `side` px tall, each in a rectangle of its own drawn with `line` px lines (so each wall between
    two cells is two lines thick), `cells` px wide, on paper of 242 with grain of σ `noise`; and each letter as
    drawn (bright on black: narrowed to fit a narrow cell), for comparing with what comes out."""
    page = Image.new("L", (side + sum(cells), 3 * side), 242)
    draw = ImageDraw.Draw(page)
    drawn = []
    left = side // 2
    for letter, cell in zip(letters, cells, strict=True):
        width = min(side, cell - 2 * line - 4)
        at = left + (cell - width) // 2
        drawn.append(Image.fromarray(letter).resize((width, side)))
        page.paste(0, (at, side, at + width, 2 * side), drawn[-1])
        draw.rectangle([left, side - side // 5, left + cell, 2 * side + side // 5], outline=40, width=line)
        left += cell
    grainy = np.asarray(page, dtype=np.float64) + np.random.default_rng(1).normal(0, noise, (page.height, page.width))
    image = Image.fromarray(np.clip(grainy, 0, 255).round().astype(np.uint8))
    return image, np.stack([to_letter_array(d) for d in drawn])


@pytest.mark.parametrize("noise", [1.0, 2.0, 3.0])
def test_boxes_drawn_cell_by_cell_on_grainy_paper_leave_no_stubs_of_their_walls(noise):
    """A row of boxes drawn one rectangle per cell (3 px lines, so each wall is two lines thick) on paper with the
    slightest grain: the top of each wall, a row or two between the top line and where the walls' rows begin, was
    left behind as a stub (the grain beside it looked like a stroke crossing the wall), and the stubs read as a line
    of R's above the word (a new user's FRMSNLBX read 'R RRRRRR / R / F MSNLBX / R RRRRRR')."""
    data = real_letters("az")
    rng = np.random.default_rng(5)
    letters = data.x[rng.choice(len(data), 8, replace=False)]
    image, letters = _boxes_drawn_cell_by_cell(letters, 28, [36] * len(letters), 3, noise)
    glyphs = segment_line(image)
    assert len(glyphs) == len(letters), [g.box for g in glyphs]
    assert {g.line for g in glyphs} == {0}
    assert (np.diag(_correlations(glyphs, letters)) > MATCH).all()


@pytest.mark.parametrize(
    ("side", "cells", "line"),
    [(40, [62, 55, 51, 51, 65, 67, 61, 64], 2), (80, [124, 111, 103, 102, 131, 134, 123, 128], 5),
     *[(side, None, line) for side in (28, 40) for line in (2, 3)]],
)  # fmt: skip
def test_boxes_drawn_by_hand_of_uneven_widths_come_out_without_their_walls(side, cells, line):
    """Boxes drawn by hand are not on an even grid, and walls were sought only on one: each wall of a new user's
    row read as an I, marked ok (FRMSNLBX in cells 51–67 px wide read IFIRIMISINILIBIXI; cells within ±15 % of
    1.3 letter heights: an I for the first or last wall in 13 of 30 rows). A column inked all the way from the top
    line to the bottom one is a wall wherever it stands, if the cells it leaves are alike."""
    data = real_letters("az")
    for seed in range(1 if cells else 6):
        rng = np.random.default_rng(seed)
        letters = data.x[rng.choice(len(data), 8, replace=False)]
        widths = cells or [round(side * 1.3 * rng.uniform(0.85, 1.15)) for _ in letters]
        image, drawn = _boxes_drawn_cell_by_cell(letters, side, widths, line, 1.0)
        glyphs = segment_line(image)
        assert len(glyphs) == len(letters), (widths, [g.box for g in glyphs])
        assert (np.diag(_correlations(glyphs, drawn)) > MATCH).all(), widths


@pytest.mark.parametrize("seed", range(4))
def test_a_row_of_boxes_on_a_wide_page_is_a_form_field(seed):
    """A row of boxes on a page photographed whole, the field under half the image's width: its lines were not long
    enough for a field's, the boxes and the letters in them were one blob, and GRACE in 8 boxes read R, marked ok."""
    data = real_letters("az")
    rng = np.random.default_rng(700 + seed)
    letters = data.x[rng.choice(len(data), int(rng.integers(4, 8)), replace=False)]
    field = compose_comb_field(letters, space_before=[False] * len(letters), with_top=True)
    page = Image.new("L", (int(field.image.width * rng.uniform(2.3, 3.5)), field.image.height * 2), 245)
    page.paste(field.image, (int(rng.integers(0, page.width - field.image.width)), field.image.height // 2))
    glyphs = segment_line(page)
    assert len(glyphs) == len(letters), [g.box for g in glyphs]
    assert (np.diag(_correlations(glyphs, letters)) > MATCH).all()


@pytest.mark.parametrize("seed", range(4))
def test_a_comb_whose_ticks_differ_in_height_comes_out_without_them(seed):
    """A comb field printed or scanned with ticks 0-6 px shorter or taller than one another: the walls were sought in
    the rows of the median tick, a shorter tick stood in none of them, too few places had a wall for a grid, and
    every tick read I, marked ok (TVDPCH read ITIVIDIPICIHI I I)."""
    data = real_letters("az")
    rng = np.random.default_rng(900 + seed)
    letters = data.x[rng.choice(len(data), int(rng.integers(4, 9)), replace=False)]
    field = compose_comb_field(letters, space_before=[False] * len(letters))
    page = np.asarray(field.image).copy()
    cell, tick_top = round(1.5 * LETTER_SIZE), 2 * LETTER_SIZE - LETTER_SIZE // 2
    for k in range(len(letters) + 1):  # each tick's top cut by 0-6 px
        page[tick_top : tick_top + int(rng.integers(0, 7)), LETTER_SIZE + k * cell : LETTER_SIZE + k * cell + 2] = 255
    glyphs = segment_line(Image.fromarray(page))
    assert len(glyphs) == len(letters), [g.box for g in glyphs]
    assert (np.diag(_correlations(glyphs, letters)) > MATCH).all()


@pytest.mark.parametrize("seed", range(4))
def test_a_printed_box_round_a_word_is_no_letter(seed):
    """A form's field printed as one box round the whole word: its sides stand from line to line like box walls,
    but only two, so no field was found, and each side read I, marked ok (49 of 60 such fields wrong, unflagged)."""
    line, letters = _line_of("az", 800 + seed, dark_on_light=True)
    left, top = min(b[0] for b in line.boxes), min(b[1] for b in line.boxes)
    right, bottom = max(b[2] for b in line.boxes), max(b[3] for b in line.boxes)
    margin = int(np.random.default_rng(seed).integers(6, 16))
    page = line.image.copy()
    box = (left - margin, top - margin, right + margin, bottom + margin)
    ImageDraw.Draw(page).rectangle(box, outline=40, width=2)
    glyphs = segment_line(page)
    assert len(glyphs) == len(letters), [g.box for g in glyphs]


def test_a_line_written_on_a_ruled_line_comes_out_without_it():
    line, letters = _line_of("az", 7)
    glyphs = segment_line(with_rule_under(line).image)
    assert len(glyphs) == len(letters)
    assert (np.diag(_correlations(glyphs, letters)) > MATCH).all()


@pytest.mark.parametrize("size", [(3000, 300), (1200, 200)])
def test_a_wave_of_dots_is_segmented_or_refused_never_a_crash(size):
    """A steep sine drawn one 5-px dash per column falls apart into thousands of dots; some line bands then get no
    piece at all, which once made segment_line fail with a zip() length mismatch (a new user's file)."""
    width, height = size
    page = np.full((height, width), 255, dtype=np.uint8)
    for x in range(width):
        y = int(height / 2 + 0.34 * height * np.sin(0.13 * x))
        page[y : y + 5, x] = 0
    try:
        glyphs = segment_line(Image.fromarray(page))
    except BlankImageError:
        return
    assert all(g.crop.any() for g in glyphs)
    assert [g.line for g in glyphs] == sorted(g.line for g in glyphs)
    assert set(g.line for g in glyphs) == set(range(max(g.line for g in glyphs) + 1))  # no line numbers skipped


def test_a_cut_bends_round_letters_that_share_columns():
    """Two strokes that do not touch but share columns (an L whose foot runs under the next letter's overhanging
    arm): every straight cut through the shared columns crosses a stroke, the cut _seams finds crosses none, and
    cutting along it keeps each stroke whole."""
    blob = np.zeros((20, 30), dtype=bool)
    blob[0:20, 2:4] = True  # the L's stem
    blob[17:20, 2:20] = True  # its foot, reaching under the next letter
    blob[0:3, 12:28] = True  # the next letter's arm, overhanging the L
    blob[0:14, 26:28] = True  # and its stem
    shared = range(13, 20)
    straight = [(blob[:, c - 1] & blob[:, c]).sum() for c in shared]
    assert min(straight) > 0
    costs, paths = _seams(blob, reach=6)
    path = paths[15 - 1]  # the cut sought near column 15
    rows = np.arange(20)
    assert not (blob[rows, path - 1] & blob[rows, path]).any()  # it crosses no stroke...
    assert costs[15 - 1] < min(straight)  # ...and its bends cost less than crossing one
    labels = blob.astype(np.int32)
    piece = Piece({1}, 0, 0, 30, 20, int(blob.sum()))
    left, right = cut(piece, labels, [path])
    assert (left.left, left.right, right.left, right.right) == (2, 20, 12, 28)
    assert left.area + right.area == blob.sum()
