"""Bring any image to the convention the models learn from, and letter arrays to the models' input tensors.

The one place where preprocessing is defined, so training, evaluation and prediction cannot drift apart.
Convention (measured on the real data in ../shared/data): uint8 28×28, ink bright on black, the ink's bounding
box centred, its long side 24 px in EMNIST Letters and 20 px in Kaggle A–Z; we scale to the midpoint, 22 px.
Both datasets centre the bounding box, not the centre of mass (MNIST's rule): their box centres sit within 0.1 px
of the frame's centre, their centres of mass ~1 px off it. So we centre the box too, to match what models learn.

Steps: decode (EXIF orientation, bomb limit) → polarity and paper level from the border → median filter if the
paper is noisy → ink = what stands clear of the paper's noise → crop to the ink → pen width brought into the
datasets' usual range if far outside it → scale the long side to 22 px → centre in 28×28.
Measured by bench/preprocess_robustness.py on files made from dev-test letters (tests/variants.py).

Bounded work, whatever the image: decoding refuses more than MAX_PIXELS (JPEG decodes reduced); every later step
runs on the image reduced to at most WORK_SIDE px a side, each in time linear in its pixels (the median filter is
3×3); the pen correction works on a STROKE_SIDE px image with a radius of at most MAX_PEN_RADIUS, separably. So a
letter costs O(decoded pixels) + O(WORK_SIDE²), about a millisecond; bench/worst_case_preprocess.py measures the
worst shapes (solid bars, filled squares, dots) and random ink masks.
"""

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from hcr.errors import HcrError
from hcr.files import NotRegularFileError, check_regular_file

PREPROCESS_VERSION = 4  # bump when the output for the same image changes: it keys caches and model metadata
SIDE = 28
INK_BOX = 22  # long side of the ink's bounding box in the 28×28 output
MAX_PIXELS = 40_000_000  # larger images are refused: decompression bombs, or not a single letter anyway
MAX_DECODED_BYTES = 128_000_000  # and so are those whose pixels would take more memory than this once decoded
WORK_SIDE = 512  # big photos are reduced to this before analysis; far more than 28 px needs
INK_THRESHOLD = 0.25  # fraction of the brightest ink level that counts as ink when finding the letter's box
MIN_CONTRAST = 24  # brightest ink minus background, in grey levels, below which the image is blank
NOISE_SIGMAS = 3.0  # ink must stand this many paper-noise σ above the paper
NOISY_PAPER = 2.0  # paper noise σ (grey levels) from which the image is median-filtered
MEDIAN_MIN_SIDE = 64  # px: below this, strokes are too thin to survive a 3×3 median
STROKE_SIDE = 88  # px: the scale at which stroke width is measured and corrected (4 × INK_BOX)
STROKE_RANGE = (7.0, 26.0)  # usual stroke width at STROKE_SIDE: ~5th and ~97th percentile in EMNIST + Kaggle A–Z
MAX_PEN_RADIUS = 12  # px at STROKE_SIDE: the most a pen is changed (a filled 88 px square measures 44, r = 9)


class ImageError(HcrError):
    """An image that cannot be turned into a letter: unreadable, too large, or blank."""


class BlankImageError(ImageError):
    """The image holds no ink (an empty canvas, a white page)."""


