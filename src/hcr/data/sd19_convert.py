"""NIST SD19's 128×128 bilevel scans turned into 28×28 letters the way EMNIST's authors turned them.

Cohen et al. 2017 (arXiv:1702.05373, section II-A): Gaussian blur with σ = 1 to soften the edges; the region of
interest (the ink, blur included) extracted; centred in a square frame with its aspect ratio kept; a 2-pixel border
added; downsampled to 28×28 with bicubic interpolation; intensities scaled to 0–255. The paper does not give the
blur kernel's extent, which sets how far the ROI reaches past the ink: a kernel of 3σ matches ByClass's capitals
best (mean longest box side 25.4 px against ByClass's 25.0; 4σ gives 24.6, MATLAB's default 2σ gives 26.1;
bench/sd19_stats.py). The border is added at scan resolution, as the paper describes it before the downsampling.

Blur and ROI run on whole batches; only the final bicubic resize (Pillow, whose filter widens with the scale as
MATLAB's imresize does) goes image by image.
"""

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from hcr.data.dataset import IMAGE_SIDE

SCAN_SIDE = 128
BLUR_SIGMA = 1.0
BLUR_TRUNCATE = 3.0  # kernel radius in σ
BORDER = 2  # px at scan resolution
BATCH = 512  # images blurred at once: 512 × 128 × 128 float32 is 32 MB


def convert_scans(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [M, 28, 28] bright-on-black letters, bool [N] which scans had ink) from bool [N, 128, 128] ink masks
    (True where the scan is black). Blank scans have no letter to convert and are left out."""
    out = np.zeros((len(ink), IMAGE_SIDE, IMAGE_SIDE), dtype=np.uint8)
    has_ink = np.zeros(len(ink), dtype=bool)
    for start in range(0, len(ink), BATCH):
        part = slice(start, start + BATCH)
        out[part], has_ink[part] = _convert_batch(ink[part])
    return out[has_ink], has_ink


def _convert_batch(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    blurred = gaussian_filter(ink.astype(np.float32), sigma=(0, BLUR_SIGMA, BLUR_SIGMA), truncate=BLUR_TRUNCATE)
    rows, cols = (blurred > 0).any(axis=2), (blurred > 0).any(axis=1)  # [n, 128] each; outside the kernel it is 0
    has_ink = rows.any(axis=1)
    top, bottom = rows.argmax(axis=1), SCAN_SIDE - rows[:, ::-1].argmax(axis=1)
    left, right = cols.argmax(axis=1), SCAN_SIDE - cols[:, ::-1].argmax(axis=1)
    side = np.maximum(bottom - top, right - left) + 2 * BORDER
    letters = np.zeros((len(ink), IMAGE_SIDE, IMAGE_SIDE), dtype=np.float32)
    for i in np.flatnonzero(has_ink):
        letters[i] = _framed(blurred[i, top[i] : bottom[i], left[i] : right[i]], int(side[i]))
    peak = letters.max(axis=(1, 2), keepdims=True)
    scaled = letters * (255.0 / np.where(peak > 0, peak, 1.0))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8), has_ink


def _framed(roi: np.ndarray, side: int) -> np.ndarray:
    """The ROI centred in a black square of `side` px, downsampled to 28×28 (bicubic, negative ringing cut)."""
    frame = np.zeros((side, side), dtype=np.float32)
    h, w = roi.shape
    y, x = (side - h) // 2, (side - w) // 2
    frame[y : y + h, x : x + w] = roi
    small = Image.fromarray(frame).resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BICUBIC)
    return np.maximum(np.asarray(small), 0.0)
