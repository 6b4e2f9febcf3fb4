"""EMNIST ByClass, ByMerge and Balanced: the real official files, their variants, and broken mapping files."""

import gzip
import shutil

import numpy as np
import pytest

from hcr.data import load_datasets
from hcr.data.case import LOWER, UNKNOWN, UPPER
from hcr.data.emnist import BALANCED, BYCLASS, find_emnist_files, load_emnist
from hcr.errors import DataError
from hcr.labels import index_of
from tests.realdata import (
    BYCLASS_DIGITS,
    BYCLASS_LOWER,
    BYCLASS_UPPER,
    BYMERGE_LOWER,
    BYMERGE_MERGED,
    BYMERGE_UPPER_LABELS,
    read_idx_raw,
)

BYCLASS_IMAGES = "emnist-byclass-test-images-idx3-ubyte.gz"
BYCLASS_LABELS = "emnist-byclass-test-labels-idx1-ubyte.gz"
BYCLASS_MAPPING = "emnist-byclass-mapping.txt"


def _counts(data, case: int) -> list[int]:
    return np.bincount(data.y[data.case == case], minlength=26).tolist()


def test_byclass_letters_with_their_case_and_digits_counted(shared_data):
    data = load_datasets(["emnist-byclass"], shared_data)
    assert _counts(data, UPPER) == BYCLASS_UPPER
    assert _counts(data, LOWER) == BYCLASS_LOWER
    assert (data.case != UNKNOWN).all()
    assert data.skipped == {"emnist-byclass: digits": sum(BYCLASS_DIGITS)}
    assert data.official_test.all()  # the folder holds the official test split only
    raw_labels = read_idx_raw(shared_data / "emnist-byclass" / BYCLASS_LABELS).astype(np.int64)
    letters = raw_labels >= 10
    raw_images = read_idx_raw(shared_data / "emnist-byclass" / BYCLASS_IMAGES)
    np.testing.assert_array_equal(data.x, raw_images[letters].transpose(0, 2, 1))
    np.testing.assert_array_equal(data.y, (raw_labels[letters] - 10) % 26)  # 10–35 A–Z, 36–61 a–z


def test_bymerge_merged_classes_have_unknown_case(shared_data):
    data = load_datasets(["emnist-bymerge"], shared_data)
    assert len(data) == sum(BYMERGE_UPPER_LABELS) + sum(BYMERGE_LOWER.values())
    assert data.skipped == {}  # the folder holds no digits
    merged = [index_of(c) for c in BYMERGE_MERGED]
    expected_unknown = [n if i in merged else 0 for i, n in enumerate(BYMERGE_UPPER_LABELS)]
    expected_upper = [0 if i in merged else n for i, n in enumerate(BYMERGE_UPPER_LABELS)]
    expected_lower = [BYMERGE_LOWER.get(c.lower(), 0) for c in map(chr, range(65, 91))]
    assert _counts(data, UNKNOWN) == expected_unknown
    assert _counts(data, UPPER) == expected_upper
    assert _counts(data, LOWER) == expected_lower


def test_balanced_is_read_like_bymerge(shared_data, tmp_path):
    """Balanced has ByMerge's 47 classes; a copy of the ByMerge files under Balanced's names loads the same."""
    for name in ("test-images-idx3-ubyte.gz", "test-labels-idx1-ubyte.gz", "mapping.txt"):
        shutil.copy(shared_data / "emnist-bymerge" / f"emnist-bymerge-{name}", tmp_path / f"emnist-balanced-{name}")
    balanced = load_emnist(find_emnist_files(tmp_path, BALANCED))
    bymerge = load_datasets(["emnist-bymerge"], shared_data)
    assert balanced.sources == ("emnist-balanced",)
    np.testing.assert_array_equal(balanced.y, bymerge.y)
    np.testing.assert_array_equal(balanced.case, bymerge.case)


