"""Every kind of broken input gets a one-line error naming the file and the problem, never a traceback."""

import errno
import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from hcr.data import load_datasets
from hcr.errors import DataError
from tests.realdata import AZ_CSV, SHARED_DATA, read_idx_raw

IMAGES = "emnist-letters-train-images-idx3-ubyte.gz"
LABELS = "emnist-letters-train-labels-idx1-ubyte.gz"


def _csv_with(tmp_path, edit) -> str:
    """A copy of the first real A–Z rows, with one line changed by `edit(lines)`."""
    lines = AZ_CSV.read_text().splitlines()[:20]
    edit(lines)
    path = tmp_path / "A_Z Handwritten Data.csv"
    path.write_text("\n".join(lines) + "\n")
    return f"az:{path}"


def _replace_cell(line: str, column: int, value: str) -> str:
    cells = line.split(",")
    cells[column] = value
    return ",".join(cells)


CSV_CASES = {
    "short row": (lambda ls: ls.__setitem__(4, ls[4].rsplit(",", 1)[0]), "row 5 has 784 columns, expected 785"),
    "long row": (lambda ls: ls.__setitem__(6, ls[6] + ",0"), "row 7 has 786 columns"),
    "non-numeric cell": (lambda ls: ls.__setitem__(2, _replace_cell(ls[2], 100, "x")), "row 3, column 101: 'x'"),
    "pixel over 255": (lambda ls: ls.__setitem__(9, _replace_cell(ls[9], 300, "256")), "row 10, column 301: 256"),
    "label out of range": (lambda ls: ls.__setitem__(11, _replace_cell(ls[11], 0, "26")), "row 12: label 26 outside"),
    "empty line": (lambda ls: ls.insert(4, ""), "row 5 is empty (blank lines are allowed only at the end)"),
    "blank line": (lambda ls: ls.insert(7, " \t"), "row 8 is empty (blank lines are allowed only at the end)"),
    "header row": (lambda ls: ls.insert(0, ",".join(["label"] + [f"p{i}" for i in range(784)])), "header row"),
}


@pytest.mark.parametrize("case", CSV_CASES)
def test_bad_csv_rows_are_named(tmp_path, case):
    edit, expected = CSV_CASES[case]
    spec = _csv_with(tmp_path, edit)
    with pytest.raises(DataError, match=r"A_Z Handwritten Data\.csv") as error:
        load_datasets([spec])
    assert expected in str(error.value)


def _emnist_csv(tmp_path, n: int) -> str:
    """The EMNIST CSV variant of the first n real train images: label 1..26, then the transposed pixels."""
    images = read_idx_raw(SHARED_DATA / "emnist" / IMAGES).reshape(-1, 784)[:n]
    labels = read_idx_raw(SHARED_DATA / "emnist" / LABELS)[:n]
    folder = tmp_path / "emnist-csv"
    folder.mkdir()
    rows = [",".join(map(str, [label, *image])) for label, image in zip(labels, images, strict=True)]
    (folder / "emnist-letters-train.csv").write_text("\n".join(rows) + "\n")
    return f"emnist-letters:{folder}"


@pytest.mark.parametrize("blank", ["\n", "\n\n\n", "\r\n", "  \n"])
@pytest.mark.parametrize("kind", ["az", "emnist-letters"])
def test_blank_lines_at_the_end_are_accepted(tmp_path, kind, blank):
    spec = _csv_with(tmp_path, lambda ls: None) if kind == "az" else _emnist_csv(tmp_path, 20)
    expected = load_datasets([spec])
    path = next((tmp_path).rglob("*.csv"))
    with path.open("a", newline="") as f:
        f.write(blank)
    os.utime(path, ns=(0, path.stat().st_mtime_ns + 10**9))  # a changed file, whatever the clock's resolution
    got = load_datasets([spec])
    assert len(got) == 20
    np.testing.assert_array_equal(got.x, expected.x)
    np.testing.assert_array_equal(got.y, expected.y)


def test_empty_csv(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="empty"):
        load_datasets([f"az:{path}"])


def test_missing_files(tmp_path, emnist_copy):
    with pytest.raises(DataError, match="not found"):
        load_datasets([f"az:{tmp_path / 'nope.csv'}"])
    (emnist_copy / LABELS).unlink()
    with pytest.raises(DataError, match=f"{LABELS}: missing"):
        load_datasets([f"emnist-letters:{emnist_copy}"])


