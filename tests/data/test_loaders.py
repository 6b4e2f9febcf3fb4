"""Every loader on the real files, in every format users download."""

import gzip

import numpy as np
import pytest

from hcr.data import load_datasets
from hcr.data.az import load_az_csv
from hcr.data.emnist import find_emnist_files, load_emnist
from hcr.labels import index_of
from tests.realdata import (
    BYCLASS_LOWER,
    BYCLASS_UPPER,
    N_AZ,
    N_EMNIST_TEST,
    N_EMNIST_TRAIN,
    SD19_UPPER,
    read_idx_raw,
)


def test_emnist_gzip_idx_matches_the_official_files(shared_data):
    data = load_datasets(["emnist-letters"], shared_data)
    assert data.x.shape == (N_EMNIST_TRAIN + N_EMNIST_TEST, 28, 28)
    assert data.x.dtype == np.uint8
    assert data.official_test.sum() == N_EMNIST_TEST
    raw_labels = read_idx_raw(shared_data / "emnist/emnist-letters-test-labels-idx1-ubyte.gz")
    np.testing.assert_array_equal(data.y[data.official_test], raw_labels.astype(np.int64) - 1)  # 1..26 → 0..25
    raw_images = read_idx_raw(shared_data / "emnist/emnist-letters-test-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(data.x[data.official_test], raw_images.transpose(0, 2, 1))
    # the README's per-class facts about the official test part: A–L 800 each, M 424, T–Z none
    test_counts = np.bincount(data.y[data.official_test], minlength=26)
    assert (test_counts[: index_of("L") + 1] == 800).all()
    assert test_counts[index_of("M")] == 424
    assert (test_counts[index_of("T") :] == 0).all()
    assert np.bincount(data.y[~data.official_test], minlength=26).min() >= 26


def test_emnist_images_are_upright(shared_data):
    """Kaggle A–Z images are upright by construction: each EMNIST letter's mean image must resemble the A–Z
    mean of the same letter better than its own transpose does (a transposed loader fails this)."""
    data = load_datasets(["emnist-letters", "az"], shared_data)
    better = 0
    for label in range(26):
        emnist_mean = data.x[(data.y == label) & (data.source == 0)].mean(0)
        az_mean = data.x[(data.y == label) & (data.source == 1)].mean(0)
        upright = np.corrcoef(emnist_mean.ravel(), az_mean.ravel())[0, 1]
        transposed = np.corrcoef(emnist_mean.T.ravel(), az_mean.ravel())[0, 1]
        better += upright > transposed
    assert better >= 24


def test_uncompressed_idx_and_csv_variants_load_the_same_images(shared_data, emnist_copy):
    reference = load_emnist(find_emnist_files(shared_data / "emnist"))
    for gz in emnist_copy.glob("*.gz"):  # the uncompressed .ubyte files some users have
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    raw = find_emnist_files(emnist_copy)
    assert raw.format == "idx"
    from_raw = load_emnist(raw)
    np.testing.assert_array_equal(from_raw.x, reference.x)
    np.testing.assert_array_equal(from_raw.y, reference.y)

    csv_dir = emnist_copy.parent / "emnist-csv"  # the CSV variant: label 1..26, then 784 transposed pixels
    csv_dir.mkdir()
    for split in ("train", "test"):
        images = read_idx_raw(shared_data / f"emnist/emnist-letters-{split}-images-idx3-ubyte.gz").reshape(-1, 784)
        labels = read_idx_raw(shared_data / f"emnist/emnist-letters-{split}-labels-idx1-ubyte.gz")
        np.savetxt(csv_dir / f"emnist-letters-{split}.csv", np.column_stack([labels, images]), fmt="%d", delimiter=",")
    from_csv = load_datasets([f"emnist-letters:{csv_dir}"])
    np.testing.assert_array_equal(from_csv.x, reference.x)
    np.testing.assert_array_equal(from_csv.y, reference.y)
    np.testing.assert_array_equal(from_csv.official_test, reference.official_test)


def test_kaggle_az_csv(shared_data):
    path = shared_data / "az" / "A_Z Handwritten Data.csv"
    data = load_az_csv(path)
    assert data.x.shape == (N_AZ, 28, 28)
    first = np.array(path.open().readline().split(","), dtype=np.int64)
    assert data.y[0] == first[0]  # no header row eaten: the first line is the first image
    np.testing.assert_array_equal(data.x[0].ravel(), first[1:])
    counts = data.class_counts()
    assert counts.min() == 114
    assert counts.max() == 1_094
    assert set(np.argsort(counts)[-2:]) == {index_of("O"), index_of("S")}
    assert data.sources_without_split == data.sources  # no official split


def test_all_datasets_in_the_data_dir_combine(shared_data):
    """Dev protocol v2's pool: every dataset found, exact copies kept once (in the first dataset that holds them)."""
    data = load_datasets([], shared_data)
    assert data.sources == ("az", "emnist-letters", "emnist-byclass", "emnist-bymerge", "nist-sd19")
    assert data.duplicates == {
        "emnist-letters = emnist-byclass": 1_560,
        "emnist-letters = emnist-bymerge": 1_625,
        "emnist-byclass = emnist-bymerge": 8_026,
    }
    letters_in_byclass = sum(BYCLASS_UPPER) + sum(BYCLASS_LOWER)
    assert np.bincount(data.source).tolist() == [
        N_AZ,
        N_EMNIST_TRAIN + N_EMNIST_TEST,
        letters_in_byclass - 1_560,
        58_796 - 1_625 - 8_026,
        sum(SD19_UPPER),
    ]
    assert len(data) == 150_852
    assert data.sources_without_split == ("az", "nist-sd19")
    assert data.y.min() >= 0
    assert data.y.max() <= 25


def test_data_dir_from_the_environment(shared_data, monkeypatch):
    monkeypatch.setenv("HCR_DATA_DIR", str(shared_data))
    assert len(load_datasets(["az"])) == N_AZ


def test_a_dataset_named_twice_is_refused(shared_data):
    from hcr.errors import HcrError

    with pytest.raises(HcrError, match="twice"):
        load_datasets(["az", "az"], shared_data)
