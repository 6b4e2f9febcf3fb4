"""Remove the exact copies that sources share, before any split is made.

Every EMNIST split and Kaggle A–Z come from NIST SD19, and the official EMNIST files overlap: Letters' images are
also in ByClass and ByMerge, and ByClass and ByMerge share test images. Combined without care, one image could be
trained on and tested on. Two images are the same when their 28×28 arrays are byte-identical. Of each such group the
first copy (in the order the datasets were named) is kept, with the most precise case any copy knows, and marked
official test if any copy was. Copies within one source are that source's own and are left alone.
"""

from dataclasses import replace

import numpy as np

from hcr.data.case import LOWER, UPPER
from hcr.data.dataset import LetterData
from hcr.errors import HcrError
from hcr.labels import letter_of


def deduplicate(data: LetterData) -> LetterData:
    """`data` without the images that are exact copies of an image of another source; `duplicates` counts them by
    pair of sources ("kept-source = dropped-source"). Refused when copies disagree on the letter or the case."""
    if len(data.sources) < 2 or len(data) == 0:
        return data
    kept_of = _first_copies(np.ascontiguousarray(data.x).reshape(len(data), -1))
    removed = data.source != data.source[kept_of]
    if not removed.any():
        return data
    _refuse_disagreements(data, removed, kept_of)
    case = data.case.copy()  # UNKNOWN (0) < UPPER, LOWER, and copies never know opposite cases (refused above)
    np.maximum.at(case, kept_of[removed], data.case[removed])
    official_test = data.official_test.copy()
    np.logical_or.at(official_test, kept_of[removed], data.official_test[removed])
    pairs: dict[str, int] = dict(data.duplicates)
    for kept_source, dropped_source in zip(data.source[kept_of[removed]], data.source[removed], strict=True):
        key = f"{data.sources[kept_source]} = {data.sources[dropped_source]}"
        pairs[key] = pairs.get(key, 0) + 1
    keep = np.flatnonzero(~removed)
    merged = replace(data, official_test=official_test, case=case, duplicates=pairs)
    return merged.take(keep)


def _first_copies(rows: np.ndarray) -> np.ndarray:
    """For every row of `rows` (uint8 [N, 784]), the index of the first row byte-identical to it.

    Rows are grouped by a 64-bit hash, then every row is compared with its group's first byte for byte; only the
    groups where a hash collision put different rows together are regrouped on their full bytes. Sorting the rows'
    784 bytes themselves (np.unique on a void view) took 7 s for 0.8 M images; a hash sorts 8 bytes a row."""
    _, first, group = np.unique(_row_hashes(rows), return_index=True, return_inverse=True)
    kept_of = first[group.ravel()]
    copies = np.flatnonzero(kept_of != np.arange(len(rows)))
    collided = copies[(rows[copies] != rows[kept_of[copies]]).any(axis=1)]
    if len(collided):
        regroup = np.flatnonzero(np.isin(kept_of, kept_of[collided]))  # whole groups, in order
        keys = rows[regroup].view(np.dtype((np.void, rows.shape[1]))).ravel()
        _, first_exact, group_exact = np.unique(keys, return_index=True, return_inverse=True)
        kept_of[regroup] = regroup[first_exact[group_exact.ravel()]]
    return kept_of


def _row_hashes(rows: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """uint64 [N]: each row's 8-byte words times fixed random odd multipliers, summed modulo 2⁶⁴ (in chunks, so
    the products of a million rows never exist at once). Collisions are possible and handled by the caller."""
    words = rows.view(np.uint64)  # [N, 98] for 784 bytes a row
    multipliers = np.random.default_rng(0).integers(0, 2**63, size=words.shape[1], dtype=np.uint64) * 2 + 1
    return np.concatenate(
        [(words[start : start + chunk] * multipliers).sum(axis=1) for start in range(0, len(words), chunk)]
    )


def _refuse_disagreements(data: LetterData, removed: np.ndarray, kept_of: np.ndarray) -> None:
    dropped = np.flatnonzero(removed)
    kept = kept_of[dropped]
    other_letter = data.y[dropped] != data.y[kept]
    both_cases = np.isin(data.case[dropped], (UPPER, LOWER)) & np.isin(data.case[kept], (UPPER, LOWER))
    other_case = both_cases & (data.case[dropped] != data.case[kept])
    bad = np.flatnonzero(other_letter | other_case)
    if len(bad):
        i = bad[0]
        a, b = kept[i], dropped[i]
        raise HcrError(
            f"{len(np.unique(kept[bad]))} images appear in two datasets with different labels, e.g. "
            f"{_where(data, a)} ({_label(data, a)}) is {_where(data, b)} ({_label(data, b)}); refusing to combine them"
        )


def _where(data: LetterData, i: int) -> str:
    """ "az image 12": the image's place in its own source (sources are contiguous in combined data)."""
    start = int(np.argmax(data.source == data.source[i]))
    return f"{data.sources[data.source[i]]} image {i - start}"


def _label(data: LetterData, i: int) -> str:
    letter = letter_of(int(data.y[i]))
    return {UPPER: letter, LOWER: letter.lower()}.get(int(data.case[i]), f"{letter}/{letter.lower()}")
