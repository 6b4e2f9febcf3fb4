"""open_image refuses, from the header alone, an image whose decoded pixels would take more than MAX_DECODED_BYTES:
a small file (a few hundred kB of PNG) can hold tens of millions of 16-bit RGBA pixels."""

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from hcr.inference.preprocess import MAX_DECODED_BYTES, MAX_PIXELS, ImageError, open_image

SIDE = 6300  # 39.7 M pixels: under the pixel limit, 159 MB as Pillow holds RGBA


def png_header(width: int, height: int, bit_depth: int, colour_type: int) -> bytes:
    """A PNG of only its signature, IHDR and IEND: Pillow opens it, and fails only when it decodes the pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


def test_the_limit_is_below_the_pixel_limit_for_colour_images():
    assert SIDE * SIDE < MAX_PIXELS
    assert SIDE * SIDE * 4 > MAX_DECODED_BYTES


@pytest.mark.parametrize(("bit_depth", "colour_type"), [(16, 6), (8, 6), (16, 2)])  # RGBA 16 and 8 bit, RGB 16 bit
def test_a_colour_image_too_big_to_decode_is_refused_before_decoding(bit_depth, colour_type):
    """The file holds no pixel data at all: had it been decoded, the error would say it is truncated."""
    with pytest.raises(ImageError, match=r"6300×6300 .* MB decoded \(limit 128 MB\)"):
        open_image(png_header(SIDE, SIDE, bit_depth, colour_type))


def test_a_grey_image_of_the_same_size_fits():
    """One byte per pixel: 40 MB decoded. (Header only, so decoding it fails, but on the truncation.)"""
    with pytest.raises(ImageError, match="truncated"):
        open_image(png_header(SIDE, SIDE, 8, 0))


def test_an_image_under_the_limit_decodes():
    side = 5000  # 25 M pixels of RGB: 100 MB as Pillow holds it
    buffer = io.BytesIO()
    Image.fromarray(np.full((side, side, 3), 255, np.uint8)).save(buffer, format="PNG", compress_level=1)
    started = time.monotonic()
    image = open_image(buffer.getvalue())
    assert image.size == (side, side)
    assert time.monotonic() - started < 30
