"""Read IDX files (the MNIST/EMNIST binary format), gzip-compressed or not.

Layout: two zero bytes, a type byte (0x08 = uint8), a dimension count, one big-endian uint32 per dimension,
then the raw values. EMNIST stores its images transposed and its letter labels as 1..26; `emnist.py` fixes
both, this module only reads faithfully and names the file in every error.
"""

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from hcr.errors import DataError

UBYTE = 0x08
IMAGES_MAGIC = 0x0803  # 2051: uint8, 3 dimensions
LABELS_MAGIC = 0x0801  # 2049: uint8, 1 dimension


def read_bytes(path: Path) -> bytes:
    """The file's content, decompressed when it ends in .gz."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DataError(path, f"truncated or corrupt gzip file ({e})") from None


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Parse one IDX file into a uint8 array of the shape its header declares."""
    raw = read_bytes(path)
    if len(raw) < 4:
        raise DataError(path, f"too short for an IDX file ({len(raw)} bytes)")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != expected_magic:
        kind = "images" if expected_magic == IMAGES_MAGIC else "labels"
        raise DataError(
            path, f"wrong IDX magic number {magic} (expected {expected_magic} for {kind}); is this the right file?"
        )
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(path, "truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    expected = int(np.prod(shape))
    found = len(raw) - header_size
    if found < expected:
        raise DataError(path, f"truncated IDX data: header declares {shape} ({expected} bytes), file has {found}")
    if found > expected:
        raise DataError(path, f"{found - expected} unexpected bytes after the IDX data declared as {shape}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)
