"""NIST SD19 by_class: the real scans, EMNIST's conversion, and broken layouts."""

import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter

from hcr.data import load_datasets
from hcr.data.case import UPPER
from hcr.data.sd19 import find_by_class, list_sd19_files
from hcr.data.sd19_convert import convert_scans
from hcr.errors import DataError
from hcr.labels import index_of
from tests.realdata import BYCLASS_UPPER, SD19_UPPER, read_idx_raw


@pytest.fixture(scope="module")
def real_by_class(shared_data):
    return find_by_class(shared_data / "nist-sd19")


def _scans(by_class, letter: str, n: int) -> list:
    return sorted((by_class / f"{ord(letter):x}" / f"train_{ord(letter):x}").glob("*.png"))[:n]


def test_listing_counts_match_the_readme(real_by_class):
    files = list_sd19_files(real_by_class)
    assert np.bincount(files.labels, minlength=26).tolist() == SD19_UPPER
    assert (files.case == UPPER).all()  # folders 41–5a: capitals
    assert not files.has_partitions  # train_XX only: no official test split
    assert files.n_digits == 0


@pytest.mark.slow
def test_real_scans_load_converted_and_cached(shared_data, parse_cache_dir):
    data = load_datasets(["nist-sd19"], shared_data)
    assert data.x.shape == (sum(SD19_UPPER), 28, 28)
    assert data.x.dtype == np.uint8
    assert data.class_counts().tolist() == SD19_UPPER
    assert (data.case == UPPER).all()
    assert data.sources_without_split == ("nist-sd19",)
    assert data.skipped == {}
    assert (data.x.max(axis=(1, 2)) == 255).all()  # scaled to 0–255
    assert data.x[:, 0, :].mean() < 5  # bright ink on black: the top row and left column are background
    assert data.x[:, :, 0].mean() < 5
    again = load_datasets(["nist-sd19"], shared_data)
    np.testing.assert_array_equal(again.x, data.x)
    np.testing.assert_array_equal(again.case, data.case)
    assert any(parse_cache_dir.iterdir())