def open_image(source: Path | str | bytes | BinaryIO) -> Image.Image:
    """Decode an image (a file, its bytes, or an open binary file) fully, so truncation shows here and not later,
    honouring EXIF orientation. Errors say what is wrong, not where: the caller knows the file's name."""
    try:
        if isinstance(source, str | Path):
            check_regular_file(source)  # a FIFO would block Image.open forever
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise ImageError(f"{image.width}×{image.height} pixels is too large (limit {MAX_PIXELS:,})")
                image.draft("L", (WORK_SIDE, WORK_SIDE))  # JPEG decodes at reduced size: much faster
                _check_decoded_size(image)
                image.load()
                ImageOps.exif_transpose(image, in_place=True)  # in place: no copy of an upright image
                return image
    except FileNotFoundError:
        raise ImageError("file not found") from None
    except (IsADirectoryError, PermissionError, NotRegularFileError) as e:
        raise ImageError(f"cannot read the file ({e.strerror})") from None
    except UnidentifiedImageError:
        raise ImageError("not an image Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError("refused as a decompression bomb (too many pixels)") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"corrupt or truncated image ({e})") from None


def _check_decoded_size(image: Image.Image) -> None:
    """Refuse, from the header (after any draft), an image whose pixels would take over MAX_DECODED_BYTES in memory:
    a few hundred kB of PNG can hold 40 M pixels of 16-bit RGBA. Pillow keeps 1 byte a pixel for modes 1, L and P,
    2 for 16-bit grey, and 4 for every other mode (RGB and LA included, whatever the file's bit depth)."""
    per_pixel = 1 if image.mode in ("1", "L", "P") else 2 if image.mode.startswith("I;16") else 4
    n_bytes = image.width * image.height * per_pixel
    if n_bytes > MAX_DECODED_BYTES:
        raise ImageError(
            f"{image.width}×{image.height} {image.mode} would take {n_bytes / 1e6:.0f} MB decoded "
            f"(limit {MAX_DECODED_BYTES / 1e6:.0f} MB)"
        )


def ink_map(image: Image.Image) -> np.ndarray:
    """float32 [H, W] ink strength ≥ 0 on a zero background, whatever the polarity, transparency or paper noise.

    The paper's level (a plane: photos are lit unevenly) and noise are read from the image border. Noisy
    paper (a scan, a photo) is median-filtered first, which removes isolated specks that would otherwise stretch
    the letter's box; then everything within NOISE_SIGMAS of the paper counts as paper, so grain and uneven
    light leave no haze. Clean images (a drawing, a dataset array) have no noise and pass through unchanged."""
    image = _reduced(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = np.asarray(image.convert("RGBA"), dtype=np.float32)[..., 3]
        if _border(alpha).mean() < 128:  # a transparent canvas: what is drawn is what is opaque
            return alpha
    gray = _grey(image)
    values = np.asarray(gray)  # uint8 [H, W]
    background, noise = _paper(values)
    if noise >= NOISY_PAPER and min(gray.size) >= MEDIAN_MIN_SIDE:
        values = np.asarray(gray.filter(ImageFilter.MedianFilter(3)))
        background, noise = _paper(values)
    if isinstance(background, int):  # uniform paper (a drawing, a file saved from an array)
        return _ink_on_uniform_paper(values, background)
    ink = np.subtract(values, background, dtype=np.float32)
    if np.mean(background) > 127:  # dark ink on light paper
        np.negative(ink, out=ink)
    ink -= NOISE_SIGMAS * noise
    return np.maximum(ink, 0.0, out=ink)


def _ink_on_uniform_paper(values: np.ndarray, paper: int) -> np.ndarray:
    """float32 ink of uint8 grey levels on paper of one level: the distance from it on the ink's side. Computed in
    uint8 and converted once, the same result as the general case's float steps: ink_map of a 200 px drawing takes
    a fifth less time (most files `hcr predict` gets are drawings or scans saved on plain white)."""
    if paper > 127:  # dark ink on light paper
        ink = np.subtract(paper, np.minimum(values, np.uint8(paper)), dtype=np.uint8)
    else:
        ink = np.subtract(np.maximum(values, np.uint8(paper)), np.uint8(paper))
    return ink.astype(np.float32)


def to_letter_array(image: Image.Image) -> np.ndarray:
    """uint8 [28, 28]: the letter cropped to its ink, pen width evened out, scaled to INK_BOX keeping its aspect,
    its bounding box centred."""
    ink = ink_map(image)
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise BlankImageError("the image is blank (no ink found)")
    mask = ink > INK_THRESHOLD * peak
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] * (255.0 / peak)  # [h, w], ink peak at 255
    letter = _with_usual_strokes(Image.fromarray(crop.astype(np.uint8)))
    new_w, new_h = _fit(letter.size, INK_BOX)
    letter = letter.resize((new_w, new_h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = np.zeros((SIDE, SIDE), dtype=np.uint8)
    top, left = (SIDE - new_h) // 2, (SIDE - new_w) // 2
    out[top : top + new_h, left : left + new_w] = np.asarray(letter)
    return out


def to_letter_arrays(x: np.ndarray) -> np.ndarray:
    """uint8 [N, 28, 28] dataset letters → each as `hcr predict` would see it saved to a file (a blank stays black).

    The datasets' letters are close to the convention but not in it (EMNIST's box is 24 px, Kaggle's 20 px), so a
    model scored or calibrated for prediction should see them like this."""
    out = np.zeros_like(x)
    for i, letter in enumerate(x):
        try:
            out[i] = to_letter_array(Image.fromarray(letter))
        except BlankImageError:
            continue
    return out


def to_model_input(x: np.ndarray) -> np.ndarray:
    """uint8 [N, 28, 28] → float32 [N, 28, 28, 1] in 0..1, what every model takes."""
    return (x.astype(np.float32) / 255.0)[..., np.newaxis]


def _with_usual_strokes(crop: Image.Image) -> Image.Image:
    """The cropped letter, its pen made thicker or thinner if its strokes are outside the datasets' usual range.

    Stroke width is measured at the scale of STROKE_SIDE px and, when it lies outside STROKE_RANGE, moved to the
    nearest end of it by a grey dilation or erosion of the crop scaled to that size, then cropped to its ink again:
    the same skeleton drawn with another pen, whose box grows or shrinks with the pen. Letters with ordinary strokes
    are returned untouched. Bounded: the filter's radius is at most MAX_PEN_RADIUS, on a STROKE_SIDE px image."""
    scaled = None if max(crop.size) >= STROKE_SIDE else _at_stroke_side(crop)
    width = _stroke_width(crop if scaled is None else scaled)
    low, high = STROKE_RANGE
    if low <= width <= high:
        return crop
    radius = min(MAX_PEN_RADIUS, round(abs(width - (low if width < low else high)) / 2))  # a radius r: width ± 2r
    if radius == 0:
        return crop
    scaled = _at_stroke_side(crop) if scaled is None else scaled
    repenned = _square_filter(np.asarray(scaled), radius, np.maximum if width < low else np.minimum)
    rows, cols = np.flatnonzero(repenned.any(axis=1)), np.flatnonzero(repenned.any(axis=0))
    if rows.size == 0:  # eroded away: no usual pen keeps this shape, so keep it as drawn
        return scaled
    return Image.fromarray(repenned[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])


def _square_filter(values: np.ndarray, radius: int, reduce: np.ufunc) -> np.ndarray:
    """uint8 grey dilation (np.maximum) or erosion (np.minimum) by a (2r+1)² square, outside the image counting as
    paper: the result is r px larger on every side, so a thickened stroke is not clipped by the crop's edge.
    Separable (rows, then columns): O(pixels × r), not O(pixels × r²) as a rank filter."""
    h, w = values.shape
    size = 2 * radius + 1
    padded = np.zeros((h + 4 * radius, w + 4 * radius), dtype=np.uint8)
    padded[2 * radius : 2 * radius + h, 2 * radius : 2 * radius + w] = values
    rows = padded[: padded.shape[0] - size + 1].copy()  # [h + 2r, w + 4r]: reduce over each column's 2r+1 rows
    for shift in range(1, size):
        reduce(rows, padded[shift : shift + rows.shape[0]], out=rows)
    out = rows[:, : rows.shape[1] - size + 1].copy()  # [h + 2r, w + 2r]
    for shift in range(1, size):
        reduce(out, rows[:, shift : shift + out.shape[1]], out=out)
    return out


def _stroke_width(letter: Image.Image) -> float:
    """Mean stroke width, as 2 × ink area / ink boundary, in pixels at STROKE_SIDE. Outside the image is paper, so
    ink touching the edge (every crop's does) has a boundary there: a letter that fills its crop (a bar, a filled
    square, a dot) measures its real width, at most half its short side. Callers scale a letter smaller than
    STROKE_SIDE up first (its few pixels would measure coarsely); a larger one is measured as it is and the width
    scaled down, rather than resampled to be measured: a 200 px file is preprocessed in three quarters of the time."""
    values = np.asarray(letter)
    mask = np.zeros((values.shape[0] + 2, values.shape[1] + 2), dtype=bool)  # a frame of paper around the letter
    np.greater(values, 127, out=mask[1:-1, 1:-1])
    inner = mask[1:-1, 1:-1] & mask[:-2, 1:-1]  # the mask eroded by one pixel (4-neighbourhood)
    inner &= mask[2:, 1:-1]
    inner &= mask[1:-1, :-2]
    inner &= mask[1:-1, 2:]
    area = np.count_nonzero(mask)
    width = 2 * area / max(1, area - np.count_nonzero(inner))  # inner ⊆ mask: the rest is the boundary
    return width * STROKE_SIDE / max(letter.size)


def _at_stroke_side(crop: Image.Image) -> Image.Image:
    return crop.resize(_fit(crop.size, STROKE_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """(width, height) scaled so the long side is `side`, keeping the aspect ratio."""
    scale = side / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _grey(image: Image.Image) -> Image.Image:
    """Mode L of any image; 16-bit and float images (scanners, TIFF) are scaled, not clipped, to 0..255."""
    if image.mode not in ("I", "F") and not image.mode.startswith("I;"):
        return image.convert("L")
    values = np.asarray(image, dtype=np.float32)
    scale = 255.0 if values.max() <= 1.0 else 255.0 / 65535.0 if values.max() > 255.0 else 1.0
    return Image.fromarray(np.clip(values * scale, 0.0, 255.0).astype(np.uint8))


def _reduced(image: Image.Image) -> Image.Image:
    """The image at most WORK_SIDE on a side (a new image; the caller's is left alone)."""
    if max(image.size) <= WORK_SIDE:
        return image
    scale = WORK_SIDE / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def _paper(gray: np.ndarray) -> tuple[np.ndarray | int, float]:
    """(level: float32 [H, W], or one grey level, noise σ) of the paper, read from the uint8 image's border.

    The level is a tilted plane through the medians of the four edges, so light falling off across a photo is
    removed with the paper; the noise is the border's MAD around that plane, scaled to a normal σ. Medians keep
    both robust to ink touching an edge. A uniform border (a drawing, a dataset array) is simply that value."""
    border = _border(gray)
    if border.min() == border.max():
        return border[0].item(), 0.0
    h, w = gray.shape
    top, bottom, left, right = (float(np.median(edge)) for edge in (gray[0], gray[-1], gray[:, 0], gray[:, -1]))
    level = (
        float(np.median(border))
        + np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, np.newaxis] * (bottom - top)
        + np.linspace(-0.5, 0.5, w, dtype=np.float32)[np.newaxis, :] * (right - left)
    )  # [H, W]
    return level, 1.4826 * float(np.median(np.abs(border - _border(level))))


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
