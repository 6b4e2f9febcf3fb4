"""Letter case: every image is known to be upper case, lower case, or of unknown case; `--case` selects by it.

hcr reads 26 letters, so case never changes a label; it only decides which images a run may use. EMNIST Letters
and ByMerge's merged classes do not say which case an image is (unknown); Kaggle A–Z holds capitals; ByClass, ByMerge's
unmerged classes and NIST SD19's by_class folders say it.

    hcr train --model regularized-cnn --case upper
"""

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from hcr.configs import CASE_MODES, FOLD
from hcr.errors import HcrError
from hcr.labels import index_of

if TYPE_CHECKING:
    from hcr.data.dataset import LetterData

UNKNOWN, UPPER, LOWER = 0, 1, 2  # the values of LetterData.case (uint8)
CASE_NAMES = ("unknown", "upper", "lower")


# Letters whose two cases look the same at 28×28, measured: on ByClass's test split (case known), a linear classifier
# on the pixels tells upper from lower case with a balanced accuracy of 0.50–0.73 for these 14 letters (0.5 = chance)
# and 0.80–0.98 for the other 12 (bench/case_shares.py). EMNIST crops each letter to its ink and scales it to one box,
# which erases the size difference that sets c apart from C. An unknown-case image of these letters is thus a capital's
# shape whichever case was written, and `--case upper` keeps it; for the other 12 it is often another shape (a, e, l
# are 61 %, 83 %, 76 % of their ByClass class) and is dropped. Keeping I's is safe for a capital reader: i at 28×28
# is a bar; L is dropped, as a lower-case l is a bare bar, which a capital reader must call I.
SAME_SHAPE_IN_BOTH_CASES = frozenset("CFIKMOPSUVWXYZ")


def select_case(data: "LetterData", mode: str) -> tuple["LetterData", dict[str, int]]:
    """The images a `--case` mode uses, and how many it dropped for each reason.

    fold: every image. upper: capitals, and unknown-case images only of SAME_SHAPE_IN_BOTH_CASES letters."""
    if mode not in CASE_MODES:
        raise HcrError(f"unknown case mode '{mode}': use {' or '.join(CASE_MODES)}")
    if mode == FOLD:
        return data, {}
    same_shape = np.isin(data.y, [index_of(letter) for letter in SAME_SHAPE_IN_BOTH_CASES])
    lower = data.case == LOWER
    unknown_other_shape = (data.case == UNKNOWN) & ~same_shape
    dropped = {
        "lower case": int(lower.sum()),
        "unknown case, letter shaped differently in lower case": int(unknown_other_shape.sum()),
    }
    keep = np.flatnonzero(~lower & ~unknown_other_shape)
    return data.take(keep), dropped


def case_counts(data: "LetterData") -> np.ndarray:
    """int64 [sources, 3, 26]: images per source, case (UNKNOWN, UPPER, LOWER) and letter."""
    counts = np.zeros((len(data.sources), len(CASE_NAMES), 26), dtype=np.int64)
    np.add.at(counts, (data.source.astype(np.int64), data.case.astype(np.int64), data.y), 1)
    return counts


def with_upper_case(data: "LetterData") -> "LetterData":
    """`data` with every image marked upper case (a source that holds only capitals)."""
    return replace(data, case=np.full(len(data), UPPER, dtype=np.uint8))
