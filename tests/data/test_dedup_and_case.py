"""Combined sources lose the exact copies they share; `--case` picks images by case."""

import gzip
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from hcr.data import concat, load_datasets, make_split, select_case
from hcr.data import emnist as emnist_module
from hcr.data.case import LOWER, SAME_SHAPE_IN_BOTH_CASES, UNKNOWN, UPPER
from hcr.data.dataset import LetterData
from hcr.errors import HcrError
from hcr.labels import index_of
from tests.realdata import (
    BYCLASS_UPPER,
    BYMERGE_MERGED,
    BYMERGE_UPPER_LABELS,
    N_EMNIST_TEST,
    N_EMNIST_TRAIN,
    OVERLAP_BYCLASS_BYMERGE,
    OVERLAP_LETTERS_BYCLASS,
    OVERLAP_LETTERS_BYMERGE,
    read_idx_raw,
)


def _keys(x: np.ndarray) -> set[bytes]:
    return {image.tobytes() for image in x}


@pytest.mark.slow
def test_real_overlaps_are_removed_and_counted(shared_data):
    """The README's overlap counts, pair by pair; every image left is unique."""
    for names, pair, n in (
        (["emnist-byclass", "emnist-bymerge"], "emnist-byclass = emnist-bymerge", OVERLAP_BYCLASS_BYMERGE),
        (["emnist-letters", "emnist-byclass"], "emnist-letters = emnist-byclass", OVERLAP_LETTERS_BYCLASS),
        (["emnist-letters", "emnist-bymerge"], "emnist-letters = emnist-bymerge", OVERLAP_LETTERS_BYMERGE),
    ):
        parts = [load_datasets([name], shared_data) for name in names]
        combined = load_datasets(names, shared_data)
        assert combined.duplicates == {pair: n}
        assert len(combined) == sum(map(len, parts)) - n
        assert len(_keys(combined.x)) == len(combined)


@pytest.mark.slow
def test_all_shared_sets_combined(shared_data):
    names = ["emnist-letters", "az", "emnist-byclass", "emnist-bymerge"]
    data = load_datasets(names, shared_data)
    assert len(_keys(data.x)) == len(data)
    assert data.duplicates["emnist-letters = emnist-byclass"] == OVERLAP_LETTERS_BYCLASS
    assert data.duplicates["emnist-letters = emnist-bymerge"] == OVERLAP_LETTERS_BYMERGE
    # ByClass and ByMerge's shared images that Letters holds too are counted once, against Letters
    assert 0 < data.duplicates["emnist-byclass = emnist-bymerge"] < OVERLAP_BYCLASS_BYMERGE
    assert not any("az" in pair for pair in data.duplicates)  # README: no EMNIST image matches az/


