"""Block-capital labels: a plain vertical bar is an I.

EMNIST Letters merges upper and lower case, so its L class holds lower-case l — a bare bar — as often as a capital
L with its foot, while its I class holds capital I written as a bar too. Trained on those labels, a model reads a bar
as I or L by a coin toss. On forms written in capitals a bar is an I, so a model meant for them is trained with the
EMNIST L images that are bars relabelled I (`hcr train --capitals`). Kaggle A–Z holds only capitals and keeps its
labels.

    hcr train --model regularized-cnn --capitals
"""

from dataclasses import replace

import numpy as np

from hcr.data.dataset import LetterData
from hcr.data.emnist import NAME as EMNIST
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


def with_capital_labels(data: LetterData) -> tuple[LetterData, int]:
    """A copy where EMNIST's L images that are bars are labelled I; and how many were relabelled."""
    if EMNIST not in data.sources:
        return data, 0
    candidates = np.flatnonzero((data.source == data.sources.index(EMNIST)) & (data.y == index_of("L")))
    relabel = candidates[bar_mask(data.x[candidates])]
    y = data.y.copy()
    y[relabel] = index_of("I")
    return replace(data, y=y), len(relabel)
