"""Training letters made into the files people bring, then read back the way `hcr predict` reads a file.

hcr train --model compact-cnn -d az -d emnist-byclass --case upper --canonical --rendered-copies 1

The datasets hold clean scans: bright ink on black, one size, one pen. Users bring pencil on grey paper photographed
under a lamp, 20–40 px crops, JPEGs, specks, the edge of a printed box or a ruled line. Augmenting the 28×28 array
cannot teach a model what preprocessing leaves of such a file (a half-removed box edge, a faint stroke, JPEG rings
around a small letter), so each training letter is drawn into a file-like image here and passed through
`hcr.inference.preprocess.to_letter_array`, the very function `hcr predict` uses: the model trains on exactly what
it will be shown.

The degradations and their ranges are this module's own, chosen from what users reported (issue 17), and kept apart
from hcr/evaluation/realworld.py on purpose: a model must not be scored on a copy of its own augmentation.
Each image gets its own generator from (seed, copy, index), so the result does not depend on how the work is split
across processes; a result is cached under the parse cache (hcr.paths.parse_cache_dir), keyed by the input images,
the seed, the number of copies and both versions below.
"""

import hashlib
import io
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from hcr.inference.preprocess import PREPROCESS_VERSION, ImageError, to_letter_array
from hcr.paths import parse_cache_dir

log = logging.getLogger(__name__)

RENDER_VERSION = 1  # bump when a file drawn for the same (image, seed) changes: it keys the cache
WORK_SCALE = 3  # ink is distorted at 3 × 28 = 84 px, where a 1 px pen change is a third of a dataset pixel
SMALL_SIDE = (20, 40)  # px: letter heights of the small phone crops users send (inclusive range)...
LARGE_SIDE = (40, 120)  # ...and of scans and bigger crops
SMALL_SHARE = 0.6  # share of copies drawn small
MAX_MARGIN = 0.6  # paper around the letter on each side, as a share of its height (crops up to ~150 px)
CHUNK = 512  # images per task sent to a worker process
DEFAULT_PROCESSES = 2  # the project's machines share two cores


# --- the ink: a letter's shape, distorted -------------------------------------------------------------------------


