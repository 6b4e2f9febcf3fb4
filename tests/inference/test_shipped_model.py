"""The model shipped inside the package reads letters out of the box, and reads a bar as a capital I."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from hcr.data.sources import load_datasets
from hcr.inference.predictor import Predictor
from hcr.labels import CLASSES
from tests.inference.test_solid_ink import SHAPES
from tests.realdata import AZ_CSV


@pytest.fixture(scope="module")
def shipped() -> Predictor:
    return Predictor()


def test_it_is_small_and_says_what_it_is(shipped):
    assert shipped.metadata_["onnx_bytes"] <= 5_000_000
    assert shipped.metadata_["data"]["case"] == "upper"  # capitals only: a block-capital reader
    assert shipped.metadata_["data"]["canonical"] is True  # trained on letters preprocessed as files are
    assert tuple(shipped.classes_) == tuple(CLASSES)


def test_it_reads_real_capitals(shipped):
    data = load_datasets([f"az:{AZ_CSV}"])
    picks = np.random.default_rng(0).choice(len(data), 500, replace=False)
    predicted = shipped.predict_arrays(data.x[picks]).argmax(axis=1)
    assert (predicted == data.y[picks]).mean() > 0.9  # letters it trained on: a check that the right file ships


@pytest.mark.parametrize("slant", [-10, 0, 10])
@pytest.mark.parametrize("pen", [8, 16])
def test_a_plain_bar_on_paper_is_an_i(shipped, slant, pen):
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).line([(100 - slant, 30), (100 + slant, 170)], fill=0, width=pen)
    assert shipped.predict_image(image).letter == "I"


@pytest.mark.parametrize("name", ["bar", "long-bar", "bold-i"])
def test_a_bar_that_fills_its_crop_is_an_i(shipped, name):
    """Ink edge to edge once measured a huge stroke width: the bar reached the model as a stub and read J. A bold
    printed I, a solid block once scaled, was read as B before the model learned from the case-aware capitals."""
    assert shipped.predict_image(SHAPES[name]()).letter == "I"


def test_an_l_with_its_foot_is_an_l(shipped):
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).line([(60, 30), (60, 170), (140, 170)], fill=0, width=14)
    assert shipped.predict_image(image).letter == "L"