def test_wrong_idx_magic(emnist_copy):
    images, labels = emnist_copy / IMAGES, emnist_copy / LABELS
    swapped = images.read_bytes()
    images.write_bytes(labels.read_bytes())  # a labels file where the images should be
    labels.write_bytes(swapped)
    with pytest.raises(DataError, match=f"{IMAGES}: wrong IDX magic number 2049 \\(expected 2051"):
        load_datasets([f"emnist-letters:{emnist_copy}"])


def test_truncated_gzip(emnist_copy):
    path = emnist_copy / IMAGES
    path.write_bytes(path.read_bytes()[:5_000])
    with pytest.raises(DataError, match=f"{IMAGES}: truncated or corrupt gzip"):
        load_datasets([f"emnist-letters:{emnist_copy}"])


def test_truncated_idx_data(emnist_copy):
    path = emnist_copy / IMAGES
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes())[: -784 * 3]))
    expected = r"truncated IDX data: the header declares 1,000 images of 28×28 \(784,000 bytes\)"
    with pytest.raises(DataError, match=expected):
        load_datasets([f"emnist-letters:{emnist_copy}"])


def test_image_label_count_mismatch(emnist_copy):
    test_labels = emnist_copy / "emnist-letters-test-labels-idx1-ubyte.gz"
    (emnist_copy / LABELS).write_bytes(test_labels.read_bytes())  # 10,312 labels for 1,000 images
    with pytest.raises(DataError, match=f"{IMAGES}: 1000 images but {LABELS} has 10312 labels"):
        load_datasets([f"emnist-letters:{emnist_copy}"])


def test_emnist_label_out_of_range(emnist_copy):
    path = emnist_copy / LABELS
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[8 + 41] = 0  # EMNIST letters are 1..26; 0 is not a letter
    path.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match=r"row 42: label 0 outside 1\.\.26"):
        load_datasets([f"emnist-letters:{emnist_copy}"])


def test_empty_image_folder(tmp_path):
    (tmp_path / "A").mkdir()
    with pytest.raises(DataError, match="no images found"):
        load_datasets([f"folder:{tmp_path}"])


def test_unreadable_images_are_skipped_and_counted(tmp_path, caplog):
    x = load_datasets([f"az:{AZ_CSV}"]).x[:4]
    for i, image in enumerate(x):
        (tmp_path / "B").mkdir(exist_ok=True)
        Image.fromarray(image).save(tmp_path / "B" / f"{i}.png")
    (tmp_path / "B" / "broken.png").write_bytes((tmp_path / "B" / "0.png").read_bytes()[:60])
    (tmp_path / "B" / "notes.txt").write_text("not an image")
    Image.new("L", (50, 50), 255).save(tmp_path / "B" / "blank.png")
    data = load_datasets([f"folder:{tmp_path}"])
    assert len(data) == 4
    assert (data.y == 1).all()
    assert "skipped 3 of 7 files" in caplog.text