def _distorted_ink(ink: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """float [H, W] 0..1 at WORK_SCALE: the ink slightly rotated, sheared and (half the time) elastically bent, then
    upscaled and its pen made thicker or thinner (hands vary more than the datasets' writers, and preprocessing
    undoes none of it). The geometry is one resampling of the small image: cheap, and blurred only once."""
    from scipy.ndimage import map_coordinates

    h, w = ink.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    angle, shear = np.deg2rad(rng.normal(0, 4)), rng.normal(0, 0.12)
    cos, sin = np.cos(angle), np.sin(angle)
    src_x = cos * (xx - cx) + (sin + shear) * (yy - cy) + cx  # output → input, about the centre
    src_y = -sin * (xx - cx) + cos * (yy - cy) + cy
    if rng.uniform() < 0.5:  # a wobbly hand: a smooth random displacement, a 4×4 grid of offsets interpolated
        grid = Image.fromarray(rng.normal(0, rng.uniform(0.3, 1.0), (4, 4)).astype(np.float32))
        src_x += np.asarray(grid.resize((w, h), Image.Resampling.BILINEAR))
        grid = Image.fromarray(rng.normal(0, rng.uniform(0.3, 1.0), (4, 4)).astype(np.float32))
        src_y += np.asarray(grid.resize((w, h), Image.Resampling.BILINEAR))
    bent = map_coordinates(ink, [src_y, src_x], order=1, mode="constant")
    image = Image.fromarray(np.clip(bent * 255, 0, 255).astype(np.uint8))
    image = image.resize((w * WORK_SCALE, h * WORK_SCALE), Image.Resampling.BICUBIC)
    pen = rng.uniform()
    if pen < 0.2:
        image = image.filter(ImageFilter.MaxFilter(int(rng.choice([3, 5]))))  # a broader pen
    elif pen < 0.35:
        image = image.filter(ImageFilter.MinFilter(3))  # a finer one
    return np.asarray(image, np.float32) / 255.0


def _placed(ink: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(float [H, W] ink on a page, the letter's box (top, left, bottom, right)): the ink scaled to a random letter
    height with random paper around it, as a crop or a scan has."""
    low, high = SMALL_SIDE if rng.uniform() < SMALL_SHARE else LARGE_SIDE
    side = int(rng.integers(low, high + 1))
    h, w = ink.shape
    width = max(4, round(side * w / h))
    letter = np.asarray(
        Image.fromarray((ink * 255).astype(np.uint8)).resize((width, side), Image.Resampling.LANCZOS), np.float32
    )
    top, bottom, left, right = (int(side * rng.uniform(0.03, MAX_MARGIN)) + 1 for _ in range(4))
    page = np.zeros((top + side + bottom, left + width + right), np.float32)
    page[top : top + side, left : left + width] = np.clip(letter / 255.0, 0, 1)
    return page, (top, left, top + side, left + width)


# --- the page: paper, pen, light, printed lines, specks, the camera -----------------------------------------------


def _lines(shape: tuple[int, int], box: tuple[int, int, int, int], rng: np.random.Generator) -> np.ndarray:
    """float [H, W] 0..1: printed marks near the letter — some edges of a box around it, or a ruled line."""
    h, w = shape
    marks = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(marks)
    top, left, bottom, right = box
    side = bottom - top
    strength = int(rng.uniform(120, 255))
    thick = max(1, round(side * rng.uniform(0.02, 0.06)))
    kind = rng.uniform()
    if kind < 0.55:  # box edges: 1–4 sides of a frame a little way out from the letter
        gap = [int(side * rng.uniform(0.02, 0.4)) for _ in range(4)]
        y0, x0 = max(0, top - gap[0] - thick), max(0, left - gap[1] - thick)
        y1, x1 = min(h - 1, bottom + gap[2]), min(w - 1, right + gap[3])
        sides = [
            [(x0, y0), (x1, y0)],
            [(x0, y1), (x1, y1)],
            [(x0, y0), (x0, y1)],
            [(x1, y0), (x1, y1)],
        ]
        for i in rng.permutation(4)[: int(rng.integers(1, 5))]:
            draw.line(sides[i], fill=strength, width=thick)
    else:  # a ruled line across the page: under the letter (a baseline) or through its lower part
        y = int(np.clip(bottom + side * rng.uniform(-0.3, 0.25), 0, h - 1))
        draw.line([(0, y), (w, y)], fill=strength, width=thick)
    return np.asarray(marks, np.float32) / 255.0


def _specks(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """float [H, W] 0..1: a few dust specks and pencil dots anywhere on the page."""
    h, w = shape
    marks = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(marks)
    for _ in range(int(rng.integers(1, 7))):
        r = rng.uniform(0.4, max(0.6, min(h, w) * 0.025))
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=int(rng.uniform(90, 255)))
    return np.asarray(marks, np.float32) / 255.0


def _light(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """float [H, W] ≤ 1: how much light falls on the paper — an uneven gradient, and sometimes a shadow's edge."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy / max(h - 1, 1), xx / max(w - 1, 1)
    light = np.ones(shape, np.float32)
    if rng.uniform() < 0.7:
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(angle) * xx + np.sin(angle) * yy
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
        light *= 1 - rng.uniform(0.05, 0.35) * ramp
    if rng.uniform() < 0.3:  # a hand's or a phone's shadow: a straight edge, soft or hard
        angle = rng.uniform(0, 2 * np.pi)
        distance = np.cos(angle) * (xx - rng.uniform(0.2, 0.8)) + np.sin(angle) * (yy - rng.uniform(0.2, 0.8))
        softness = rng.uniform(0.005, 0.25)
        inside = 1 / (1 + np.exp(-distance / softness))
        light *= 1 - rng.uniform(0.15, 0.45) * inside
    return light


def _file(page: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """The page as a file's image: blur, sensor noise, and often JPEG."""
    image = Image.fromarray(np.clip(page, 0, 255).astype(np.uint8))
    side = min(image.size)
    if rng.uniform() < 0.7:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 1.0) * max(1.0, side / 60)))
    values = np.asarray(image, np.float32)
    if rng.uniform() < 0.8:
        values = values + rng.normal(0, rng.uniform(0.5, 6.0), values.shape)
    image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))
    return _jpeg(image, rng, lowest_quality=35) if rng.uniform() < 0.6 else image


