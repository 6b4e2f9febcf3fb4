"""A FIFO or a device where a file is expected is refused with a message, never opened: opening a FIFO waits for a
writer forever. Each check runs the real CLI in a subprocess with a timeout, so a regression fails instead of hanging.
"""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from hcr.data import load_datasets
from tests.realdata import AZ_CSV

IMAGES = "emnist-letters-train-images-idx3-ubyte.gz"


def _hcr(*args: str) -> subprocess.CompletedProcess:
    """The CLI as a user runs it; a hang (the bug) raises TimeoutExpired instead of blocking the suite."""
    return subprocess.run([sys.executable, "-m", "hcr", *args], capture_output=True, text=True, timeout=60)


def _one_line(stderr: str) -> str:
    return " ".join(stderr.split())


@pytest.fixture(scope="module")
def letter_png(tmp_path_factory):
    """A real letter A from the Kaggle set, saved as a user's PNG."""
    data = load_datasets([f"az:{AZ_CSV}"])
    path = tmp_path_factory.mktemp("letter") / "a.png"
    Image.fromarray(255 - data.x[np.flatnonzero(data.y == 0)[0]]).resize((112, 112)).save(path)
    return path


def test_predict_and_read_refuse_a_fifo(tmp_path):
    fifo = tmp_path / "letter.png"
    os.mkfifo(fifo)
    for command in ("predict", "read"):
        result = _hcr(command, str(fifo), "--json")
        assert result.returncode == 2, result.stderr
        [record] = json.loads(result.stdout)
        assert record["path"] == str(fifo)
        assert record["status"] == "error"
        assert record["message"] == "cannot read the file (a FIFO, not a regular file)"


def test_a_fifo_inside_a_folder_is_reported_not_silently_dropped(tmp_path, letter_png):
    (tmp_path / "scans").mkdir()
    shutil.copy(letter_png, tmp_path / "scans" / "a.png")
    os.mkfifo(tmp_path / "scans" / "b.png")
    result = _hcr("predict", str(tmp_path), "--json")
    assert result.returncode == 2, result.stderr
    records = {r["path"]: r for r in json.loads(result.stdout)}
    assert records[str(tmp_path / "scans" / "a.png")]["letter"] == "A"
    assert records[str(tmp_path / "scans" / "b.png")]["message"] == "cannot read the file (a FIFO, not a regular file)"


@pytest.mark.timeout(60)  # in-process: pytest-timeout interrupts a blocked open()
def test_the_folder_loader_counts_a_fifo_as_a_skipped_file(tmp_path, letter_png, caplog):
    (tmp_path / "A").mkdir()
    shutil.copy(letter_png, tmp_path / "A" / "a.png")
    os.mkfifo(tmp_path / "A" / "pipe.png")
    data = load_datasets([f"folder:{tmp_path}"])
    assert len(data) == 1
    assert "skipped 1 of 2 files" in caplog.text
    assert "pipe.png: cannot read the file (a FIFO, not a regular file)" in caplog.text


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_dataset_files_that_are_not_regular_files(emnist_copy, kind):
    images = emnist_copy / IMAGES
    images.unlink()
    if kind == "fifo":
        os.mkfifo(images)
    else:
        images.symlink_to("/dev/zero")  # endless zeros: read to the end, they never end
    result = _hcr("data", "inspect", "--dataset", f"emnist-letters:{emnist_copy}", "--out", str(emnist_copy / "out"))
    assert result.returncode == 2, result.stderr
    expected = "a FIFO" if kind == "fifo" else "a character device"
    assert _one_line(result.stderr) == f"error: {images}: {expected}, not a regular file"


def test_an_az_path_that_is_a_fifo(tmp_path):
    fifo = tmp_path / "A_Z Handwritten Data.csv"
    os.mkfifo(fifo)
    result = _hcr("data", "inspect", "--dataset", f"az:{fifo}", "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr
    assert _one_line(result.stderr) == f"error: {fifo}: a FIFO, not a regular file"
