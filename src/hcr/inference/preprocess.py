"""Bring any image to the convention the models learn from, and letter arrays to the models' input tensors.

The one place where preprocessing is defined, so training, evaluation and prediction cannot drift apart.
Convention (measured on the real data in ../shared/data): uint8 28×28, ink bright on black, the ink's bounding
box centred, its long side 24 px in EMNIST Letters and 20 px in Kaggle A–Z; we scale to the midpoint, 22 px.
Both datasets centre the bounding box, not the centre of mass (MNIST's rule): their box centres sit within 0.1 px
of the frame's centre, their centres of mass ~1 px off it. So we centre the box too, to match what models learn.

Steps: decode (EXIF orientation, bomb limit) → reduce to at most WORK_SIDE px by block means → ink map: on paper of
one grey level (a drawing, a dataset array) the distance from it; otherwise polarity from the image's extremes
beyond the border's levels, the paper's level estimated locally (a grey closing at a coarse scale: shadows,
gradients, grey or coloured paper), a median filter if the paper is noisy, ink as darkening relative to the paper,
less NOISE_SIGMAS of the paper's noise (σ read from non-ink pixels anywhere), nothing if no mark stands
BLANK_SIGMAS clear of it → printed lines removed (a box frame around the letter, ruled lines and comb baselines
across the image) → the letter's box found by row and column profiles, specks and slivers away from it left out →
crop → pen width brought into the datasets' usual range if far outside it → scale the long side to 22 px → centre
in 28×28. Version 12 (v11: a letter's faint strokes left out of its box in a photo; v10: no blur of a small noisy
crop; v9: faint ink that runs on from clear ink dropped; v8: a box drawn with even margins on white taken for a
frame, its outline for the paper; v7: a small crop found blank by its paper pixels alone; v6: no frame or
close-crop rules; v5: large RGBA reduced through a premultiplied full-size copy; v4: paper as one plane from the
border, a fixed 24-level contrast floor, no line or speck removal). Measured by bench/preprocess_robustness.py
(tests/variants.py) and bench/realworld.py.

Bounded work, whatever the image: decoding refuses more than MAX_PIXELS (JPEG decodes reduced); every later step
runs on the image reduced to at most WORK_SIDE px a side, each in time linear in its pixels: the paper's level is
a closing of radius PAPER_RADIUS on PAPER_CELLS cells across the short side, the median filter is 3×3 (a sorting
network), the line, frame and speck steps are row and column sums and runs with at most GLYPH_PASSES passes; the
pen correction works on a STROKE_SIDE px image with a radius of at most MAX_PEN_RADIUS, separably. So a letter
costs O(decoded pixels) + O(WORK_SIDE²), about a millisecond (under 5 ms for a noisy 300 px photo);
bench/worst_case_preprocess.py measures the worst shapes (solid bars, filled squares, dots) and random ink masks.
"""

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hcr.errors import HcrError
from hcr.files import NotRegularFileError, check_regular_file

PREPROCESS_VERSION = 14  # bump when the output for the same image changes: it keys caches and model metadata
SIDE = 28
INK_BOX = 22  # long side of the ink's bounding box in the 28×28 output
MAX_PIXELS = 40_000_000  # larger images are refused: decompression bombs, or not a single letter anyway
MAX_DECODED_BYTES = 128_000_000  # and so are those whose pixels would take more memory than this once decoded
WORK_SIDE = 512  # big photos are reduced to at most this before analysis; far more than 28 px needs
BLOCK_MEAN_MODES = {"L", "LA", "RGB", "RGBA", "I", "F"}  # modes Pillow reduces by block means
MEDIAN9_NETWORK = ((1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3), (5, 8), (4, 7),
                   (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2))  # fmt: skip
