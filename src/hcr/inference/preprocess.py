"""Bring any image to the convention the models learn from, and letter arrays to the models' input tensors.

The one place where preprocessing is defined, so training, evaluation and prediction cannot drift apart.
Convention (measured on the real data in ../shared/data): uint8 28×28, ink bright on black, the ink's bounding
box centred, its long side 24 px in EMNIST Letters and 20 px in Kaggle A–Z; we scale to the midpoint, 22 px.
"""

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hcr.errors import HcrError

PREPROCESS_VERSION = 1  # bump when the output for the same image changes: it keys caches and model metadata
SIDE = 28
INK_BOX = 22  # long side of the ink's bounding box in the 28×28 output
MAX_PIXELS = 40_000_000  # larger images are refused: decompression bombs, or not a single letter anyway
WORK_SIDE = 512  # big photos are reduced to this before analysis; far more than 28 px needs
INK_THRESHOLD = 0.25  # fraction of the brightest ink level that counts as ink when finding the letter's box
MIN_CONTRAST = 24  # brightest ink minus background, in grey levels, below which the image is blank


class ImageError(HcrError):
    """An image that cannot be turned into a letter: unreadable, too large, or blank."""


class BlankImageError(ImageError):
    """The image holds no ink (an empty canvas, a white page)."""


def open_image(path: Path) -> Image.Image:
    """Decode an image file fully (so truncation shows here, not later), honouring EXIF orientation."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise ImageError(f"{path}: {image.width}×{image.height} pixels is too large (limit {MAX_PIXELS:,})")
                image.draft("L", (WORK_SIDE, WORK_SIDE))  # JPEG decodes at reduced size: much faster
                image.load()
                return ImageOps.exif_transpose(image)
    except FileNotFoundError:
        raise ImageError(f"{path}: file not found") from None
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image Pillow can read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{path}: refused as a decompression bomb (too many pixels)") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{path}: corrupt or truncated image ({e})") from None


def ink_map(image: Image.Image) -> np.ndarray:
    """float32 [H, W] ink strength in 0..255 on a zero background, whatever the polarity or transparency."""
    image.thumbnail((WORK_SIDE, WORK_SIDE))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32)
        alpha = rgba[..., 3]
        if _border(alpha).mean() < 128:  # a transparent canvas: what is drawn is what is opaque
            return alpha
        image = image.convert("RGBA")
    gray = np.asarray(image.convert("L"), dtype=np.float32)
    background = float(np.median(_border(gray)))
    if background > 127:  # dark ink on light paper
        gray, background = 255.0 - gray, 255.0 - background
    return np.clip(gray - background, 0.0, None)


def to_letter_array(image: Image.Image) -> np.ndarray:
    """uint8 [28, 28]: the letter cropped to its ink, scaled to INK_BOX keeping its aspect, centred."""
    ink = ink_map(image)
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise BlankImageError("the image is blank (no ink found)")
    rows = np.flatnonzero((ink > INK_THRESHOLD * peak).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD * peak).any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1] * (255.0 / peak)  # [h, w], ink peak at 255
    h, w = crop.shape
    scale = INK_BOX / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    letter = Image.fromarray(crop.astype(np.uint8)).resize((new_w, new_h), Image.Resampling.LANCZOS)
    out = np.zeros((SIDE, SIDE), dtype=np.uint8)
    top, left = (SIDE - new_h) // 2, (SIDE - new_w) // 2
    out[top : top + new_h, left : left + new_w] = np.asarray(letter)
    return out


def to_model_input(x: np.ndarray) -> np.ndarray:
    """uint8 [N, 28, 28] → float32 [N, 28, 28, 1] in 0..1, what every model takes."""
    return (x.astype(np.float32) / 255.0)[..., np.newaxis]


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