@pytest.fixture(scope="module")
def byclass_small_original(shared_data, tmp_path_factory):
    """The first 3,000 ByClass test images and labels (digits among them), gzip IDX, with the mapping file."""
    folder = tmp_path_factory.mktemp("byclass")
    n = 3_000
    for name, item in ((BYCLASS_IMAGES, 28 * 28), (BYCLASS_LABELS, 1)):
        raw = gzip.decompress((shared_data / "emnist-byclass" / name).read_bytes())
        header = bytearray(raw[: 16 if item > 1 else 8])
        header[4:8] = n.to_bytes(4, "big")
        (folder / name).write_bytes(gzip.compress(bytes(header) + raw[len(header) : len(header) + n * item]))
    shutil.copy(shared_data / "emnist-byclass" / BYCLASS_MAPPING, folder)
    return folder


@pytest.fixture
def byclass_small(byclass_small_original, tmp_path):
    """A copy of byclass_small_original, to damage."""
    return shutil.copytree(byclass_small_original, tmp_path / "byclass")


def test_raw_idx_and_csv_variants_load_the_same(byclass_small, tmp_path):
    reference = load_datasets([f"emnist-byclass:{byclass_small}"])
    assert 0 < len(reference) < 3_000  # digits skipped
    assert reference.skipped["emnist-byclass: digits"] == 3_000 - len(reference)
    raw = tmp_path / "raw"
    shutil.copytree(byclass_small, raw)
    for gz in raw.glob("*.gz"):
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    csv = tmp_path / "csv"  # Kaggle's form: emnist-byclass-test.csv, label then 784 transposed pixels
    csv.mkdir()
    images = read_idx_raw(byclass_small / BYCLASS_IMAGES).reshape(-1, 784)
    labels = read_idx_raw(byclass_small / BYCLASS_LABELS)
    np.savetxt(csv / "emnist-byclass-test.csv", np.column_stack([labels, images]), fmt="%d", delimiter=",")
    shutil.copy(byclass_small / BYCLASS_MAPPING, csv)
    for folder, fmt in ((raw, "idx"), (csv, "csv")):
        assert find_emnist_files(folder, BYCLASS).format == fmt
        other = load_datasets([f"emnist-byclass:{folder}"])
        for field in ("x", "y", "case", "official_test"):
            np.testing.assert_array_equal(getattr(other, field), getattr(reference, field))


def _set_line(index: int, text: str):
    return lambda lines: lines.__setitem__(index, text)


MAPPING_CASES = {  # how the lines of the mapping file are damaged → the error
    "another split's": (lambda lines: lines.__delitem__(slice(47, None)), "lists 47 classes but emnist-byclass has 62"),
    "not numbers": (_set_line(2, "2 fifty"), "line 3: '2 fifty' is not `label ascii-code …`"),
    "not a letter": (_set_line(12, "12 35"), "line 13: label 12 maps to '#', not one digit or one letter"),
    "two letters": (_set_line(12, "12 67 68"), "line 13: label 12 maps to 'CD'"),
    "label twice": (_set_line(5, "4 52"), "line 6: label 4 is listed twice"),
    "a gap": (_set_line(61, "62 122"), "labels must run from 0 to 62 without gaps"),
}


@pytest.mark.parametrize("case", MAPPING_CASES)
def test_bad_mapping_files(byclass_small, case):
    edit, expected = MAPPING_CASES[case]
    path = byclass_small / BYCLASS_MAPPING
    lines = path.read_text().splitlines()
    edit(lines)
    path.write_text("\r\n".join(lines) + "\r\n")
    with pytest.raises(DataError, match=BYCLASS_MAPPING) as error:
        load_datasets([f"emnist-byclass:{byclass_small}"])
    assert expected in str(error.value)


def test_missing_mapping_file(byclass_small):
    (byclass_small / BYCLASS_MAPPING).unlink()
    with pytest.raises(DataError, match=r"missing: emnist-byclass-mapping\.txt"):
        load_datasets([f"emnist-byclass:{byclass_small}"])


def test_label_outside_the_mapping(byclass_small):
    path = byclass_small / BYCLASS_LABELS
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[8 + 99] = 62  # ByClass's mapping lists 0..61
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match=r"labels-idx1-ubyte\.gz: row 100: label 62 outside 0\.\.61"):
        load_datasets([f"emnist-byclass:{byclass_small}"])


def test_no_files_of_that_split(shared_data):
    with pytest.raises(DataError, match="no emnist-balanced files found"):
        load_datasets(["emnist-balanced"], shared_data)
