"""Real letters made into the files that broke hcr when people tried it: photos of pencil on grey paper, shadows,
specks on big pages, printed boxes, ruled lines, straight bars, printed fonts — and glyphs that are no letter.

Each condition takes a real 28×28 letter (uint8, bright ink on black) and a random generator and returns the
bytes of an image file. Written apart from anything hcr trains with, so that a model trained with augmentation is
not scored on its own augmentation: the parameters here come from what users handed hcr (issue 17), not from
training (hcr.data.rendered draws the training copies, with ranges of its own). Used by bench/realworld.py, and by
`hcr compare`, which scores every model on test letters drawn this way (hcr.evaluation.on_files).
"""

import io
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

Condition = Callable[[np.ndarray, np.random.Generator], bytes]


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def ink(letter: np.ndarray, side: int) -> np.ndarray:
    """float [side, side] ink 0..1: the letter upscaled smoothly, as a pen drew it."""
    return np.asarray(Image.fromarray(letter).resize((side, side), Image.Resampling.BICUBIC), np.float64) / 255.0


def placed(letter: np.ndarray, size: tuple[int, int], side: int, rng: np.random.Generator) -> np.ndarray:
    """float [h, w] ink: the letter drawn `side` px tall at a random place on a page of `size` (w, h)."""
    w, h = size
    page = np.zeros((h, w))
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    page[top : top + side, left : left + side] = ink(letter, side)
    return page


def on_paper(ink_map: np.ndarray, paper: np.ndarray | float, pen: float) -> np.ndarray:
    """uint8 page: paper where there is no ink, the pen's grey where there is."""
    return np.clip(paper * (1 - ink_map) + pen * ink_map, 0, 255).astype(np.uint8)


def gradient(shape: tuple[int, int], rng: np.random.Generator, depth: float) -> np.ndarray:
    """float [h, w] in -depth..0: light falling off linearly in a random direction."""
    h, w = shape
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w]
    ramp = np.cos(angle) * xx / w + np.sin(angle) * yy / h
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1e-9)
    return -depth * ramp


def jpeg(page: np.ndarray, rng: np.random.Generator, quality: tuple[int, int] = (60, 90)) -> bytes:
    return encode(Image.fromarray(page), "JPEG", quality=int(rng.integers(*quality)))


def _thinned(mask: np.ndarray) -> np.ndarray:
    """bool: a mask thinned to its centre line, one pixel wide (Zhang and Suen's two sub-iterations)."""
    m = np.pad(mask.astype(np.uint8), 1)
    changed = True
    while changed:
        changed = False
        for step in (0, 1):
            p2, p3, p4, p5 = m[:-2, 1:-1], m[:-2, 2:], m[1:-1, 2:], m[2:, 2:]
            p6, p7, p8, p9 = m[2:, 1:-1], m[2:, :-2], m[1:-1, :-2], m[:-2, :-2]
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            neighbours = sum(n.astype(np.int32) for n in ring[:8])
            rises = sum(((a == 0) & (b == 1)).astype(np.int32) for a, b in itertools.pairwise(ring))
            first, second = (p2 * p4 * p6, p4 * p6 * p8) if step == 0 else (p2 * p4 * p8, p2 * p6 * p8)
            gone = (m[1:-1, 1:-1] == 1) & (neighbours >= 2) & (neighbours <= 6) & (rises == 1)
            gone &= (first == 0) & (second == 0)
            if gone.any():
                m[1:-1, 1:-1][gone] = 0
                changed = True
    return m[1:-1, 1:-1].astype(bool)


def centre_line(letter: np.ndarray, side: int, pen: float) -> np.ndarray:
    """float [side, side] ink 0..1: the letter's centre line redrawn with a round pen `pen` px wide, antialiased,
    as a stylus on a tablet draws it (the datasets' letters are scanned with a broad pen)."""
    grid = 64
    big = np.asarray(Image.fromarray(letter).resize((grid, grid), Image.Resampling.BICUBIC))
    ys, xs = np.nonzero(_thinned(big > 0.5 * big.max()))
    supersample = 4
    scale = side * supersample / grid
    canvas = Image.new("L", (side * supersample, side * supersample), 0)
    draw = ImageDraw.Draw(canvas)
    width = max(1, round(pen * supersample))
    on = set(zip(ys.tolist(), xs.tolist(), strict=True))
    for y, x in on:
        for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
            if (y + dy, x + dx) in on:
                draw.line([(x * scale, y * scale), ((x + dx) * scale, (y + dy) * scale)], fill=255, width=width)
        r = width / 2
        draw.ellipse((x * scale - r, y * scale - r, x * scale + r, y * scale + r), fill=255)
    return np.asarray(canvas.reduce(supersample), np.float64) / 255.0