INK_THRESHOLD = 0.25  # fraction of the brightest ink level that counts as ink when finding the letter's box...
FAINT_BOX = 0.2  # ...or this, where it runs on from such ink in a photo or a scan (a stroke pressed lightly)
MIN_CONTRAST = 6  # brightest ink minus paper (after its noise), in grey levels, below which the image is blank
NOISE_SIGMAS = 3.0  # ink must stand this many paper-noise σ above the paper...
FAINT_SIGMAS = 1.5  # ...or this many where it runs on from such ink (a stroke pressed lightly: an E's faint bar)...
FAINT_PEAK = 0.1  # ...if it is this share of the darkest ink too (a shadow's haze round a dark letter is not)
JOIN_PASSES = 4  # rows then columns, at most this many times, to follow faint ink on from the clear ink
BLANK_SIGMAS = 7.0  # an image whose darkest mark stands less than this many noise σ from the paper is blank
NOISE_SAMPLE = 16_384  # pixels the paper's noise is estimated from
PAPER_CELLS = 32  # the paper's level is estimated on this many cells across the short side...
PAPER_RADIUS = 3  # ...closing over (2r + 1)² cells: wider than any stroke (a fifth of the letter), shadows kept
NEAR_GAP = 0.2  # ink farther from the letter than this share of its size is not part of it (a speck, a smudge)
FAR_MASS = 0.25  # ...unless it holds this share of the letter's ink: a second letter, not a speck
SLIVER = 0.06  # ...and ink near it is no part of it if this thin a share of its size (a tick, a speck) and light
GLYPH_PASSES = 3  # rows then columns, at most this many times (most letters: once, and once to confirm)
FRAME_COVER = 0.9  # a box's frame: its rows (columns) are this full across the ink's box...
FRAME_LINE = 0.15  # ...and no thicker than this share of the box's side (a thick frame round a small cell: 6 px of 56)
FRAME_DEPTH = 0.2  # a frame along the image's edge is at most this share of the short side thick...
FRAME_INSIDE = 0.8  # ...and the ring just inside it is at least this share one level, the paper's...
FRAME_MARK = 0.02  # ...on which at least this share of what the frame encloses is something else (the letter)
LINE_MIN = 0.25  # a ruled line: a row with a run of ink this share of the image's width at least...
LINE_THICK = 0.1  # ...in a band of such rows no thicker than this share of the image's height...
LINE_RATIO = 2.0  # ...and this many times as long as the letter is tall...
LINE_SPAN = 0.9  # ...and across this share of the image's width (a squat T's bar ends with the letter)...
LINE_LONG = 5.0  # ...or, among lines of letters, this many times as long as they are tall (a field on a wide page)
LINE_REST = 0.1  # the letter, without the lines, holds this share of the ink at least (else it is all line)
GRID_LINES = 3  # grid paper: this many lines across the image each way at least (a box's frame has two)...
GRID_INK = 1.5  # ...where ink up to this many times a line's median is the line's (more: the letter's, on it)
CROP_SPAN = 0.85  # ink across this share of an image's width and height: a letter cropped close, paper added round
CROP_INK = 1 / 3  # ...its ink being what lies this share of the way from the darkest level to the paper...
BAR_ASPECT = 2.0  # an image this many times as long as wide, found blank, may be a bar cropped to its width
CROP_CONTRAST = 32  # ...if its ink is this many grey levels darker than the paper at least (faint pencil is left be)
NOISY_PAPER = 2.5  # paper noise σ (grey levels) from which the image is median-filtered (a small one: blurred);
# above the 1.9-2.1 that grain of one whole grey level measures on light paper, which a thin line must survive
MEDIAN_MIN_SIDE = 64  # px: below this, strokes are too thin to survive a 3×3 median
SMALL_CROP = 64  # px: an image with a shorter side found blank is judged again by its pixels' grain (_pixel_noise)
STROKE_SIDE = 88  # px: the scale at which stroke width is measured and corrected (4 × INK_BOX)
STROKE_RANGE = (7.0, 26.0)  # usual stroke width at STROKE_SIDE: ~5th and ~97th percentile in EMNIST + Kaggle A–Z
THIN_PEN_WIDTH = 10.0  # a thinner pen is made this wide: a usual pen (their 25th-50th percentile), not the thinnest
MAX_PEN_RADIUS = 12  # px at STROKE_SIDE: the most a pen is changed (a filled 88 px square measures 44, r = 9)


class ImageError(HcrError):
    """An image that cannot be turned into a letter: unreadable, too large, or blank."""


class BlankImageError(ImageError):
    """The image holds no ink (an empty canvas, a white page)."""


def open_image(source: Path | str | bytes | BinaryIO) -> Image.Image:
    """Decode an image (a file, its bytes, or an open binary file) fully, so truncation shows here and not later,
    honouring EXIF orientation. Errors say what is wrong, not where: the caller knows the file's name. HEIC (a
    phone's photo) is read too: pillow-heif's opener is registered the first time Pillow knows a file not."""
    try:
        if isinstance(source, str | Path):
            check_regular_file(source)  # a FIFO would block Image.open forever
            if not Path(source).stat().st_size:
                raise ImageError("the file is empty (0 bytes)")
        elif isinstance(source, bytes) and not source:
            raise ImageError("the image is empty (0 bytes)")
        try:
            return _decoded(source)
        except UnidentifiedImageError:
            if not register_heif():
                raise
            if not isinstance(source, str | Path | bytes):
                source.seek(0)
            return _decoded(source)
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


def _decoded(source: Path | str | bytes | BinaryIO) -> Image.Image:
    """The image decoded, bounded in pixels and memory, upright; Pillow's errors are the caller's to word."""
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


def register_heif() -> bool:
    """Teach Pillow HEIC/HEIF (pillow-heif), once; whether this call did (False: it knew them already). Lazily: the
    import costs 30 ms, which every `hcr predict` of a PNG would pay."""
    if ".heic" in Image.registered_extensions():
        return False
    from pillow_heif import register_heif_opener

    register_heif_opener()
    return True


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


def ink_map(image: Image.Image, work_side: int = WORK_SIDE) -> np.ndarray:
    """float32 [H, W] ink strength ≥ 0 on a zero background, whatever the polarity, transparency, paper or light;
    all zero when nothing stands clear of the paper's noise. The image is first reduced to at most `work_side` px
    on its long side."""
    return _ink(image, work_side)[0]


