"""Letters printed in fonts, as training letters: forms and labels hold printed capitals beside handwritten ones.

hcr train --model compact-cnn -d az -d emnist-byclass --canonical --printed-copies 8

A model that only ever saw handwriting read capitals printed in fonts it never saw at 88.7 % (bench/realworld.py),
and half its wrong answers there looked sure. Each letter of each training font is printed
here at several sizes, tilts, slants and weights and read back through `hcr.inference.preprocess.to_letter_array`,
as `hcr predict` reads a file.

The fonts are Debian's fonts-* packages on the machine (`make fonts`), split by design, not by file, so that a
face never trains in one weight and is scored in another: the families in TRAINING_FAMILIES are printed here; every
other font (Liberation, GNU FreeFont, the rest of the handwriting-style faces, and any font installed later) is
held out, and bench/realworld.py scores printed letters on those only. Liberation and FreeFont are the
Times/Arial/Courier look-alikes most printed forms use, so the held-out figure says how a model reads faces it has
never seen. docs/training.md has what printed letters bought and cost.
"""

import logging
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hcr.data.rendered import cached
from hcr.errors import DataError
from hcr.inference.preprocess import ImageError, to_letter_array
from hcr.labels import CLASSES

log = logging.getLogger(__name__)

FONT_DIRS = (Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/opentype"))
TRAINING_FAMILIES = (  # font families (as each font names itself) printed for training; all others are held out
    "DejaVu Sans",
    "DejaVu Sans Mono",
    "DejaVu Serif",
    "Comic Neue",
    "Dancing Script",
    "DkgHandwriting",
    "Because We Build",
    "Because We Connect",
    "Because We Create",
)
SIZES = (28, 160)  # px: the em size a letter is printed at (inclusive range)
TILT = 5.0  # degrees either way
SLANT = 0.2  # horizontal shear either way (an oblique face, or a tilted scan)
BOLDER = 3  # px of extra outline at most: a bolder weight than the face's own


def font_files() -> list[Path]:
    """Every TrueType/OpenType font on the machine (Debian's fonts-* packages), sorted."""
    fonts = (p for folder in FONT_DIRS if folder.is_dir() for p in folder.rglob("*"))
    return sorted(p for p in fonts if p.suffix in (".ttf", ".otf"))


def family(font: Path) -> str | None:
    """The family the font names itself ("DejaVu Serif" for DejaVuSerif-Bold.ttf); None if it cannot be read."""
    try:
        return ImageFont.truetype(str(font), 12).font.family
    except OSError:
        return None


def training_fonts() -> list[Path]:
    return [font for font in font_files() if family(font) in TRAINING_FAMILIES]


def held_out_fonts() -> list[Path]:
    """The fonts no model trains on: what a printed-letter benchmark may score."""
    return [font for font in font_files() if family(font) not in (None, *TRAINING_FAMILIES)]


def printed_letters(copies: int, seed: int, case: str) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [M, 28, 28] as `hcr predict` reads them, int64 [M] labels 0..25): `copies` prints of every letter of
    every training font, capitals, and small letters too unless `case` is "upper". Cached like rendered copies.
    DataError if no training font is installed."""
    fonts = training_fonts()
    if not fonts:
        where = " or ".join(str(folder) for folder in FONT_DIRS)
        raise DataError(where, f"no {', '.join(TRAINING_FAMILIES)} fonts for --printed-copies: run `make fonts`")
    glyphs = [(c, i) for i, c in enumerate(CLASSES)]
    if case != "upper":  # but l: a plain bar in most faces, which a capitals-first reader reads as I
        glyphs += [(c.lower(), i) for i, c in enumerate(CLASSES) if c != "L"]

    def render() -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        letters, labels = [], []
        for font in fonts:
            for glyph, label in glyphs:
                for _ in range(copies):
                    letter = print_letter(font, glyph, rng)
                    if letter is not None:
                        letters.append(letter)
                        labels.append(label)
        return {"x": np.stack(letters), "y": np.array(labels, np.int64)}

    key = [copies, seed, "".join(glyph for glyph, _ in glyphs), *(font.name for font in fonts)]
    arrays = cached("printed", key, render)
    log.info(
        "printed letters: %d from %d training fonts (%s)", len(arrays["y"]), len(fonts), ", ".join(TRAINING_FAMILIES)
    )
    return arrays["x"], arrays["y"]


def print_letter(font: Path, glyph: str, rng: np.random.Generator) -> np.ndarray | None:
    """uint8 [28, 28]: `glyph` printed black on white in `font` at a random size, tilt, slant and weight, read back
    by to_letter_array; None where the font has no such glyph."""
    size = int(rng.integers(SIZES[0], SIZES[1] + 1))
    face = ImageFont.truetype(str(font), size)
    side = 3 * size
    image = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(image)
    box = draw.textbbox((side // 2, side // 2), glyph, font=face, anchor="mm")
    if box[2] - box[0] < 2 or box[3] - box[1] < 2:
        return None
    bolder = int(rng.integers(0, BOLDER + 1)) if rng.random() < 0.3 else 0
    draw.text((side // 2, side // 2), glyph, font=face, fill=0, anchor="mm", stroke_width=bolder, stroke_fill=0)
    shear = rng.uniform(-SLANT, SLANT)
    image = image.transform(
        image.size,
        Image.Transform.AFFINE,
        (1, shear, -shear * side / 2, 0, 1, 0),
        Image.Resampling.BILINEAR,
        fillcolor=255,
    )
    image = image.rotate(rng.uniform(-TILT, TILT), Image.Resampling.BILINEAR, fillcolor=255)
    try:
        return to_letter_array(image)
    except ImageError:
        return None