# --- conditions -----------------------------------------------------------------------------------------------


def clean_drawing(letter, rng):
    """The reference: black ink on white, 200 px, as drawn in a paint program."""
    return encode(Image.fromarray(on_paper(ink(letter, 200), 255.0, 0.0)))


def pencil_photo(letter, rng):
    """A phone photo of a pencil letter on grey paper, cropped small: low contrast, uneven light, blur, JPEG."""
    side = int(rng.integers(20, 41))
    margin = int(rng.integers(1, 5))
    paper = rng.uniform(140, 200) + gradient((side + 2 * margin,) * 2, rng, rng.uniform(10, 40))
    pencil = paper.mean() - rng.uniform(35, 80)
    letter_ink = np.zeros((side + 2 * margin,) * 2)
    letter_ink[margin : margin + side, margin : margin + side] = ink(letter, side)
    page = on_paper(letter_ink, paper, pencil) + rng.normal(0, rng.uniform(1, 4), letter_ink.shape)
    image = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
    return jpeg(np.asarray(image), rng, (50, 85))


def uneven_pencil_photo(letter, rng):
    """A phone photo of a pencil letter pressed unevenly: thin strokes whose darkness falls to a third in places (an
    E's bar drawn lightly), graphite grain, off-centre in a loose crop of 20–50 px, on grey paper lit unevenly, blur,
    JPEG. Harder than `pencil_photo`, as the letters people photograph are: the independent evaluation's photos were
    read 94 %, while `pencil_photo` read as well as clean drawings."""
    side = int(rng.integers(20, 41))
    h, w = side + int(rng.integers(0, 12)), side + int(rng.integers(0, 12))
    top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    letter_ink = np.zeros((h, w))
    letter_ink[top : top + side, left : left + side] = ink(letter, side) ** rng.uniform(1.0, 2.5)  # a thinner line
    pressure = rng.uniform(0, 1, (3, 3)).astype(np.float32)  # how hard the pencil pressed, over the letter
    pressure = np.asarray(Image.fromarray(pressure, "F").resize((w, h), Image.Resampling.BICUBIC))
    letter_ink *= np.clip(0.3 + 0.7 * pressure, 0, 1) * rng.uniform(0.8, 1.0, (h, w))  # and the graphite's grain
    paper = rng.uniform(130, 200) + gradient((h, w), rng, rng.uniform(10, 50))
    page = on_paper(letter_ink, paper, paper.mean() - rng.uniform(30, 80)) + rng.normal(0, rng.uniform(1, 5), (h, w))
    image = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9))
    )
    return jpeg(np.asarray(image), rng, (40, 80))


def faint_pencil(letter, rng):
    """A faint letter: 15–30 grey levels of contrast on light paper, a little noise."""
    paper = rng.uniform(200, 240)
    page = on_paper(placed(letter, (160, 160), 120, rng), paper, paper - rng.uniform(15, 30))
    return encode(Image.fromarray(np.clip(page + rng.normal(0, 1.5, page.shape), 0, 255).astype(np.uint8)))


def soft_shadow(letter, rng):
    """A hand's or phone's shadow over part of the page: a smooth dark patch, up to 120 levels deep."""
    size = 300
    yy, xx = np.mgrid[0:size, 0:size]
    cy, cx = rng.uniform(0, size, 2)
    shade = rng.uniform(60, 120) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * rng.uniform(60, 140) ** 2))
    page = on_paper(placed(letter, (size, size), 150, rng), 235 - shade, 30.0)
    return jpeg(page, rng)


