"""IDX files are judged by their header before their body is read: a small file never makes hcr allocate gigabytes."""

import gzip
import resource
import struct
import subprocess
import sys
import time

import numpy as np
import pytest

from hcr.data import load_datasets
from hcr.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from hcr.errors import DataError

IMAGES = "emnist-letters-train-images-idx3-ubyte.gz"
IMAGES_PER_MEMBER = 20_000  # 15.7 MB of blank images per gzip member, ~15 KB compressed


def _write_gzip_bomb(path, count: int) -> None:
    """An images .gz with an honest header for `count` blank 28×28 images and a body holding them all.

    The body is one small gzip member repeated (gzip readers join concatenated members into one stream), so the
    file stays about 1,000× smaller than what it inflates to, as a deliberately crafted one would."""
    member = gzip.compress(bytes(28 * 28 * IMAGES_PER_MEMBER), 9)
    with path.open("wb") as f:
        f.write(gzip.compress(struct.pack(">IIII", IMAGES_MAGIC, count, 28, 28)))
        for _ in range(count // IMAGES_PER_MEMBER):
            f.write(member)


def _limit_memory() -> None:
    """In the child: 1 GiB of address space, so a reader that inflates everything fails instead of swapping."""
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


def test_a_gzip_bomb_is_refused_from_its_header(emnist_copy, tmp_path):
    count = 2_000_000  # 1.57 GB inflated
    _write_gzip_bomb(emnist_copy / IMAGES, count)
    size = (emnist_copy / IMAGES).stat().st_size
    assert size < 2_000_000
    started = time.monotonic()
    command = ["data", "inspect", "--dataset", f"emnist-letters:{emnist_copy}", "--out", str(tmp_path / "out")]
    result = subprocess.run(
        [sys.executable, "-m", "hcr", *command],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limit_memory,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 2, result.stderr
    message = " ".join(result.stderr.split())
    assert message.startswith(f"error: {emnist_copy / IMAGES}: ")
    assert f"the header declares {count:,} images of 28×28 ({count * 784 / 1e9:.1f} GB)" in message
    assert f"impossible for a gzip file of {size / 1e6:.1f} MB" in message
    assert elapsed < 30  # judged from 16 bytes, not after inflating 1.6 GB


def _idx(magic: int, dims: tuple[int, ...], body: bytes) -> bytes:
    return struct.pack(f">I{len(dims)}I", magic, *dims) + body


HEADER_CASES = {
    # 4 × 2³¹ × 2³¹ overflows a 64-bit product to 0, which an empty body then "matches"
    "2³¹×2³¹ images": (IMAGES_MAGIC, (4, 2**31, 2**31), b"", "images of 2147483648×2147483648, expected 28×28"),
    "27×28 images": (IMAGES_MAGIC, (2, 27, 28), bytes(2 * 27 * 28), "images of 27×28, expected 28×28"),
    "4 billion labels": (LABELS_MAGIC, (2**32 - 1,), bytes(100), "declares 4,294,967,295 labels"),
}


@pytest.mark.parametrize("compressed", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize("case", HEADER_CASES)
def test_impossible_headers_are_refused_before_reading(tmp_path, case, compressed):
    magic, dims, body, expected = HEADER_CASES[case]
    raw = _idx(magic, dims, body)
    path = tmp_path / ("file.gz" if compressed else "file")
    path.write_bytes(gzip.compress(raw) if compressed else raw)
    with pytest.raises(DataError, match=expected):
        read_idx(path, magic, (28, 28) if magic == IMAGES_MAGIC else ())


@pytest.mark.parametrize("compressed", [True, False], ids=["gz", "raw"])
def test_trailing_and_missing_bytes_are_named(emnist_copy, compressed):
    raw = gzip.decompress((emnist_copy / IMAGES).read_bytes())
    path = emnist_copy / IMAGES
    if not compressed:  # the uncompressed .ubyte files some users have, all four of them
        for gz in emnist_copy.glob("*.gz"):
            gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
            gz.unlink()
        path = path.with_suffix("")

    def write(data: bytes) -> None:
        path.write_bytes(gzip.compress(data) if compressed else data)

    write(raw + b"\0" * 5)
    with pytest.raises(DataError, match=r"more bytes than the header declares \(1,000 images of 28×28"):
        load_datasets([f"emnist-letters:{emnist_copy}"])
    write(raw[:-100])
    with pytest.raises(DataError, match=r"truncated IDX data: the header declares 1,000 images .* 783,900 bytes"):
        load_datasets([f"emnist-letters:{emnist_copy}"])
    write(raw)
    images = read_idx(path, IMAGES_MAGIC, (28, 28))
    np.testing.assert_array_equal(images, np.frombuffer(raw, np.uint8, offset=16).reshape(1000, 28, 28))
