"""Read IDX files (the MNIST/EMNIST binary format), gzip-compressed or not.

Layout: two zero bytes, a type byte (0x08 = uint8), a dimension count, one big-endian uint32 per dimension,
then the raw values. EMNIST stores its images transposed and its letter labels as 1..26; `emnist.py` fixes
both, this module only reads faithfully and names the file in every error.

The header is judged before the body is read: the item shape must be the expected one, and the size it declares
must fit the file (exactly, uncompressed; within a compression ratio real data reaches, gzipped). A 2.9 MB
crafted .gz declaring 3.8 million blank images used to inflate to 5.9 GB before anything was checked; now it is
refused after its first 16 bytes, and a body is read straight into an array of the declared size.
"""

import contextlib
import gzip
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from hcr.errors import DataError
from hcr.files import open_regular, unreadable

UBYTE = 0x08
IMAGES_MAGIC = 0x0803  # 2051: uint8, 3 dimensions
LABELS_MAGIC = 0x0801  # 2049: uint8, 1 dimension
MAX_GZIP_RATIO = 32  # EMNIST images inflate 3.1–3.3× (measured on ../shared/data); 10× that is not real data
ALWAYS_ALLOWED = 16 << 20  # bytes any header may declare: harmless to read, and class-sorted labels inflate ~37×


def read_idx(path: Path, expected_magic: int, item_shape: tuple[int, ...]) -> np.ndarray:
    """Parse one IDX file into a uint8 array [count, *item_shape], refusing impossible headers before reading on."""
    try:
        with _open(path) as (f, file_size):
            shape = _read_header(f, path, expected_magic)
            what = _describe(shape)
            if shape[1:] != item_shape:
                expected = "×".join(map(str, item_shape))
                raise DataError(path, f"the header declares {what}, expected {expected}; is this the right file?")
            declared = int(np.prod(shape, dtype=object))  # Python ints: 2³¹×2³¹×… must not overflow
            _check_size(path, what, declared, file_size, header_size=4 + 4 * len(shape))
            return _read_body(f, path, what, declared).reshape(shape)
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:  # BadGzipFile is an OSError: catch it first
        raise DataError(path, f"truncated or corrupt gzip file ({e})") from None
    except OSError as e:
        raise unreadable(path, e) from None


@contextlib.contextmanager
def _open(path: Path):
    """(decompressed stream, size of the file on disk), for a regular file only."""
    with open_regular(path) as raw:
        file_size = os.fstat(raw.fileno()).st_size
        if path.suffix != ".gz":
            yield raw, file_size
            return
        with gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
            yield unzipped, file_size


def _read_header(f: BinaryIO, path: Path, expected_magic: int) -> tuple[int, ...]:
    head = f.read(4)
    if len(head) < 4:
        raise DataError(path, f"too short for an IDX file ({len(head)} bytes)")
    (magic,) = struct.unpack(">I", head)
    if magic != expected_magic:
        kind = "images" if expected_magic == IMAGES_MAGIC else "labels"
        raise DataError(
            path, f"wrong IDX magic number {magic} (expected {expected_magic} for {kind}); is this the right file?"
        )
    ndim = magic & 0xFF
    dims = f.read(4 * ndim)
    if len(dims) < 4 * ndim:
        raise DataError(path, "truncated IDX header")
    return struct.unpack(f">{ndim}I", dims)


def _check_size(path: Path, what: str, declared: int, file_size: int, header_size: int) -> None:
    """Refuse a header whose declared size this file cannot hold, before any of the body is read or allocated."""
    if path.suffix == ".gz":
        if declared > max(ALWAYS_ALLOWED, file_size * MAX_GZIP_RATIO):
            raise DataError(
                path,
                f"the header declares {what} ({_amount(declared)}), impossible for a gzip file of "
                f"{_amount(file_size)} (IDX data compresses at most ~{MAX_GZIP_RATIO}×); the file is corrupt or forged",
            )
        return
    stored = file_size - header_size
    if stored < declared:
        raise _truncated(path, what, declared, stored)
    if stored > declared:
        raise _trailing(path, what)


def _read_body(f: BinaryIO, path: Path, what: str, declared: int) -> np.ndarray:
    """Exactly `declared` bytes into a new array; fewer, or any more after them, is an error."""
    data = np.empty(declared, dtype=np.uint8)
    view, got = memoryview(data), 0
    while got < declared:
        n = f.readinto(view[got:])
        if not n:
            raise _truncated(path, what, declared, got)
        got += n
    if f.read(1):
        raise _trailing(path, what)
    return data


def _truncated(path: Path, what: str, declared: int, found: int) -> DataError:
    return DataError(
        path, f"truncated IDX data: the header declares {what} ({declared:,} bytes), the file holds {found:,} bytes"
    )


def _trailing(path: Path, what: str) -> DataError:
    return DataError(path, f"more bytes than the header declares ({what}); is the file damaged?")


def _describe(shape: tuple[int, ...]) -> str:
    """The header's shape in words: '1,000 images of 28×28' or '1,000 labels'."""
    if len(shape) == 1:
        return f"{shape[0]:,} labels"
    return f"{shape[0]:,} images of {'×'.join(map(str, shape[1:]))}"


def _amount(n_bytes: int) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{n_bytes:,} bytes"
