"""Block-capital labels: a plain vertical bar is an I.

A lower-case l is a bare bar as often as not, and a capital I is written as one too. Trained on letters of both cases
(`--case fold`), a model reads a bar as I or L by a coin toss: EMNIST Letters and ByMerge merge l into L, and
ByClass labels it l, which folds to L. On forms written in capitals a bar is an I, so a model meant for them is
trained with every L image that is not known to be a capital and is a bar relabelled I (`hcr train --capitals`),
whichever dataset it comes from: EMNIST Letters, ByMerge's merged L, ByClass's l (lower case) alike. Capitals keep
their labels (Kaggle A–Z, SD19, ByClass's L), so a capital L keeps its foot.

    hcr train --model compact-cnn --case fold --capitals
"""

from dataclasses import replace

import numpy as np

from hcr.data.case import UPPER
from hcr.data.dataset import LetterData
from hcr.labels import index_of

# Ink spread across the main axis over spread along it, below which a letter is a bar. At 0.2, 458 of the 835
# EMNIST L images in ../shared/data are bars; of Kaggle's capital L (always with a foot) 3 of 163 fall under it.
BAR_ELONGATION = 0.2
INK_LEVEL = 64  # grey level above which a pixel is ink, on the 0..255 white-on-black data


def elongation(image: np.ndarray) -> float:
    """sqrt(minor / major variance) of the ink's pixel coordinates, weighted by intensity: 0 for a line at any slant,
    larger when ink spreads sideways (L's foot)."""
    rows, cols = np.nonzero(image > INK_LEVEL)
    if len(rows) < 2:
        return 1.0
    weights = image[rows, cols].astype(np.float64)
    points = np.stack([rows, cols], axis=1).astype(np.float64)  # [n_ink, 2]
    centred = points - np.average(points, axis=0, weights=weights)
    covariance = (centred.T * weights) @ centred / weights.sum()  # [2, 2]
    minor, major = np.linalg.eigvalsh(covariance)
    return float(np.sqrt(max(minor, 0.0) / major)) if major > 0 else 1.0


def bar_mask(x: np.ndarray) -> np.ndarray:
    """bool [N]: which of the uint8 [N, 28, 28] images are a plain bar."""
    return np.array([elongation(image) < BAR_ELONGATION for image in x], dtype=bool)


def bar_l_indices(data: LetterData) -> np.ndarray:
    """int64 indices of the L images of lower or unknown case that are bars: the lower-case l a capital reader
    must read as I. Known capitals are left out, so a capital L is never relabelled."""
    candidates = np.flatnonzero((data.y == index_of("L")) & (data.case != UPPER))
    return candidates[bar_mask(data.x[candidates])]


def with_capital_labels(data: LetterData) -> tuple[LetterData, int]:
    """A copy where every L image of lower or unknown case that is a bar is labelled I; and how many were."""
    relabel = bar_l_indices(data)
    if not len(relabel):
        return data, 0
    y = data.y.copy()
    y[relabel] = index_of("I")
    return replace(data, y=y), len(relabel)