def _run_cli(*args):
    return subprocess.run([sys.executable, "-m", "hcr", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("case", ["non-numeric cell", "label out of range"])
def test_cli_reports_bad_input_on_one_line_with_exit_2(tmp_path, case):
    spec = _csv_with(tmp_path, CSV_CASES[case][0])
    result = _run_cli("data", "inspect", "--dataset", spec, "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert "A_Z Handwritten Data.csv" in result.stderr
    assert CSV_CASES[case][1] in " ".join(result.stderr.split())
    assert not (tmp_path / "out").exists()


def test_cli_missing_data_dir_exit_2(tmp_path):
    result = _run_cli("data", "inspect", "--data-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "data folder not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_bad_option_exit_2():
    result = _run_cli("data", "inspect", "--split", "random")
    assert result.returncode == 2
    assert "'random' is not one of" in result.stderr
    result = _run_cli("data", "inspect", "--val-fraction", "0.6", "--test-fraction", "0.5")
    assert result.returncode == 2
    assert "sum below 1" in result.stderr


def test_corrupt_cells_never_reach_the_model(tmp_path):
    """A negative pixel cannot be silently wrapped into uint8."""
    spec = _csv_with(tmp_path, lambda ls: ls.__setitem__(3, _replace_cell(ls[3], 50, "-1")))
    with pytest.raises(DataError, match="row 4, column 51: '-1' is not a whole number"):
        load_datasets([spec])


def _az_copy(tmp_path) -> str:
    path = tmp_path / "A_Z Handwritten Data.csv"
    path.write_bytes(AZ_CSV.read_bytes())
    return f"az:{path}"


def _idx_is_a_folder(tmp_path) -> tuple[list[str], str]:
    folder = tmp_path / "emnist"
    shutil.copytree(SHARED_DATA / "emnist", folder)
    (folder / IMAGES).unlink()
    (folder / IMAGES).mkdir()
    return ["--dataset", f"emnist-letters:{folder}"], f"{folder / IMAGES}: a folder, not a regular file"


def _csv_is_a_folder(tmp_path) -> tuple[list[str], str]:
    (tmp_path / "emnist" / "emnist-letters-train.csv").mkdir(parents=True)
    csv = tmp_path / "emnist" / "emnist-letters-train.csv"
    return ["--dataset", f"emnist-letters:{tmp_path / 'emnist'}"], f"{csv}: a folder, not a regular file"


def _binary_csv(tmp_path) -> tuple[list[str], str]:
    path = tmp_path / "A_Z Handwritten Data.csv"
    path.write_bytes((SHARED_DATA / "emnist" / IMAGES).read_bytes())  # a .gz saved under the CSV's name
    return ["--dataset", f"az:{path}"], f"{path}: not a text CSV (binary data, or text that is not UTF-8)"


def _utf16_csv(tmp_path) -> tuple[list[str], str]:
    path = tmp_path / "A_Z Handwritten Data.csv"
    path.write_text(AZ_CSV.read_text()[:100_000], encoding="utf-16")  # what some editors save as "Unicode"
    return ["--dataset", f"az:{path}"], f"{path}: not a text CSV (binary data, or text that is not UTF-8)"


def _out_is_a_file(tmp_path) -> tuple[list[str], str]:
    out = tmp_path / "report.txt"
    out.write_text("not a folder")
    return ["--dataset", _az_copy(tmp_path), "--out", str(out)], f"--out {out}: {out} is a file, not a folder"


def _out_below_a_file(tmp_path) -> tuple[list[str], str]:
    blocker = tmp_path / "report.txt"
    blocker.write_text("not a folder")
    out = blocker / "inspect"
    return ["--dataset", _az_copy(tmp_path), "--out", str(out)], f"--out {out}: {blocker} is a file, not a folder"


def _seed(value: int):
    def case(tmp_path) -> tuple[list[str], str]:
        args = ["--dataset", _az_copy(tmp_path), "--per-class", "10", "--seed", str(value)]
        return args, f"seed must be an integer in 0..4294967295, got {value}"

    return case


CLI_CASES = {
    "IDX file is a folder": _idx_is_a_folder,
    "CSV file is a folder": _csv_is_a_folder,
    "binary CSV": _binary_csv,
    "UTF-16 CSV": _utf16_csv,
    "--out is a file": _out_is_a_file,
    "--out below a file": _out_below_a_file,
    "--seed -1": _seed(-1),
    "--seed 2**32": _seed(2**32),
}


@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, case):
    args, problem = CLI_CASES[case](tmp_path)
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    result = _run_cli("data", "inspect", *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0, result.stderr  # one line: nothing before or after the error
    assert result.stderr.strip().startswith(f"error: {problem}"), result.stderr


@pytest.mark.parametrize("kind", ["az", "emnist-letters"])
def test_a_data_file_the_os_will_not_open_is_named(tmp_path, emnist_copy, monkeypatch, kind):
    """Mode 000 does not stop root, and the tests run as root: the one place that opens data files is made to fail
    the way the OS fails it for another user."""
    spec = _az_copy(tmp_path) if kind == "az" else f"emnist-letters:{emnist_copy}"
    target = tmp_path / "A_Z Handwritten Data.csv" if kind == "az" else emnist_copy / LABELS
    real_open = Path.open

    def refusing_open(self, *args, **kwargs):
        if self == target:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing_open)
    with pytest.raises(DataError) as raised:
        load_datasets([spec])
    assert str(raised.value) == f"{target}: cannot read the file (Permission denied)"