def _reference(ink: np.ndarray) -> np.ndarray:
    """The paper's steps one by one, on one scan: blur, ROI, square frame, 2-px border, bicubic, 0–255."""
    blurred = gaussian_filter(np.pad(ink.astype(np.float32), 10), 1.0, truncate=3.0, mode="constant")
    rows, cols = np.flatnonzero(blurred.any(axis=1)), np.flatnonzero(blurred.any(axis=0))
    roi = blurred[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = max(roi.shape) + 4
    frame = np.zeros((side, side), np.float32)
    y, x = (side - roi.shape[0]) // 2, (side - roi.shape[1]) // 2
    frame[y : y + roi.shape[0], x : x + roi.shape[1]] = roi
    small = np.maximum(np.asarray(Image.fromarray(frame).resize((28, 28), Image.Resampling.BICUBIC)), 0)
    return np.clip(np.rint(small / small.max() * 255), 0, 255).astype(np.uint8)


def test_fast_conversion_equals_the_step_by_step_one(real_by_class):
    paths = [p for letter in "AIMW" for p in _scans(real_by_class, letter, 40)]
    ink = np.stack([~np.asarray(Image.open(p)) for p in paths])
    fast, has_ink = convert_scans(ink)
    assert has_ink.all()
    slow = np.stack([_reference(scan) for scan in ink])
    assert np.abs(fast.astype(int) - slow.astype(int)).max() <= 1


def test_conversion_does_not_depend_on_the_order_sums_are_taken_in(real_by_class):
    """A split is checked against its data's fingerprint (an exported model's split_record), so the letters made
    from the scans must be bit-identical on every machine, whichever order the CPU's BLAS kernels sum in: in float32,
    another order rounded some pixels the other way (the shipped model's split was refused on a new machine). A scan
    converted transposed sums in the other order and must give the same letter, transposed."""
    ink = np.stack([~np.asarray(Image.open(p)) for p in _scans(real_by_class, "A", 300)])
    upright, _ = convert_scans(ink)
    transposed, _ = convert_scans(ink.transpose(0, 2, 1))
    np.testing.assert_array_equal(transposed.transpose(0, 2, 1), upright)


def test_converted_scans_look_like_emnist_capitals(shared_data, real_by_class):
    """EMNIST's conversion of SD19: the same letters, same size and weight as ByClass's own capitals."""
    paths = [p for letter in "AEHMRSW" for p in _scans(real_by_class, letter, 60)]
    sd19 = convert_scans(np.stack([~np.asarray(Image.open(p)) for p in paths]))[0]
    images = read_idx_raw(shared_data / "emnist-byclass/emnist-byclass-test-images-idx3-ubyte.gz")
    labels = read_idx_raw(shared_data / "emnist-byclass/emnist-byclass-test-labels-idx1-ubyte.gz")
    emnist = images[np.isin(labels, [10 + index_of(c) for c in "AEHMRSW"])][:420].transpose(0, 2, 1)
    assert sum(BYCLASS_UPPER) > 420

    def longest_side(x):
        rows, cols = x.any(axis=2), x.any(axis=1)
        return np.maximum(28 - rows.argmax(1) - rows[:, ::-1].argmax(1), 28 - cols.argmax(1) - cols[:, ::-1].argmax(1))

    assert abs(longest_side(sd19).mean() - longest_side(emnist).mean()) < 1.0  # px
    ink_ratio = (sd19 > 127).sum(axis=(1, 2)).mean() / (emnist > 127).sum(axis=(1, 2)).mean()
    assert 0.85 < ink_ratio < 1.15


@pytest.fixture
def small_tree(real_by_class, tmp_path):
    """by_class with 20 real scans each in A's folder (41) and b's (62), as NIST lays them out. SD19 here has capitals
    only, so b's folder holds capital-B scans: the layout is under test, not the shapes."""
    root = tmp_path / "by_class"
    for code, letter in (("41", "A"), ("62", "B")):
        folder = root / code / f"train_{code}"
        folder.mkdir(parents=True)
        for path in _scans(real_by_class, letter, 20):
            shutil.copy(path, folder)
    return root


def test_case_comes_from_the_folder_and_digits_are_counted(small_tree):
    (small_tree / "33" / "train_33").mkdir(parents=True)
    for path in list((small_tree / "41" / "train_41").glob("*.png"))[:7]:
        shutil.copy(path, small_tree / "33" / "train_33")  # digit 3
    data = load_datasets([f"nist-sd19:{small_tree.parent}"])
    assert data.class_counts()[[0, 1]].tolist() == [20, 20]
    assert data.case[data.y == 0].tolist() == [1] * 20  # A: upper
    assert data.case[data.y == 1].tolist() == [2] * 20  # b: lower
    assert data.skipped == {"nist-sd19: digits": 7}


def test_partitions_give_the_official_test_split_and_copies_are_read_once(small_tree):
    """NIST stores a scan both in train_XX and in its hsf_N folder; hsf_4 is NIST's test partition."""
    train = sorted((small_tree / "41" / "train_41").glob("*.png"))
    for part, chosen in (("hsf_0", train[:5]), ("hsf_4", train[5:8])):
        (small_tree / "41" / part).mkdir()
        for path in chosen:
            shutil.copy(path, small_tree / "41" / part / f"{part}_{path.name}")
    data = load_datasets([f"nist-sd19:{small_tree}"])
    assert len(data) == 40
    assert data.skipped == {"nist-sd19: scans stored twice (train_XX and hsf_N)": 8}
    assert data.official_test.sum() == 3
    assert data.sources_without_split == ()


def test_unreadable_files_are_skipped_and_counted(small_tree, caplog):
    folder = small_tree / "41" / "train_41"
    (folder / "broken.png").write_bytes(next(folder.glob("*.png")).read_bytes()[:50])
    (folder / "empty.png").write_bytes(b"")
    Image.new("1", (128, 128), 1).save(folder / "blank.png")  # white paper only
    data = load_datasets([f"nist-sd19:{small_tree}"])
    assert len(data) == 40
    assert data.skipped == {"nist-sd19: unreadable files": 2, "nist-sd19: blank scans": 1}
    assert "unreadable files skipped: 2" in caplog.text


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda root: (root / "zz" / "train_zz").mkdir(parents=True), "zz: not an SD19 class folder"),
        (lambda root: (root / "7f").mkdir(), "7f: not an SD19 class folder"),
        (lambda root: Image.new("1", (64, 64), 1).save(root / "41" / "train_41" / "small.png"), "64×64 image"),
        (lambda root: shutil.rmtree(root), "no NIST SD19 by_class folder found"),
    ],
    ids=["non-hex", "not a letter or digit", "not 128×128", "no by_class"],
)
def test_bad_layouts_are_refused(small_tree, damage, expected):
    damage(small_tree)
    with pytest.raises(DataError) as error:
        load_datasets([f"nist-sd19:{small_tree.parent}"])
    assert expected in str(error.value)


def test_cli_bad_folder_one_line_exit_2(small_tree, tmp_path):
    (small_tree / "not-hex").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "hcr", "data", "inspect", "-d", f"nist-sd19:{small_tree}", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert "not-hex: not an SD19 class folder" in " ".join(result.stderr.split())
