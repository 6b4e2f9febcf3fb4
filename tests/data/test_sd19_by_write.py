"""NIST SD19 by_write: writer ids for the by_class scans, and writer-disjoint splits.

../shared/data holds no by_write folder, so each test builds a small SD19 tree from real by_class scans: by_class as
NIST files it, and by_write/hsf_0/fWWWW_YY/uWWWW_YY/ holding byte-identical copies of each writer's scans, as in
NIST's distribution (where by_write's file names do not say which character a scan is).
"""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hcr.data import load_datasets, make_split
from hcr.data.dataset import NO_WRITER
from hcr.data.sd19 import find_by_class
from hcr.errors import DataError, HcrError

LETTERS = "ABC"
FORMS = ["f0000_14", "f0001_41", "f0002_01", "f0003_42", "f0004_09", "f0005_26"]  # one writer each


def _writer_id(form: str) -> int:
    return int(form[1:5]) * 100 + int(form[6:8])


@pytest.fixture
def sd19_tree(shared_data, tmp_path) -> Path:
    """by_class with 6 real scans of A, B and C; by_write with each of 6 writers' A, B and C (uWWWW_YY boxes)."""
    real = find_by_class(shared_data / "nist-sd19")
    root = tmp_path / "sd19"
    for letter in LETTERS:
        code = f"{ord(letter):x}"
        folder = root / "by_class" / code / f"train_{code}"
        folder.mkdir(parents=True)
        for k, (form, scan) in enumerate(
            zip(FORMS, sorted((real / code / f"train_{code}").glob("*.png")), strict=False)
        ):
            shutil.copy(scan, folder / scan.name)
            boxes = root / "by_write" / "hsf_0" / form / f"u{form[1:]}"
            boxes.mkdir(parents=True, exist_ok=True)
            shutil.copy(scan, boxes / f"u{form[1:]}_{LETTERS.index(letter) * 10 + k:05d}.png")
    return root


def test_each_scan_gets_the_writer_of_its_by_write_copy(sd19_tree):
    data = load_datasets([f"nist-sd19:{sd19_tree}"])
    assert len(data) == 18
    assert data.has_writers
    # by_class is listed letter by letter, scans in name order: the k-th scan of each letter is writer k's
    expected = [_writer_id(form) for _ in LETTERS for form in FORMS]
    assert data.writer.tolist() == expected
    assert data.class_counts()[:3].tolist() == [6, 6, 6]


def test_writer_split_puts_each_writer_in_one_part(sd19_tree):
    data = load_datasets([f"nist-sd19:{sd19_tree}"])
    split = make_split(data, "writer", 0.15, 0.15, seed=0)
    parts = [set(data.writer[getattr(split, part)].tolist()) for part in ("train", "val", "test")]
    assert all(parts)
    assert sum(len(p) for p in parts) == len(FORMS)  # disjoint: no writer counted twice
    assert sum(split.sizes().values()) == len(data)
    assert len(np.unique(np.concatenate([split.train, split.val, split.test]))) == len(data)
    again = make_split(data, "writer", 0.15, 0.15, seed=0)
    np.testing.assert_array_equal(again.test, split.test)


def test_scans_without_a_by_write_copy_have_no_writer_and_block_a_writer_split(sd19_tree):
    """A by_class scan with no byte-identical by_write file is kept, without a writer id."""
    for scan in (sd19_tree / "by_write" / "hsf_0" / FORMS[0]).rglob("*.png"):
        scan.unlink()
    data = load_datasets([f"nist-sd19:{sd19_tree}"])
    assert (data.writer == NO_WRITER).sum() == 3
    with pytest.raises(HcrError, match="3 images have none"):
        make_split(data, "writer")


def test_by_write_that_matches_no_scan_is_refused(sd19_tree):
    """Writer ids that cannot be tied to the scans would be guesses: refused, naming the folder."""
    for scan in (sd19_tree / "by_write").rglob("*.png"):
        scan.write_bytes(scan.read_bytes() + b"\0")  # the same image, no longer the same file
    with pytest.raises(DataError, match="by_write: no writer ids: none of its scans is a by_class scan"):
        load_datasets([f"nist-sd19:{sd19_tree}"])


def test_by_write_without_writer_forms_is_refused(sd19_tree):
    shutil.rmtree(sd19_tree / "by_write" / "hsf_0")
    (sd19_tree / "by_write" / "hsf_0" / "not-a-form").mkdir(parents=True)
    with pytest.raises(DataError, match="no writer ids: expected letter scans in by_write/hsf_N/fWWWW_YY"):
        load_datasets([f"nist-sd19:{sd19_tree}"])


def test_writer_split_of_data_without_writer_ids_is_one_line_exit_2(shared_data, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hcr", "data", "inspect", "--data-dir", str(shared_data), "-d", "az",
         "--split", "writer", "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: a writer split needs writer ids, and these images have none")
    assert len(result.stderr.strip().splitlines()) == 1


def test_writer_split_refuses_sources_without_writers(sd19_tree, shared_data):
    data = load_datasets([f"nist-sd19:{sd19_tree}", f"az:{shared_data / 'az'}"])
    with pytest.raises(HcrError, match=r"5,934 images have none \(az\)"):
        make_split(data, "writer")