def hard_shadow(letter, rng):
    """A hard-edged shadow across the page (a ruler, a phone), with sensor noise: the page is two levels of paper."""
    size = 300
    yy, xx = np.mgrid[0:size, 0:size]
    angle = rng.uniform(0, np.pi)
    offset = rng.uniform(0.3, 0.7) * size
    dark = (np.cos(angle) * (xx - size / 2) + np.sin(angle) * (yy - size / 2) + size / 2) > offset
    paper = np.where(dark, rng.uniform(90, 150), rng.uniform(200, 240))
    page = on_paper(placed(letter, (size, size), 150, rng), paper, 20.0) + rng.normal(0, 6, paper.shape)
    return jpeg(np.clip(page, 0, 255).astype(np.uint8), rng)


def specks_on_page(letter, rng):
    """A letter on a 1200 px scanned page with a few dust specks (3–6 px) far from it."""
    w, h = 1200, 900
    side = int(rng.integers(120, 260))
    page = placed(letter, (w, h), side, rng)
    letter_box = np.argwhere(page >= min(0.1, page.max())) if page.max() > 0 else np.array([[h // 2, w // 2]])
    (top, left), (bottom, right) = letter_box.min(axis=0), letter_box.max(axis=0)  # a faint letter's box too
    for _ in range(int(rng.integers(1, 6))):
        while True:
            y, x = int(rng.integers(0, h - 6)), int(rng.integers(0, w - 6))
            if not (top - 60 < y < bottom + 60 and left - 60 < x < right + 60):
                break
        r = int(rng.integers(3, 7))
        page[y : y + r, x : x + r] = np.maximum(page[y : y + r, x : x + r], 0.9)
    return encode(Image.fromarray(on_paper(page, 245.0, 25.0)))


def in_printed_box(letter, rng):
    """A letter written in a printed form box: thin dark frame, the letter inside with a small, uneven margin."""
    side = int(rng.integers(60, 120))
    pad = int(rng.integers(2, 12))
    size = side + 2 * pad + 40
    image = Image.fromarray(on_paper(placed(letter, (side + 2 * pad, side + 2 * pad), side, rng), 245.0, 25.0))
    page = Image.new("L", (size, size), 245)
    page.paste(image, (20, 20))
    line = int(rng.integers(1, 4))
    ImageDraw.Draw(page).rectangle((20, 20, 20 + side + 2 * pad, 20 + side + 2 * pad), outline=40, width=line)
    return encode(page)


def comb_box(letter, rng):
    """A letter in one cell of a comb field (a baseline with short ticks between cells), as on printed forms."""
    side = int(rng.integers(60, 110))
    cell = side + int(rng.integers(8, 24))
    w, h = cell * 3, side + 40
    page = np.zeros((h, w))
    top = 10
    page[top : top + side, cell + (cell - side) // 2 : cell + (cell - side) // 2 + side] = ink(letter, side)
    image = Image.fromarray(on_paper(page, 245.0, 25.0))
    draw = ImageDraw.Draw(image)
    base = top + side + int(rng.integers(0, 6))
    draw.line((0, base, w, base), fill=60, width=2)
    for x in range(0, w + 1, cell):
        draw.line((x, base - side // 3, x, base), fill=60, width=2)
    return encode(image)


def on_ruled_line(letter, rng):
    """A letter written on ruled paper: faint blue-grey lines across the page, the letter sitting on one."""
    side = int(rng.integers(80, 140))
    w, h = 400, side + 80
    page = np.zeros((h, w))
    left, top = int(rng.integers(20, w - side - 20)), 30
    page[top : top + side, left : left + side] = ink(letter, side)
    paper = np.full((h, w, 3), (248.0, 248.0, 242.0))
    rgb = paper * (1 - page[..., None]) + np.array([30.0, 30.0, 60.0]) * page[..., None]
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    spacing = side + int(rng.integers(2, 10))
    for y in range(top + side + int(rng.integers(-3, 4)) - spacing * 3, h, spacing):
        draw.line((0, y, w, y), fill=(150, 170, 210), width=int(rng.integers(1, 3)))
    return encode(image)


def cropped_close(letter, rng):
    """A letter a user cut out of a photo or scan tightly, at its strokes (0–2 px of paper left on each side), so
    that they touch the image's edges: slightly noisy paper, JPEG."""
    side = int(rng.integers(60, 160))
    paper = rng.uniform(200, 245)
    page = on_paper(ink(letter, side), paper, rng.uniform(20, 80)) + rng.normal(0, rng.uniform(0.5, 3), (side, side))
    page = np.clip(page, 0, 255).astype(np.uint8)
    strokes = page < (paper + page.min()) / 2
    rows, cols = np.flatnonzero(strokes.any(axis=1)), np.flatnonzero(strokes.any(axis=0))
    top, left = (max(0, int(first) - int(rng.integers(0, 3))) for first in (rows[0], cols[0]))
    bottom, right = (int(last) + 1 + int(rng.integers(0, 3)) for last in (rows[-1], cols[-1]))
    return jpeg(np.ascontiguousarray(page[top:bottom, left:right]), rng, (75, 95))


def cell_cropped_on_frame(letter, rng):
    """A form cell cut out along its printed frame, so that the frame is the image's whole border."""
    side = int(rng.integers(60, 120))
    pad = int(rng.integers(4, 14))
    size = side + 2 * pad
    page = Image.fromarray(on_paper(placed(letter, (size, size), side, rng), 245.0, 25.0))
    ImageDraw.Draw(page).rectangle((0, 0, size - 1, size - 1), outline=40, width=int(rng.integers(1, 4)))
    return encode(page)


def thick_marker(letter, rng):
    """A letter written with a felt marker: strokes several times the usual width."""
    big = Image.fromarray(letter).resize((200, 200), Image.Resampling.BICUBIC).filter(ImageFilter.MaxFilter(7))
    return encode(Image.fromarray(255 - np.asarray(big)))


def stylus_drawing(letter, rng):
    """A letter drawn with a stylus or a finger on a tablet or phone and saved by the app: its centre line with a
    round pen of 1–4 px (a finger: 8–15 % of the letter's height), 30–80 % of a canvas of 256–1024 px, anywhere on
    it; half the time a transparent PNG (ink opaque, paper transparent)."""
    size = int(rng.integers(256, 1025))
    side = int(size * rng.uniform(0.3, 0.8))
    pen = rng.uniform(1, 4) if rng.uniform() < 0.7 else side * rng.uniform(0.08, 0.15)
    page = np.zeros((size, size))
    top, left = (int(rng.integers(0, size - side + 1)) for _ in range(2))
    page[top : top + side, left : left + side] = centre_line(letter, side, pen)
    if rng.uniform() < 0.5:
        alpha = np.clip(page * 255, 0, 255).astype(np.uint8)
        return encode(Image.merge("RGBA", (*[Image.new("L", (size, size), 20)] * 3, Image.fromarray(alpha))))
    return encode(Image.fromarray(on_paper(page, 255.0, 20.0)))


def on_grid_paper(letter, rng):
    """A letter written with a stylus across the squares of a note app's grid paper (or graph paper): light blue or
    grey lines every 22–45 px, 1–2 px thick, on white or cream, the letter 90–220 px tall on a 500–900 px page."""
    return encode(Image.fromarray(grid_paper_page(letter, rng)))


def grid_paper_page(letter: np.ndarray, rng: np.random.Generator, grid: bool = True) -> np.ndarray:
    """uint8 [H, W, 3]: on_grid_paper's page; without the `grid`, the same page had its paper no lines."""
    width, height, side = int(rng.integers(500, 900)), int(rng.integers(400, 700)), int(rng.integers(90, 220))
    page = np.zeros((height, width))
    top, left = int(rng.integers(10, height - side - 10)), int(rng.integers(10, width - side - 10))
    page[top : top + side, left : left + side] = centre_line(letter, side, rng.uniform(1.5, 3.5))
    lines = np.zeros((height, width))
    spacing, thick = int(rng.integers(22, 46)), int(rng.integers(1, 3))
    for start in range(int(rng.integers(0, spacing)), height, spacing):
        lines[start : start + thick] = grid
    for start in range(int(rng.integers(0, spacing)), width, spacing):
        lines[:, start : start + thick] = grid
    paper = np.array((252.0, 250.0, 240.0) if rng.uniform() < 0.5 else (255.0, 255.0, 255.0))
    colour = np.array((170.0, 200.0, 235.0) if rng.uniform() < 0.5 else (200.0, 200.0, 200.0)) + rng.uniform(-20, 15)
    background = on_paper(lines[..., None], paper, colour).astype(np.float64)
    return on_paper(page[..., None], background, np.array((25.0, 25.0, 40.0)))


CONDITIONS: dict[str, Condition] = {
    "clean drawing": clean_drawing,
    "pencil photo, 20–40 px": pencil_photo,
    "pencil pressed unevenly, photo": uneven_pencil_photo,
    "faint pencil (15–30 levels)": faint_pencil,
    "soft shadow": soft_shadow,
    "hard shadow + noise": hard_shadow,
    "specks on a 1200 px page": specks_on_page,
    "printed box": in_printed_box,
    "form cell cropped on its frame": cell_cropped_on_frame,
    "cropped close to the strokes": cropped_close,
    "comb box": comb_box,
    "ruled line": on_ruled_line,
    "felt marker": thick_marker,
    "stylus or finger on a tablet": stylus_drawing,
    "stylus on grid paper": on_grid_paper,
}


# --- glyphs with a known answer that are not dataset letters ------------------------------------------------------


def bars(rng: np.random.Generator, n: int) -> list[bytes]:
    """Straight bars as people write a capital I: slants up to ±15°, lengths, pen widths, both polarities."""
    files = []
    for _ in range(n):
        image = Image.new("L", (240, 240), 255)
        dx, length, width = int(rng.integers(-25, 26)), int(rng.integers(60, 220)), int(rng.integers(3, 30))
        ImageDraw.Draw(image).line((120 - dx, 120 - length // 2, 120 + dx, 120 + length // 2), fill=0, width=width)
        files.append(encode(image if rng.random() < 0.7 else Image.fromarray(255 - np.asarray(image))))
    return files


def printed_letter(font: Path, letter: str, rng: np.random.Generator) -> bytes | None:
    """A capital printed in `font` at 60–160 px on white, slightly rotated; None if the font lacks the glyph. Score
    only fonts no model trains on (hcr.data.printed.held_out_fonts)."""
    size = int(rng.integers(60, 161))
    try:
        face = ImageFont.truetype(str(font), size)
    except OSError:
        return None
    image = Image.new("L", (size * 2, size * 2), 255)
    draw = ImageDraw.Draw(image)
    box = draw.textbbox((size, size), letter, font=face, anchor="mm")
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None
    draw.text((size, size), letter, font=face, fill=0, anchor="mm")
    return encode(image.rotate(rng.uniform(-4, 4), fillcolor=255, resample=Image.Resampling.BILINEAR))


def not_letters(digits: np.ndarray, rng: np.random.Generator, n: int) -> dict[str, list[bytes]]:
    """Inputs with no letter to read: real handwritten `digits` (2–9: a 0 and a 1 are an O and an I), scribbles,
    empty boxes."""
    scribbles, boxes = [], []
    for _ in range(n):
        image = Image.new("L", (200, 200), 255)
        points = [tuple(int(v) for v in rng.integers(20, 180, 2)) for _ in range(int(rng.integers(6, 14)))]
        ImageDraw.Draw(image).line(points, fill=0, width=int(rng.integers(3, 12)), joint="curve")
        scribbles.append(encode(image))
        empty = Image.new("L", (160, 160), 245)
        ImageDraw.Draw(empty).rectangle((20, 20, 140, 140), outline=40, width=int(rng.integers(1, 4)))
        boxes.append(encode(empty))
    picks = rng.choice(len(digits), n, replace=False)
    return {
        "handwritten digits 2–9": [encode(Image.fromarray(on_paper(ink(d, 120), 245.0, 25.0))) for d in digits[picks]],
        "scribbles": scribbles,
        "empty printed box": boxes,
    }


def two_letters(letters: np.ndarray, rng: np.random.Generator, n: int) -> list[bytes]:
    """Two real letters side by side in one image (a user who meant `hcr read`)."""
    files = []
    for _ in range(n):
        a, b = letters[rng.choice(len(letters), 2, replace=False)]
        page = np.zeros((140, 260))
        page[10:130, 10:130] = ink(a, 120)
        page[10:130, 135:255] = ink(b, 120)
        files.append(encode(Image.fromarray(on_paper(page, 245.0, 25.0))))
    return files