def _ink(image: Image.Image, work_side: int = WORK_SIDE) -> tuple[np.ndarray, bool]:
    """(ink_map's ink, whether the paper was estimated locally: a photo or a scan, not a drawing on one level).

    Clean images (a drawing, a dataset array: the border is one grey level) are measured against that level, exactly.
    Otherwise the paper is estimated locally (_paper_level: shadows, gradients, grey or coloured paper), and ink is
    how much darker than it a pixel is, as a share of the paper's own brightness, so a stroke reads the same in a
    shadow as in the light. Noisy paper (a scan, a photo) is median-filtered first, which removes isolated specks;
    then everything within NOISE_SIGMAS of the paper counts as paper, so grain leaves no haze, except faint ink that
    runs on from clearer ink (FAINT_SIGMAS: a pencil pressed lightly in places), and an image whose darkest mark is
    within BLANK_SIGMAS of it holds no ink at all (a noisy blank page)."""
    image = _reduced(image, work_side)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        alpha = np.asarray(image.convert("RGBA"), dtype=np.float32)[..., 3]
        if _border(alpha).mean() < 128:  # a transparent canvas: what is drawn is what is opaque, beyond the paper
            return np.maximum(alpha - np.median(_border(alpha)), 0.0), False  # (half transparent paper: a grey block)
    gray = _grey(image)
    values = np.asarray(gray)  # uint8 [H, W]
    border = _border(values)
    if border.min() == border.max():  # uniform paper (a drawing, a file saved from an array)...
        return _ink_on_uniform_paper(values, _plain_paper(values, border[0].item())), False
    if _light_ink(values, border):  # work on the negative, so that ink is always the darker
        values, border = 255 - values, 255 - border
    margin = _crop_margin(values, border)
    ink = _ink_beside_paper(values, margin)
    if not margin and not ink.any() and max(values.shape) >= BAR_ASPECT * min(values.shape):
        # nothing found in a narrow image: a bar cropped to its own width fills the short side, so the closing
        # found no paper beside it; judged again with paper around it if it spans the long side clearly
        margin = _crop_margin(values.T if values.shape[0] < values.shape[1] else values, border, long_side=True)
        if margin:
            ink = _ink_beside_paper(values, margin)
    return ink, True


