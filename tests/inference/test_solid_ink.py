"""Shapes whose ink fills their crop edge to edge (a bar, a filled square, a dot, a bold printed I) once measured a
stroke width in the thousands and sent the preprocessing into a rank filter of that size: minutes per image, a
frozen server. They must preprocess in bounded time and keep their shape."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from hcr.inference.preprocess import to_letter_array

BOLD_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")  # Debian's fonts-dejavu-core


def page(size: tuple[int, int], box: tuple[int, int, int, int], paper: int = 255, ink: int = 0) -> Image.Image:
    """A page of `size` (w, h) with one filled rectangle `box` (left, top, right, bottom, exclusive)."""
    image = Image.new("L", size, paper)
    left, top, right, bottom = box
    ImageDraw.Draw(image).rectangle((left, top, right - 1, bottom - 1), fill=ink)
    return image


def bold_i() -> Image.Image:
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).text((100, 100), "I", font=ImageFont.truetype(BOLD_FONT, 160), fill=0, anchor="mm")
    return image


SHAPES = {
    "bar": lambda: page((200, 200), (96, 25, 104, 175)),
    "thick-bar": lambda: page((64, 64), (20, 4, 44, 60)),
    "long-bar": lambda: page((20, 2000), (4, 10, 16, 1990)),
    "filled-square": lambda: page((28, 28), (4, 4, 24, 24), paper=0, ink=255),
    "rectangle": lambda: page((200, 200), (40, 60, 160, 140)),
    "dot": lambda: page((64, 64), (31, 31, 32, 32)),
    "bold-i": bold_i,
}


def ink_box(letter: np.ndarray) -> tuple[int, int, float]:
    """(height, width, share of the box that is ink) of the 28×28 output's ink."""
    mask = letter > 127
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    height, width = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    return int(height), int(width), float(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1].mean())


def test_every_shape_preprocesses_in_bounded_time():
    """In a child process, so that the unbounded filter this guards against fails the test instead of hanging it."""
    code = (
        "import json, sys, time\n"
        "from tests.inference.test_solid_ink import SHAPES\n"
        "from hcr.inference.preprocess import to_letter_array\n"
        "seconds = {}\n"
        "for name, make in SHAPES.items():\n"
        "    image = make()\n"
        "    start = time.perf_counter()\n"
        "    to_letter_array(image)\n"
        "    seconds[name] = time.perf_counter() - start\n"
        "print(json.dumps(seconds))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    seconds = json.loads(result.stdout)
    assert set(seconds) == set(SHAPES)
    assert max(seconds.values()) < 1.0, seconds  # a hang guard, not a speed target (bench/worst_case_preprocess.py)


@pytest.mark.parametrize("name", ["bar", "thick-bar", "long-bar", "bold-i"])
def test_a_bar_stays_a_bar(name):
    height, width, filled = ink_box(to_letter_array(SHAPES[name]()))
    assert height == 22
    assert 2 <= width <= 9
    assert filled > 0.8


@pytest.mark.parametrize(("name", "aspect"), [("filled-square", 1.0), ("rectangle", 80 / 120), ("dot", 1.0)])
def test_a_filled_shape_stays_filled_and_keeps_its_aspect(name, aspect):
    height, width, filled = ink_box(to_letter_array(SHAPES[name]()))
    assert max(height, width) == 22
    assert height / width == pytest.approx(aspect, abs=0.1)
    assert filled > 0.9