def render_file(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A file-like image (mode L or RGB, dark marks on paper) of `ink`: float or uint8 [H, W], bright on black.

    Pen: a pencil's low contrast (grey on grey, strokes of uneven pressure) or a pen's. Paper: white, grey or tinted.
    Then light, printed lines, specks, blur, noise, JPEG, each with its own chance, so every mix occurs."""
    ink = ink.astype(np.float32) / (255.0 if ink.dtype == np.uint8 else 1.0)
    letter, box = _placed(_distorted_ink(ink, rng), rng)
    shape = letter.shape
    paper = rng.uniform(120, 250)
    pencil = rng.uniform() < 0.45
    contrast = rng.uniform(30, 90) if pencil else rng.uniform(90, max(91.0, paper - 5))
    if pencil:  # graphite: pressure varies along the stroke
        pressure = np.asarray(
            Image.fromarray(
                rng.uniform(0.55, 1.0, (max(2, shape[0] // 6), max(2, shape[1] // 6))).astype(np.float32)
            ).resize(shape[::-1], Image.Resampling.BILINEAR)
        )
        letter = letter * pressure
    marks = letter
    if rng.uniform() < 0.3:
        marks = np.maximum(marks, _lines(shape, box, rng) * rng.uniform(0.5, 1.0))
    if rng.uniform() < 0.3:
        marks = np.maximum(marks, _specks(shape, rng) * rng.uniform(0.4, 1.0))
    page = (paper - contrast * marks) * _light(shape, rng)
    if rng.uniform() < 0.25:  # tinted paper and coloured ink: preprocessing sees the grey of a colour photo
        tint = rng.uniform(0.8, 1.15, 3)
        rgb = np.clip(page[..., np.newaxis] * tint, 0, 255)
        return _file_rgb(rgb, rng)
    return _file(page, rng)


def _file_rgb(page: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A colour page as a file: per-channel noise, then JPEG half the time."""
    values = page + rng.normal(0, rng.uniform(0.5, 5.0), page.shape)
    image = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "RGB")
    return _jpeg(image, rng, lowest_quality=40) if rng.uniform() < 0.5 else image


def _jpeg(image: Image.Image, rng: np.random.Generator, lowest_quality: int) -> Image.Image:
    """The image saved as a JPEG of a random quality (lowest_quality..95) and read back, as a phone or scanner saves."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(lowest_quality, 96)))
    reread = Image.open(io.BytesIO(buffer.getvalue()))
    reread.load()
    return reread


def render_clean(ink: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A drawing: black ink on white at a random size, as a paint program or a tablet saves it."""
    ink = ink.astype(np.float32) / (255.0 if ink.dtype == np.uint8 else 1.0)
    letter, _ = _placed(_distorted_ink(ink, rng), rng)
    return Image.fromarray((255 - 255 * np.clip(letter, 0, 1)).astype(np.uint8))


# --- many at once ---------------------------------------------------------------------------------------------------


def image_rng(seed: int, stream: int, index: int) -> np.random.Generator:
    """The generator for one image: from (seed, stream, index) alone, so chunking and process count do not matter."""
    return np.random.default_rng([seed, stream, index])


