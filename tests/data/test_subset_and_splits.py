"""Balanced subsets and train/val/test splits on the real combined data."""

import numpy as np
import pytest

from hcr.data import balanced_subset, load_datasets, make_split
from hcr.data.splits import Split
from hcr.errors import HcrError
from hcr.labels import CLASSES, index_of


@pytest.fixture(scope="module")
def real(shared_data):
    return load_datasets([], shared_data)


def test_balanced_subset_takes_n_per_letter(real):
    indices, shortfall = balanced_subset(real.y, 100, seed=0)
    assert shortfall == {}
    assert (np.bincount(real.y[indices], minlength=26) == 100).all()
    assert len(np.unique(indices)) == len(indices)
    again, _ = balanced_subset(real.y, 100, seed=0)
    other, _ = balanced_subset(real.y, 100, seed=1)
    np.testing.assert_array_equal(indices, again)
    assert not np.array_equal(indices, other)


def test_balanced_subset_reports_shortfall(real):
    """3,000 per letter: X (2,820) and Z (2,970) have fewer, so they are taken whole and reported short."""
    indices, shortfall = balanced_subset(real.y, 3_000, seed=0)
    counts = np.bincount(real.y[indices], minlength=26)
    assert counts[index_of("X")] == 2_820
    assert shortfall == {"X": 180, "Z": 30}
    assert set(shortfall) == {CLASSES[label] for label in np.flatnonzero(real.class_counts() < 3_000)}
    assert counts.max() == 3_000


def _assert_partition(split: Split, n: int) -> None:
    parts = [split.train, split.val, split.test]
    assert sum(len(p) for p in parts) == n
    assert len(np.unique(np.concatenate(parts))) == n


def _pair_counts(data, indices: np.ndarray) -> np.ndarray:
    """Images per (letter, source) pair, int64 [26, n_sources]."""
    pairs = data.y[indices] * len(data.sources) + data.source[indices]
    return np.bincount(pairs, minlength=26 * len(data.sources)).reshape(26, len(data.sources))


def test_stratified_split_is_disjoint_proportional_by_letter_and_source_and_repeatable(real):
    split = make_split(real, "stratified", 0.15, 0.15, seed=0)
    _assert_partition(split, len(real))
    counts = _pair_counts(real, np.arange(len(real)))
    for part, fraction in (("train", 0.70), ("val", 0.15), ("test", 0.15)):
        assert np.all(np.abs(_pair_counts(real, getattr(split, part)) - fraction * counts) <= 2), part
    again = make_split(real, "stratified", 0.15, 0.15, seed=0)
    np.testing.assert_array_equal(split.test, again.test)
    other = make_split(real, "stratified", 0.15, 0.15, seed=1)
    assert not np.array_equal(split.test, other.test)


def test_a_subset_too_small_for_every_pair_is_stratified_by_letter(real):
    """10 per letter spread over 5 sources: some (letter, source) pairs hold one image, which cannot be split."""
    small = real.take(balanced_subset(real.y, 10, seed=0)[0])
    split = make_split(small, "stratified", 0.15, 0.15, seed=0)
    _assert_partition(split, len(small))
    assert np.all(np.abs(np.bincount(small.y[split.test], minlength=26) - 1.5) <= 1)


def test_official_split_keeps_every_official_test_image_and_splits_the_others_by_letter(real):
    split = make_split(real, "official", 0.15, 0.15, seed=0)
    _assert_partition(split, len(real))
    official = np.flatnonzero(real.official_test)
    assert len(official) > 100_000  # the EMNIST Letters test images, and ByClass and ByMerge (test splits only)
    assert np.isin(official, split.test).all()
    assert not real.official_test[split.train].any()
    assert not real.official_test[split.val].any()
    for name in ("az", "nist-sd19"):  # no official split: 15 % of each letter
        source = real.sources.index(name)
        test = np.bincount(real.y[split.test[real.source[split.test] == source]], minlength=26)
        everything = np.bincount(real.y[real.source == source], minlength=26)
        assert np.all(np.abs(test - 0.15 * everything) <= 1), name


def test_split_round_trips_and_knows_its_data(real, tmp_path):
    split = make_split(real, "stratified", seed=3)
    split.save(tmp_path / "split.npz")
    loaded = Split.load(tmp_path / "split.npz")
    np.testing.assert_array_equal(loaded.train, split.train)
    assert (loaded.method, loaded.seed, loaded.data_fingerprint) == ("stratified", 3, split.data_fingerprint)
    fewer = make_split(real.take(np.arange(len(real) - 1)), "stratified", seed=3)
    assert fewer.data_fingerprint != split.data_fingerprint


def test_impossible_splits_are_clear_errors(real):
    with pytest.raises(HcrError, match="sum below 1"):
        make_split(real, "stratified", 0.5, 0.5)
    with pytest.raises(HcrError, match="unknown split"):
        make_split(real, "random")
    tiny = real.take(np.flatnonzero(real.y < 2)[:3])
    with pytest.raises(HcrError, match="cannot split 3 images by letter"):
        make_split(tiny, "stratified")


@pytest.mark.parametrize(("method", "digest"), [("stratified", "a8ebf0c4c6191f8b"), ("official", "1a00113f9e10a2f9")])
def test_seed_0_splits_are_the_same_on_every_machine(real, method, digest):
    """Pinned when dev protocol v2 made the default pool every shared dataset, stratified by letter and source (v1,
    az + emnist-letters by letter: df6a25a5b4bc2d30, a70b1c240aeb192a). A change here means runs made elsewhere no
    longer reproduce (a numpy or scikit-learn upgrade that changed its random stream): a deliberate decision."""
    assert make_split(real, method, seed=0).digest() == digest
