"""Balanced per-class subsets, as the seed notebook took 400 images per letter."""

import numpy as np

from hcr.data.splits import check_seed
from hcr.labels import NUM_CLASSES, letter_of


def balanced_subset(y: np.ndarray, per_class: int, seed: int = 0) -> tuple[np.ndarray, dict[str, int]]:
    """Sorted indices of up to `per_class` images of each letter, and how many each letter fell short.

    Uses the legacy RandomState stream, which numpy keeps identical across versions and machines.
    """
    if per_class < 1:
        raise ValueError("per_class must be at least 1")
    check_seed(seed)
    rng = np.random.RandomState(seed)
    chosen, shortfall = [], {}
    for label in range(NUM_CLASSES):
        members = np.flatnonzero(y == label)
        if len(members) > per_class:
            members = rng.choice(members, size=per_class, replace=False)
        elif len(members) < per_class:
            shortfall[letter_of(label)] = per_class - len(members)
        chosen.append(members)
    return np.sort(np.concatenate(chosen)), shortfall
