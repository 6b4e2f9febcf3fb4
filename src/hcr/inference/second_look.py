"""A second look at the letters a model is unsure of: the same 28×28 letter slightly tilted both ways, read again,
and the probabilities of the three looks averaged.

A letter written a little aslant is often read unsurely, and sometimes wrongly, where the same letter upright would
not be; the model learned from tilted letters, so its answers on tilted copies disagree where one look is luck. Only
answers below `below` get the second look, so a sure answer (more than nine in ten clean letters) costs nothing
more, and the batch stays fast. Chosen on the shipped model's validation letters (hard ones included: letters
drawn as degraded files): tilts of ±5° for answers below 0.7 read 92.50 % of them against 91.15 % with one look,
for 13 % more model work on clean letters (6.7 % of them get the second look). More copies read more (tilts of ±4°
and ±8° and scales of 0.9 and 1.1 below 0.8: 92.73 %) but cost 57 %, more than the batch's speed target leaves.

The settings travel in model.json ("second_look", written by `hcr export`), so the thresholds calibrated there are
calibrated on the answers `hcr predict` gives; a model exported before has none and is read with one look.
"""

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from hcr.inference.preprocess import SIDE

BELOW = 0.7  # an answer less sure than this gets a second look
TILTS = (-5.0, 5.0)  # degrees, counter-clockwise, about the letter's centre


def default_settings() -> dict[str, Any]:
    """The second look `hcr export` writes into model.json."""
    return {"below": BELOW, "tilts": list(TILTS)}


def check_settings(settings: object) -> None:
    """Refuses model.json "second_look" settings that would break or silently skew every answer."""
    if not isinstance(settings, dict) or set(settings) != {"below", "tilts"}:
        raise ValueError("second_look must hold exactly below and tilts")
    below, tilts = settings["below"], settings["tilts"]
    if isinstance(below, bool) or not isinstance(below, int | float) or not 0.0 <= below <= 1.0:
        raise ValueError(f"second_look.below must be a number in 0..1, not {below!r}")
    if not isinstance(tilts, list) or not all(
        isinstance(t, int | float) and not isinstance(t, bool) and -45.0 <= t <= 45.0 for t in tilts
    ):
        raise ValueError(f"second_look.tilts must be a list of angles in -45..45, not {tilts!r}")


def copies(letters: np.ndarray, tilts: list[float]) -> np.ndarray:
    """uint8 [T, N, 28, 28]: each of the letters (uint8 [N, 28, 28], bright ink on black) tilted by each angle about
    its centre; bilinear, black where a copy uncovers the border (as Pillow's rotate makes them, within a grey
    level, in one vectorised pass: a second look must not cost more than the look)."""
    flat = np.zeros((len(letters), SIDE * SIDE + 1), np.float32)  # the last column: black, for outside the letter
    flat[:, :-1] = letters.reshape(len(letters), -1)
    made = np.empty((len(tilts), len(letters), SIDE * SIDE), np.float32)
    for k, angle in enumerate(tilts):
        index, weight = _sampling(float(angle))  # [4, 784] each
        made[k] = np.einsum("sp,nsp->np", weight, flat[:, index])
    return np.round(made).astype(np.uint8).reshape(len(tilts), len(letters), SIDE, SIDE)


@functools.cache
def _sampling(degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """(int [4, 784] flat indices, float32 [4, 784] weights): the four letter pixels each pixel of a copy tilted by
    `degrees` blends, index 784 for outside the letter."""
    cos, sin = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    centre = SIDE / 2
    y, x = np.mgrid[:SIDE, :SIDE].reshape(2, -1) + 0.5 - centre  # pixel centres about the letter's centre
    source_x = cos * x - sin * y + centre - 0.5  # where each lies in the letter, in pixel indices
    source_y = sin * x + cos * y + centre - 0.5
    left, top = np.floor(source_x), np.floor(source_y)
    right_share, down_share = source_x - left, source_y - top
    index, weight = [], []
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        column, row = left + dx, top + dy
        inside = (column >= 0) & (column < SIDE) & (row >= 0) & (row < SIDE)
        index.append(np.where(inside, row * SIDE + column, SIDE * SIDE).astype(np.intp))
        weight.append((right_share if dx else 1 - right_share) * (down_share if dy else 1 - down_share))
    return np.stack(index), np.stack(weight).astype(np.float32)


def looked_again(
    probabilities: np.ndarray,
    letters: np.ndarray,
    read: Callable[[np.ndarray], np.ndarray],
    n_letters: int,
    settings: dict[str, Any] | None,
) -> np.ndarray:
    """float32 [N, C]: `probabilities` (of `letters`, uint8 [N, 28, 28]) with each answer less sure than
    settings["below"] (its likeliest letter's probability) replaced by the mean over it and its copies, all copies
    read in one call of `read` (uint8 [M, 28, 28] → [M, C]). Unchanged without settings (an older model)."""
    if settings is None or not len(letters) or not settings["tilts"]:
        return probabilities
    unsure = np.flatnonzero(probabilities[:, :n_letters].max(axis=1) < settings["below"])
    if not len(unsure):
        return probabilities
    variants = copies(letters[unsure], settings["tilts"])  # [T, U, 28, 28]
    looks = read(variants.reshape(-1, SIDE, SIDE)).reshape(len(variants), len(unsure), -1)
    out = probabilities.copy()
    out[unsure] = (probabilities[unsure] + looks.sum(axis=0)) / (len(variants) + 1)
    return out