def _byclass_copy(shared_data, tmp_path, images: np.ndarray, labels: np.ndarray, split: str = "byclass"):
    """An emnist-byclass (or -bymerge) folder holding `images` (upright; stored transposed, as EMNIST does) and
    `labels`, with the real mapping file."""
    folder = tmp_path / split
    folder.mkdir()
    n = len(images)
    header = (2051).to_bytes(4, "big") + n.to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    stored = np.ascontiguousarray(images.transpose(0, 2, 1))
    (folder / f"emnist-{split}-test-images-idx3-ubyte.gz").write_bytes(gzip.compress(header + stored.tobytes()))
    labels_header = (2049).to_bytes(4, "big") + n.to_bytes(4, "big")
    labels_bytes = labels_header + labels.astype(np.uint8).tobytes()
    (folder / f"emnist-{split}-test-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels_bytes))
    shutil.copy(shared_data / f"emnist-{split}" / f"emnist-{split}-mapping.txt", folder)
    return folder


@pytest.fixture
def letters(shared_data):
    return load_datasets(["emnist-letters"], shared_data)


@pytest.fixture
def overlapping(shared_data, tmp_path, letters):
    """A ByClass-format source holding 150 EMNIST Letters images (100 train, 50 test; half marked upper case, half
    lower) and 60 Kaggle A–Z images that Letters does not hold."""
    az = load_datasets(["az"], shared_data)
    picks = np.concatenate([np.arange(0, N_EMNIST_TRAIN, 10), N_EMNIST_TRAIN + np.arange(0, 5_000, 100)])
    x = np.concatenate([letters.x[picks], az.x[:60]])
    y = np.concatenate([letters.y[picks], az.y[:60]])
    upper = np.arange(len(y)) % 2 == 0
    labels = np.where(upper, 10 + y, 36 + y)  # ByClass: 10–35 capitals, 36–61 lower case
    return _byclass_copy(shared_data, tmp_path, x, labels), picks


def test_built_overlap_keeps_one_copy_with_the_known_case(shared_data, letters, overlapping):
    folder, picks = overlapping
    data = load_datasets(["emnist-letters", f"emnist-byclass:{folder}"], shared_data)
    assert data.duplicates == {"emnist-letters = emnist-byclass": 150}
    assert len(data) == N_EMNIST_TRAIN + N_EMNIST_TEST + 60
    assert np.bincount(data.source).tolist() == [N_EMNIST_TRAIN + N_EMNIST_TEST, 60]
    kept_cases = data.case[picks]  # Letters comes first: its rows are the kept copies, in order
    assert kept_cases.tolist() == [UPPER if i % 2 == 0 else LOWER for i in range(150)]
    others = np.setdiff1d(np.arange(N_EMNIST_TRAIN + N_EMNIST_TEST), picks)
    assert (data.case[others] == UNKNOWN).all()
    np.testing.assert_array_equal(data.x[: len(letters)], letters.x)


def test_hash_collisions_never_merge_different_images(shared_data, letters, overlapping, monkeypatch):
    """Copies are found through a 64-bit hash of each image, then checked byte for byte: with a hash under which
    every image collides, the result is exactly the one the real hash gives."""
    from hcr.data import dedup

    folder, _ = overlapping
    names = ["emnist-letters", f"emnist-byclass:{folder}"]
    expected = load_datasets(names, shared_data)
    monkeypatch.setattr(dedup, "_row_hashes", lambda rows: np.zeros(len(rows), dtype=np.uint64))
    colliding = load_datasets(names, shared_data)
    assert colliding.duplicates == expected.duplicates == {"emnist-letters = emnist-byclass": 150}
    for name in ("x", "y", "source", "case", "official_test"):
        np.testing.assert_array_equal(getattr(colliding, name), getattr(expected, name))


@pytest.mark.parametrize("method", ["stratified", "official"])
def test_no_image_is_in_two_splits(shared_data, overlapping, method):
    folder, _ = overlapping
    data = load_datasets(["emnist-letters", f"emnist-byclass:{folder}"], shared_data)
    split = make_split(data, method, seed=3)
    parts = [_keys(data.x[getattr(split, part)]) for part in ("train", "val", "test")]
    assert sum(map(len, parts)) == len(data)
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])  # noqa: PT018