def _ink_beside_paper(values: np.ndarray, margin: int) -> np.ndarray:
    """float32 ink of uint8 dark-on-light values over their locally estimated paper, noise taken off; with
    `margin`, judged with that many px of paper around the image (cut back after)."""
    if margin:
        values = np.pad(values, margin, mode="maximum", stat_length=max(2, min(values.shape) // 4))
    paper = _paper_level(values)
    ink, noise = _ink_on_paper(values, paper)
    if noise >= NOISY_PAPER and min(values.shape) >= MEDIAN_MIN_SIDE:
        values = _median3(values)
        ink, noise = _ink_on_paper(values, paper)
    elif noise >= NOISY_PAPER:  # a small crop: a median would eat its thin strokes, a blur keeps them
        ink = _smoothed(ink)
        noise = _noise(ink)
    if margin:
        ink = ink[margin:-margin, margin:-margin]
    if ink.max() < BLANK_SIGMAS * noise and min(values.shape) < SMALL_CROP:
        noise = _pixel_noise(values, paper)
    if ink.max() < BLANK_SIGMAS * noise:
        return np.zeros_like(ink)
    faint_level = min(NOISE_SIGMAS * noise, max(FAINT_SIGMAS * noise, FAINT_PEAK * float(ink.max())))
    faint = ink > faint_level
    ink -= faint_level
    ink[~_runs_on(ink > NOISE_SIGMAS * noise - faint_level, faint)] = 0.0
    return ink


def _runs_on(seeds: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """bool [H, W]: the pixels of `mask` joined to a seed through `mask`, found by runs: a run of mask pixels along
    a row that holds a seed is kept whole, then the same along columns, at most JOIN_PASSES times or until nothing
    changes (a letter's strokes turn a few times at most). Hysteresis thresholding, as an edge detector keeps a
    faint stretch of an edge it found clearly elsewhere: grain is faint too, but joins no clear ink. numpy only:
    scipy's labelling would cost `hcr predict` 0.2 s to import."""
    kept = seeds & mask
    for _ in range(JOIN_PASSES):
        before = int(np.count_nonzero(kept))
        kept = _whole_runs(kept, mask)
        kept = _whole_runs(kept.T, mask.T).T
        if np.count_nonzero(kept) == before:
            break
    return kept


def _whole_runs(kept: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """bool [H, W]: every run of `mask` along a row that holds a `kept` pixel, whole."""
    flat, held = mask.ravel(), kept.ravel()
    starts = flat.copy()
    starts[1:] &= ~flat[:-1]
    starts[:: mask.shape[1]] = flat[:: mask.shape[1]]  # a run never carries on from the row above
    run = np.cumsum(starts, dtype=np.int32)
    run[~flat] = 0
    holds = np.zeros(int(np.count_nonzero(starts)) + 1, dtype=bool)
    holds[run[held]] = True
    holds[0] = False
    return holds[run].reshape(mask.shape)


def _smoothed(ink: np.ndarray) -> np.ndarray:
    """float32 [H, W]: a 3×3 binomial blur. Grain is independent from pixel to pixel and falls to 0.375 of its σ;
    a stroke of a small blurred crop spans a few pixels and keeps most of its level, so faint pencil rises clear of
    the grain instead of coming out as speckle (a phone photo of pencil pressed unevenly: 89.6 → 91.4 %)."""
    padded = np.pad(ink, 1, mode="edge")
    rows = padded[:-2] + 2 * padded[1:-1] + padded[2:]
    return ((rows[:, :-2] + 2 * rows[:, 1:-1] + rows[:, 2:]) * np.float32(1 / 16)).astype(np.float32)


def _crop_margin(values: np.ndarray, border: np.ndarray, long_side: bool = False) -> int:
    """px of paper to put around a uint8 dark-on-light image whose ink spans nearly all of it (a letter cropped
    close to its strokes), else 0. Paper is estimated locally by a closing whose reach is a share of the image: with
    the letter filling the image, a stroke along the border has nothing beyond it but more stroke, and was taken for
    shadowed paper (an E cropped close read blank, an X lost its crossing). Ink is judged on the image reduced as the
    paper is (noise and specks average out): what lies within CROP_INK of the way from the darkest to the border's
    paper (its 80th percentile), where that is a clear step (CROP_CONTRAST); a shadow dims paper far less than ink.
    With `long_side`, the ink need span only the rows of a tall image (a bar; the caller turns a wide one)."""
    coarse = np.asarray(Image.fromarray(values).reduce(max(1, min(values.shape) // PAPER_CELLS)))
    paper, darkest = int(np.percentile(border, 80)), int(coarse.min())
    if paper - darkest < CROP_CONTRAST:
        return 0
    dark = coarse < darkest + CROP_INK * (paper - darkest)
    rows, cols = np.flatnonzero(dark.any(axis=1)), np.flatnonzero(dark.any(axis=0))
    spans = ((rows[-1] - rows[0] + 1) / coarse.shape[0], (cols[-1] - cols[0] + 1) / coarse.shape[1])
    return max(values.shape) // 2 if (spans[0] if long_side else min(spans)) >= CROP_SPAN else 0


def _light_ink(values: np.ndarray, border: np.ndarray) -> bool:
    """Whether the ink is lighter than the paper: the image's extreme that lies farther beyond the paper's levels
    on the border is the ink's. The border's middle 60 % is the paper (a letter touches a border only in places; a
    shadow on it adds its own level), and the image's 0.2th and 99.8th percentiles are ink wherever ink covers more
    than 0.2 % of the image. Unlike the border's level alone, this holds when a shadow darkens most of the page.
    Light ink must lie beyond the paper by MIN_CONTRAST: where neither extreme does (a thin letter under 0.2 % of a
    page whose grid lines darken a fifth of its border), the ink is dark, as on most pages (that tie read as light
    ink, and the page as blank)."""
    low, high = np.percentile(border, (20, 80))
    step = max(1, round((values.size / NOISE_SAMPLE) ** 0.5))
    sample = values[::step, ::step].ravel()
    ranks = (len(sample) // 500, len(sample) - 1 - len(sample) // 500)
    darkest, lightest = np.partition(sample, ranks)[list(ranks)]
    return bool(lightest - high > max(low - darkest, MIN_CONTRAST))


def _ink_on_paper(values: np.ndarray, paper: np.ndarray) -> tuple[np.ndarray, float]:
    """(float32 ink, its noise σ) of uint8 dark-on-light values over the paper's level: the darkening as a share of
    the paper's brightness, in grey levels of white paper (a shadow dims paper and ink alike)."""
    ink = np.subtract(paper, values, dtype=np.float32)
    ink *= 255.0 / np.maximum(paper, 1.0)
    return ink, _noise(ink)


def _noise(ink: np.ndarray) -> float:
    """σ of the paper's grain, from the pixels that are not ink (below INK_THRESHOLD of the darkest): the 30th and
    50th percentiles of a normal distribution are 0.524 σ apart. Read over the whole image, not its border, which a
    tightly cropped letter touches, and on a subsample, for speed."""
    step = max(1, round((ink.size / NOISE_SAMPLE) ** 0.5))
    sample = ink[::step, ::step].ravel()
    paper = sample[sample < INK_THRESHOLD * sample.max()]
    if len(paper) < 2:
        return 0.0
    ranks = (3 * len(paper) // 10, len(paper) // 2)
    low, high = np.partition(paper, ranks)[list(ranks)]
    return float(high - low) / 0.524


def _pixel_noise(values: np.ndarray, paper: np.ndarray) -> float:
    """σ of the grain of uint8 values, in the units of _ink_on_paper, from the image's second differences
    (Immerkær's estimator: a 3×3 mask that cancels every smooth or straight change, ink's blurred edges included,
    and leaves the grain). For a crop too small, or filled too much by its letter, for its paper pixels to say
    (_noise there reads a blurred stroke's edges as grain: a phone crop of 19 px read blank)."""
    v = values.astype(np.float32)
    second = v[:-2, :-2] - 2 * v[:-2, 1:-1] + v[:-2, 2:] - 2 * v[1:-1, :-2] + 4 * v[1:-1, 1:-1] - 2 * v[1:-1, 2:]
    second += v[2:, :-2] - 2 * v[2:, 1:-1] + v[2:, 2:]
    if not second.size:
        return 0.0
    return float(np.sqrt(np.pi / 2) * np.abs(second).mean() / 6 * 255.0 / max(float(np.median(paper)), 1.0))


def _paper_level(values: np.ndarray) -> np.ndarray:
    """float32 [H, W]: the paper's grey level under each pixel of a uint8 image of dark ink on light paper.

    A grey closing (a max, then a min filter) on the image reduced by block means to PAPER_CELLS cells across its
    short side: strokes narrower than the filter are filled with the paper around them, while a shadow's hard edge,
    wider than any stroke on both sides, is kept where it is. One more min filter before the level is upsampled
    (bilinear) moves every step a cell towards its light side, so that near an edge the paper is never thought
    lighter than it is: a shadow's edge does not become a line of ink. O(pixels) for the block means and upsampling."""
    h, w = values.shape
    cell = max(1, -(-min(h, w) // PAPER_CELLS))  # the short side: a tall bar's width is the letter's
    coarse = np.asarray(Image.fromarray(values).reduce(cell), dtype=np.float32)
    dilated = _square_filter(np.pad(coarse, PAPER_RADIUS, mode="edge"), PAPER_RADIUS, np.maximum)
    closed = _square_filter(np.pad(dilated, PAPER_RADIUS + 1, mode="edge"), PAPER_RADIUS + 1, np.minimum)
    return np.asarray(Image.fromarray(closed, "F").resize((w, h), Image.Resampling.BILINEAR))


def _plain_paper(values: np.ndarray, border_level: int) -> int:
    """The paper's level in an image whose border is all one level: that level, unless it is a frame drawn along the
    image's edge (a form cell cropped on its printed box). Taking the frame for paper turned such an image inside
    out: the letter read as a filled block. A frame is the outer rings of the border's level, at most FRAME_DEPTH of
    the short side deep, inside which the next ring is FRAME_INSIDE one other level: the paper, with a mark on it,
    and most of what the ring encloses (a box drawn with even margins on white is a ring of one level too, round
    paper of the border's level: its outline taken for the paper read the page inside out). (A drawing's margin is
    rings of paper too, but the first ring that is not is mostly paper still, with the letter's strokes in it; a
    filled shape is one level inside, with no mark; every dataset array checked reads as it did.)"""
    h, w = values.shape
    other = values != border_level
    rows, cols = np.flatnonzero(other.any(axis=1)), np.flatnonzero(other.any(axis=0))
    if not rows.size:
        return border_level
    # the first ring (counted from the edge) that holds another level: the nearest such pixel's distance to the edge
    depth = int(min(rows[0], h - 1 - rows[-1], cols[0], w - 1 - cols[-1]))
    if depth > FRAME_DEPTH * min(h, w):
        return border_level
    interior = values[depth : h - depth, depth : w - depth]
    ring = _border(interior)
    levels = np.bincount(ring, minlength=256)
    levels[border_level] = 0
    inside = int(np.argmax(levels))
    if levels[inside] < FRAME_INSIDE * len(ring):
        return border_level
    differs = np.count_nonzero(interior != inside)
    if differs > interior.size // 2:  # most of what the ring encloses is another level: a box drawn on the paper
        return border_level
    return inside if differs >= FRAME_MARK * interior.size else border_level  # else a filled shape on its paper


def _ink_on_uniform_paper(values: np.ndarray, paper: int) -> np.ndarray:
    """float32 ink of uint8 grey levels on paper of one level: the distance from it on the ink's side (the side
    farther from it in all: dark ink on dark grey paper, light ink on light grey, as well as the usual). Computed in
    uint8 and converted once, the same result as the general case's float steps: ink_map of a 200 px drawing takes
    a fifth less time (most files `hcr predict` gets are drawings or scans saved on plain white)."""
    darker = np.subtract(paper, np.minimum(values, np.uint8(paper)), dtype=np.uint8)
    lighter = np.subtract(np.maximum(values, np.uint8(paper)), np.uint8(paper))
    # the ink is on the side with more of it: the paper's level alone (light or dark of mid-grey) took dark ink on
    # a dark grey canvas for paper
    ink = darker if darker.sum(dtype=np.int64) >= lighter.sum(dtype=np.int64) else lighter
    return ink.astype(np.float32)


def to_letter_array(image: Image.Image) -> np.ndarray:
    """uint8 [28, 28]: the letter cropped to its ink (printed lines and specks left out), pen width evened out,
    scaled to INK_BOX keeping its aspect, its bounding box centred."""
    ink, (rows, cols) = _letter_ink(image)
    crop = ink[rows, cols]
    crop *= 255.0 / crop.max()  # [h, w], the letter's ink peak at 255
    letter = _with_usual_strokes(Image.fromarray(crop.astype(np.uint8)))
    new_w, new_h = _fit(letter.size, INK_BOX)
    letter = letter.resize((new_w, new_h), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = np.zeros((SIDE, SIDE), dtype=np.uint8)
    top, left = (SIDE - new_h) // 2, (SIDE - new_w) // 2
    out[top : top + new_h, left : left + new_w] = np.asarray(letter)
    return out


def _letter_ink(image: Image.Image) -> tuple[np.ndarray, tuple[slice, slice]]:
    """(the image's ink map without printed box frames and ruled lines, the letter's box in it: rows, columns);
    BlankImageError if no ink is left.

    In a photo or a scan the box holds the letter's faint strokes too (FAINT_BOX), where they run on from its clear
    ink: a pencil pressed lightly in places left a C's lower half out of its box, and it read R (pencil pressed
    unevenly, photographed: 87.7 → 88.9 % over three draws of 1,040 capitals; the other conditions within 0.3 points;
    the held-out letters drawn as degraded files, hcr.data.rendered, 89.44 → 89.27 %: a faint box edge or line
    joined to a letter). Lower, a shadow's haze (the soft-shadow test) or a noisy scan's grain (tests/variants.py)
    joined the box. On a drawing's plain paper ink that faint is an anti-aliased edge: the box stays as it was."""
    ink, on_local_paper = _ink(image)
    grid = _grid(ink)
    if grid is not None:
        ink[with_faint_edges(grid, ink > INK_THRESHOLD * float(ink.max()))] = 0.0
    mask = _ink_mask(ink)
    row_counts = mask.view(np.uint8).sum(axis=1, dtype=np.int32)  # [H] ink pixels per row
    glyph = _main_glyph(mask, row_counts)
    lines = _printed_lines(mask, row_counts, glyph)
    if lines is not None:
        ink[lines] = 0.0
        mask = _ink_mask(ink)
    if on_local_paper:
        mask = _with_faint_strokes(ink, mask)
    return ink, _main_glyph(mask) if lines is not None or on_local_paper else glyph


def _printed_lines(mask: np.ndarray, row_counts: np.ndarray, glyph: tuple[slice, slice]) -> np.ndarray | None:
    """bool [H, W]: a printed box's frame round the letter's box `glyph` and ruled lines, with their faint edges; or
    None if there are neither."""
    lines = [found for found in (_frame(mask, glyph), ruled_lines(mask, row_counts)) if found is not None]
    return with_faint_edges(np.logical_or.reduce(lines), mask) if lines else None


def _grid(ink: np.ndarray) -> np.ndarray | None:
    """bool [H, W]: the lines of grid paper in an ink map, or None: at least GRID_LINES straight lines of ink across
    LINE_SPAN of the image each way, each no thicker than LINE_THICK of it, found on all the ink (a grid's lines are
    often fainter than the letter). ruled_lines misses them: the vertical lines run through every row, so the letter
    seemed as tall as the page and no horizontal line twice as long as that. No letter is three full bars each way (a
    box's frame is two: _frame), so no letter's size is needed to tell. O(pixels)."""
    across = _full_lines(ink)
    if across is None:
        return None
    down = _full_lines(ink.T)
    return None if down is None else across | down.T


def _full_lines(ink: np.ndarray) -> np.ndarray | None:
    """bool [H, W]: in the rows whose longest run of ink spans LINE_SPAN of the width, in bands of rows no thicker
    than LINE_THICK of the height, if there are at least GRID_LINES such bands, the run's pixels no darker than
    GRID_INK × its median (darker: a letter's stroke crossing or following the line); else None."""
    h, w = ink.shape
    mask = ink > 0
    rows = np.flatnonzero(mask.view(np.uint8).sum(axis=1, dtype=np.int32) >= LINE_SPAN * w)
    if len(rows) < GRID_LINES:
        return None
    starts, stops = _longest_runs(mask[rows])
    rows, starts, stops = (kept[stops - starts >= LINE_SPAN * w] for kept in (rows, starts, stops))
    thin = _in_thin_bands(rows, LINE_THICK * h)
    rows, starts, stops = rows[thin], starts[thin], stops[thin]
    if np.count_nonzero(np.diff(rows) > 1) + 1 < GRID_LINES:  # bands of consecutive rows
        return None
    lines = np.zeros_like(mask)
    for row, start, stop in zip(rows, starts, stops, strict=True):
        run = ink[row, start:stop]
        lines[row, start:stop] = run <= GRID_INK * np.median(run)
    return lines


def _with_faint_strokes(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """bool [H, W]: the letter's mask grown by the faint ink (FAINT_BOX) that runs on from it, less any printed
    frame or ruled line too faint to be found in the mask but picked up by growing it."""
    grown = _runs_on(mask, ink > FAINT_BOX * float(ink.max()))
    counts = grown.view(np.uint8).sum(axis=1, dtype=np.int32)
    lines = _printed_lines(grown, counts, _main_glyph(grown, counts))
    return grown if lines is None else grown & ~lines


def _ink_mask(ink: np.ndarray) -> np.ndarray:
    """bool [H, W]: where the ink is strong enough to outline the letter; BlankImageError if there is none."""
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise BlankImageError("the image is blank (no ink found)")
    return ink > INK_THRESHOLD * peak


def _frame(mask: np.ndarray, glyph: tuple[slice, slice]) -> np.ndarray | None:
    """bool [H, W]: a printed box's frame around the letter (a form field), or None.

    A frame is the outermost ink on all four sides: bands of rows (columns) at the top and bottom (left and right) of
    the ink's box that are each at least FRAME_COVER full, no thicker than FRAME_LINE of the box. The rows of a
    letter's own bar are not that full (a T's bar is shorter than the box around it), and a filled shape's bands
    are too thick. An empty box is all frame: the caller finds it blank. O(pixels); O(box perimeter) for a letter
    whose box's first row is not full, as most are."""
    rows, cols = glyph
    box = mask[rows, cols]
    h, w = box.shape
    if np.count_nonzero(box[0]) < FRAME_COVER * w:
        return None
    across = np.count_nonzero(box, axis=1) >= FRAME_COVER * w
    down = np.count_nonzero(box, axis=0) >= FRAME_COVER * h
    top, bottom, left, right = (_leading(flags) for flags in (across, across[::-1], down, down[::-1]))
    if min(top, bottom, left, right) == 0 or max(top, bottom, left, right) > FRAME_LINE * min(h, w):
        return None
    frame = np.zeros_like(mask)
    frame[rows, cols] = True
    frame[rows.start + top : rows.stop - bottom, cols.start + left : cols.stop - right] = False
    return frame


def _leading(flags: np.ndarray) -> int:
    """How many entries at the start of a bool array are True."""
    return len(flags) if flags.all() else int(np.argmin(flags))


def ruled_lines(
    mask: np.ndarray, counts: np.ndarray, span: float = LINE_SPAN, text_lines: bool = False
) -> np.ndarray | None:
    """bool [H, W]: straight horizontal lines across the image, much longer than the letter is tall (ruled paper, a
    comb field's baseline, an underline across the page), or None.

    Rows with ink across at least LINE_MIN of the width, in bands no thicker than LINE_THICK of the height (a thick
    letter's rows make a band as tall as it), are candidates. The letter is the heaviest run of the other rows with
    ink (unless that is too little: a dash, a bar, lines alone are kept), and a candidate row whose longest run of
    ink spans `span` of the width and is at least LINE_RATIO × the letter's height is a line: a T's or an E's bar
    is about as long as the letter is tall, and ends where the letter does, inside the image. (In an image of a line
    of letters, the "letter" is the line's band of rows, and a printed line need not span as much of the width: a
    form field is often cropped with some paper on either side; with `text_lines`, the image may hold several lines
    or rows of boxes, one above the other, and the yardstick is the tallest band of rows between them: two rows of
    boxes made one "letter" twice as tall as a row, longer than the frames' lines; and a line LINE_LONG times as long
    as the writing's whole band (its lines too) is tall is one wherever it lies: a row of boxes on a page
    photographed whole read as one letter.)
    O(pixels)."""
    h, w = mask.shape
    candidates = np.flatnonzero(counts >= LINE_MIN * w)
    candidates = candidates[_in_thin_bands(candidates, LINE_THICK * h)]
    if not len(candidates):
        return None
    rest = counts.copy()
    rest[candidates] = 0
    total = int(rest.sum())
    if total < LINE_REST * int(counts.sum()) or total == 0:
        return None
    letter = _tallest_run(rest) if text_lines else _main_span(rest, 0)
    across = span * w
    if text_lines:  # or long beside the whole band of writing (lines, letters and all): a field on a wide page
        band = _tallest_run(counts)
        across = min(across, LINE_LONG * (band.stop - band.start))
    shortest = max(LINE_RATIO * (letter.stop - letter.start), across)
    candidates = candidates[counts[candidates] >= shortest]
    if not len(candidates):
        return None
    starts, stops = _longest_runs(mask[candidates])
    line = stops - starts >= shortest
    if not line.any():
        return None
    lines = np.zeros_like(mask)
    for row, start, stop in zip(candidates[line], starts[line], stops[line], strict=True):
        lines[row, start:stop] = True
    return lines


def _tallest_run(profile: np.ndarray) -> slice:
    """The longest run of non-zero entries of a profile that has some."""
    ink = np.flatnonzero(profile)
    firsts = np.concatenate([[0], np.flatnonzero(np.diff(ink) > 1) + 1, [len(ink)]])
    longest = int(np.argmax(np.diff(firsts)))
    return slice(int(ink[firsts[longest]]), int(ink[firsts[longest + 1] - 1]) + 1)


def _in_thin_bands(rows: np.ndarray, thickest: float) -> np.ndarray:
    """bool [n]: which of these sorted row indices lie in a band of consecutive rows no thicker than `thickest`."""
    if not len(rows) or rows[-1] - rows[0] == len(rows) - 1:  # one band (or none): the usual case, made quick
        return np.full(len(rows), len(rows) <= thickest)
    firsts = np.concatenate([[0], np.flatnonzero(np.diff(rows) > 1) + 1, [len(rows)]])
    return np.repeat(np.diff(firsts) <= thickest, np.diff(firsts))


def _longest_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, stop) of the longest run of ink in each row of a bool [n, W] mask that has ink. O(pixels)."""
    n, w = mask.shape
    padded = np.zeros((n, w + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    steps = np.diff(padded.ravel())
    starts, stops = np.flatnonzero(steps == 1), np.flatnonzero(steps == -1)  # paired: each row ends on paper
    rows = starts // (w + 2)
    longest = np.lexsort((stops - starts, rows))  # by row, then length: each row's longest last
    last = longest[np.concatenate([np.flatnonzero(np.diff(rows[longest])), [len(longest) - 1]])]
    return starts[last] - rows[last] * (w + 2), stops[last] - rows[last] * (w + 2)


def with_faint_edges(lines: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Printed lines and the faint pixels beside them (anti-aliasing, JPEG), but not a letter's strokes there."""
    grown = lines.copy()
    grown[1:] |= lines[:-1]
    grown[:-1] |= lines[1:]
    grown[:, 1:] |= lines[:, :-1]
    grown[:, :-1] |= lines[:, 1:]
    return lines | (grown & ~mask)


def _main_glyph(mask: np.ndarray, row_counts: np.ndarray | None = None) -> tuple[slice, slice]:
    """(rows, columns) of the letter's box in an ink mask, without specks and noise far from it.

    The mask's row profile (ink pixels per row) falls into runs of rows with ink, separated by empty rows: the
    heaviest run is the letter's, and its neighbours join it while the gap to them is within NEAR_GAP of the letter's
    size (a letter's own parts: the bar of a T written apart); the same across the columns of those rows, then
    both again with the letter's size known, until nothing changes. A speck or a smudge away from the letter is in a
    run of its own and is left out. `row_counts`: the mask's ink pixels per row, if known. O(pixels) a pass, at
    most GLYPH_PASSES passes."""
    pixels = mask.view(np.uint8)
    rows, cols = slice(0, mask.shape[0]), slice(0, mask.shape[1])
    size = 0
    for _ in range(GLYPH_PASSES):
        before = (rows, cols)
        whole = row_counts is not None and cols == slice(0, mask.shape[1])
        row_profile = row_counts if whole else pixels[:, cols].sum(axis=1, dtype=np.int32)
        rows = _main_span(row_profile, size)
        size = max(size, rows.stop - rows.start)
        col_profile = pixels[rows].sum(axis=0, dtype=np.int32)
        cols = _main_span(col_profile, size)
        size = max(rows.stop - rows.start, cols.stop - cols.start)
        if (rows, cols) == before or (_all_within(row_profile, rows) and _all_within(col_profile, cols)):
            break  # the same box again, or nothing left out of it: another pass would find it again
    return rows, cols


def _all_within(profile: np.ndarray, span: slice) -> bool:
    return not (profile[: span.start].any() or profile[span.stop :].any())


def _main_span(profile: np.ndarray, size: int) -> slice:
    """The heaviest run of non-zero entries of a profile, grown by each next run that is heavy (FAR_MASS of what is
    kept: a second letter is no speck), or near (within NEAR_GAP × size, or of the heaviest run's length if larger)
    and more than a sliver (SLIVER × that: a comb field's tick, a speck beside the letter)."""
    ink = np.flatnonzero(profile)
    if ink[-1] - ink[0] == len(ink) - 1:  # one run: the usual letter, nothing apart from it
        return slice(int(ink[0]), int(ink[-1]) + 1)
    breaks = np.flatnonzero(np.diff(ink) > 1)
    firsts = np.concatenate([[0], breaks + 1])  # [runs] index in `ink` of each run's first entry
    starts, stops = ink[firsts], ink[np.concatenate([breaks, [len(ink) - 1]])] + 1
    masses = np.add.reduceat(profile[ink], firsts)
    low = high = int(np.argmax(masses))
    scale = max(size, stops[low] - starts[low])
    reach = NEAR_GAP * scale
    kept = masses[low]

    def joins(run: int, gap: int) -> bool:
        near = gap <= reach and stops[run] - starts[run] > SLIVER * scale
        return near or masses[run] >= FAR_MASS * kept

    while low > 0 and joins(low - 1, starts[low] - stops[low - 1]):
        low -= 1
        kept += masses[low]
    while high < len(starts) - 1 and joins(high + 1, starts[high + 1] - stops[high]):
        high += 1
        kept += masses[high]
    return slice(int(starts[low]), int(stops[high]))


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
    radius = min(MAX_PEN_RADIUS, round(abs(width - (THIN_PEN_WIDTH if width < low else high)) / 2))  # width ± 2r
    if radius == 0:
        return crop
    scaled = _at_stroke_side(crop) if scaled is None else scaled
    # padded with paper by 2r: the result is r larger on every side, so a thickened stroke is not clipped by the edge
    repenned = _square_filter(np.pad(np.asarray(scaled), 2 * radius), radius, np.maximum if width < low else np.minimum)
    rows, cols = np.flatnonzero(repenned.any(axis=1)), np.flatnonzero(repenned.any(axis=0))
    if rows.size == 0:  # eroded away: no usual pen keeps this shape, so keep it as drawn
        return scaled
    repenned = repenned[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    if width < low:  # a line finer than a pixel at STROKE_SIDE came out faint there: its broader pen is not
        repenned = (repenned.astype(np.uint32) * 255 // int(repenned.max())).astype(np.uint8)
    return Image.fromarray(repenned)


def _square_filter(padded: np.ndarray, radius: int, reduce: np.ufunc) -> np.ndarray:
    """Grey dilation (np.maximum) or erosion (np.minimum) by a (2r+1)² square of an image the caller padded by at
    least r on every side (with its edge, or with paper): the result is r smaller on every side than `padded`.
    Separable (rows, then columns): O(pixels × r), not O(pixels × r²) as a rank filter."""
    size = 2 * radius + 1
    rows = padded[: padded.shape[0] - size + 1].copy()  # reduce over each column's 2r+1 rows
    for shift in range(1, size):
        reduce(rows, padded[shift : shift + rows.shape[0]], out=rows)
    out = rows[:, : rows.shape[1] - size + 1].copy()  # then over each row's 2r+1 columns
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
    """Mode L of any image; 16-bit, 32-bit and float images (scanners, TIFF) are scaled, not clipped, to 0..255:
    0..1 floats by 255, values beyond 255 by their largest (a 12-bit scan stored in 16 bits has its white at 4,095,
    and scaled by 16 bits' range its paper came out dark); Lab by its lightness, as Pillow does not turn it grey."""
    if image.mode == "LAB":
        return image.getchannel("L")
    if image.mode not in ("I", "F") and not image.mode.startswith("I;"):
        return image.convert("L")
    return Image.fromarray(deep_levels(np.asarray(image)))


def deep_levels(values: np.ndarray) -> np.ndarray:
    """uint8, same shape: grey levels of any depth (non-negative) as 8-bit ones: 0..1 by 255, 0..255 as they are,
    beyond 255 by their own largest value (the white of a 12-bit scan stored in 16 bits is 4,095)."""
    values = values.astype(np.float32)
    top = float(values.max())
    scale = 255.0 if top <= 1.0 else 255.0 / top if top > 255.0 else 1.0
    return np.clip(values * scale, 0.0, 255.0).astype(np.uint8)


def _reduced(image: Image.Image, work_side: int = WORK_SIDE) -> Image.Image:
    """The image at most `work_side` on a side (a new image; the caller's is left alone): by block means where the
    mode allows (15× faster than resampling: 0.4 ms for a 1200 px page, against 5.5), else resampled."""
    if max(image.size) <= work_side:
        return image
    if image.mode == "1":  # Pillow shrinks a bilevel image by picking pixels: a thin line fell apart into dashes
        image = image.convert("L")
    if image.mode in BLOCK_MEAN_MODES:
        factor = -(-max(image.size) // work_side)
        if image.mode in ("LA", "RGBA"):
            # Pillow reduces these through a full-size premultiplied copy: twice the decoded memory at the peak. What
            # ink_map reads of them is their alpha and their grey, so each is taken and reduced on its own (1.25×).
            alpha = image.getchannel("A").reduce(factor)
            return Image.merge("LA", (image.convert("L").reduce(factor), alpha))
        return image.reduce(factor)
    scale = work_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # Pillow reduces 16-bit grey by no block means, and stopped on a large one: resampled in one step
    gap = None if image.mode.startswith("I;16") else 2.0
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=gap)


def _median3(values: np.ndarray) -> np.ndarray:
    """uint8 3×3 median filter (the edge repeated beyond the image): a sorting network of 19 compare-exchanges on
    shifted copies (Paeth's median of 9), ~20× faster than Pillow's MedianFilter(3), which sorts each window."""
    h, w = values.shape
    padded = np.pad(values, 1, mode="edge")
    p = [padded[dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    for a, b in MEDIAN9_NETWORK:
        p[a], p[b] = np.minimum(p[a], p[b]), np.maximum(p[a], p[b])
    return p[4]


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
