"""One real 28×28 letter turned into the image files people actually hand to hcr, to test and measure preprocessing.

Used by tests/inference/test_preprocess_robustness.py and bench/preprocess_robustness.py. Each variant takes a
letter in the datasets' convention (uint8, bright ink on black) and a random generator, and returns the bytes of an
image file: black ink on white paper, large canvases, off-centre letters, JPEG, noise, thick and thin pens, coloured
and textured paper, transparency, palette GIF, and a phone photo stored sideways with an EXIF orientation tag.
"""

import io
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

Variant = Callable[[np.ndarray, np.random.Generator], bytes]
PAPER = 245  # grey level of white paper in a scan
PEN_FILTER = 13  # px at 280 px (10× the dataset's scale): thickens or thins each stroke by ~0.6 px at 28 px


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _ink(letter: np.ndarray, side: int) -> np.ndarray:
    """float [side, side] ink strength 0..1, the letter upscaled smoothly as a pen would have drawn it."""
    big = Image.fromarray(letter).resize((side, side), Image.Resampling.BICUBIC)
    return np.asarray(big, dtype=np.float64) / 255.0


def _on_paper(ink: np.ndarray, paper: np.ndarray | float, pen: np.ndarray | float) -> np.ndarray:
    """uint8: paper colour where there is no ink, pen colour where there is, mixed by ink strength."""
    if np.ndim(paper) or np.ndim(pen):
        ink = ink[..., np.newaxis]
    return np.clip(paper * (1 - ink) + pen * ink, 0, 255).astype(np.uint8)


def original(letter, rng):
    return _encode(Image.fromarray(letter), "PNG")


def inverted(letter, rng):
    return _encode(Image.fromarray(255 - letter), "PNG")


def upscaled(letter, rng):
    side = int(rng.integers(200, 1001))
    return _encode(Image.fromarray(_on_paper(_ink(letter, side), PAPER, 20.0)), "PNG")


def off_centre_with_margins(letter, rng):
    side = int(rng.integers(100, 251))
    width, height = int(rng.integers(side + 100, 1001)), int(rng.integers(side + 100, 801))
    canvas = np.zeros((height, width))
    top, left = int(rng.integers(0, height - side)), int(rng.integers(0, width - side))
    canvas[top : top + side, left : left + side] = _ink(letter, side)
    return _encode(Image.fromarray(_on_paper(canvas, PAPER, 20.0)), "PNG")


def jpeg(letter, rng):
    image = Image.fromarray(_on_paper(_ink(letter, 300), PAPER, 20.0)).convert("RGB")
    return _encode(image, "JPEG", quality=int(rng.integers(50, 81)))


def noisy(letter, rng):
    """Sensor noise (σ 12 grey levels) and sparse dark and light specks (0.05 % each), as in a cheap scan."""
    page = _on_paper(_ink(letter, 300), PAPER, 20.0).astype(np.float64) + rng.normal(0, 12, (300, 300))
    specks = rng.random((300, 300))
    page[specks < 0.0005] = 0
    page[specks > 0.9995] = 255
    return _encode(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)), "PNG")


def thick_pen(letter, rng):
    ink = Image.fromarray(letter).resize((280, 280), Image.Resampling.BICUBIC).filter(ImageFilter.MaxFilter(PEN_FILTER))
    return _encode(Image.fromarray(_on_paper(np.asarray(ink) / 255.0, PAPER, 20.0)), "PNG")


def thin_pen(letter, rng):
    ink = Image.fromarray(letter).resize((280, 280), Image.Resampling.BICUBIC).filter(ImageFilter.MinFilter(PEN_FILTER))
    return _encode(Image.fromarray(_on_paper(np.asarray(ink) / 255.0, PAPER, 20.0)), "PNG")


def coloured_paper(letter, rng):
    """Blue ballpoint on yellow notepaper."""
    rgb = _on_paper(_ink(letter, 300), np.array([250.0, 236.0, 170.0]), np.array([30.0, 50.0, 150.0]))
    return _encode(Image.fromarray(rgb), "PNG")


def textured_paper(letter, rng):
    """A phone photo of cream paper: fibre texture, grain, light falling off across the page, JPEG."""
    side = 400
    texture = np.asarray(
        Image.fromarray((rng.random((side // 8, side // 8)) * 255).astype(np.uint8)).resize(
            (side, side), Image.Resampling.BICUBIC
        ),
        dtype=np.float64,
    )
    light = np.linspace(-18, 12, side)[np.newaxis, :] + np.linspace(-8, 8, side)[:, np.newaxis]
    grey = 225 + (texture - 128) * 0.12 + light + rng.normal(0, 4, (side, side))
    paper = grey[..., np.newaxis] + np.array([6.0, 2.0, -10.0])  # cream
    rgb = _on_paper(_ink(letter, side), paper, np.array([45.0, 45.0, 55.0]))
    return _encode(Image.fromarray(rgb), "JPEG", quality=85)


def transparent_rgba(letter, rng):
    """A drawing app's export: black ink whose opacity is the stroke, on a fully transparent canvas."""
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = (_ink(letter, 280) * 255).astype(np.uint8)
    return _encode(Image.fromarray(rgba, "RGBA"), "PNG")


def palette_gif(letter, rng):
    return _encode(Image.fromarray(_on_paper(_ink(letter, 200), PAPER, 20.0)).convert("P"), "GIF")


def exif_rotated(letter, rng):
    """A phone's JPEG: pixels stored sideways, with the EXIF orientation tag that says how to turn them upright."""
    upright = Image.fromarray(_on_paper(_ink(letter, 320), PAPER, 20.0)).convert("RGB")
    orientation, stored = [(6, upright.rotate(90, expand=True)), (8, upright.rotate(-90, expand=True))][
        int(rng.integers(2))
    ]  # 6: "turn 90° clockwise to view", so the pixels are stored turned 90° counter-clockwise; 8 the reverse
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _encode(stored, "JPEG", quality=90, exif=exif)


VARIANTS: dict[str, Variant] = {
    "original-png": original,
    "inverted": inverted,
    "upscaled-200-1000": upscaled,
    "off-centre-margins": off_centre_with_margins,
    "jpeg-q50-80": jpeg,
    "noisy": noisy,
    "thick-pen": thick_pen,
    "thin-pen": thin_pen,
    "coloured-paper": coloured_paper,
    "textured-photo": textured_paper,
    "rgba-transparent": transparent_rgba,
    "palette-gif": palette_gif,
    "exif-rotated": exif_rotated,
}
