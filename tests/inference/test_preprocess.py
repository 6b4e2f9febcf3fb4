"""Preprocessing on files made from real letters the way people make them: each must come out as the same 28×28
letter the dataset array itself gives (tests/variants.py makes the files)."""

import io

import numpy as np
import pytest
from PIL import Image

from hcr.data import load_datasets
from hcr.inference.preprocess import BlankImageError, ink_map, open_image, to_letter_array
from tests.variants import VARIANTS

# mean / worst correlation with the original letter's 28×28 result; a pen of another width changes every stroke
CLOSE = {"thick-pen": (0.88, 0.6), "thin-pen": (0.88, 0.6), "textured-photo": (0.92, 0.6)}
DEFAULT_CLOSE = (0.95, 0.6)


@pytest.fixture(scope="module")
def letters(shared_data) -> np.ndarray:
    """One real letter of each class, from both datasets (EMNIST has no T–Z in the dev data: Kaggle A–Z there)."""
    data = load_datasets([], shared_data)
    rng = np.random.default_rng(0)
    return np.stack([data.x[rng.choice(np.flatnonzero(data.y == label))] for label in range(26)])


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel().astype(np.float64), b.ravel().astype(np.float64))[0, 1])


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_reads_as_the_original_letter(name, letters):
    rng = np.random.default_rng(1)
    correlations = []
    for letter in letters:
        expected = to_letter_array(Image.fromarray(letter))
        got = to_letter_array(open_image(VARIANTS[name](letter, rng)))
        assert got.shape == (28, 28)
        assert got.dtype == np.uint8
        correlations.append(_correlation(got, expected))
    mean, worst = CLOSE.get(name, DEFAULT_CLOSE)
    assert np.mean(correlations) >= mean, correlations
    assert min(correlations) >= worst, correlations


def test_exif_orientation_is_honoured(letters):
    """Without the EXIF turn, the sideways-stored letter would correlate far worse with the upright one."""
    rng = np.random.default_rng(2)
    for letter in letters[:8]:
        expected = to_letter_array(Image.fromarray(letter))
        data = VARIANTS["exif-rotated"](letter, rng)
        upright = to_letter_array(open_image(data))
        with Image.open(io.BytesIO(data)) as raw:  # the pixels as stored, orientation tag ignored
            raw.load()
            sideways = to_letter_array(raw)
        assert _correlation(upright, expected) > _correlation(sideways, expected) + 0.2


def test_a_letter_already_in_the_convention_is_kept(letters):
    for letter in letters:
        once = to_letter_array(Image.fromarray(letter))
        twice = to_letter_array(Image.fromarray(once))
        assert _correlation(once, twice) > 0.99


@pytest.mark.parametrize("paper", [0, 30, 200, 255])
def test_ink_on_plain_paper_is_its_distance_from_the_paper(letters, paper):
    """Either polarity; a speck on the far side of the paper's level (lighter than light paper) is no ink."""
    sign = 1 if paper <= 127 else -1  # light ink on dark paper, or dark ink on light paper
    page = np.full((60, 60), paper, dtype=np.int64)
    page[16:44, 16:44] += sign * letters[0].astype(np.int64)
    page[2, 2] -= sign * 20
    page = np.clip(page, 0, 255)
    ink = ink_map(Image.fromarray(page.astype(np.uint8)))
    expected = np.maximum(sign * (page - paper), 0)
    assert ink.dtype == np.float32
    np.testing.assert_array_equal(ink, expected)
    assert ink[2, 2] == 0


def test_blank_pages_are_blank_even_when_noisy():
    rng = np.random.default_rng(3)
    scan = np.clip(rng.normal(240, 12, (400, 300)), 0, 255)
    specks = rng.random(scan.shape)
    scan[specks < 0.0005], scan[specks > 0.9995] = 0, 255
    pages = [
        Image.new("L", (640, 480), 255),
        Image.new("RGB", (300, 300), (250, 236, 170)),
        Image.new("RGBA", (200, 200), (0, 0, 0, 0)),
        Image.fromarray(scan.astype(np.uint8)),
    ]
    for page in pages:
        with pytest.raises(BlankImageError):
            to_letter_array(page)


def test_the_callers_image_is_left_alone(letters):
    big = Image.fromarray(255 - letters[0]).resize((1200, 900))
    to_letter_array(big)
    assert big.size == (1200, 900)


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("I;16", "PNG"), ("I", "TIFF"), ("F", "TIFF"), ("1", "PNG"), ("CMYK", "JPEG"), ("LA", "PNG"), ("P", "GIF"),
     ("RGB", "WEBP"), ("L", "BMP")],
)  # fmt: skip
def test_every_pixel_format_reads_as_the_same_letter(letters, mode, fmt):
    """16-bit and float scans are scaled, not clipped; bilevel, CMYK, palette and grey+alpha are all understood
    (a 140 px scan, so that thresholding to one bit keeps the letter's shape)."""
    black_on_white = np.asarray(Image.fromarray(255 - letters[4]).resize((140, 140), Image.Resampling.BICUBIC))
    expected = to_letter_array(Image.fromarray(black_on_white))
    if mode in ("I;16", "I", "F"):
        scale = {"I;16": (np.uint16, 257), "I": (np.int32, 257), "F": (np.float32, 1 / 255)}[mode]
        image = Image.fromarray((black_on_white.astype(np.float64) * scale[1]).astype(scale[0]))
    else:
        image = Image.fromarray(black_on_white).convert(mode, dither=Image.Dither.NONE)  # a bilevel scan: thresholded
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    decoded = open_image(buffer.getvalue())
    assert decoded.mode == image.mode or fmt in ("GIF", "WEBP", "JPEG")
    assert _correlation(to_letter_array(decoded), expected) > (0.9 if mode == "1" else 0.95)  # 1 bit: hard edges
