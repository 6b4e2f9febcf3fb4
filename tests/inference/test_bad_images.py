"""Bad files in a batch: each gets a clear one-line reason, the good files around them are still read, and
`hcr predict` exits 2 saying how many failed."""

import io
import json
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from hcr.data import load_datasets
from hcr.inference.predictor import Predictor
from hcr.inference.preprocess import ImageError, open_image
from tests.realdata import AZ_CSV


def _png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header declares width × height pixels but carries no pixel data: a decompression bomb's
    calling card, cheap to make."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def letter_png() -> bytes:
    """One real handwritten letter (an A from Kaggle A–Z), black on white at 140 px, as PNG bytes."""
    data = load_datasets([f"az:{AZ_CSV}"])
    buffer = io.BytesIO()
    Image.fromarray(255 - data.x[np.flatnonzero(data.y == 0)[0]]).resize((140, 140)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def batch(tmp_path, letter_png):
    """Good letters between every kind of bad file, with the reason each bad one must give."""
    blank = io.BytesIO()
    Image.new("RGB", (300, 200), (250, 248, 240)).save(blank, "PNG")
    bad = {
        "corrupt.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not an image Pillow can read"),
        "truncated.png": (letter_png[: len(letter_png) // 2], "corrupt or truncated"),
        "empty.png": (b"", "the file is empty (0 bytes)"),  # as the server says of an empty upload
        "notes.txt": (b"shopping list: milk, eggs\n", "not an image Pillow can read"),
        "bomb.png": (_png_header_claiming(100_000, 100_000), "decompression bomb"),
        "huge.png": (_png_header_claiming(8_000, 6_000), "too large"),
        "blank.png": (blank.getvalue(), "blank"),
    }
    files, reasons = [], {}
    for i, (name, (content, reason)) in enumerate(bad.items()):
        good = tmp_path / f"good{i}.png"
        good.write_bytes(letter_png)
        (tmp_path / name).write_bytes(content)
        files += [good, tmp_path / name]
        reasons[tmp_path / name] = reason
    return files, reasons


def test_each_bad_file_is_reported_and_the_batch_goes_on(onnx_model_dir, batch):
    files, reasons = batch
    results = list(Predictor(onnx_model_dir).predict_files(files))
    assert [path for path, _ in results] == files
    good_letters = set()
    for path, prediction in results:
        if path in reasons:
            assert prediction.status == ("blank" if path.name == "blank.png" else "error"), path
            assert reasons[path] in prediction.message, (path, prediction.message)
            assert "\n" not in prediction.message
            assert prediction.letter is None
        else:
            assert prediction.status in ("ok", "low-confidence")
            good_letters.add(prediction.letter)
    assert len(good_letters) == 1  # the same good file reads the same wherever it sits in the batch


def test_cli_reports_every_file_and_exits_2(onnx_model_dir, batch):
    files, reasons = batch
    command = [sys.executable, "-m", "hcr", "predict", *map(str, files), "--model", str(onnx_model_dir), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    records = json.loads(result.stdout)
    assert [r["path"] for r in records] == list(map(str, files))
    assert sum(r["status"] in ("ok", "low-confidence") for r in records) == len(files) - len(reasons)
    assert f"{len(reasons)} of {len(files)} files failed (1 blank, {len(reasons) - 1} unreadable)" in result.stderr
    assert "Traceback" not in result.stderr


def test_open_image_reads_bytes_and_file_objects_and_rejects_junk(letter_png):
    from_bytes = open_image(letter_png)
    from_file = open_image(io.BytesIO(letter_png))
    np.testing.assert_array_equal(np.asarray(from_bytes), np.asarray(from_file))
    assert from_bytes.size == (140, 140)
    with pytest.raises(ImageError, match="decompression bomb"):
        open_image(_png_header_claiming(100_000, 100_000))
    with pytest.raises(ImageError, match=r"empty \(0 bytes\)"):
        open_image(b"")
    with pytest.raises(ImageError, match="not an image"):
        open_image(b"GIF")
