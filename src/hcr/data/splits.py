"""Train/validation/test splits: stratified by letter and source, the datasets' own (official) test split, or by
writer (no writer's letters in two parts: a score on writers the model has never seen).

Splits are index arrays into one `LetterData`, computed with scikit-learn's stratified shuffle from a seed
(numpy's legacy RandomState stream, identical across machines and versions), and saved with every run.

Each (letter, source) pair is split in the same proportions, so that every source's score is measured on its own
share of every letter (dev protocol v2). Where a pair is too small for that (fewer than 2 images, or more pairs
than images in a part, as in a subset of a few images per letter), the split is stratified by letter alone.
"""

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hcr.data.dataset import NO_WRITER, LetterData
from hcr.errors import HcrError, MissingExtraError
from hcr.holdout import MAX_SEED, METHODS, STRATIFIED, TEST_FRACTION, VAL_FRACTION, WRITER, check_fractions

PARTS = ("train", "val", "test")


@dataclass(frozen=True)
class Split:
    train: np.ndarray  # int64 indices
    val: np.ndarray
    test: np.ndarray
    method: str
    seed: int
    data_fingerprint: str

    def sizes(self) -> dict[str, int]:
        return {part: len(getattr(self, part)) for part in PARTS}

    def record(self) -> dict[str, str]:
        """What an exported model's model.json keeps of its split: enough to check a split rebuilt elsewhere."""
        return {"data_fingerprint": self.data_fingerprint, "digest": self.digest()}

    def digest(self) -> str:
        """16 hex digits naming which images fall in which part: equal digests, the same split on any machine."""
        indices = np.concatenate([self.train, self.val, self.test]).astype("<i8")
        return hashlib.sha256(indices.tobytes()).hexdigest()[:16]

    def save(self, path: Path) -> None:
        np.savez(
            path,
            train=self.train,
            val=self.val,
            test=self.test,
            meta=json.dumps({"method": self.method, "seed": self.seed, "data": self.data_fingerprint}),
        )

    @classmethod
    def load(cls, path: Path) -> "Split":
        with np.load(path) as saved:
            meta = json.loads(str(saved["meta"]))
            return cls(saved["train"], saved["val"], saved["test"], meta["method"], meta["seed"], meta["data"])


def data_fingerprint(data: LetterData) -> str:
    """Identifies the exact images and labels a split indexes, so a split is never applied to other data."""
    digest = hashlib.blake2b(digest_size=16)
    for array in (data.x, data.y, data.source):
        digest.update(np.ascontiguousarray(array).data)
    digest.update(json.dumps(data.sources).encode())
    return digest.hexdigest()


def make_split(
    data: LetterData,
    method: str = STRATIFIED,
    val_fraction: float = VAL_FRACTION,
    test_fraction: float = TEST_FRACTION,
    seed: int = 0,
) -> Split:
    """Split `data`. `official` keeps each source's own test split (val is carved from its train part) and
    splits sources without one (Kaggle A–Z, SD19 without hsf_N folders, image folders) by letter and source with
    `test_fraction`. `writer` puts each writer's images in one part."""
    if method not in METHODS:
        raise HcrError(f"unknown split '{method}': use {', '.join(METHODS[:-1])} or {METHODS[-1]}")
    check_seed(seed)
    check_fractions(val_fraction, test_fraction)
    if method == WRITER:
        train, val, test = _by_writer(data, val_fraction, test_fraction, seed)
        return Split(train, val, test, method, seed, data_fingerprint(data))
    everything = np.arange(len(data))
    if method == STRATIFIED:
        pool, test = _stratified(everything, data, test_fraction, seed)
    else:
        without_split = np.isin(data.source, [data.sources.index(s) for s in data.sources_without_split])
        pool = everything[~data.official_test & ~without_split]
        test = everything[data.official_test]
        if without_split.any():
            rest, rest_test = _stratified(everything[without_split], data, test_fraction, seed)
            pool, test = np.concatenate([pool, rest]), np.concatenate([test, rest_test])
    train, val = _stratified(pool, data, val_fraction / (1 - test_fraction), seed)
    return Split(np.sort(train), np.sort(val), np.sort(test), method, seed, data_fingerprint(data))


def check_seed(seed: int) -> None:
    """numpy's RandomState and scikit-learn take seeds in 0..2³²−1 only: say so before any work, in words, rather
    than let them fail halfway with their own ValueError."""
    if not 0 <= seed <= MAX_SEED:
        raise HcrError(f"seed must be an integer in 0..{MAX_SEED}, got {seed!r}")  # as the configs' own rule says


def _by_writer(
    data: LetterData, val_fraction: float, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Writers in a random order (from `seed`): the first take the test part, the next the validation part, until
    each holds its fraction of the images; the rest train. Every image needs a writer id."""
    unknown = data.writer == NO_WRITER
    if unknown.all():
        raise HcrError(
            "a writer split needs writer ids, and these images have none: NIST SD19 with its by_write folder has them"
        )
    if unknown.any():
        without = sorted({data.sources[i] for i in np.unique(data.source[unknown])})
        raise HcrError(
            f"a writer split needs every image's writer: {unknown.sum():,} images have none ({', '.join(without)})"
        )
    writers, of_image, counts = np.unique(data.writer, return_inverse=True, return_counts=True)
    order = np.random.RandomState(seed).permutation(len(writers))
    before = (np.cumsum(counts[order]) - counts[order]) / len(data)  # share of the images ahead of each writer
    part = np.empty(len(writers), dtype=np.int64)  # 0 train, 1 val, 2 test
    part[order] = np.where(before < test_fraction, 2, np.where(before < test_fraction + val_fraction, 1, 0))
    if not {0, 1} <= set(part.tolist()):
        raise HcrError(f"cannot split {len(writers)} writers into train and validation parts of these fractions")
    image_part = part[of_image.ravel()]
    return np.flatnonzero(image_part == 0), np.flatnonzero(image_part == 1), np.flatnonzero(image_part == 2)


def _strata(indices: np.ndarray, data: LetterData, fraction: float) -> np.ndarray:
    """The group of each of `indices` that a split of `fraction` keeps in proportion: its (letter, source) pair where
    every pair can be split so (2 images or more each, no more pairs than images in either part), else its letter."""
    pairs = data.y[indices] * len(data.sources) + data.source[indices]
    _, sizes = np.unique(pairs, return_counts=True)
    taken = math.ceil(fraction * len(indices))
    if sizes.min() >= 2 and len(sizes) <= min(taken, len(indices) - taken):
        return pairs
    return data.y[indices]


def _stratified(indices: np.ndarray, data: LetterData, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if fraction == 0:
        return indices, indices[:0]
    try:
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise MissingExtraError("train", "scikit-learn") from None
    try:
        groups = _strata(indices, data, fraction)
        kept, taken = train_test_split(indices, test_size=fraction, stratify=groups, random_state=seed)
    except ValueError as e:
        raise HcrError(
            f"cannot split {len(indices)} images by letter ({e}); use more images per letter or other fractions"
        ) from None
    return kept, taken
