"""Block-capital labels: EMNIST's lower-case-l bars become I; real capitals keep their labels."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from hcr.data.capitals import BAR_ELONGATION, bar_mask, elongation, with_capital_labels
from hcr.data.sources import load_datasets
from hcr.labels import index_of


def _stroke(points: list[tuple[int, int]], width: int = 3) -> np.ndarray:
    image = Image.new("L", (28, 28))
    ImageDraw.Draw(image).line(points, fill=255, width=width)
    return np.asarray(image)


@pytest.fixture(scope="module")
def real_data(shared_data):
    return load_datasets((), shared_data)


@pytest.mark.parametrize("points", [[(14, 3), (14, 24)], [(10, 3), (18, 24)], [(18, 4), (9, 23)]])
def test_a_bar_at_any_slant_is_a_bar(points):
    assert elongation(_stroke(points)) < BAR_ELONGATION


def test_a_capital_l_with_its_foot_is_not_a_bar():
    assert elongation(_stroke([(9, 3), (9, 23), (20, 23)])) > 0.3


def test_only_emnist_l_bars_are_relabelled(real_data):
    relabelled, n = with_capital_labels(real_data)
    changed = relabelled.y != real_data.y
    emnist = real_data.source == real_data.sources.index("emnist-letters")
    assert n == changed.sum() > 100  # the dev data holds hundreds of lower-case l bars
    assert np.all(real_data.y[changed] == index_of("L"))
    assert np.all(relabelled.y[changed] == index_of("I"))
    assert np.all(emnist[changed])  # Kaggle A–Z is all capitals: never touched
    assert np.all(bar_mask(real_data.x[changed]))


def test_most_real_capital_ls_keep_their_foot(real_data):
    az_l = (real_data.source == real_data.sources.index("az")) & (real_data.y == index_of("L"))
    assert bar_mask(real_data.x[az_l]).mean() < 0.05