def test_copies_with_different_letters_are_refused(shared_data, tmp_path, letters):
    labels = 10 + letters.y[:30]
    labels[[4, 17]] = 10 + (letters.y[[4, 17]] + 1) % 26  # two images said to be the next letter
    folder = _byclass_copy(shared_data, tmp_path, letters.x[:30], labels)
    with pytest.raises(HcrError, match="2 images appear in two datasets with different labels") as error:
        load_datasets(["emnist-letters", f"emnist-byclass:{folder}"], shared_data)
    assert "emnist-letters image 4" in str(error.value)
    result = subprocess.run(
        [sys.executable, "-m", "hcr", "data", "inspect", "-d", f"emnist-letters:{shared_data / 'emnist'}",
         "-d", f"emnist-byclass:{folder}", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "refusing to combine them" in " ".join(result.stderr.split())


def test_copies_with_opposite_cases_are_refused(shared_data, tmp_path):
    byclass = load_datasets(["emnist-byclass"], shared_data)
    capital_a = np.flatnonzero((byclass.case == UPPER) & (byclass.y == index_of("A")))[:5]
    # the same images in a ByMerge copy, labelled lower-case a (ByMerge label 36)
    folder = _byclass_copy(shared_data, tmp_path, byclass.x[capital_a], np.full(5, 36), split="bymerge")
    assert (load_datasets([f"emnist-bymerge:{folder}"]).case == LOWER).all()
    with pytest.raises(HcrError, match="5 images appear in two datasets with different labels") as error:
        load_datasets(["emnist-byclass", f"emnist-bymerge:{folder}"], shared_data)
    assert "(A) is emnist-bymerge image 0 (a)" in str(error.value)


def test_case_upper_on_real_data(shared_data):
    byclass = load_datasets(["emnist-byclass"], shared_data)
    capitals, dropped = select_case(byclass, "upper")
    assert capitals.class_counts().tolist() == BYCLASS_UPPER  # every capital, no lower case
    assert dropped["lower case"] == len(byclass) - sum(BYCLASS_UPPER)

    bymerge = load_datasets(["emnist-bymerge"], shared_data)
    kept, dropped = select_case(bymerge, "upper")
    expected = [
        n if (c not in BYMERGE_MERGED or c in SAME_SHAPE_IN_BOTH_CASES) else 0
        for c, n in zip(map(chr, range(65, 91)), BYMERGE_UPPER_LABELS, strict=True)
    ]
    assert kept.class_counts().tolist() == expected  # J and L's merged images are dropped: unknown case
    assert not (kept.case == LOWER).any()
    unknown_kept = kept.y[kept.case == UNKNOWN]
    assert set(unknown_kept.tolist()) == {index_of(c) for c in set(BYMERGE_MERGED) & SAME_SHAPE_IN_BOTH_CASES}
    assert dropped["unknown case, letter shaped differently in lower case"] == sum(
        BYMERGE_UPPER_LABELS[index_of(c)] for c in "JL"
    )


def test_case_fold_keeps_everything_and_unknown_modes_are_refused(letters):
    same, dropped = select_case(letters, "fold")
    assert same is letters
    assert dropped == {}
    with pytest.raises(HcrError, match="unknown case mode 'lower'"):
        select_case(letters, "lower")


def test_case_survives_take_concat_and_the_cache(shared_data, monkeypatch, parse_cache_dir):
    calls = []
    real = emnist_module.read_idx
    monkeypatch.setattr(emnist_module, "read_idx", lambda *a: calls.append(a) or real(*a))
    first = load_datasets(["emnist-byclass"], shared_data)
    again = load_datasets(["emnist-byclass"], shared_data)
    assert len(calls) == 2  # images and labels, parsed once
    np.testing.assert_array_equal(again.case, first.case)
    assert again.skipped == first.skipped
    picked = first.take(np.arange(0, len(first), 7))
    np.testing.assert_array_equal(picked.case, first.case[::7])
    other = LetterData.single_source(first.x[:3], first.y[:3], "other", case=np.full(3, LOWER))
    both = concat([picked, other])
    np.testing.assert_array_equal(both.case, np.concatenate([picked.case, [LOWER] * 3]))
    assert both.skipped == first.skipped


@pytest.mark.slow
def test_inspect_shows_cases_and_duplicates(shared_data, tmp_path):
    out = tmp_path / "inspect"
    result = subprocess.run(
        [sys.executable, "-m", "hcr", "data", "inspect", "--data-dir", str(shared_data), "-d", "emnist-letters",
         "-d", "emnist-byclass", "--case", "upper", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # tables and counts are results: stdout
    assert "Images per letter, source and case" in text
    assert f"duplicates removed: {OVERLAP_LETTERS_BYCLASS:,}" in text
    assert "skipped while loading: emnist-byclass: digits 57,918" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["duplicates_removed"] == OVERLAP_LETTERS_BYCLASS
    assert summary["case"] == "upper"
    byclass_upper = summary["per_source_and_case"]["emnist-byclass"]["upper"]
    letters_upper = summary["per_source_and_case"]["emnist-letters"].get("upper", {})
    # every ByClass capital is kept, in one source or the other (Letters keeps the copies it shares)
    assert [byclass_upper[c] + letters_upper.get(c, 0) for c in byclass_upper] == BYCLASS_UPPER
    assert "lower" not in summary["per_source_and_case"]["emnist-byclass"]


def test_raw_reader_agrees_on_the_overlap(shared_data):
    """The overlap count does not depend on hcr's readers: an independent reading finds the same."""
    letters = np.concatenate([
        read_idx_raw(shared_data / f"emnist/emnist-letters-{part}-images-idx3-ubyte.gz") for part in ("train", "test")
    ])  # fmt: skip
    byclass = read_idx_raw(shared_data / "emnist-byclass/emnist-byclass-test-images-idx3-ubyte.gz")
    assert len(_keys(letters) & _keys(byclass)) == OVERLAP_LETTERS_BYCLASS


def test_one_kind_of_dataset_from_two_places_is_refused(shared_data, tmp_path):
    """Two copies of one dataset would be two sources of the same name; the user is told, not a traceback."""
    shutil.copytree(shared_data / "az", tmp_path / "az")
    with pytest.raises(HcrError, match="a dataset is named twice"):
        load_datasets(["az", f"az:{tmp_path / 'az'}"], shared_data)