def read_back(images: list[np.ndarray], seed: int, stream: int, start: int, clean_share: float = 0.0) -> np.ndarray:
    """uint8 [N, 28, 28]: each ink image rendered as a file (a clean drawing with probability `clean_share`) and read
    by to_letter_array; an image that reads as blank (too faint once degraded) is all zero."""
    out = np.zeros((len(images), 28, 28), np.uint8)
    for i, ink in enumerate(images):
        rng = image_rng(seed, stream, start + i)
        render = render_clean if rng.uniform() < clean_share else render_file
        try:
            out[i] = to_letter_array(render(ink, rng))
        except ImageError:
            continue  # blank: left black, and dropped by the caller
    return out


def _read_back_chunk(args: tuple[Sequence[np.ndarray], int, int, int, float]) -> np.ndarray:
    images, seed, stream, start, clean_share = args
    return read_back(list(images), seed, stream, start, clean_share)


def read_back_all(
    images: Sequence[np.ndarray],
    seed: int,
    stream: int,
    *,
    clean_share: float = 0.0,
    processes: int = DEFAULT_PROCESSES,
) -> np.ndarray:
    """read_back over ink images (uint8 [N, 28, 28], or a list of any sizes) in `processes` worker processes
    (spawned: the caller may hold TensorFlow, which does not survive a fork); the same result for any number."""
    tasks = [(images[s : s + CHUNK], seed, stream, s, clean_share) for s in range(0, len(images), CHUNK)]
    if processes <= 1 or len(tasks) <= 1:
        parts = [_read_back_chunk(task) for task in tasks]
    else:
        with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
            parts = list(pool.map(_read_back_chunk, tasks))
    return np.concatenate(parts) if parts else np.zeros((0, 28, 28), np.uint8)


def rendered_copies(
    x: np.ndarray, copies: int, seed: int, *, stream: int = 0, processes: int = DEFAULT_PROCESSES
) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [M, 28, 28] letters as `hcr predict` reads them from rendered files, int64 [M] index of each one's
    source image in `x`): `copies` renderings of every image of `x` (uint8 [N, 28, 28], bright ink on black), copy
    by copy; renderings that read as blank are left out (M ≤ copies × N). Cached: a second call with the same
    images and settings only reads two arrays. `stream` tells apart sets rendered from the same seed (train, val)."""

    def render() -> dict[str, np.ndarray]:
        rendered, origin = [], []
        for copy in range(copies):
            letters = read_back_all(x, seed, stream * 1000 + copy, processes=processes)
            kept = letters.reshape(len(letters), -1).any(axis=1)
            log.info("rendered copy %d: %d of %d read back, %d blank", copy + 1, kept.sum(), len(x), (~kept).sum())
            rendered.append(letters[kept])
            origin.append(np.flatnonzero(kept))
        return {"x": np.concatenate(rendered), "origin": np.concatenate(origin).astype(np.int64)}

    arrays = cached("rendered", [copies, seed, stream, x], render)
    return arrays["x"], arrays["origin"]


def cached(kind: str, key: Sequence[object], compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """`compute()`'s arrays, from an .npz in the parse cache when `key` (numbers, strings, arrays) was computed
    before with these versions of rendering and preprocessing. A damaged entry is computed again and overwritten; a
    cache that cannot be written only costs speed."""
    digest = hashlib.sha256(f"{kind}:{RENDER_VERSION}:{PREPROCESS_VERSION}".encode())
    for part in key:
        if isinstance(part, np.ndarray):
            digest.update(f"{part.dtype}{part.shape}".encode())
            digest.update(np.ascontiguousarray(part).tobytes())
        else:
            digest.update(f":{part!r}".encode())
    entry = parse_cache_dir() / f"{kind}-{digest.hexdigest()[:24]}.npz"
    try:
        with np.load(entry) as saved:
            return {name: saved[name] for name in saved.files}
    except (OSError, ValueError, KeyError):  # missing or damaged
        pass
    arrays = compute()
    tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp.npz")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, **arrays)
        tmp.replace(entry)  # readers never see half a file
    except OSError as e:
        log.warning("could not cache %s arrays at %s (%s)", kind, entry, e)
        tmp.unlink(missing_ok=True)
    return arrays
